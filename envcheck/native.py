"""The native code an environment really loads: the ``native`` part of a snapshot.

For every installed distribution with extension modules (CPython ``*.so``,
node ``*.node`` addons) a snapshot records the shared libraries each
extension needs (ELF ``DT_NEEDED``, read by :mod:`envcheck.elf`), the
libraries the wheel vendors (auditwheel's ``<name>.libs/``), and, once per
soname, where the system resolves it and which system package at what
version provides it.  Python's own ``_ssl`` / ``_sqlite3`` give the OpenSSL
and SQLite versions the interpreter links.

JSON (a compatible addition to ``envcheck.snapshot/1``; absent = not recorded)::

    "native": {
      "python": {"openssl": {"library": "libssl.so.3", "version": "3.0.15"}},
      "packages": [{"ecosystem": "python", "name": "psycopg2", "path": "…dist-info",
                    "extensions": [{"file": "…/_psycopg.cpython-311-x86_64-linux-gnu.so",
                                    "needed": ["libpq.so.5", "libc.so.6"]}],
                    "vendored": []}],
      "libraries": {"libpq.so.5": {"path": "/usr/lib/x86_64-linux-gnu/libpq.so.5.15",
                                   "version": "15.5", "version_from": "package",
                                   "package": "libpq5", "package_version": "15.5-0+deb12u1"}}
    }

This module is pure: scanners hand it what they read (ELF facts, which files
exist, which package owns a file) and get the frozen value back.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping

from envcheck import _regex
from envcheck._typing import cast
from envcheck.elf import ElfDynamic
from envcheck.record import field, record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Literal

    Ecosystem = Literal["python", "node"]
    VersionFrom = Literal["package", "file", "string"]

# Extension modules kept per scan, and sonames resolved: a bound on the work a
# pathological environment (a million tiny .so files) can cause.
MAX_EXTENSIONS = 5000
# Python's own modules whose linked library a snapshot records: the key in
# ``native.python``, the library base the module links, and the text the
# library (or a static build) carries its version in.
RUNTIME_MODULES: dict[str, tuple[str, str]] = {"_ssl": ("openssl", "libssl"), "_sqlite3": ("sqlite", "libsqlite3")}
VERSION_STRINGS: dict[str, re.Pattern[bytes]] = {
    "openssl": _regex.compile(rb"OpenSSL (\d+\.\d+\.\d+[a-z]?)(?:[-+][\w.]*)? +\d{1,2} \w{3} \d{4}"),
    # sqlite3_sourceid(): "2022-12-28 14:03:47 df5c253c…"; the version is beside
    # it only as a number, so a static SQLite is named by its source id date.
    "sqlite": _regex.compile(rb"\x00(3\.\d{1,2}\.\d{1,2})\x00"),
}


# --------------------------------------------------------------------------- model


@record
class Extension:
    file: str
    needed: tuple[str, ...] = ()
    runpath: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"file": self.file, "needed": list(self.needed)}
        if self.runpath:
            d["runpath"] = list(self.runpath)
        return d


@record
class NativePackage:
    """One installed distribution with extension modules, at one place."""

    ecosystem: Ecosystem
    name: str
    path: str | None = None
    extensions: tuple[Extension, ...] = ()
    vendored: tuple[str, ...] = ()  # file names under <dist>.libs/ (auditwheel) or .dylibs (delocate)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"ecosystem": self.ecosystem, "name": self.name}
        if self.path:
            d["path"] = self.path
        d["extensions"] = [e.to_dict() for e in self.extensions]
        if self.vendored:
            d["vendored"] = list(self.vendored)
        return d


@record
class Library:
    """Where a soname resolves and what provides it; absent keys = not found / not known."""

    path: str | None = None
    version: str | None = None
    version_from: VersionFrom | None = None
    package: str | None = None
    package_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        for key in ("path", "version", "version_from", "package", "package_version"):
            value = getattr(self, key)
            if value:
                d[key] = value
        return d


@record
class LinkedLibrary:
    """A library the interpreter itself links (``native.python.openssl``)."""

    version: str
    library: str | None = None  # the soname, when dynamically linked

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"version": self.version}
        if self.library:
            d["library"] = self.library
        return d


@record
class Native:
    packages: tuple[NativePackage, ...] = ()
    libraries: Mapping[str, Library] = field(default_factory=dict)
    python: Mapping[str, LinkedLibrary] = field(default_factory=dict)  # "openssl", "sqlite"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.python:
            d["python"] = {k: v.to_dict() for k, v in sorted(self.python.items())}
        d["packages"] = [p.to_dict() for p in sorted(self.packages, key=lambda p: (p.ecosystem, p.name, p.path or ""))]
        d["libraries"] = {k: v.to_dict() for k, v in sorted(self.libraries.items())}
        return d

    @classmethod
    def from_dict(cls, data: Any, where: str = "snapshot.native") -> Native:
        """Raises ValueError naming the key path; the snapshot reader turns it into a SnapshotError."""
        obj = _obj(data, where)
        packages = []
        for i, raw in enumerate(_list(obj.get("packages", []), f"{where}.packages")):
            p = _obj(raw, f"{where}.packages[{i}]")
            eco = _str(p.get("ecosystem"), f"{where}.packages[{i}].ecosystem")
            if eco not in ("python", "node"):
                raise ValueError(f"{where}.packages[{i}].ecosystem: must be python or node")
            exts = []
            for j, e in enumerate(_list(p.get("extensions", []), f"{where}.packages[{i}].extensions")):
                ew = f"{where}.packages[{i}].extensions[{j}]"
                eo = _obj(e, ew)
                exts.append(
                    Extension(
                        file=_str(eo.get("file"), f"{ew}.file"),
                        needed=_strs(eo.get("needed", []), f"{ew}.needed"),
                        runpath=_strs(eo.get("runpath", []), f"{ew}.runpath"),
                    )
                )
            packages.append(
                NativePackage(
                    ecosystem=cast("Ecosystem", eco),
                    name=_str(p.get("name"), f"{where}.packages[{i}].name"),
                    path=_opt_str(p.get("path"), f"{where}.packages[{i}].path"),
                    extensions=tuple(exts),
                    vendored=_strs(p.get("vendored", []), f"{where}.packages[{i}].vendored"),
                )
            )
        libraries: dict[str, Library] = {}
        for soname, raw in _obj(obj.get("libraries", {}), f"{where}.libraries").items():
            lw = f"{where}.libraries.{soname}"
            lo = _obj(raw, lw)
            vfrom = _opt_str(lo.get("version_from"), f"{lw}.version_from")
            if vfrom is not None and vfrom not in ("package", "file", "string"):
                raise ValueError(f"{lw}.version_from: must be package, file or string")
            libraries[soname] = Library(
                path=_opt_str(lo.get("path"), f"{lw}.path"),
                version=_opt_str(lo.get("version"), f"{lw}.version"),
                version_from=cast("VersionFrom | None", vfrom),
                package=_opt_str(lo.get("package"), f"{lw}.package"),
                package_version=_opt_str(lo.get("package_version"), f"{lw}.package_version"),
            )
        python: dict[str, LinkedLibrary] = {}
        for key, raw in _obj(obj.get("python", {}), f"{where}.python").items():
            lo = _obj(raw, f"{where}.python.{key}")
            python[key] = LinkedLibrary(
                version=_str(lo.get("version"), f"{where}.python.{key}.version"),
                library=_opt_str(lo.get("library"), f"{where}.python.{key}.library"),
            )
        return cls(packages=tuple(packages), libraries=libraries, python=python)


def _obj(v: Any, where: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise ValueError(f"{where}: expected an object")
    return v


def _list(v: Any, where: str) -> list[Any]:
    if not isinstance(v, list):
        raise ValueError(f"{where}: expected a list")
    return v


def _str(v: Any, where: str) -> str:
    if not isinstance(v, str):
        raise ValueError(f"{where}: expected a string")
    return v


def _opt_str(v: Any, where: str) -> str | None:
    return None if v is None else _str(v, where)


def _strs(v: Any, where: str) -> tuple[str, ...]:
    items = _list(v, where)
    if not all(isinstance(i, str) for i in items):
        raise ValueError(f"{where}: expected a list of strings")
    return tuple(items)


# --------------------------------------------------------------------------- names and versions

_HASHED = _regex.compile(r"(?:-[0-9a-f]{8})+$")  # auditwheel's "libpq-ce5f9a6a.so.5.16"
_TRAILING_VERSION = _regex.compile(r"[-_.]?\d+(?:\.\d+)*$")
_ALPINE_RELEASE = _regex.LazyPattern(r"-r\d+$")
_VERSION_SUFFIX = _regex.LazyPattern(r"[+~].*$")
_DOTTED_NUMBER = _regex.LazyPattern(r"\d+(?:\.\d+)*")


def soname_base(soname: str) -> str:
    """The library a soname names, whatever its version: ``libssl.so.1.1`` and
    ``libssl.so.3`` → ``libssl``; ``liblua5.3.so.0`` → ``liblua``;
    auditwheel's ``libpq-ce5f9a6a.so.5.16`` → ``libpq``."""
    stem = soname.split(".so", 1)[0] if ".so" in soname else soname.rsplit(".", 1)[0]
    stem = _HASHED.sub("", stem)
    bare = _TRAILING_VERSION.sub("", stem)
    return bare or stem


