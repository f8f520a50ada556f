"""``env-policy``: a project's own rule that variables must (not) be set on a host or in an image.

For a project's ``rules-dir``, e.g. "require SENTRY_DSN in the image"::

    check = "env-policy"
    [params]
    require = ["SENTRY_DSN"]
    on = ["image"]
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from envcheck.checks._base import Check, Context, Param, finding, where
from envcheck.findings import Finding, Side
from envcheck.snapshot import UNKNOWN_ENV

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from envcheck.rules import Rule


def _validate(params: Mapping[str, Any]) -> str | None:
    if not params.get("require") and not params.get("forbid"):
        return "params: set require or forbid (or both)"
    return None


def check(rule: Rule, ctx: Context) -> Iterator[Finding]:
    target = ctx.right
    if target is None or target.kind not in rule.params["on"] or not target.knows(UNKNOWN_ENV):
        return
    for name in rule.params["require"]:
        var = target.env.get(name)
        if var is None or not var.set:
            yield finding(
                rule,
                f"{name} must be set {where(ctx.right_label)} but is not",
                subject=name,
                right=Side(ctx.right_label, "unset"),
                fix=f"set {name} {where(ctx.right_label)}",
            )
    for name in rule.params["forbid"]:
        var = target.env.get(name)
        if var is not None and var.set:
            yield finding(
                rule,
                f"{name} must not be set {where(ctx.right_label)} but is",
                subject=name,
                right=Side(ctx.right_label, "set"),
                fix=f"unset {name} {where(ctx.right_label)}",
            )


CHECK = Check(
    run=check,
    modes=("target",),
    params={
        "require": Param("str-list", default=[], help="variables that must be set"),
        "forbid": Param("str-list", default=[], help="variables that must not be set"),
        "on": Param(
            "str-list", default=["host", "image"], choices=("host", "image"), help="snapshot kinds it applies to"
        ),
    },
    doc="Project policy: variables that must (not) be set on a host or in an image.",
    validate=_validate,
)
