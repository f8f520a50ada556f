"""Native code on this machine: the ``native`` part of a host snapshot.

Runs in envcheck's own process, after the interpreter probe, on the paths the
probe reported — nothing is imported or loaded from the project's
environment.  Extension files come from each distribution's ``RECORD`` (node:
the package root, ``build/Release``, ``build/Debug`` and ``prebuilds/*``,
where node-gyp and prebuildify put addons); each is read with
:func:`envcheck.elf.read_dynamic_file` (a few pages of headers).  What was
read — the RECORD's candidate files and each file's ELF facts — is cached by
path and ``stat`` in ``$XDG_CACHE_HOME/envcheck/native/<project+interpreter>.json``
(see :class:`ElfCache`), so a second scan of an unchanged venv parses no RECORD
and reads no ELF: it stats each RECORD and each extension, and that is all.

Providers: ``dpkg-query -S`` (one call for every library resolved) on
Debian-like hosts, the apk database on Alpine; elsewhere the version in the
library's real file name.
"""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from envcheck import _regex
from envcheck._cache import RACY_SECONDS, cache_home, fnv64, prune_dir, write_entry
from envcheck.elf import ElfDynamic, is_elf, read_dynamic_file
from envcheck.native import (
    MAX_EXTENSIONS,
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
    resolve,
)
from envcheck.snapshot import Package

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


CACHE_VERSION = 2
CACHE_ENTRIES = 50_000
#: Environments (project + interpreter search path) whose native facts are remembered.
MAX_CACHE_FILES = 64
CAP_RECORD = 8 * 1024 * 1024
CAP_STATIC_RUNTIME = 32 * 1024 * 1024
# Files listed per node package before giving up on it: addons sit at the top of a few known folders.
NODE_LISTING_CAP = 2000
_NODE_ADDON_DIRS = ("", "build/Release", "build/Debug", "prebuilds/*", "lib/binding/*", "bin")
_TRIPLET = _regex.compile(r"^[a-z0-9_]+-(?:linux|kfreebsd|hurd)-[a-z0-9_]+$")
_RUNTIME_MODULE = _regex.compile(r"^(_ssl|_sqlite3)(?:\.[\w-]+)?\.so$")


# --------------------------------------------------------------------------- cache


