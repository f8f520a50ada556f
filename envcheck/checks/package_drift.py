"""``package-drift``: the same package is installed at different versions on the two sides (EC201, EC211)."""

from __future__ import annotations

from collections.abc import Iterator

from envcheck.checks._base import (
    IGNORE_PARAM,
    Check,
    Context,
    Param,
    canonical,
    finding,
    installed_versions,
    requirement_source,
    version_list,
    where,
)
from envcheck.findings import Finding, Side

TYPE_CHECKING = False
if TYPE_CHECKING:
    from envcheck.rules import Rule


def check(rule: Rule, ctx: Context) -> Iterator[Finding]:
    if ctx.left is None or ctx.right is None:
        return
    eco = str(rule.params["ecosystem"])
    left, right = installed_versions(ctx.left, eco, _ignored(rule)), installed_versions(ctx.right, eco, _ignored(rule))
    for name in sorted(left.keys() & right.keys()):
        lv, rv = version_list(left[name]), version_list(right[name])
        if lv == rv:
            continue
        shown = left[name][0].name
        yield finding(
            rule,
            f"{shown} is {lv} {where(ctx.left_label)} but {rv} {where(ctx.right_label)}",
            subject=shown,
            left=Side(ctx.left_label, lv),
            right=Side(ctx.right_label, rv),
            source=requirement_source(ctx.declared, eco, name),
            fix=_fix(ctx, eco, name, shown, {p.version for p in left[name]}),
        )


def _fix(ctx: Context, eco: str, name: str, shown: str, left_versions: set[str]) -> str:
    declared = ctx.declared
    pinned = [
        r
        for r in (declared.requirements if declared else ())
        if r.ecosystem == eco and canonical(eco, r.name) == name and r.is_pinned
    ]
    if pinned:
        # The project already says which version is right: make both sides install it.
        return (
            f"reinstall {shown}{'' if eco == 'python' else '@'}{pinned[0].specifier} ({pinned[0].source}) on both sides"
        )
    if len(left_versions) == 1:
        return f"pin {shown}{'==' if eco == 'python' else '@'}{next(iter(left_versions))} and reinstall"
    return f"pin {shown} to one version and reinstall"


CHECK = Check(
    run=check,
    modes=("pair",),
    params={"ecosystem": Param("str", required=True, choices=("python", "node")), "ignore": IGNORE_PARAM},
    doc="Compares the versions of packages installed on both sides.",
)


def _ignored(rule: Rule) -> tuple[str, ...]:
    return tuple(str(x) for x in rule.params.get("ignore") or ())
