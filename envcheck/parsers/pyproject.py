"""``pyproject.toml``: PEP 621 ``[project]``, PEP 735 ``[dependency-groups]``,
``[tool.uv]``, ``[tool.poetry]`` (and PDM's dev groups).

Groups: ``[project] dependencies`` and Poetry's main dependencies are the main
set (``None``); ``optional-dependencies.NAME`` (and Poetry optional deps named
by ``[tool.poetry.extras]``) are ``optional:NAME``; PEP 735 groups, Poetry
groups and PDM dev groups are ``group:NAME``; ``[tool.uv] dev-dependencies``
and Poetry's legacy ``dev-dependencies`` are ``dev``;
``[tool.uv] constraint-dependencies`` are ``constraint``.

tomllib gives no positions, so :class:`TomlLines` finds the line of a table,
key or string by reading the text the way a person would; when it cannot, the
nearest enclosing line is used (a line number is a convenience, never a guess
presented as exact content).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from packaging.utils import canonicalize_name

from envcheck import _regex, _toml
from envcheck.errors import ParseError
from envcheck.parsers.poetry import poetry_to_pep440, python_marker
from envcheck.parsers.requirements import (
    canonical,
    parse_pep508,
    read_manifest,
    relpath,
    scan_suppressions,
    spec_str,
)
from envcheck.record import replace
from envcheck.snapshot import Declared, DeclaredRuntime, Requirement

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


__all__ = ["TomlLines", "parse", "parse_text", "poetry_requirements"]

_HEADER_RE = _regex.compile(r"^\s*(\[\[?)\s*(?P<key>[^\[\]#]+?)\s*\]\]?\s*(?:#.*)?$")


def _split_key(key: str) -> tuple[str, ...]:
    parts: list[str] = []
    for m in re.finditer(r'\s*(?:"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([A-Za-z0-9_-]+))\s*(?:\.|$)', key):
        parts.append(next(g for g in m.groups() if g is not None))
    return tuple(parts)


class TomlLines:
    """Best-effort 1-based line numbers for tables, keys and strings of a TOML text."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers: list[tuple[int, tuple[str, ...], bool]] = []
        self._by_key: dict[tuple[str, ...], list[int]] = {}
        for no, line in enumerate(self.lines, 1):
            if "[" not in line:
                continue
            m = _HEADER_RE.match(line)
            if m:
                key = _split_key(m.group("key"))
                self._by_key.setdefault(key, []).append(len(self.headers))
                self.headers.append((no, key, m.group(1) == "[["))

    def section(self, table: tuple[str, ...], nth: int = 0) -> tuple[int, int] | None:
        """(header line, last line) of ``[table]`` (or the ``nth`` ``[[table]]``); ``()`` is the top."""
        if not table:
            end = self.headers[0][0] - 1 if self.headers else len(self.lines)
            return (0, end)
        found = self._by_key.get(table, [])
        if nth >= len(found):
            return None
        i = found[nth]
        end = self.headers[i + 1][0] - 1 if i + 1 < len(self.headers) else len(self.lines)
        return (self.headers[i][0], end)

    def key_line(self, table: tuple[str, ...], key: str, nth: int = 0) -> int | None:
        """Line of ``key = …`` inside ``[table]``; else of the table or a dotted key leading to it."""
        sec = self.section(table, nth)
        if sec is not None:
            pattern = re.compile(rf"^\s*(?:\"{re.escape(key)}\"|'{re.escape(key)}'|{re.escape(key)})\s*[=.]")
            for no in range(sec[0] + 1, sec[1] + 1):
                if pattern.match(self.lines[no - 1]):
                    return no
            return sec[0] or None
        # ``[tool.poetry]`` + ``dependencies = {…}`` or ``group.dev.dependencies.x = …``
        for cut in range(len(table) - 1, -1, -1):
            parent = self.section(table[:cut])
            if parent is None:
                continue
            first = table[cut]
            pattern = re.compile(rf"^\s*(?:\"{re.escape(first)}\"|'{re.escape(first)}'|{re.escape(first)})\s*[=.]")
            for no in range(parent[0] + 1, parent[1] + 1):
                if pattern.match(self.lines[no - 1]):
                    inner = self.string_line(no, key, parent[1], bare_key=True)
                    return inner or no
            return parent[0] or None
        return None

    def string_line(
        self, start: int | None, value: str, end: int | None = None, *, bare_key: bool = False
    ) -> int | None:
        """First line at or after ``start`` holding ``value`` as a quoted string (or a bare key)."""
        if start is None:
            return None
        stop = len(self.lines) if end is None else min(end, len(self.lines))
        needles = [f'"{value}"', f"'{value}'"]
        if '"' in value or "\\" in value:
            needles.append(value.replace("\\", "\\\\").replace('"', '\\"'))
        bare = re.compile(rf"(^|[\s{{,]){re.escape(value)}\s*=") if bare_key else None
        for no in range(max(start, 1), stop + 1):
            line = self.lines[no - 1]
            if any(n in line for n in needles) or (bare is not None and bare.search(line)):
                return no
        return None


# --------------------------------------------------------------------------- entry points


def parse(path: Path, root: Path) -> Declared:
    rel = relpath(path, root)
    text = read_manifest(path, rel)
    return parse_text(text, rel)


def parse_text(text: str, source_name: str = "pyproject.toml") -> Declared:
    rel = source_name
    data = _toml.loads(text, rel)
    lines = TomlLines(text)
    reqs: list[Requirement] = []
    python: DeclaredRuntime | None = None

    project = _table(data, "project", rel, lines, ())
    if project is not None:
        reqs.extend(_pep508_list(project.get("dependencies"), rel, lines, ("project",), "dependencies", group=None))
        optional = _table(project, "optional-dependencies", rel, lines, ("project",))
        for extra, items in (optional or {}).items():
            reqs.extend(
                _pep508_list(items, rel, lines, ("project", "optional-dependencies"), extra, group=f"optional:{extra}")
            )
        # `myproject[extra]` in an extra of myproject is a self-reference (it
        # pulls in another of its own extras), not a dependency to pin.
        own = project.get("name")
        if isinstance(own, str):
            own_key = canonicalize_name(own)
            reqs = [r for r in reqs if canonicalize_name(r.name) != own_key]
        rp = project.get("requires-python")
        if rp is not None:
            line = lines.key_line(("project",), "requires-python")
            python = DeclaredRuntime(requires=_specifier(rp, rel, line), requires_source=_src(rel, line))

    reqs.extend(_dependency_groups(data, rel, lines))

    tool = data.get("tool")
    tool = tool if isinstance(tool, dict) else {}
    uv = tool.get("uv")
    if isinstance(uv, dict):
        reqs.extend(
            _pep508_list(uv.get("dev-dependencies"), rel, lines, ("tool", "uv"), "dev-dependencies", group="dev")
        )
        reqs.extend(
            _pep508_list(
                uv.get("constraint-dependencies"),
                rel,
                lines,
                ("tool", "uv"),
                "constraint-dependencies",
                group="constraint",
            )
        )
        sources = uv.get("sources")
        if isinstance(sources, dict):
            reqs = _apply_uv_sources(reqs, sources)
    pdm = tool.get("pdm")
    if isinstance(pdm, dict) and isinstance(pdm.get("dev-dependencies"), dict):
        for name, items in pdm["dev-dependencies"].items():
            reqs.extend(
                _pep508_list(items, rel, lines, ("tool", "pdm", "dev-dependencies"), name, group=f"group:{name}")
            )
    poetry = tool.get("poetry")
    if isinstance(poetry, dict):
        poetry_reqs, poetry_python = poetry_requirements(poetry, rel, lines)
        reqs.extend(poetry_reqs)
        if python is None and poetry_python is not None:
            python = poetry_python

    return Declared(
        python=python,
        requirements=tuple(reqs),
        suppressions=scan_suppressions(text, rel),
        files=(rel,),
    )


# --------------------------------------------------------------------------- helpers


def _src(rel: str, line: int | None) -> str:
    return rel if line is None else f"{rel}:{line}"


def _table(
    parent: Mapping[str, Any], key: str, rel: str, lines: TomlLines, where: tuple[str, ...]
) -> dict[str, Any] | None:
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ParseError(f"[{'.'.join((*where, key))}] must be a table", path=rel, line=lines.key_line(where, key))
    return value


def _specifier(value: Any, rel: str, line: int | None) -> str:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    if not isinstance(value, str):
        raise ParseError("requires-python must be a string", path=rel, line=line)
    try:
        return spec_str(SpecifierSet(value)) if value.strip() else ""
    except InvalidSpecifier:
        raise ParseError(f"invalid version specifier {value!r}", path=rel, line=line) from None