class ElfCache:
    """What a scan read, kept between runs while the files it came from are unchanged.

    ``entries``: ELF facts by absolute path, valid while (size, mtime_ns,
    inode) match — an extension rebuilt in place is read again.  ``records``:
    the extension and vendored-library paths a distribution's ``RECORD``
    lists, by ``.dist-info`` path, valid while the RECORD's own stat matches
    (pip rewrites it on every install), so a warm scan stats files instead of
    parsing a few thousand RECORD lines per distribution.  ``owners``: dpkg's
    provider of each library, valid while dpkg's status file is unchanged.

    A file changed within the last :data:`envcheck._cache.RACY_SECONDS` is
    never vouched for (it may change again within the same timestamp tick).
    Entries no lookup touched are dropped when the cache is saved, so a cache
    file describes one environment exactly; nothing changed, nothing written.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, list[Any]] = {}
        self.records: dict[str, list[Any]] = {}
        # Library path → [size, mtime_ns, ino, package, version] (package None: dpkg does not know it),
        # valid while dpkg's status file is unchanged (``dpkg_stamp``).
        self.owners: dict[str, list[Any]] = {}
        self.dpkg_stamp: int | None = None
        self.dirty = False
        self._used: dict[str, set[str]] = {"files": set(), "records": set(), "owners": set()}
        self._now = time.time()
        if path is not None:
            try:
                doc = json.loads(path.read_bytes())
            except (OSError, ValueError, RecursionError):
                doc = None
            if isinstance(doc, dict) and doc.get("version") == CACHE_VERSION:
                for name, attr in (("files", "entries"), ("records", "records"), ("owners", "owners")):
                    if isinstance(doc.get(name), dict):
                        setattr(self, attr, doc[name])
                if isinstance(doc.get("dpkg_stamp"), int):
                    self.dpkg_stamp = doc["dpkg_stamp"]
                else:
                    self.owners = {}

    def _settled(self, st: os.stat_result) -> bool:
        return st.st_mtime_ns / 1e9 < self._now - RACY_SECONDS

    def owners_for(self, paths: Sequence[str], stamp: int, timeout: float) -> dict[str, tuple[str, str]]:
        """dpkg's providers of ``paths``, asking dpkg only about paths not cached under this ``stamp``."""
        if stamp != self.dpkg_stamp:
            self.owners, self.dpkg_stamp, self.dirty = {}, stamp, True
        keys: dict[str, list[Any]] = {}
        for p in paths:
            try:
                st = os.stat(p)
            except OSError:
                continue
            keys[p] = [st.st_size, st.st_mtime_ns, st.st_ino]
        self._used["owners"].update(keys)
        missing = [p for p, k in keys.items() if not (isinstance(self.owners.get(p), list) and self.owners[p][:3] == k)]
        if missing:
            fresh = _dpkg_owners(missing, timeout)
            for p in missing:
                pkg, version = fresh.get(p, (None, None))
                if len(self.owners) < CACHE_ENTRIES:
                    self.owners[p] = [*keys[p], pkg, version]
            self.dirty = True
        out: dict[str, tuple[str, str]] = {}
        for p in keys:
            hit = self.owners.get(p)
            if isinstance(hit, list) and len(hit) == 5 and isinstance(hit[3], str) and isinstance(hit[4], str):
                out[p] = (hit[3], hit[4])
        return out

    def read(self, path: str, st: os.stat_result | None = None) -> ElfDynamic | None:
        """The ELF facts of ``path`` (``st``: its stat, when the caller has it)."""
        if st is None:
            try:
                st = os.stat(path)
            except OSError:
                return None
        key = [st.st_size, st.st_mtime_ns, st.st_ino]
        self._used["files"].add(path)
        hit = self.entries.get(path)
        if isinstance(hit, list) and len(hit) == 4 and hit[:3] == key:
            return _from_cached(hit[3])
        dynamic = read_dynamic_file(path)
        if len(self.entries) < CACHE_ENTRIES and self._settled(st):
            self.entries[path] = [*key, _to_cached(dynamic)]
            self.dirty = True
        elif path in self.entries:
            del self.entries[path]
            self.dirty = True
        return dynamic

    def record(self, dist_info: str) -> tuple[list[str], list[str]]:
        """``(extensions, vendored)``: the paths, relative to site-packages, ``dist_info``'s RECORD lists."""
        record = os.path.join(dist_info, "RECORD")
        try:
            st = os.stat(record)
        except OSError:
            return [], []
        key = [st.st_size, st.st_mtime_ns, st.st_ino]
        self._used["records"].add(dist_info)
        hit = self.records.get(dist_info)
        if (
            isinstance(hit, list)
            and len(hit) == 5
            and hit[:3] == key
            and isinstance(hit[3], list)
            and isinstance(hit[4], list)
            and all(isinstance(x, str) for x in hit[3] + hit[4])
        ):
            return hit[3], hit[4]
        extensions, vendored = _record_candidates(record)
        if len(self.records) < CACHE_ENTRIES and self._settled(st):
            self.records[dist_info] = [*key, extensions, vendored]
            self.dirty = True
        elif dist_info in self.records:
            del self.records[dist_info]
            self.dirty = True
        return extensions, vendored

    def save(self) -> bool:
        """Write atomically what this scan used, if anything changed (True); a cache that cannot be written is not kept."""
        if self.path is None:
            return False
        for table, used in ((self.entries, self._used["files"]), (self.records, self._used["records"])):
            for stale in [k for k in table if k not in used]:
                del table[stale]
                self.dirty = True
        if self.owners and self._used["owners"]:
            for stale in [k for k in self.owners if k not in self._used["owners"]]:
                del self.owners[stale]
                self.dirty = True
        if not self.dirty:
            return False
        doc: dict[str, Any] = {"version": CACHE_VERSION, "files": self.entries, "records": self.records}
        doc["owners"] = self.owners
        if self.dpkg_stamp is not None:
            doc["dpkg_stamp"] = self.dpkg_stamp
        write_entry(self.path, doc)
        self.dirty = False
        return True


def _to_cached(d: ElfDynamic | None) -> Any:
    if d is None:
        return None
    return {"needed": list(d.needed), "soname": d.soname, "runpath": list(d.runpath), "machine": d.machine}


