"""Names and versions already in their normal form, recognised without importing packaging (issue 15).

``packaging`` is the reference (PEP 503 names, PEP 440 versions), but loading
it is a large part of a short command's start-up.  Nearly every name and
version envcheck meets is written in normal form already; these helpers
answer those and leave the rest to packaging.  Tests hold both helpers to
packaging's answers with hypothesis (tests/unit/test_unit_startup_fast_paths.py).
"""

from __future__ import annotations

import operator

from envcheck import _regex

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

_NUM = r"(?:0|[1-9][0-9]{0,17})"
# A local segment keeps its letters; a numeric one loses leading zeros in
# packaging's normal form, so only zero-free numbers qualify.
_LOCAL = rf"(?:[a-z0-9]*[a-z][a-z0-9]*|{_NUM})"
#: A PEP 440 version ``v`` with ``str(Version(v)) == v``.
NORMAL_VERSION = (
    rf"{_NUM}(?:\.{_NUM})*(?:(?:a|b|rc){_NUM})?(?:\.post{_NUM})?(?:\.dev{_NUM})?(?:\+{_LOCAL}(?:\.{_LOCAL})*)?"
)
_NORMAL = _regex.compile(NORMAL_VERSION)
#: A final release in normal form: numbers only (``2.32.3``), no pre, post, dev or local part.
_FINAL = _regex.compile(rf"{_NUM}(?:\.{_NUM})*")
#: The comparison operators a plain clause uses (no ``~=``, no ``===``), longest first.
PLAIN_OPERATORS = "==|!=|>=|<=|>|<"
_CLAUSE = _regex.compile(rf"[ \t]*({PLAIN_OPERATORS})[ \t]*([^ \t]+)[ \t]*")


def is_normal_version(raw: str) -> bool:
    return _NORMAL.fullmatch(raw) is not None


def canonical_name(name: str) -> str:
    """PEP 503, exactly as ``packaging.utils.canonicalize_name`` computes it."""
    value = name.lower().replace("_", "-").replace(".", "-")
    while "--" in value:
        value = value.replace("--", "-")
    return value


def release_key(raw: str) -> tuple[int, ...] | None:
    """How a final release in normal form orders (trailing zeros dropped: ``1.0`` is ``1``); None for others."""
    if _FINAL.fullmatch(raw) is None:
        return None
    numbers = [int(part) for part in raw.split(".")]
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers)


def final_satisfies(version: str, specifier: str) -> bool | None:
    """Whether final release ``version`` satisfies ``specifier`` when both are that simple; None otherwise.

    The clauses people write (``>=2.31,<3``, ``==4.2.16``, ``!=1.5``) over
    final releases: the answer packaging gives, without importing it (its
    version and specifier grammars are ~10 ms of a lint).  Pre-releases,
    wildcards, ``~=``, ``===`` and local versions are packaging's to answer
    (None here).
    """
    have = release_key(version)
    if have is None or not specifier.strip():
        return None
    clauses = []
    for clause in specifier.split(","):
        m = _CLAUSE.fullmatch(clause)
        want = release_key(m.group(2)) if m is not None else None
        if m is None or want is None:
            return None  # every clause read before any answer: an invalid one makes the whole None
        clauses.append((_COMPARE[m.group(1)], want))
    return all(compare(have, want) for compare, want in clauses)


_COMPARE: dict[str, Callable[[tuple[int, ...], tuple[int, ...]], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}