def _pep508_list(
    items: Any, rel: str, lines: TomlLines, table: tuple[str, ...], key: str, *, group: str | None
) -> list[Requirement]:
    if items is None:
        return []
    key_line = lines.key_line(table, key)
    if not isinstance(items, list):
        raise ParseError(f"{'.'.join((*table, key))} must be a list of requirement strings", path=rel, line=key_line)
    out: list[Requirement] = []
    cursor = key_line
    for item in items:
        if not isinstance(item, str):
            raise ParseError(f"{'.'.join((*table, key))} must hold requirement strings", path=rel, line=key_line)
        line = lines.string_line(cursor, item) or key_line
        cursor = line
        out.append(parse_pep508(item, rel=rel, line=line, group=group))
    return out


def _dependency_groups(data: Mapping[str, Any], rel: str, lines: TomlLines) -> list[Requirement]:
    """PEP 735 groups, each entry once under the group that writes it.

    ``{include-group = "x"}`` is checked (unknown groups and cycles are errors,
    as PEP 735 says) but not copied: x's entries are reported under x, with
    their own line, so each declaration appears exactly once.
    """
    groups = data.get("dependency-groups")
    if groups is None:
        return []
    if not isinstance(groups, dict):
        raise ParseError("[dependency-groups] must be a table", path=rel, line=lines.key_line((), "dependency-groups"))
    by_norm = {canonical(k): k for k in groups}
    includes: dict[str, list[tuple[str, int | None]]] = {}
    result: list[Requirement] = []
    for name, items in groups.items():
        key_line = lines.key_line(("dependency-groups",), name)
        if not isinstance(items, list):
            raise ParseError(f"dependency group {name!r} must be a list", path=rel, line=key_line)
        cursor = key_line
        for item in items:
            if isinstance(item, str):
                line = lines.string_line(cursor, item) or key_line
                cursor = line
                result.append(parse_pep508(item, rel=rel, line=line, group=f"group:{name}"))
            elif isinstance(item, dict) and set(item) == {"include-group"} and isinstance(item["include-group"], str):
                line = lines.string_line(cursor, item["include-group"]) or key_line
                target = by_norm.get(canonical(item["include-group"]))
                if target is None:
                    raise ParseError(
                        f"dependency group {name!r} includes unknown group {item['include-group']!r}",
                        path=rel,
                        line=line,
                    )
                includes.setdefault(name, []).append((target, line))
            else:
                raise ParseError(
                    f"dependency group {name!r}: entries must be strings or {{include-group = ...}}",
                    path=rel,
                    line=key_line,
                )

    def visit(name: str, stack: tuple[str, ...]) -> None:
        for target, line in includes.get(name, []):
            if target in stack or target == name:
                chain = " -> ".join((*stack, name, target))
                raise ParseError(f"dependency groups include each other in a cycle: {chain}", path=rel, line=line)
            visit(target, (*stack, name))

    for name in includes:
        visit(name, ())
    return result


def _apply_uv_sources(reqs: list[Requirement], sources: Mapping[str, Any]) -> list[Requirement]:
    """``[tool.uv.sources]`` turns a plain name into a git/path/URL requirement."""
    by_name: dict[str, str] = {}
    editable: set[str] = set()
    for name, src in sources.items():
        if isinstance(src, list):
            src = next((s for s in src if isinstance(s, dict)), None)
        if not isinstance(src, dict):
            continue
        url = _source_url(src)
        if url:
            by_name[canonical(name)] = url
            if src.get("editable") is True:
                editable.add(canonical(name))
    if not by_name:
        return reqs
    return [
        replace(r, url=by_name[r.name], editable=r.editable or r.name in editable)
        if r.name in by_name and r.url is None
        else r
        for r in reqs
    ]


def _source_url(src: Mapping[str, Any]) -> str | None:
    git = src.get("git")
    if isinstance(git, str):
        url: str = "git+" + git
        ref = next((src[k] for k in ("rev", "tag", "branch") if isinstance(src.get(k), str)), None)
        if ref:
            url += "@" + ref
        if isinstance(src.get("subdirectory"), str):
            url += "#subdirectory=" + src["subdirectory"]
        return url
    for key in ("url", "path", "file"):
        value = src.get(key)
        if isinstance(value, str):
            return value
    return None


# --------------------------------------------------------------------------- poetry