def _from_cached(raw: Any) -> ElfDynamic | None:
    if not isinstance(raw, dict):
        return None
    needed, runpath = raw.get("needed"), raw.get("runpath")
    if not isinstance(needed, list) or not isinstance(runpath, list):
        return None
    soname, machine = raw.get("soname"), raw.get("machine")
    return ElfDynamic(
        needed=tuple(str(n) for n in needed),
        soname=soname if isinstance(soname, str) else None,
        runpath=tuple(str(r) for r in runpath),
        machine=machine if isinstance(machine, str) else None,
    )


def default_cache_path(root: Path, probe_path: Sequence[str], environ: Mapping[str, str]) -> Path | None:
    """One cache file per project and interpreter search path; None when caching is off (ENVCHECK_NO_CACHE)."""
    home = cache_home(environ, "native")
    if home is None:
        return None
    return home / f"{fnv64(json.dumps([os.path.abspath(root), list(probe_path)])):016x}.json"


def _prune_cache_dir(keep: Path) -> None:
    """At most :data:`MAX_CACHE_FILES` environments are remembered; the single native.json of
    earlier envchecks (every environment in one file, not read any more) is removed."""
    prune_dir(keep, MAX_CACHE_FILES)
    try:
        os.unlink(os.path.join(os.path.dirname(keep.parent), "native.json"))
    except OSError:
        pass


# --------------------------------------------------------------------------- extensions


def _record_candidates(record: str) -> tuple[list[str], list[str]]:
    """The RECORD entries that may be extensions or vendored shared libraries, in file order."""
    try:
        with open(record, "rb") as fh:
            data = fh.read(CAP_RECORD)
    except OSError:
        return [], []
    extensions: list[str] = []
    vendored: list[str] = []
    for line in data.decode("utf-8", "replace").splitlines():
        # Both kinds have ".so" or ".node" in their name: most lines are ruled out by one test.
        if ".so" not in line and ".node" not in line:
            continue
        name = line.rsplit(",", 2)[0] if line.count(",") >= 2 else line
        name = name.strip().strip('"')
        if not name or os.path.isabs(name):
            continue
        base = name.rpartition("/")[2]
        if VENDOR_DIRS.search(name) and is_shared_library(base):
            vendored.append(name)
        elif is_extension(base):
            extensions.append(name)
    return extensions, vendored


def _regular(path: str) -> os.stat_result | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st if stat.S_ISREG(st.st_mode) else None


def _python_extensions(
    packages: Iterable[Package], cache: ElfCache
) -> tuple[list[FoundExtension], dict[tuple[str, str, str | None], list[str]], list[str]]:
    found: list[FoundExtension] = []
    vendored: dict[tuple[str, str, str | None], list[str]] = {}
    unreadable: list[str] = []
    for pkg in packages:
        if not pkg.path or not pkg.path.endswith(".dist-info") or len(found) >= MAX_EXTENSIONS:
            continue
        site = os.path.dirname(pkg.path)
        key = ("python", pkg.name, pkg.path)
        extensions, libs = cache.record(pkg.path)
        for rel in libs:
            if _regular(os.path.normpath(os.path.join(site, rel))) is not None:
                vendored.setdefault(key, []).append(rel.rpartition("/")[2])
        for rel in extensions:
            full = os.path.normpath(os.path.join(site, rel))
            st = _regular(full)
            if st is None:
                continue
            dynamic = cache.read(full, st)
            if dynamic is None:
                unreadable.append(full)
            else:
                found.append(FoundExtension("python", pkg.name, pkg.path, full, dynamic))
    return found, vendored, unreadable


def _node_extensions(
    root: Path, packages: Iterable[Package], cache: ElfCache
) -> tuple[list[FoundExtension], list[str]]:
    found: list[FoundExtension] = []
    unreadable: list[str] = []
    for pkg in packages:
        if not pkg.path or len(found) >= MAX_EXTENSIONS:
            continue
        pkg_dir = os.path.join(os.fspath(root), pkg.path)
        listed = 0
        for sub in _NODE_ADDON_DIRS:
            for d in _glob(os.path.join(pkg_dir, sub)) if "*" in sub else [os.path.join(pkg_dir, sub)]:
                try:
                    names = os.listdir(d)
                except OSError:
                    continue
                listed += len(names)
                if listed > NODE_LISTING_CAP:
                    break
                for name in sorted(names):
                    full = os.path.join(d, name)
                    if not name.endswith(".node") or not os.path.isfile(full):
                        continue
                    dynamic = cache.read(full)
                    if dynamic is None:
                        unreadable.append(full)
                    else:
                        found.append(FoundExtension("node", pkg.name, pkg.path, full, dynamic))
    return found, unreadable


