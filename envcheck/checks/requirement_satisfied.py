"""``requirement-satisfied``: an installed version violates the project's declared specifier (EC301).

Markers are evaluated against the *target* snapshot's interpreter and
platform, not envcheck's own: ``pywin32; sys_platform == "win32"`` says nothing
about a Linux image.
"""

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
    is_local_requirement,
    marker_applies,
    where,
)
from envcheck.checks._versions import satisfies
from envcheck.findings import Finding, Side

TYPE_CHECKING = False
if TYPE_CHECKING:
    from envcheck.rules import Rule


def check(rule: Rule, ctx: Context) -> Iterator[Finding]:
    if ctx.right is None or ctx.declared is None:
        return
    ecosystems = rule.params["ecosystems"]
    seen: set[tuple[str, str]] = set()
    ignored = {canonical("python", str(n)) for n in rule.params.get("ignore") or ()}
    for req in ctx.declared.requirements:
        if req.ecosystem not in ecosystems or not req.specifier.strip() or is_local_requirement(req):
            continue
        if req.ecosystem == "python" and canonical("python", req.name) in ignored:
            continue  # installer tooling: each environment carries its own (EC201-EC203 skip it too)
        if req.ecosystem == "python" and not marker_applies(req.marker, ctx.right):
            continue
        installed = installed_versions(ctx.right, req.ecosystem).get(canonical(req.ecosystem, req.name))
        if not installed:
            continue
        key = (req.name, req.source)
        if key in seen:
            continue
        seen.add(key)
        versions = sorted({p.version for p in installed})
        answers = [satisfies(req.ecosystem, v, req.specifier) for v in versions]
        if not any(a is False for a in answers) or any(a is True for a in answers):
            continue  # cannot say, or one of node's copies satisfies it
        shown = ", ".join(versions)
        yield finding(
            rule,
            f"{req.name} {shown} {where(ctx.right_label)} does not satisfy {req.name}{_sep(req.ecosystem)}"
            f"{req.specifier} declared in {req.source or 'the project'}",
            subject=req.name,
            left=Side("declared", req.specifier),
            right=Side(ctx.right_label, shown),
            source=req.source,
            fix=f"reinstall {where(ctx.right_label)} from the project's requirements, or relax the specifier",
        )


def _sep(ecosystem: str) -> str:
    return "" if ecosystem == "python" else "@"


CHECK = Check(
    run=check,
    modes=("target",),
    params={
        "ecosystems": Param("str-list", default=["python", "node"], choices=("python", "node")),
        "ignore": IGNORE_PARAM,
    },
    doc="Declared requirements against the versions installed on the target.",
)
