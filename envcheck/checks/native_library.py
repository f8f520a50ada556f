"""``native-library``: a shared library an installed package's extension links differs in major.minor (EC108).

Two environments with the same pins still behave differently when the C
library underneath differs: psycopg2 built against libpq 13 in the image and
15 on the laptop, python's ``_ssl`` on OpenSSL 1.1 against 3.0.  Per
distribution installed on both sides, every library its extensions link is
compared by name (``libssl.so.1.1`` and ``libssl.so.3`` are both ``libssl``):

* both versions from the system package database → their upstream major.minor;
* otherwise the soname's ABI version (``libssl.so.1.1`` vs ``libssl.so.3``),
  then, when both come from file names, their major.minor.

No finding when a side recorded no native facts (an old snapshot, an SBOM),
when the same vendored copy (auditwheel's hashed name) is on both sides, or
when a side cannot say where a library resolves.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from envcheck.checks._base import Check, Context, Param, canonical, finding, where
from envcheck.findings import Finding, Side
from envcheck.native import major_minor, soname_base, soname_stem, soname_version
from envcheck.record import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from envcheck.rules import Rule
    from envcheck.snapshot import Snapshot

# What the user reads for python's own modules (native.python keys).
_RUNTIME_NAMES = {"openssl": ("_ssl", "OpenSSL"), "sqlite": ("_sqlite3", "SQLite")}


@record
class _Link:
    soname: str
    version: str | None
    from_package: bool
    vendored: bool

    @property
    def abi(self) -> str | None:
        return soname_version(self.soname)

    def shown(self) -> str:
        version = self.version or self.abi
        return f"{version} ({self.soname})" if version and version != self.abi else self.soname


def _links(snapshot: Snapshot, ignore: list[str]) -> dict[tuple[str, str], dict[str, _Link]]:
    """(ecosystem, name) → library name → how the active copy of the distribution links it."""
    native = snapshot.native
    assert native is not None
    active_paths = {p.path for eco in ("python", "node") for p in snapshot.active_packages(eco) if p.path}
    out: dict[tuple[str, str], dict[str, _Link]] = {}
    for pkg in sorted(native.packages, key=lambda p: (p.ecosystem, p.name, p.path or "")):
        if pkg.path and pkg.path not in active_paths:
            continue  # a system site beside the venv that runs: context, not drift
        key = (pkg.ecosystem, canonical(pkg.ecosystem, pkg.name))
        if key in out:
            continue
        vendored = set(pkg.vendored)
        libs: dict[str, _Link] = {}
        for ext in pkg.extensions:
            for soname in ext.needed:
                if any(fnmatch.fnmatchcase(soname, pattern) for pattern in ignore):
                    continue
                base = soname_base(soname)
                if base in libs:
                    continue
                if soname in vendored:
                    libs[base] = _Link(soname, soname_version(soname), False, True)
                    continue
                lib = native.libraries.get(soname)
                if lib is None or lib.path is None:
                    continue  # not found: nothing to compare
                libs[base] = _Link(soname, lib.version, lib.version_from == "package", False)
        out[key] = libs
    return out


def _differs(a: _Link, b: _Link) -> bool:
    if a.soname == b.soname and a.vendored and b.vendored:
        return False  # the same vendored copy (its name carries a content hash)
    if a.from_package and b.from_package and a.version and b.version:
        return major_minor(a.version) != major_minor(b.version)
    if a.abi != b.abi:
        return a.abi is not None and b.abi is not None
    if a.version and b.version and not a.from_package and not b.from_package:
        return major_minor(a.version) != major_minor(b.version)
    return False


def check(rule: Rule, ctx: Context) -> Iterator[Finding]:
    left, right = ctx.left, ctx.right
    if left is None or right is None or left.native is None or right.native is None:
        return
    ignore = list(rule.params["ignore"])
    for key, (module, label) in _RUNTIME_NAMES.items():
        la, lb = left.native.python.get(key), right.native.python.get(key)
        if la is None or lb is None or major_minor(la.version) == major_minor(lb.version):
            continue
        yield finding(
            rule,
            f"python's {module} links {label} {la.version} {where(ctx.left_label)} "
            f"but {lb.version} {where(ctx.right_label)}",
            subject=f"python:{module}",
            left=Side(ctx.left_label, la.version),
            right=Side(ctx.right_label, lb.version),
            fix=f"use a base image (or host interpreter) whose python links {label} {major_minor(la.version)}",
        )
    lhs, rhs = _links(left, ignore), _links(right, ignore)
    for eco, name in sorted(lhs.keys() & rhs.keys()):
        for base in sorted(lhs[(eco, name)].keys() & rhs[(eco, name)].keys()):
            a, b = lhs[(eco, name)][base], rhs[(eco, name)][base]
            if not _differs(a, b):
                continue
            stem = soname_stem(a.soname)
            shown = stem if stem == soname_stem(b.soname) else base  # libsqlite3, not libsqlite
            yield finding(
                rule,
                f"{name}'s extension links {shown} {a.shown()} {where(ctx.left_label)} "
                f"but {b.shown()} {where(ctx.right_label)}",
                subject=f"{name}:{base}",
                left=Side(ctx.left_label, a.version or a.soname),
                right=Side(ctx.right_label, b.version or b.soname),
                fix=f"install the {shown} {a.version or a.abi or ''} that {name} was built against, "
                f"or rebuild {name} against the library the other side has".replace("  ", " "),
            )


CHECK = Check(
    run=check,
    modes=("pair",),
    params={
        "ignore": Param(
            "str-list",
            default=[],
            help="soname patterns (fnmatch) never compared, e.g. the C library itself",
        )
    },
    doc="Compares, per installed distribution, the major.minor of each shared library its extensions link.",
)