# --------------------------------------------------------------------------- system libraries


def _glob(pattern: str) -> list[str]:
    """``glob.glob(pattern)``, without importing glob (and contextlib) for the usual ``dir/*.conf``.

    ld.so.conf's ``include`` is read on every host snapshot; glob's import was
    1.5% of one (issue 15).  A wildcard anywhere but the last component goes to glob.
    """
    import fnmatch

    directory, name = os.path.split(pattern)
    magic = ("*", "?", "[")
    if any(c in directory for c in magic):
        import glob

        return glob.glob(pattern)
    if not any(c in name for c in magic):
        return [pattern] if os.path.lexists(pattern) else []
    try:
        names = os.listdir(directory or os.curdir)
    except OSError:
        return []
    hidden_ok = name.startswith(".")  # glob matches dot files only when the pattern asks for them
    return [
        os.path.join(directory, n) for n in names if (hidden_ok or not n.startswith(".")) and fnmatch.fnmatch(n, name)
    ]


def _ld_conf_dirs(conf: str = "/etc/ld.so.conf", depth: int = 0) -> list[str]:
    """Directories ld.so.conf (and what it ``include``s) adds, in order; bounded recursion."""
    out: list[str] = []
    try:
        text = Path(conf).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return out
    for line in text.splitlines()[:1000]:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("include ") and depth < 3:
            pattern = line.split(None, 1)[1]
            if not os.path.isabs(pattern):
                pattern = os.path.join(os.path.dirname(conf), pattern)
            for inc in sorted(_glob(pattern))[:200]:
                out += _ld_conf_dirs(inc, depth + 1)
        elif line.startswith("/"):
            out.append(line)
    return out


def _triplets() -> set[str]:
    out: set[str] = set()
    for parent in ("/usr/lib", "/lib"):
        try:
            out.update(n for n in os.listdir(parent) if _TRIPLET.match(n))
        except OSError:
            continue
    return out


def _dpkg_owners(paths: Sequence[str], timeout: float) -> dict[str, tuple[str, str]]:
    """path → (package, version) for the paths dpkg knows (usr-merged paths tried both ways)."""
    if not paths:
        return {}
    variants: dict[str, str] = {}
    for p in paths:
        variants[p] = p
        if p.startswith("/usr/lib/"):
            variants[p[4:]] = p  # bookworm's libc6 still lists /lib/x86_64-linux-gnu/…
        elif p.startswith("/lib"):
            variants["/usr" + p] = p
    owners: dict[str, str] = {}
    found = _dpkg_query(["-S", *sorted(variants)], timeout)
    if found is None:
        return {}
    for line in found.splitlines():
        pkgs, sep, path = line.partition(": ")
        if sep and path in variants and "," not in pkgs and not pkgs.startswith("diversion"):
            owners.setdefault(variants[path], pkgs.split(":", 1)[0].strip())
    if not owners:
        return {}
    listed = _dpkg_query(["-W", "-f", "${Package}\\t${Version}\\n", *sorted(set(owners.values()))], timeout)
    if listed is None:
        return {}
    versions = dict(line.split("\t", 1) for line in listed.splitlines() if "\t" in line)
    return {p: (pkg, versions[pkg]) for p, pkg in owners.items() if versions.get(pkg)}


def _apk_db() -> dict[str, str]:
    try:
        with open("/lib/apk/db/installed", "rb") as fh:
            text = fh.read(16 * 1024 * 1024).decode("utf-8", "replace")
    except OSError:
        return {}
    from envcheck.scanners.image.walker import _apk

    return _apk(text)


def _host_filesystem() -> FileSystem:
    def realpath(path: str) -> str | None:
        return os.path.realpath(path) if os.path.isfile(path) else None

    return FileSystem(
        realpath=realpath, owner=lambda soname, path: None, lib_dirs=lib_dirs(_triplets(), _ld_conf_dirs())
    )


# --------------------------------------------------------------------------- entry point