def soname_stem(soname: str) -> str:
    """The name as written, without auditwheel's hash: ``libsqlite3.so.0`` → ``libsqlite3``."""
    stem = soname.split(".so", 1)[0] if ".so" in soname else soname
    return _HASHED.sub("", stem) or stem


def soname_version(soname: str) -> str | None:
    """The ABI version in a soname: ``libssl.so.1.1`` → ``1.1``; ``liblua5.3.so.0`` → ``5.3.0``."""
    stem, sep, tail = soname.partition(".so")
    stem = _HASHED.sub("", stem)
    m = _TRAILING_VERSION.search(stem)
    parts = [m.group(0).lstrip("-_.")] if m else []
    tail = tail.lstrip(".")
    if sep and tail and re.fullmatch(r"\d+(?:\.\d+)*", tail):
        parts.append(tail)
    return ".".join(parts) or None


def upstream(version: str) -> str:
    """A package manager's version → the upstream one: ``1:3.0.15-1~deb12u1`` → ``3.0.15``; ``3.1.4-r5`` → ``3.1.4``."""
    v = version.split(":", 1)[1] if ":" in version.split("-", 1)[0] else version
    v = _ALPINE_RELEASE.sub("", v)
    if "-" in v:
        v = v.rsplit("-", 1)[0]
    return _VERSION_SUFFIX.sub("", v)


