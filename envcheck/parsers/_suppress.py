"""Inline suppressions: ``# envcheck: ignore[EC401,EC404]`` (or bare ``# envcheck: ignore``).

Shared by every line-oriented parser (requirements files, Dockerfiles) so the
syntax is the same everywhere, like ruff's ``# noqa`` and hadolint's
``# hadolint ignore=``.
"""

from __future__ import annotations

import re

from envcheck import _regex

_PATTERN = _regex.compile(r"#\s*envcheck:\s*ignore(?:\[(?P<ids>[A-Za-z0-9_,\s]*)\])?", re.IGNORECASE)


def suppressed_rules(line: str) -> tuple[str, ...] | None:
    """Rule ids suppressed on this line; ``()`` means all rules; ``None`` means no directive."""
    m = _PATTERN.search(line)
    if m is None:
        return None
    ids = m.group("ids")
    if not ids:
        return ()
    return tuple(sorted({x.strip().upper() for x in ids.split(",") if x.strip()}))
