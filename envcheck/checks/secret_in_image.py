"""``secret-in-image``: a secret-looking value baked into a Dockerfile ``ENV``/``ARG`` or an image's config (EC503).

Anyone who can pull the image can read its config and history, so the
finding names the variable and where it is set — never its value.
"""

from __future__ import annotations

from collections.abc import Iterator

from envcheck.checks._base import Check, Context, finding
from envcheck.findings import Finding, Side

TYPE_CHECKING = False
if TYPE_CHECKING:
    from envcheck.rules import Rule


def check(rule: Rule, ctx: Context) -> Iterator[Finding]:
    if ctx.mode == "static" and ctx.declared is not None:
        for var in ctx.declared.dockerfile_vars:
            if var.secret:
                yield finding(
                    rule,
                    f"{var.kind} {var.name} bakes a secret-looking value into the image (value not shown)",
                    subject=var.name,
                    right=Side("dockerfile", None),
                    source=var.source,
                    fix=f"remove the value; pass {var.name} at run time or use RUN --mount=type=secret",
                )
    elif ctx.mode == "target" and ctx.right is not None and ctx.right.image is not None:
        names = ctx.right.image.get("secret_env") or []
        for name in sorted({n for n in names if isinstance(n, str)}):
            yield finding(
                rule,
                f"the image config sets {name} to a secret-looking value (value not shown)",
                subject=name,
                right=Side(ctx.right_label, None),
                fix=f"rebuild without baking {name} in; pass it at run time and rotate the exposed credential",
            )


CHECK = Check(
    run=check,
    modes=("static", "target"),
    params={},
    doc="Dockerfile ENV/ARG and image config variables whose values look like credentials.",
)