def file_version(soname: str, real: str) -> str | None:
    """The version a library's real file name adds to its soname: ``libpq.so.5`` at ``libpq.so.5.15`` → ``5.15``."""
    base = posixpath.basename(real)
    if ".so." not in base:
        return None
    tail = base.split(".so.", 1)[1]
    if not _DOTTED_NUMBER.fullmatch(tail):
        return None
    return tail if base != soname else None


def major_minor(version: str) -> str:
    nums = re.findall(r"\d+", version)
    return ".".join(nums[:2]) if nums else version


def embedded_version(key: str, data: bytes) -> str | None:
    pattern = VERSION_STRINGS.get(key)
    if pattern is None:
        return None
    m = pattern.search(data)
    return m.group(1).decode("ascii") if m else None


def is_extension(name: str) -> bool:
    """A file name that is a loadable extension: ``x.cpython-311-x86_64-linux-gnu.so``, ``x.abi3.so``, ``x.node``."""
    return name.endswith((".so", ".node")) and not name.startswith(".")


def is_shared_library(name: str) -> bool:
    return name.startswith("lib") and (name.endswith(".so") or ".so." in name)


VENDOR_DIRS = _regex.compile(r"(?:^|/)[^/]+\.(?:libs|dylibs)(?:/|$)")


# --------------------------------------------------------------------------- resolution


@record
class FileSystem:
    """What resolution may ask of the scanned environment; the scanner provides it.

    ``realpath`` returns the resolved absolute path of an existing file (links
    followed inside the environment) or None; ``owner`` the providing system
    package and its version for a soname resolved to a path, or None.
    """

    realpath: Callable[[str], str | None]
    owner: Callable[[str, str], tuple[str, str] | None]
    lib_dirs: tuple[str, ...]


DEFAULT_LIB_DIRS = ("/lib", "/usr/lib", "/lib64", "/usr/lib64", "/usr/local/lib")


