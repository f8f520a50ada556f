"""``package-policy``: a project's own rule about which packages a snapshot may hold.

No built-in rule uses it; it exists for rule files in a project's
``rules-dir``, e.g. "pickle5 must not be in the image"::

    id = "ACME001"
    name = "no-pickle5-in-image"
    severity = "error"
    check = "package-policy"
    summary = "pickle5 must not be installed in the image"
    [params]
    ecosystem = "python"
    forbid = ["pickle5"]
    on = ["image"]

``forbid`` and ``require`` take requirement strings: ``pickle5`` (any
version), ``urllib3<2`` (forbid only the matching versions), ``express@^4``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from envcheck.checks._base import Check, Context, Param, canonical, finding, installed_versions, where
from envcheck.checks._versions import satisfies
from envcheck.findings import Finding, Side

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from envcheck.rules import Rule


def parse_spec(ecosystem: str, text: str) -> tuple[str, str] | None:
    """``urllib3<2`` → (``urllib3``, ``<2``); ``@scope/x@^1`` → (``@scope/x``, ``^1``); None if malformed."""
    text = text.strip()
    if ecosystem == "python":
        from packaging.requirements import InvalidRequirement, Requirement

        try:
            req = Requirement(text)
        except InvalidRequirement:
            return None
        return req.name, str(req.specifier)
    at = text.find("@", 1)
    name, spec = (text[:at], text[at + 1 :]) if at > 0 else (text, "")
    return (name, spec) if name else None


def _validate(params: Mapping[str, Any]) -> str | None:
    eco = str(params.get("ecosystem", "python"))
    for key in ("forbid", "require"):
        for text in params.get(key, []):
            if parse_spec(eco, text) is None:
                return f"params.{key}: {text!r} is not a {eco} requirement"
    if not params.get("forbid") and not params.get("require"):
        return "params: set forbid or require (or both)"
    return None


def check(rule: Rule, ctx: Context) -> Iterator[Finding]:
    target = ctx.right
    if target is None or target.kind not in rule.params["on"]:
        return
    eco = str(rule.params["ecosystem"])
    installed = installed_versions(target, eco)
    for text in rule.params["forbid"]:
        parsed = parse_spec(eco, text)
        if parsed is None:
            continue
        name, spec = parsed
        pkgs = installed.get(canonical(eco, name), [])
        bad = sorted({p.version for p in pkgs if satisfies(eco, p.version, spec) is not False})
        if bad:
            yield finding(
                rule,
                f"{name} {', '.join(bad)} is installed {where(ctx.right_label)}, which the project forbids ({text})",
                subject=name,
                right=Side(ctx.right_label, ", ".join(bad)),
                fix=f"remove {name} from {ctx.right_label}'s dependencies",
            )
    if not target.packages.get(eco):
        return  # nothing captured: cannot tell what is missing
    for text in rule.params["require"]:
        parsed = parse_spec(eco, text)
        if parsed is None:
            continue
        name, spec = parsed
        pkgs = installed.get(canonical(eco, name), [])
        if pkgs and any(satisfies(eco, p.version, spec) is not False for p in pkgs):
            continue
        have = ", ".join(sorted({p.version for p in pkgs})) or None
        yield finding(
            rule,
            f"{ctx.right_label} must have {text} but "
            + (f"has {name} {have}" if have else f"{name} is not installed {where(ctx.right_label)}"),
            subject=name,
            right=Side(ctx.right_label, have),
            fix=f"install {text} {where(ctx.right_label)}",
        )


CHECK = Check(
    run=check,
    modes=("target",),
    params={
        "ecosystem": Param("str", default="python", choices=("python", "node")),
        "forbid": Param("str-list", default=[], help="requirement strings that must not be installed"),
        "require": Param("str-list", default=[], help="requirement strings that must be installed"),
        "on": Param(
            "str-list", default=["host", "image"], choices=("host", "image"), help="snapshot kinds it applies to"
        ),
    },
    doc="Project policy: packages that must (not) be installed on a host or in an image.",
    validate=_validate,
)
