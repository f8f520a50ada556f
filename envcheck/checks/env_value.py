"""``env-value``: a non-secret variable has different values on the two sides (EC502).

Only values a snapshot was allowed to store are compared (see
:mod:`envcheck.secrets`), and a value is printed only if it passes
:func:`envcheck.secrets.keep_value` again here — a stored snapshot from an
older envcheck is not trusted to have been careful.
"""

from __future__ import annotations

from collections.abc import Iterator

from envcheck.checks._base import Check, Context, Param, finding, where
from envcheck.findings import Finding, Side
from envcheck.secrets import keep_value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from envcheck.rules import Rule


def check(rule: Rule, ctx: Context) -> Iterator[Finding]:
    if ctx.left is None or ctx.right is None:
        return
    ignored = set(rule.params["ignore"])
    names = set(ctx.left.env) & set(ctx.right.env)
    if ctx.declared is not None and ctx.declared.env_refs:
        # With a project, the variables it reads (and the ones the config allows) are the ones that matter.
        names &= {ref.name for ref in ctx.declared.env_refs} | set(ctx.env_allow) | set(rule.params["names"])
    for name in sorted(names - ignored):
        a, b = ctx.left.env[name], ctx.right.env[name]
        if not (a.set and b.set) or a.value is None or b.value is None or a.value == b.value:
            continue
        show = keep_value(name, a.value, ctx.env_allow) and keep_value(name, b.value, ctx.env_allow)
        lv, rv = (a.value, b.value) if show else (None, None)
        detail = f"{a.value!r} {where(ctx.left_label)} but {b.value!r} {where(ctx.right_label)}" if show else "differs"
        yield finding(
            rule,
            f"{name} is {detail}" if show else f"{name} {detail} between {ctx.left_label} and {ctx.right_label}",
            subject=name,
            left=Side(ctx.left_label, lv),
            right=Side(ctx.right_label, rv),
            fix=f"set {name} to the same value on both sides, or add it to the rule's ignore list",
        )


CHECK = Check(
    run=check,
    modes=("pair",),
    params={
        "names": Param("str-list", default=[], help="variables compared even if the project does not read them"),
        "ignore": Param(
            "str-list",
            default=["PATH", "HOME", "HOSTNAME", "PWD", "OLDPWD", "SHELL", "TERM", "USER", "SHLVL", "_", "GPG_KEY"],
            help="variables whose values are expected to differ between machines",
        ),
    },
    doc="Values of non-secret variables on both sides.",
)
