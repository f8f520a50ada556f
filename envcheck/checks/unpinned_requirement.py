"""``unpinned-requirement``: a dependency with no exact pin and no lock file (EC401).

A requirement counts as pinned when it says ``==X`` (or npm ``1.2.3``), when
another declaration of the same package pins it (pip-compile output beside
its ``.in`` file, a ``-c constraints.txt``), or when a lock file for its
ecosystem exists.
"""

from __future__ import annotations

from collections.abc import Iterator

from envcheck.checks._base import Check, Context, Param, canonical, finding, is_local_requirement
from envcheck.findings import Finding, Side

TYPE_CHECKING = False
if TYPE_CHECKING:
    from envcheck.rules import Rule
    from envcheck.snapshot import Requirement


def _pinned(req: Requirement) -> bool:
    if req.ecosystem == "node":
        from envcheck import npm_semver

        return npm_semver.is_exact(req.specifier)
    return req.is_pinned


def check(rule: Rule, ctx: Context) -> Iterator[Finding]:
    declared = ctx.declared
    if declared is None:
        return
    skip_groups = set(rule.params["skip-groups"])
    locked_ecosystems = {lock.ecosystem for lock in declared.locks}
    pinned = {(r.ecosystem, canonical(r.ecosystem, r.name)) for r in declared.requirements if _pinned(r)}
    for req in declared.requirements:
        if req.ecosystem in locked_ecosystems or req.group in skip_groups or is_local_requirement(req):
            continue
        if req.ecosystem == "node":
            from envcheck import npm_semver

            if req.specifier.strip() and not npm_semver.is_semver_range(req.specifier):
                continue  # git URLs, dist-tags, workspace: — nothing a version pin could say
        if _pinned(req) or (req.ecosystem, canonical(req.ecosystem, req.name)) in pinned:
            continue
        spec = req.specifier.strip()
        yield finding(
            rule,
            f"{req.name}{spec if req.ecosystem == 'python' else ('@' + spec if spec else '')} is not pinned"
            f" to an exact version and the project has no {req.ecosystem} lock file",
            subject=req.name,
            left=Side("declared", spec or "*"),
            source=req.source,
            fix=f"pin it ({req.name}==X.Y.Z) or commit a lock file (pip-compile, uv lock, poetry lock)"
            if req.ecosystem == "python"
            else "pin an exact version or commit package-lock.json",
        )


CHECK = Check(
    run=check,
    modes=("static",),
    params={
        "skip-groups": Param(
            "str-list", default=["build", "constraint"], help="requirement groups that need no pin (e.g. build)"
        )
    },
    doc="Declared dependencies without exact pins in a project without a lock file.",
)
