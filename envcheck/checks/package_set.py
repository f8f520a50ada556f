"""``package-set``: a package is on one side only (EC202/EC203, EC212/EC213).

``report = "missing"``: a package the project requires (declared or locked)
is installed on one side and absent on the other; in ``target`` mode, a main
requirement that applies to the target (markers evaluated against it) is not
installed there.  Without a project, every left package absent on the right.
``report = "extra"``: a package only the right side has and the project does
not require.
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
    required_names,
    version_list,
    where,
)
from envcheck.findings import Finding, Side

TYPE_CHECKING = False
if TYPE_CHECKING:
    from envcheck.rules import Rule
    from envcheck.snapshot import Package, Snapshot


def _pair(rule: Rule, ctx: Context, eco: str) -> Iterator[Finding]:
    assert ctx.left is not None and ctx.right is not None
    left, right = installed_versions(ctx.left, eco, _ignored(rule)), installed_versions(ctx.right, eco, _ignored(rule))
    has_project = ctx.declared is not None
    if rule.params["report"] == "extra":
        required = required_names(ctx.declared, eco, ctx.right)
        for name in sorted(right.keys() - left.keys()):
            if name in required:
                continue  # a required package is "missing" on the left, reported by the missing rule
            shown, rv = right[name][0].name, version_list(right[name])
            yield finding(
                rule,
                f"{shown} {rv} is installed {where(ctx.right_label)} but not {where(ctx.left_label)}",
                subject=shown,
                left=Side(ctx.left_label, None),
                right=Side(ctx.right_label, rv),
                fix=f"remove {shown} from {ctx.right_label} or add it to the project's requirements",
            )
        return
    # missing: what one side has and the other lacks, in both directions when the project says what is required
    if has_project:
        need_right = required_names(ctx.declared, eco, ctx.right)
        need_left = required_names(ctx.declared, eco, ctx.left)
        yield from _missing(rule, left, right, ctx.left_label, ctx.right_label, required=need_right)
        yield from _missing(rule, right, left, ctx.right_label, ctx.left_label, required=need_left, flip=True)
    else:
        yield from _missing(rule, left, right, ctx.left_label, ctx.right_label, required=None)


def _missing(
    rule: Rule,
    have: dict[str, list[Package]],
    lack: dict[str, list[Package]],
    have_label: str,
    lack_label: str,
    *,
    required: dict[str, str] | None,
    flip: bool = False,
) -> Iterator[Finding]:
    for name in sorted(have.keys() - lack.keys()):
        if required is not None and name not in required:
            continue
        shown, v = have[name][0].name, version_list(have[name])
        side_have, side_lack = Side(have_label, v), Side(lack_label, None)
        source = required.get(name) if required else None
        yield finding(
            rule,
            f"{shown} {v} is installed {where(have_label)} but missing {where(lack_label)}"
            + (f" (required by {source})" if source else ""),
            subject=shown,
            left=side_lack if flip else side_have,
            right=side_have if flip else side_lack,
            source=source,
            fix=f"install {shown} {where(lack_label)} from the project's lock or requirements",
        )


def _target(rule: Rule, ctx: Context, eco: str) -> Iterator[Finding]:
    assert ctx.right is not None and ctx.declared is not None
    if rule.params["report"] != "missing" or not ctx.right.packages.get(eco):
        # A snapshot that captured no packages of this ecosystem says nothing about them.
        return
    installed = installed_versions(ctx.right, eco, _ignored(rule))
    # Installer tooling a requirements file names (pip, setuptools, wheel) is
    # not compared here either, exactly as in the pair comparison: `scan`
    # and `diff` of the same snapshots must agree.
    skip = {canonical(eco, n) for n in _ignored(rule)}
    seen: set[str] = set()
    for req in ctx.declared.requirements:
        if req.ecosystem != eco or req.group is not None or is_local_requirement(req):
            continue
        name = canonical(eco, req.name)
        if name in skip or name in installed or name in seen or not marker_applies(req.marker, ctx.right):
            continue
        seen.add(name)
        yield finding(
            rule,
            f"{req.name} is required by {req.source or 'the project'} but not installed {where(ctx.right_label)}",
            subject=req.name,
            left=Side("declared", req.specifier or "*"),
            right=Side(ctx.right_label, None),
            source=req.source,
            fix=f"install the project's requirements {where(ctx.right_label)}",
        )


def _runs_no_node_project(snap: Snapshot | None) -> bool:
    """An image whose working directory has no package.json (``image.node_project`` false)."""
    return snap is not None and snap.image is not None and snap.image.get("node_project") is False


def check(rule: Rule, ctx: Context) -> Iterator[Finding]:
    eco = str(rule.params["ecosystem"])
    if eco == "node" and (_runs_no_node_project(ctx.left) or _runs_no_node_project(ctx.right)):
        return
    if ctx.left is not None and ctx.right is not None:
        yield from _pair(rule, ctx, eco)
    elif ctx.right is not None and ctx.declared is not None:
        yield from _target(rule, ctx, eco)


CHECK = Check(
    run=check,
    modes=("pair", "target"),
    params={
        "ecosystem": Param("str", required=True, choices=("python", "node")),
        "report": Param("str", required=True, choices=("missing", "extra")),
        "ignore": IGNORE_PARAM,
    },
    doc="Packages present on one side only.",
)


def _ignored(rule: Rule) -> tuple[str, ...]:
    return tuple(str(x) for x in rule.params.get("ignore") or ())