def lib_dirs(triplets: Iterable[str], extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The loader's default search path (ld.so(8)): multiarch dirs first, as Debian's ld.so.conf.d has them."""
    out: list[str] = []
    for t in sorted(set(triplets)):
        out += [f"/usr/local/lib/{t}", f"/lib/{t}", f"/usr/lib/{t}"]
    out += [*extra, *DEFAULT_LIB_DIRS]
    return tuple(dict.fromkeys(out))


def resolve(soname: str, fs: FileSystem, *, origin: str, runpath: Iterable[str] = ()) -> str | None:
    """Where the loader would find ``soname`` for an object in ``origin`` (ld.so(8) order, without LD_LIBRARY_PATH)."""
    if "/" in soname:
        return fs.realpath(soname if soname.startswith("/") else posixpath.join(origin, soname))
    for d in runpath:
        d = d.replace("$ORIGIN", origin).replace("${ORIGIN}", origin)
        if "$" in d:
            continue  # $LIB / $PLATFORM: loader-specific, not guessed
        found = fs.realpath(posixpath.join(d, soname))
        if found:
            return found
    for d in fs.lib_dirs:
        found = fs.realpath(posixpath.join(d, soname))
        if found:
            return found
    return None


def library(soname: str, real: str | None, fs: FileSystem) -> Library:
    if real is None:
        return Library()
    owned = fs.owner(soname, real)
    if owned is not None:
        pkg, pkg_version = owned
        return Library(
            path=real, version=upstream(pkg_version), version_from="package", package=pkg, package_version=pkg_version
        )
    fv = file_version(soname, real)
    return Library(path=real, version=fv, version_from="file" if fv else None)


@record
class FoundExtension:
    """An extension file a scanner found, with the distribution it belongs to."""

    ecosystem: Ecosystem
    dist: str
    dist_path: str | None
    file: str  # absolute path in the scanned environment
    dynamic: ElfDynamic


def build(
    found: Iterable[FoundExtension],
    vendored: Mapping[tuple[str, str, str | None], Iterable[str]],
    fs: FileSystem,
    python: Mapping[str, LinkedLibrary] | None = None,
) -> Native:
    """Group extensions per distribution and resolve every soname they need once."""
    groups: dict[tuple[str, str, str | None], list[Extension]] = {}
    libraries: dict[str, Library] = {}
    for ext in sorted(found, key=lambda e: e.file)[:MAX_EXTENSIONS]:
        key = (ext.ecosystem, ext.dist, ext.dist_path)
        groups.setdefault(key, []).append(Extension(ext.file, ext.dynamic.needed, ext.dynamic.runpath))
        origin = posixpath.dirname(ext.file)
        for soname in ext.dynamic.needed:
            if soname in libraries and not ext.dynamic.runpath:
                continue
            real = resolve(soname, fs, origin=origin, runpath=ext.dynamic.runpath)
            if real and VENDOR_DIRS.search(real):
                continue  # vendored: recorded with its package, not as a system library
            if soname not in libraries or (real and not libraries[soname].path):
                libraries[soname] = library(soname, real, fs)
    packages = tuple(
        NativePackage(
            ecosystem=cast("Ecosystem", eco),
            name=name,
            path=path,
            extensions=tuple(exts),
            vendored=tuple(sorted(set(vendored.get((eco, name, path), ())))),
        )
        for (eco, name, path), exts in groups.items()
    )
    return Native(packages=packages, libraries=libraries, python=dict(python or {}))


def python_library(
    key: str, dynamic: ElfDynamic | None, data: bytes | None, file: str, fs: FileSystem
) -> LinkedLibrary | None:
    """The OpenSSL/SQLite a CPython ``_ssl``/``_sqlite3`` module links: its provider's version, else its file name's, else the text in a static build."""
    base = soname_base(dict(RUNTIME_MODULES.values())[key] + ".so")
    if dynamic is not None:
        for soname in dynamic.needed:
            if soname_base(soname) != base:
                continue
            real = resolve(soname, fs, origin=posixpath.dirname(file), runpath=dynamic.runpath)
            lib = library(soname, real, fs)
            if lib.version:
                return LinkedLibrary(version=lib.version, library=soname)
            return None
    found = embedded_version(key, data) if data else None
    return LinkedLibrary(version=found) if found else None
