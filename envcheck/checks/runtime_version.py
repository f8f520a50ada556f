"""``runtime-version``: an interpreter (or tool) version differs between two snapshots (EC101–EC104)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from envcheck._typing import cast
from envcheck.checks._base import Check, Context, Param, finding, where
from envcheck.findings import Finding, Side

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from envcheck.findings import Severity
    from envcheck.rules import Rule

LEVELS = ("major", "minor", "patch")


def _parts(version: str) -> list[str]:
    # "3.11.7" -> ["3", "11", "7"]; "3.13.0rc1" -> ["3", "13", "0rc1"]; "v20.1.0" -> ["20", "1", "0"]
    core = version.strip().lstrip("vV")
    return [p for p in re.split(r"[.]", core, maxsplit=2) if p] + [""] * 3


def first_difference(a: str, b: str) -> str | None:
    """The most significant component at which two versions differ ("major"/"minor"/"patch").

    A component one side does not know (an image read statically says "3.11")
    is not a difference: ``3.11`` and ``3.11.7`` agree as far as anyone can tell.
    """
    pa, pb = _parts(a), _parts(b)
    for level, x, y in zip(LEVELS, pa, pb):
        if not x or not y:
            return None
        if x != y:
            return level
    return None


def check(rule: Rule, ctx: Context) -> Iterator[Finding]:
    if ctx.left is None or ctx.right is None:
        return
    name = str(rule.params["runtime"])
    left, right = ctx.left.runtime(name), ctx.right.runtime(name)
    if left is None or right is None:
        return
    level = first_difference(left.version, right.version)
    if level is None or level not in rule.params["levels"]:
        return
    overrides = rule.params.get("level-severity") or {}
    severity = cast("Severity", overrides[level]) if level in overrides else None
    label = rule.params.get("label") or name
    yield finding(
        rule,
        f"{label} is {left.version} {where(ctx.left_label)} but {right.version} {where(ctx.right_label)}"
        f" ({level} version differs)",
        subject=name,
        left=Side(ctx.left_label, left.version),
        right=Side(ctx.right_label, right.version),
        fix=f"use {label} {left.version} on both sides (pin it in the Dockerfile's FROM and the version file)",
        severity=severity,
    )


def validate_level_severity(params: Mapping[str, Any]) -> str | None:
    """A ``level-severity`` map names known levels and severities (shared with the declared-runtime check)."""
    for level, severity in (params.get("level-severity") or {}).items():
        if level not in LEVELS:
            return f"params.level-severity: {level!r} is not one of {', '.join(LEVELS)}"
        if severity not in ("error", "warning", "info"):
            return f"params.level-severity.{level}: {severity!r} is not error, warning or info"
    return None


CHECK = Check(
    run=check,
    modes=("pair",),
    params={
        "runtime": Param("str", required=True, choices=("python", "node", "npm", "yarn", "pnpm"), help="which runtime"),
        "levels": Param(
            "str-list",
            default=list(LEVELS),
            choices=LEVELS,
            help="report when the first differing component is one of these",
        ),
        "level-severity": Param("str-map", default={}, help="severity per level, overriding the rule's"),
        "label": Param("str", default="", help="how the runtime is named in messages"),
    },
    doc="Compares one runtime's version between two snapshots at a chosen granularity.",
    validate=validate_level_severity,
)
