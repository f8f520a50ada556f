"""``env-presence``: a variable the project reads is set on one side and unset on the other (EC501)."""

from __future__ import annotations

from collections.abc import Iterator

from envcheck.checks._base import Check, Context, Param, finding, where
from envcheck.findings import Finding, Side
from envcheck.snapshot import UNKNOWN_ENV

TYPE_CHECKING = False
if TYPE_CHECKING:
    from envcheck.rules import Rule
    from envcheck.snapshot import Snapshot


def _is_set(snapshot: Snapshot, name: str) -> bool:
    var = snapshot.env.get(name)
    return var is not None and var.set


def check(rule: Rule, ctx: Context) -> Iterator[Finding]:
    if ctx.left is None or ctx.right is None or ctx.declared is None:
        return
    if not (ctx.left.knows(UNKNOWN_ENV) and ctx.right.knows(UNKNOWN_ENV)):
        return  # an SBOM records no variables: "cannot say", not "unset"
    refs: dict[str, str] = {}
    for ref in ctx.declared.env_refs:
        refs.setdefault(ref.name, ref.source)
    for name in rule.params["names"]:
        refs.setdefault(name, "")
    ignored = set(rule.params["ignore"])
    for name in sorted(refs):
        if name in ignored:
            continue
        on_left, on_right = _is_set(ctx.left, name), _is_set(ctx.right, name)
        if on_left == on_right:
            continue
        have, lack = (ctx.left_label, ctx.right_label) if on_left else (ctx.right_label, ctx.left_label)
        by = f" (read at {refs[name]})" if refs[name] else ""
        yield finding(
            rule,
            f"{name} is set {where(have)} but not {where(lack)}{by}",
            subject=name,
            left=Side(ctx.left_label, "set" if on_left else "unset"),
            right=Side(ctx.right_label, "set" if on_right else "unset"),
            source=refs[name] or None,
            fix=f"set {name} {where(lack)} (docker run -e {name}, an env file, or the deployment's secrets)",
        )


CHECK = Check(
    run=check,
    modes=("pair",),
    params={
        "names": Param("str-list", default=[], help="variables to check besides the ones the project reads"),
        "ignore": Param("str-list", default=[], help="variables never reported"),
    },
    doc="Presence of the variables the project reads, on both sides.",
)