def scan_host_native(
    root: Path,
    packages: Mapping[str, tuple[Package, ...]],
    probe_path: Sequence[str],
    *,
    environ: Mapping[str, str],
    timeout: float,
    cache_path: Path | None = None,
) -> tuple[Native, list[str]]:
    """The host's ``native`` facts; ``probe_path`` is the interpreter's ``sys.path`` as the probe reported it."""
    default = cache_path is None
    cache = ElfCache(default_cache_path(root, probe_path, environ) if default else cache_path)
    found, vendored, unreadable = _python_extensions(packages.get("python", ()), cache)
    node_found, node_unreadable = _node_extensions(root, packages.get("node", ()), cache)
    found += node_found
    unreadable += node_unreadable

    base_fs = _host_filesystem()
    # First pass without providers tells which libraries resolve; one dpkg call then names them all.
    draft = build(found, vendored, base_fs)
    runtime_files = _runtime_modules(probe_path)
    runtime_dyn = {key: (path, cache.read(path)) for key, path in runtime_files.items()}
    wanted = [lib.path for lib in draft.libraries.values() if lib.path]
    for path, dyn in runtime_dyn.values():
        for soname in dyn.needed if dyn else ():
            real = resolve(soname, base_fs, origin=os.path.dirname(path), runpath=dyn.runpath if dyn else ())
            if real:
                wanted.append(real)
    owners: dict[str, tuple[str, str]] = {}
    try:
        stamp = os.stat("/var/lib/dpkg/status").st_mtime_ns
    except OSError:
        stamp = None
    if stamp is not None:
        owners = cache.owners_for(sorted(set(wanted)), stamp, timeout)
    apk = _apk_db() if not owners and os.path.exists("/lib/apk/db/installed") else {}

    def owner(soname: str, path: str) -> tuple[str, str] | None:
        if path in owners:
            return owners[path]
        provider = apk.get("so:" + soname)
        return (provider, apk[provider]) if provider and provider in apk else None

    fs = FileSystem(realpath=base_fs.realpath, owner=owner, lib_dirs=base_fs.lib_dirs)
    python: dict[str, LinkedLibrary] = {}
    for module, (path, dyn) in sorted(runtime_dyn.items()):
        key = RUNTIME_MODULES[module][0]
        lib = python_library(key, dyn, None, path, fs)
        if lib is None and dyn is not None and not any(n.startswith(RUNTIME_MODULES[module][1]) for n in dyn.needed):
            lib = _static_version(key, path)
        if lib is not None:
            python[key] = lib
    if cache.save() and default and cache.path is not None:
        _prune_cache_dir(cache.path)
    notes: list[str] = []
    foreign = [f for f in unreadable if not is_elf(f)]
    unreadable = [f for f in unreadable if f not in set(foreign)]
    if foreign:
        # macOS (Mach-O) and Windows (PE) extensions: this reader knows ELF only.
        notes.append(f"native: {len(foreign)} extension file(s) are not ELF objects; their libraries are not recorded")
    if unreadable:
        shown = ", ".join(unreadable[:3]) + (f" and {len(unreadable) - 3} more" if len(unreadable) > 3 else "")
        notes.append(f"native: {len(unreadable)} extension file(s) not readable as ELF, skipped: {shown}")
    return build(found, vendored, fs, python=python), notes


def _runtime_modules(probe_path: Sequence[str]) -> dict[str, str]:
    """``_ssl`` / ``_sqlite3`` in the interpreter's lib-dynload, by module name."""
    out: dict[str, str] = {}
    for entry in probe_path:
        if not entry.endswith("lib-dynload"):
            continue
        try:
            names = sorted(os.listdir(entry))
        except OSError:
            continue
        for name in names:
            m = _RUNTIME_MODULE.match(name)
            if m and m.group(1) not in out:
                out[m.group(1)] = os.path.join(entry, name)
    return out


def _static_version(key: str, path: str) -> LinkedLibrary | None:
    """A statically linked OpenSSL/SQLite names itself in the module's bytes (bounded read)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(CAP_STATIC_RUNTIME)
    except OSError:
        return None
    found = embedded_version(key, data)
    return LinkedLibrary(version=found) if found else None


def _dpkg_query(args: list[str], timeout: float) -> str | None:
    """``dpkg-query ARGS``'s output in the C locale; None when it cannot run (no dpkg, timeout)."""
    import subprocess  # only on a cache miss: a warm scan starts no process

    try:
        res = subprocess.run(
            ["dpkg-query", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={"PATH": os.environ.get("PATH", os.defpath), "LC_ALL": "C"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout
