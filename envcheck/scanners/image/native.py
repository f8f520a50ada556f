"""Native code in an image, read statically (the ``native`` part of its snapshot).

The walker asks :func:`classify` about each member it would otherwise skip
and hands the few that matter to :func:`read_fact`:

``elf``       an extension module (``*.so`` under site-/dist-packages, ``*.node``
              under node_modules): its dynamic section, headers only;
``pyruntime`` CPython's own ``lib-dynload/_ssl*.so`` / ``_sqlite3*.so``: the
              dynamic section, and the version text a static build carries;
``pyrecord``  a ``*.dist-info/RECORD``: which extension files and vendored
              libraries belong to the distribution;
``dpkglist``  ``var/lib/dpkg/info/*.list``: which package owns which library.

System libraries are recorded by *presence* only (thousands of them in
``/usr/lib``, none read); the providing package and its version come from the
package database.  :func:`detect_native` then resolves every soname an
extension needs the way ld.so would (RUNPATH with ``$ORIGIN``, then the
multiarch and default directories).
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping

from envcheck import _regex
from envcheck.elf import ElfDynamic, ForwardReader, read_dynamic
from envcheck.native import (
    RUNTIME_MODULES,
    VENDOR_DIRS,
    FileSystem,
    FoundExtension,
    LinkedLibrary,
    Native,
    build,
    embedded_version,
    is_extension,
    is_shared_library,
    lib_dirs,
    python_library,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from envcheck.elf import ByteStream
    from envcheck.scanners.image.walker import MergedView
    from envcheck.snapshot import Package, Runtime

KINDS = frozenset({"elf", "pyruntime", "pyrecord", "dpkglist"})
MIB = 1024 * 1024
# An extension's dynamic segment sits in its data segment, after the code: for
# numpy's largest module that is ~10 MiB in.  Bytes up to this offset may be
# streamed past; further means "unreadable", noted.
CAP_ELF_STREAM = 256 * MIB
# A static OpenSSL inside _ssl is a few MiB; its version text is searched in full.
CAP_RUNTIME = 32 * MIB
CAP_RECORD = 8 * MIB
CAP_LIST = 4 * MIB

_SITES = ("site-packages", "dist-packages")
_SYSTEM_LIB_PARENTS = ("lib", "lib64", "lib32", "usr/lib", "usr/lib64", "usr/lib32", "usr/local/lib")
_TRIPLET = _regex.compile(r"^[a-z0-9_]+-(?:linux|kfreebsd|hurd)-[a-z0-9_]+$")
_RUNTIME_MODULE = _regex.compile(r"^(_ssl|_sqlite3)(?:\.[\w-]+)?\.so$")


def _in_site(path: str) -> bool:
    return "/site-packages/" in path or "/dist-packages/" in path


def classify(path: str, parent: str, base: str) -> str | None:
    """The native kind of a member, or None.  Called only for names the walker does not want."""
    if base == "RECORD":
        return "pyrecord" if parent.endswith(".dist-info") and _in_site(path) else None
    if base.endswith(".list"):
        return "dpkglist" if parent == "var/lib/dpkg/info" else None
    if base.endswith(".so"):
        if parent.endswith("/lib-dynload") and _RUNTIME_MODULE.match(base):
            return "pyruntime"
        if _in_site(path) and not VENDOR_DIRS.search(parent):
            return "elf"
        return None
    if base.endswith(".node") and "node_modules/" in path:
        return "elf"
    return None


def presence_only(path: str, parent: str, base: str) -> bool:
    """System libraries and vendored wheel libraries: their existence is all resolution needs."""
    if not is_shared_library(base):
        return False
    if parent in _SYSTEM_LIB_PARENTS:
        return True
    head, _, last = parent.rpartition("/")
    if head in _SYSTEM_LIB_PARENTS and _TRIPLET.match(last):
        return True
    return bool(VENDOR_DIRS.search(parent)) and (_in_site(path) or "node_modules/" in path)


def read_fact(kind: str, fh: ByteStream, size: int) -> Any:
    """A member's content → the small fact kept for it."""
    if kind == "elf":
        return read_dynamic(ForwardReader(fh, CAP_ELF_STREAM), size)
    if kind == "pyruntime":
        data = fh.read(CAP_RUNTIME)
        dynamic = read_dynamic(lambda offset, n: data[offset : offset + n], len(data))
        return (dynamic, {k: v for k in ("openssl", "sqlite") if (v := embedded_version(k, data))})
    if kind == "pyrecord":
        return _record(fh.read(CAP_RECORD))
    if kind == "dpkglist":
        text = fh.read(CAP_LIST).decode("utf-8", "replace")
        return tuple(line.strip().lstrip("/") for line in text.splitlines() if ".so" in line and "/lib" in line)
    return None


def _record(data: bytes) -> tuple[str, ...]:
    """RECORD lines (``path,hash,size``) naming extension modules or vendored libraries."""
    out = []
    for line in data.decode("utf-8", "replace").splitlines():
        name = line.rsplit(",", 2)[0] if line.count(",") >= 2 else line
        name = name.strip().strip('"')
        if not name or name.startswith("/") or ".." in name.split("/"):
            continue
        base = name.rpartition("/")[2]
        if is_extension(base) or (is_shared_library(base) and VENDOR_DIRS.search(name)):
            out.append(name)
    return tuple(out)


# --------------------------------------------------------------------------- detection


