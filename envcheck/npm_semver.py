"""npm version ranges as package.json and the lock files write them.

Built on :class:`semantic_version.NpmSpec`, with the forms it rejects but npm
accepts (``>= 1.2.3``, ``v1.2.3``, ``~>1.2``, ``npm:other@^1`` aliases,
``latest``) normalised first.  Specs that are not semver ranges at all — URLs,
git, ``file:``, ``workspace:``, dist-tags like ``latest`` — make
:func:`satisfies` answer ``None`` ("cannot say"), never a guess.

The rule engine also needs "does the lock satisfy package.json's range?"
(EC304); :func:`lock_satisfies` answers it over the ``LockedPackage`` entries of
a snapshot, so rules never read lock files themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from envcheck import _regex
from envcheck.snapshot import LockedPackage

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


# Prefixes npm-package-arg treats as something other than a registry range.
_NON_SEMVER_PREFIXES = (
    "http:",
    "https:",
    "git:",
    "git+",
    "git@",
    "ssh:",
    "file:",
    "link:",
    "portal:",
    "workspace:",
    "patch:",
    "exec:",
    "github:",
    "gitlab:",
    "bitbucket:",
    "gist:",
    "catalog:",
    "jsr:",
    ".",
    "/",
    "~/",
)
_TAG = _regex.compile(r"[A-Za-z][A-Za-z0-9._-]*")
_OP_SPACE = _regex.compile(r"(<=|>=|<|>|=|~>|~|\^)\s+")
_V_PREFIX = _regex.compile(r"(^|[\s<>=~^|])[vV](?=\d)")
_EXACT = _regex.compile(r"=?[vV]?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?")
_LEADING_INT = _regex.compile(r"\s*[=vV]*\s*(\d+)")


def split_alias(spec: str) -> tuple[str | None, str]:
    """``npm:other@^1`` → ``("other", "^1")``; anything else → ``(None, spec)``."""
    s = spec.strip()
    if not s.startswith("npm:"):
        return None, s
    target = s[4:]
    at = target.find("@", 1)  # a scoped name starts with "@"
    if at == -1:
        return target or None, ""
    return target[:at], target[at + 1 :]


def is_semver_range(range_: str) -> bool:
    """True when ``range_`` (after alias unwrapping) is an npm semver range."""
    return _normalise(range_) is not None


def _normalise(range_: str) -> str | None:
    _, s = split_alias(range_)
    s = s.strip()
    if s.startswith(_NON_SEMVER_PREFIXES) or "://" in s:
        return None
    if "/" in s:  # GitHub shorthand "user/repo#ref"; never part of a range
        return None
    s = _V_PREFIX.sub(r"\1", s)
    if _TAG.fullmatch(s) and s not in ("x", "X"):
        return None  # a dist-tag such as "latest", "next", "beta"
    s = _OP_SPACE.sub(r"\1", s)
    s = s.replace("~>", "~")
    s = _V_PREFIX.sub(r"\1", s)
    # npm treats an empty alternative ("1 || ") as "*"; NpmSpec rejects it.
    alternatives = [" ".join(a.split()) or "*" for a in s.split("||")]
    return " || ".join(alternatives)


@lru_cache(maxsize=4096)
def _spec(normalised: str) -> Any:
    from semantic_version import NpmSpec

    try:
        return NpmSpec(normalised)
    except (ValueError, TypeError, AttributeError):
        # AttributeError: NpmSpec dereferences a failed regex match on some
        # hyphen ranges ("0 - :") instead of raising ValueError.
        return None


@lru_cache(maxsize=8192)
def _version(version: str) -> Any:
    from semantic_version import Version

    v = version.strip().lstrip("=vV").strip()
    try:
        return Version(v)
    except (ValueError, TypeError):
        return None


_PLAIN_VERSION = _regex.compile(r"(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})")
_PLAIN_COMPARATOR = _regex.compile(r"(<=|>=|<|>|=)?(0|[1-9]\d{0,8})(?:\.(0|[1-9]\d{0,8}))?(?:\.(0|[1-9]\d{0,8}))?")


def _plain_match(version: str, normalised: str) -> bool | None:
    """The answer for a release version and a range of plain comparators (``>=20.11.1 <21``), else None.

    These are most ranges a project writes (engines, exact pins); answering
    them with tuple comparisons spares ``envcheck lint`` importing
    semantic_version, whose start-up reads every installed distribution's
    metadata (issue 15).  A partial version is an X-range as in npm:
    ``<21`` is ``<21.0.0``, ``<=21`` is ``<22.0.0``, ``>21`` is ``>=22.0.0``,
    ``21``/``=21`` is ``>=21.0.0 <22.0.0``.  Anything else (prereleases,
    ``^``/``~``, ``||``, hyphen ranges, wildcards) goes to semantic_version.
    """
    v = _PLAIN_VERSION.fullmatch(version.strip().lstrip("=vV").strip())
    if v is None:
        return None
    comparators = [_PLAIN_COMPARATOR.fullmatch(part) for part in normalised.split()]
    if not comparators or any(m is None for m in comparators):
        return None
    have = tuple(int(x) for x in v.groups())
    for m in comparators:
        assert m is not None  # checked above; mypy cannot see it through any()
        op = m.group(1) or "="
        given = [int(x) for x in m.groups()[1:] if x is not None]
        low = tuple(given + [0] * (3 - len(given)))
        if len(given) == 3:
            ok = {"=": have == low, ">=": have >= low, ">": have > low, "<": have < low, "<=": have <= low}[op]
        else:
            bumped = [*given[:-1], given[-1] + 1]
            high = tuple(bumped + [0] * (3 - len(bumped)))
            ok = {"=": low <= have < high, ">=": have >= low, ">": have >= high, "<": have < low, "<=": have < high}[op]
        if not ok:
            return False
    return True


def satisfies(version: str, range_: str) -> bool | None:
    """Does ``version`` satisfy the npm range ``range_``?

    ``None`` when either side is not semver (a git URL, ``file:``,
    ``workspace:``, a tag like ``latest``, an unparsable version): the caller
    cannot conclude anything.  ``""``, ``*`` and ``x`` admit every release.
    """
    normalised = _normalise(range_)
    if normalised is None:
        return None
    quick = _plain_match(version, normalised)
    if quick is not None:
        return quick
    spec = _spec(normalised)
    parsed = _version(version)
    if spec is None or parsed is None:
        return None
    return bool(spec.match(parsed))


def is_exact(range_: str) -> bool:
    """Exactly one version admitted: ``1.2.3``, ``=1.2.3``, ``v1.2.3``, ``npm:x@1.2.3``."""
    _, s = split_alias(range_)
    return _EXACT.fullmatch(s.strip()) is not None


def major(version: str) -> int | None:
    """The major number of a version (``"20.1.0"``, ``"v18"``, ``"22"``); ``None`` if there is none."""
    m = _LEADING_INT.match(version)
    if m is None:
        return None
    try:
        return int(m.group(1))
    except ValueError:  # absurdly long digit strings
        return None


def lock_satisfies(locks: Iterable[LockedPackage], name: str, range_: str) -> bool | None:
    """Does the lock file's resolution of ``name`` satisfy the manifest's ``range_``?

    ``True`` when the lock recorded exactly this range for ``name`` (the
    parsers keep those ranges in ``LockedPackage.specifiers``: yarn.lock keys,
    pnpm importer specifiers, package-lock's root manifest), or when a direct
    resolution of ``name`` satisfies the range.  ``False`` when the lock has no
    ``name`` at all or its direct resolutions violate the range.  ``None`` when
    the range is not semver and was not recorded verbatim.

    yarn ``--frozen-lockfile`` and pnpm ``--frozen-lockfile`` are stricter
    than this (they want the range recorded verbatim); check
    ``range_ in pkg.specifiers`` for that.
    """
    wanted = range_.strip()
    candidates = [p for p in locks if p.ecosystem == "node" and p.name == name]
    if not candidates:
        return False
    if any(wanted in p.specifiers for p in candidates):
        return True
    direct = [p for p in candidates if p.specifiers]
    if not direct:
        top = [p for p in candidates if p.path == f"node_modules/{name}"]
        direct = top or candidates
    answers = [satisfies(p.version, wanted) for p in direct]
    if any(a is True for a in answers):
        return True
    if any(a is None for a in answers):
        return None
    return False
