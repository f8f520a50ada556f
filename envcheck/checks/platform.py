"""``platform``: architecture, OS or libc family differ, so wheels and native modules differ (EC105)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from envcheck.checks._base import Check, Context, Param, finding, where
from envcheck.findings import Finding, Side

if TYPE_CHECKING:
    from envcheck.rules import Rule
    from envcheck.snapshot import Platform

# uname and OCI name the same machines differently.
_ARCH = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64", "armv8": "aarch64", "i686": "x86", "386": "x86"}
FIELDS = ("os", "arch", "libc")


def _value(platform: Platform, field_name: str) -> str | None:
    if field_name == "arch":
        return _ARCH.get((platform.arch or "").lower(), platform.arch.lower()) if platform.arch else None
    if field_name == "libc":
        return platform.libc_family.lower() if platform.libc_family else None
    return platform.os.lower() if platform.os else None


def check(rule: Rule, ctx: Context) -> Iterator[Finding]:
    if ctx.left is None or ctx.right is None or ctx.left.platform is None or ctx.right.platform is None:
        return
    for field_name in rule.params["fields"]:
        a, b = _value(ctx.left.platform, field_name), _value(ctx.right.platform, field_name)
        if a is None or b is None or a == b:
            continue
        yield finding(
            rule,
            f"{field_name} is {a} {where(ctx.left_label)} but {b} {where(ctx.right_label)}",
            subject=field_name,
            left=Side(ctx.left_label, a),
            right=Side(ctx.right_label, b),
            fix=f"build the image for {a} (docker build --platform) or pick a base image with {a}",
        )


CHECK = Check(
    run=check,
    modes=("pair",),
    params={"fields": Param("str-list", default=["arch", "libc"], choices=FIELDS, help="platform fields to compare")},
    doc="Compares architecture, OS and libc family between two snapshots.",
)