def detect_native(
    view: MergedView,
    packages: Mapping[str, tuple[Package, ...]],
    python: Runtime | None,
    dpkg: Mapping[str, str],
    apk: Mapping[str, str],
) -> tuple[Native, list[str]]:
    """The image's ``native`` facts and notes on what could not be read."""
    notes: list[str] = []
    fs = _filesystem(view, dpkg, apk)
    found: list[FoundExtension] = []
    vendored: dict[tuple[str, str, str | None], list[str]] = {}
    unreadable: list[str] = []

    from packaging.utils import canonicalize_name

    for record_path, files in view.facts("pyrecord"):
        dist_dir = posixpath.dirname(record_path)
        meta = view.fact(f"{dist_dir}/METADATA", "pydist")
        if not (isinstance(meta, tuple) and len(meta) == 2) or not isinstance(files, tuple):
            continue
        name = canonicalize_name(str(meta[0]))
        site = posixpath.dirname(dist_dir)
        key = ("python", name, "/" + dist_dir)
        for rel in files:
            member = posixpath.normpath(posixpath.join(site, rel))
            base = rel.rpartition("/")[2]
            if VENDOR_DIRS.search(rel) and is_shared_library(base):
                if view.is_file(member):
                    vendored.setdefault(key, []).append(base)
                continue
            if not view.is_file(member):
                continue
            dynamic = view.fact(member, "elf")
            if isinstance(dynamic, ElfDynamic):
                found.append(FoundExtension("python", name, "/" + dist_dir, "/" + member, dynamic))
            else:
                unreadable.append("/" + member)

    node_dirs = {_node_dir(p.path): p for p in packages.get("node", ()) if p.path}
    for path, dynamic in view.facts("elf"):
        if "node_modules/" not in path or not path.endswith(".node"):
            continue
        pkg_dir = _owning_node_dir(path)
        pkg = next((p for d, p in node_dirs.items() if pkg_dir == d or pkg_dir.endswith("/" + d)), None)
        if pkg is None:
            continue
        if isinstance(dynamic, ElfDynamic):
            found.append(FoundExtension("node", pkg.name, pkg.path, "/" + path, dynamic))
        else:
            unreadable.append("/" + path)

    if unreadable:
        shown = ", ".join(unreadable[:3]) + (f" and {len(unreadable) - 3} more" if len(unreadable) > 3 else "")
        notes.append(f"native: {len(unreadable)} extension file(s) not readable as ELF, skipped: {shown}")
    return build(found, vendored, fs, python=_python_libraries(view, python, fs)), notes


def _node_dir(path: str) -> str:
    return path.lstrip("/")


def _owning_node_dir(path: str) -> str:
    """``app/node_modules/@s/x/build/Release/x.node`` → ``app/node_modules/@s/x``."""
    head, sep, tail = path.rpartition("node_modules/")
    parts = tail.split("/")
    take = 2 if parts[0].startswith("@") else 1
    return head + sep + "/".join(parts[:take])


def _python_libraries(view: MergedView, python: Runtime | None, fs: FileSystem) -> dict[str, LinkedLibrary]:
    if python is None:
        return {}
    nums = python.version.split(".")
    if len(nums) < 2:
        return {}
    libdir = f"python{nums[0]}.{nums[1]}/lib-dynload/"
    prefix = ""
    if python.path:
        real = view.resolve(python.path.lstrip("/")) or python.path.lstrip("/")
        prefix = posixpath.dirname(posixpath.dirname(real))
    out: dict[str, LinkedLibrary] = {}
    candidates = sorted(
        (p for p, _ in view.facts("pyruntime") if libdir in p),
        key=lambda p: (not p.startswith(prefix + "/") if prefix else False, p),
    )
    for path in candidates:
        m = _RUNTIME_MODULE.match(path.rpartition("/")[2])
        fact = view.fact(path, "pyruntime")
        if m is None or not (isinstance(fact, tuple) and len(fact) == 2):
            continue
        key = RUNTIME_MODULES[m.group(1)][0]
        if key in out:
            continue
        dynamic, strings = fact
        lib = python_library(key, dynamic if isinstance(dynamic, ElfDynamic) else None, None, "/" + path, fs)
        if lib is None and isinstance(strings, dict) and isinstance(strings.get(key), str):
            lib = LinkedLibrary(version=strings[key])
        if lib is not None:
            out[key] = lib
    return out


def _filesystem(view: MergedView, dpkg: Mapping[str, str], apk: Mapping[str, str]) -> FileSystem:
    owners: dict[str, str] = {}
    for list_path, files in view.facts("dpkglist"):
        pkg = list_path.rpartition("/")[2][: -len(".list")].split(":", 1)[0]
        if pkg not in dpkg or not isinstance(files, tuple):
            continue
        for f in files:
            real = view.resolve(f)
            if real:
                owners.setdefault(real, pkg)

    def realpath(path: str) -> str | None:
        found = view.lookup(path.lstrip("/"))
        if found is None or found[1].kind not in ("file", "hardlink"):
            return None
        return "/" + found[0]

    def owner(soname: str, path: str) -> tuple[str, str] | None:
        pkg = owners.get(path.lstrip("/"))
        if pkg is not None:
            return pkg, dpkg[pkg]
        provider = apk.get("so:" + soname)
        if provider and provider in apk:
            return provider, apk[provider]
        return None

    triplets = {
        d.rpartition("/")[2]
        for d in view.dirs
        if d.rpartition("/")[0] in ("lib", "usr/lib") and _TRIPLET.match(d.rpartition("/")[2])
    }
    return FileSystem(realpath=realpath, owner=owner, lib_dirs=lib_dirs(triplets))
