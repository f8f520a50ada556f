"""Poetry's version constraints (``^1.2``, ``~1.2.3``, ``1.*``, ``>=1 <2 || >=3``) as PEP 440.

Poetry documents the mapping: ``^`` allows changes that do not modify the
left-most non-zero component, ``~`` allows patch-level changes (minor-level
when only a major is given), ``*`` is any version, a bare version is an exact
pin, ``,`` and whitespace intersect, ``||`` unions.  PEP 440 has no union, so
a union becomes the smallest single range that contains every branch (plus
``!=X.Y.*`` exclusions for whole minor releases in between, as poetry-core
itself writes ``Requires-Python``); :func:`python_marker` keeps a union exact
as an environment marker.
"""

from __future__ import annotations

import itertools
import re

from envcheck import _regex
from envcheck.errors import ParseError
from envcheck.record import record

__all__ = ["poetry_branches", "poetry_to_pep440", "python_marker"]

_ATOM_RE = _regex.compile(r"^(?P<op>\^|~=|~|===|==|=|!=|>=|<=|>|<)?\s*(?P<ver>\S+)$")


@record
class _Branch:
    specs: tuple[str, ...]  # PEP 440 clauses, all must hold


def _release(ver: str, where: tuple[str, int | None]) -> tuple[int, ...]:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(ver).release
    except InvalidVersion:
        raise ParseError(f"invalid version {ver!r} in constraint", path=where[0], line=where[1]) from None


def _fmt(parts: tuple[int, ...] | list[int]) -> str:
    return ".".join(str(p) for p in parts)


def _atom(atom: str, where: tuple[str, int | None]) -> list[str]:
    atom = atom.strip()
    if atom in ("*", ""):
        return []
    m = _ATOM_RE.match(atom)
    if not m:
        raise ParseError(f"invalid version constraint {atom!r}", path=where[0], line=where[1])
    op, ver = m.group("op") or "", m.group("ver")
    if op == "^":
        rel = list(_release(ver, where))
        # poetry-core's next_breaking(): the left-most non-zero component (or
        # the last one given) is the one that may not change.
        if rel[0] > 0 or len(rel) == 1:
            idx = 0
        elif rel[1] > 0 or len(rel) == 2:
            idx = 1
        else:
            idx = 2
        upper = rel[: idx + 1]
        upper[-1] += 1
        upper += [0] * (len(rel) - len(upper))
        return [f">={ver}", f"<{_fmt(upper)}"]
    if op == "~":
        rel = list(_release(ver, where))
        keep = 1 if len(rel) == 1 else 2
        upper = rel[:keep]
        upper[-1] += 1
        upper += [0] * (len(rel) - len(upper))
        return [f">={ver}", f"<{_fmt(upper)}"]
    if op in ("", "="):
        if ver.endswith(".*") or ver == "*":
            return [] if ver == "*" else [f"=={ver}"]
        return [f"=={ver}"]
    return [f"{op}{ver}"]