def poetry_requirements(
    poetry: Mapping[str, Any], rel: str, lines: TomlLines
) -> tuple[list[Requirement], DeclaredRuntime | None]:
    """``[tool.poetry]`` dependency tables (main, legacy dev, groups) and its ``python`` key."""
    reqs: list[Requirement] = []
    python: DeclaredRuntime | None = None
    extras_of: dict[str, list[str]] = {}
    extras = poetry.get("extras")
    if isinstance(extras, dict):
        for extra, names in extras.items():
            if isinstance(names, list):
                for n in names:
                    if isinstance(n, str):
                        extras_of.setdefault(canonical(n), []).append(extra)

    tables: list[tuple[tuple[str, ...], Any, str | None]] = [
        (("tool", "poetry", "dependencies"), poetry.get("dependencies"), None),
        (("tool", "poetry", "dev-dependencies"), poetry.get("dev-dependencies"), "dev"),
    ]
    groups = poetry.get("group")
    if isinstance(groups, dict):
        for gname, gtable in groups.items():
            if isinstance(gtable, dict):
                tables.append(
                    (("tool", "poetry", "group", gname, "dependencies"), gtable.get("dependencies"), f"group:{gname}")
                )
    for table, deps, group in tables:
        if deps is None:
            continue
        if not isinstance(deps, dict):
            raise ParseError(
                f"[{'.'.join(table)}] must be a table", path=rel, line=lines.key_line(table[:-1], table[-1])
            )
        for name, value in deps.items():
            line = lines.key_line(table, name)
            if group is None and canonical(name) == "python":
                if not isinstance(value, str):
                    raise ParseError("python must be a version constraint string", path=rel, line=line)
                spec = poetry_to_pep440(value, (rel, line))
                if spec:  # "*" says nothing about the interpreter
                    python = DeclaredRuntime(requires=spec, requires_source=_src(rel, line))
                continue
            reqs.extend(_poetry_dep(name, value, rel, line, group=group, extras_of=extras_of))
    return reqs, python


def _poetry_dep(
    name: str, value: Any, rel: str, line: int | None, *, group: str | None, extras_of: Mapping[str, list[str]]
) -> list[Requirement]:
    from packaging.markers import InvalidMarker, Marker

    where = (rel, line)
    cname = canonical(name)
    if isinstance(value, str):
        return [
            Requirement(
                ecosystem="python",
                name=cname,
                specifier=poetry_to_pep440(value, where),
                source=_src(rel, line),
                group=group,
            )
        ]
    if isinstance(value, list):
        out: list[Requirement] = []
        for v in value:
            if not isinstance(v, dict):
                raise ParseError(f"{name}: each constraint in a list must be a table", path=rel, line=line)
            out.extend(_poetry_dep(name, v, rel, line, group=group, extras_of=extras_of))
        return out
    if not isinstance(value, dict):
        raise ParseError(f"{name}: expected a version string or a table", path=rel, line=line)

    version = value.get("version", "")
    if not isinstance(version, str):
        raise ParseError(f"{name}: version must be a string", path=rel, line=line)
    markers: list[str] = []
    if isinstance(value.get("markers"), str) and value["markers"].strip():
        markers.append(value["markers"])
    if isinstance(value.get("python"), str):
        pm = python_marker(value["python"], where)
        if pm:
            markers.append(pm)
    if isinstance(value.get("platform"), str):
        markers.append(f'sys_platform == "{value["platform"]}"')
    marker: str | None = None
    if markers:
        text = markers[0] if len(markers) == 1 else " and ".join(f"({m})" for m in markers)
        try:
            marker = str(Marker(text))
        except (InvalidMarker, ValueError, RecursionError):
            raise ParseError(f"{name}: invalid markers {text!r}", path=rel, line=line) from None
    raw_extras = value.get("extras", [])
    if not isinstance(raw_extras, list) or not all(isinstance(e, str) for e in raw_extras):
        raise ParseError(f"{name}: extras must be a list of strings", path=rel, line=line)
    url = _source_url(value)
    req = Requirement(
        ecosystem="python",
        name=cname,
        specifier="" if url else poetry_to_pep440(version, where),
        source=_src(rel, line),
        extras=tuple(sorted(canonical(e) for e in raw_extras)),
        marker=marker,
        url=url,
        editable=value.get("develop") is True,
        group=group,
    )
    if group is None and value.get("optional") is True:
        return [replace(req, group=f"optional:{extra}") for extra in extras_of.get(cname, [cname])]
    return [req]
