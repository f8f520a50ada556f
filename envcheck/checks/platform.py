"""``platform``: architecture, OS or libc family differ, so wheels and native modules differ (EC105)."""

from __future__ import annotations

from collections.abc import Iterator

from envcheck.checks._base import Check, Context, Param, finding, where
from envcheck.findings import Finding, Side
from envcheck.platform_tags import normalise_arch

TYPE_CHECKING = False
if TYPE_CHECKING:
    from envcheck.rules import Rule
    from envcheck.snapshot import Platform

FIELDS = ("os", "arch", "libc")


def _value(platform: Platform, field_name: str) -> str | None:
    if field_name == "arch":
        # uname, OCI and npm name the same machines differently (arm64 == aarch64, amd64 == x86_64).
        return normalise_arch(platform.arch)
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
            f"{_NOUN[field_name]} is {a} {where(ctx.left_label)} but {b} {where(ctx.right_label)}: {_WHY[field_name]}",
            subject=field_name,
            left=Side(ctx.left_label, a),
            right=Side(ctx.right_label, b),
            fix=_fix(field_name, a),
        )


_NOUN = {"arch": "CPU architecture", "libc": "libc", "os": "operating system"}
_WHY = {
    "arch": "binary wheels and native modules built for one do not load on the other",
    "libc": "manylinux (glibc) wheels do not install on musl, musllinux ones not on glibc",
    "os": "wheels, native modules and paths differ",
}


def _fix(field_name: str, value: str) -> str:
    if field_name == "arch":
        oci = {"x86_64": "amd64", "aarch64": "arm64"}.get(value, value)
        return f"build and run the image for linux/{oci} (docker build --platform linux/{oci})"
    if field_name == "libc":
        base = "a Debian-based (-slim) base image" if value == "glibc" else "an Alpine base image"
        return f"use {base} so both sides use {value}"
    return f"run the project on {value} on both sides"


CHECK = Check(
    run=check,
    modes=("pair",),
    params={"fields": Param("str-list", default=["arch", "libc"], choices=FIELDS, help="platform fields to compare")},
    doc="Compares architecture, OS and libc family between two snapshots.",
)
