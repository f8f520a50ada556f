"""``runtime-requires``: the target's interpreter is outside ``requires-python`` / ``engines.node`` (EC302, EC303)."""

from __future__ import annotations

from collections.abc import Iterator

from envcheck.checks._base import Check, Context, Param, finding, where
from envcheck.checks._versions import satisfies
from envcheck.findings import Finding, Side

TYPE_CHECKING = False
if TYPE_CHECKING:
    from envcheck.rules import Rule

_FIELD = {"python": "requires-python", "node": "engines.node"}


def check(rule: Rule, ctx: Context) -> Iterator[Finding]:
    if ctx.right is None or ctx.declared is None:
        return
    runtime = str(rule.params["runtime"])
    declared = ctx.declared.python if runtime == "python" else ctx.declared.node
    installed = ctx.right.runtime(runtime)
    if declared is None or not declared.requires or installed is None:
        return
    if satisfies(runtime, installed.version, declared.requires) is not False:
        return
    field_name = _FIELD[runtime]
    yield finding(
        rule,
        f"{runtime} {installed.version} {where(ctx.right_label)} is outside {field_name} {declared.requires}"
        + (f" ({declared.requires_source})" if declared.requires_source else ""),
        subject=runtime,
        left=Side("declared", declared.requires),
        right=Side(ctx.right_label, installed.version),
        source=declared.requires_source,
        fix=f"use a {runtime} that satisfies {declared.requires} {where(ctx.right_label)}, or update {field_name}",
    )


CHECK = Check(
    run=check,
    modes=("target",),
    params={"runtime": Param("str", required=True, choices=("python", "node"))},
    doc="The target's interpreter against the project's declared range.",
)
