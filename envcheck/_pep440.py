"""Names and versions already in their normal form, recognised without importing packaging (issue 15).

``packaging`` is the reference (PEP 503 names, PEP 440 versions), but loading
it is a large part of a short command's start-up.  Nearly every name and
version envcheck meets is written in normal form already; these helpers
answer those and leave the rest to packaging.  Tests hold both helpers to
packaging's answers with hypothesis (tests/unit/test_unit_startup_fast_paths.py).
"""

from __future__ import annotations

from envcheck import _regex

_NUM = r"(?:0|[1-9][0-9]{0,17})"
# A local segment keeps its letters; a numeric one loses leading zeros in
# packaging's normal form, so only zero-free numbers qualify.
_LOCAL = rf"(?:[a-z0-9]*[a-z][a-z0-9]*|{_NUM})"
#: A PEP 440 version ``v`` with ``str(Version(v)) == v``.
NORMAL_VERSION = (
    rf"{_NUM}(?:\.{_NUM})*(?:(?:a|b|rc){_NUM})?(?:\.post{_NUM})?(?:\.dev{_NUM})?(?:\+{_LOCAL}(?:\.{_LOCAL})*)?"
)
_NORMAL = _regex.compile(NORMAL_VERSION)


def is_normal_version(raw: str) -> bool:
    return _NORMAL.fullmatch(raw) is not None


def canonical_name(name: str) -> str:
    """PEP 503, exactly as ``packaging.utils.canonicalize_name`` computes it."""
    value = name.lower().replace("_", "-").replace(".", "-")
    while "--" in value:
        value = value.replace("--", "-")
    return value