def poetry_branches(constraint: str, where: tuple[str, int | None]) -> list[tuple[str, ...]]:
    """Each ``||`` branch as a tuple of PEP 440 clauses (empty tuple = any version)."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    text = constraint.strip()
    branches: list[tuple[str, ...]] = []
    for raw in re.split(r"\|\|?", text):
        raw = raw.strip()
        # operators may be followed by spaces (">= 1.2"); glue them first
        raw = re.sub(r"(\^|~=|~|===|==|!=|>=|<=|>|<|=)\s+", r"\1", raw)
        clauses: list[str] = []
        for atom in re.split(r"[,\s]+", raw):
            if atom:
                clauses.extend(_atom(atom, where))
        try:
            SpecifierSet(",".join(clauses))
        except InvalidSpecifier as exc:
            raise ParseError(
                f"invalid version constraint {constraint!r}: {exc}", path=where[0], line=where[1]
            ) from None
        branches.append(tuple(clauses))
    if not branches:
        branches.append(())
    return branches


def poetry_to_pep440(constraint: str, where: tuple[str, int | None] = ("<string>", None)) -> str:
    """One PEP 440 specifier string; a union widens to a range covering every branch."""
    branches = poetry_branches(constraint, where)
    if len(branches) == 1:
        return ",".join(branches[0])
    if any(not b for b in branches):
        return ""
    return _envelope(branches)


def _bound(clauses: tuple[str, ...]) -> tuple[tuple[str, str] | None, tuple[str, str] | None, list[str]]:
    lower: tuple[str, str] | None = None
    upper: tuple[str, str] | None = None
    other: list[str] = []
    for c in clauses:
        m = re.match(r"^(>=|>|<=|<|===|==|~=|!=)(.*)$", c)
        if not m:
            continue
        op, ver = m.groups()
        if op in (">=", ">"):
            lower = (op, ver)
        elif op in ("<", "<="):
            upper = (op, ver)
        elif op == "==" and not ver.endswith(".*"):
            lower, upper = (">=", ver), ("<=", ver)
        elif op == "==":
            base = ver[:-2]
            parts = [int(p) for p in base.split(".") if p.isdigit()]
            if parts:
                nxt = [*parts[:-1], parts[-1] + 1]
                lower, upper = (">=", base), ("<", _fmt(nxt))
        elif op == "~=":
            parts = [int(p) for p in re.findall(r"\d+", ver)]
            if len(parts) >= 2:
                nxt = [*parts[:-2], parts[-2] + 1]
                lower, upper = (">=", ver), ("<", _fmt(nxt))
        elif op == "!=":
            other.append(c)
    return lower, upper, other


def _envelope(branches: list[tuple[str, ...]]) -> str:
    from packaging.version import InvalidVersion, Version

    def key(v: str) -> Version:
        try:
            return Version(v)
        except InvalidVersion:
            return Version("0")

    bounds = [_bound(b) for b in branches]
    lowers = [b[0] for b in bounds]
    uppers = [b[1] for b in bounds]
    out: list[str] = []
    if all(lo is not None for lo in lowers):
        lo = min((x for x in lowers if x is not None), key=lambda x: (key(x[1]), x[0] == ">"))
        out.append(f"{lo[0]}{lo[1]}")
    if all(up is not None for up in uppers):
        up = max((x for x in uppers if x is not None), key=lambda x: (key(x[1]), x[0] == "<="))
        out.append(f"{up[0]}{up[1]}")
    # whole minor releases that fall between two branches (<2.8 || >=3.4 → !=3.0.* … !=3.3.*)
    ordered = sorted((b for b in bounds if b[0] is not None), key=lambda b: key(b[0][1] if b[0] else "0"))
    for prev, nxt in itertools.pairwise(ordered):
        if prev[1] is None or nxt[0] is None or prev[1][0] != "<" or nxt[0][0] != ">=":
            continue
        gap_from, gap_to = key(prev[1][1]).release, key(nxt[0][1]).release
        if len(gap_from) < 2 or len(gap_to) < 2 or any(gap_from[2:]) or any(gap_to[2:]):
            continue
        if gap_from[0] == gap_to[0]:
            out.extend(f"!={gap_from[0]}.{m}.*" for m in range(gap_from[1], gap_to[1]))
        elif gap_to[0] == gap_from[0] + 1:
            out.extend(f"!={gap_to[0]}.{m}.*" for m in range(gap_to[1]))
    return ",".join(out)


def python_marker(constraint: str, where: tuple[str, int | None]) -> str | None:
    """Poetry's per-dependency ``python = "~2.7 || ^3.4"`` as an exact PEP 508 marker."""
    ors: list[str] = []
    for clauses in poetry_branches(constraint, where):
        if not clauses:
            return None  # "*": any python, no marker
        ands = []
        for c in clauses:
            m = re.match(r"^(===|==|!=|~=|>=|<=|>|<)(.*)$", c)
            if m:
                op, ver = m.groups()
                var = "python_version" if len(ver.removesuffix(".*").split(".")) <= 2 else "python_full_version"
                ands.append(f'{var} {op} "{ver}"')
        ors.append(" and ".join(ands))
    if len(ors) == 1:
        return ors[0]
    return " or ".join(f"({o})" if " and " in o else o for o in ors)
