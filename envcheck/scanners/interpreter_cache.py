"""A cached description of an interpreter, so a host snapshot need not start it (issue 15).

Starting the project's interpreter to ask what it is (version, ``sys.path``,
prefix, user site) is most of what ``snapshot host`` costs; ``uv`` avoids it
the same way, by caching an interpreter's answers keyed on its path and stat.
The installed distributions are *never* cached: envcheck reads them in its own
process, on every run, with the probe's own code
(:func:`envcheck.scanners._host_probe.distributions`) over the cached
``sys.path``, so a ``pip install`` shows up at once.

An entry is used only while everything that decided it is unchanged:

- the key: the interpreter path, ``lstat`` and ``stat`` (mtime, size, inode,
  device) of it and of its real file, both places ``pyvenv.cfg`` may live,
  ``HOME`` and the locale variables the probe sees, the probe's source, and
  this machine's C library;
- the watch list, checked on every use: every ``sys.path`` entry, every site
  directory ``site.py`` would add if it existed, the user site, and every
  ``.pth`` / ``sitecustomize.py`` / ``usercustomize.py`` in them.  Installing
  or removing anything changes a directory's mtime, so the entry is re-made.

Entries live in ``$XDG_CACHE_HOME/envcheck/interpreters`` (else
``~/.cache/envcheck/interpreters``), one file per interpreter and home, written
atomically, at most :data:`MAX_ENTRIES` of them.  A file that cannot be read or
parsed is a miss, never an error.  ``ENVCHECK_NO_CACHE=1`` turns the cache off
(docs/snapshot.md).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from envcheck import __version__, _cache
from envcheck._cache import cache_home, fnv64

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


#: Set (to anything but empty or ``0``) to neither read nor write the cache (shared by every envcheck cache).
DISABLE_ENV = _cache.DISABLE_ENV

#: Interpreters remembered; the least recently written go first.
MAX_ENTRIES = 64
_FORMAT = 1
_MAX_FILE = 1_000_000
#: Child-environment variables that can change the probe's answer (the user
#: site lives under HOME; the locale decides how non-UTF-8 paths decode).
#: PATH is not among them: the interpreter is started by absolute path.
_KEY_ENV = ("HOME", "LANG", "LC_ALL", "LC_CTYPE")
_WATCH_NAMES = ("sitecustomize.py", "usercustomize.py")
_RACY_SECONDS = _cache.RACY_SECONDS

Signature = list[int] | None


def _signature(path: str, *, follow: bool = True) -> Signature:
    try:
        st = os.stat(path) if follow else os.lstat(path)
    except (OSError, ValueError):
        return None
    return [st.st_mtime_ns, st.st_size, st.st_ino, st.st_dev]


def cache_dir(environ: Mapping[str, str]) -> Path | None:
    """Where entries live, or None when the cache is off or there is no home to put it in."""
    return cache_home(environ, "interpreters")


def probe_identity(probe_file: Path) -> str:
    """envcheck's version and the probe file's size and mtime: cheaper than hashing its source each run."""
    st = probe_file.stat()
    return f"{__version__}:{st.st_size}:{st.st_mtime_ns}"


_fnv = fnv64


# ELF; Mach-O (32/64-bit, both byte orders, universal); PE ("MZ").
_NATIVE_MAGIC = (
    b"\x7fELF",
    b"\xcf\xfa\xed\xfe",
    b"\xce\xfa\xed\xfe",
    b"\xfe\xed\xfa\xcf",
    b"\xfe\xed\xfa\xce",
    b"\xca\xfe\xba\xbe",
)


def _is_native(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError:
        return False
    return head in _NATIVE_MAGIC or head[:2] == b"MZ"


def _own_libc() -> str:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError, AttributeError):
        return ""


class InterpreterCache:
    """Load and store descriptions of interpreters under one cache directory."""

    def __init__(self, directory: Path, probe: str, child_env: Mapping[str, str]) -> None:
        """``probe`` names the probe's version (see :func:`probe_identity`): another probe, another answer."""
        self.directory = directory
        self._probe = probe
        self._env = {k: child_env.get(k) for k in _KEY_ENV}

    def _file(self, interpreter: str) -> Path:
        # One file per interpreter, home and probe; the key inside decides whether it is still valid.
        # The probe is in the name so two envcheck installs (pre-commit's and the venv's, say)
        # asking about one interpreter keep an entry each instead of overwriting each other's.
        name = json.dumps([interpreter, self._env.get("HOME"), self._probe])
        return self.directory / f"{_fnv(name):016x}.json"

    def key(self, interpreter: str) -> dict[str, Any] | None:
        """What decides the description before the interpreter is even started; None: never cache it.

        Only a native executable is cached.  A script — a pyenv or asdf shim,
        a conda wrapper — picks the real interpreter each time it runs (from
        ``~/.pyenv/version``, say), so its own stat says nothing about the answer.
        """
        exe = os.path.abspath(interpreter)
        if not _is_native(exe):
            return None
        bindir = os.path.dirname(exe)
        return {
            "format": _FORMAT,
            "interpreter": exe,
            "lstat": _signature(exe, follow=False),
            "stat": _signature(exe),
            "realpath": os.path.realpath(exe),
            "pyvenv": [_signature(os.path.join(d, "pyvenv.cfg")) for d in (bindir, os.path.dirname(bindir))],
            "env": self._env,
            "probe": self._probe,
            "libc": _own_libc(),
        }

    def load(self, interpreter: str) -> dict[str, Any] | None:
        """The cached description when every recorded signature still holds, else None."""
        try:
            raw = self._file(interpreter).read_bytes()[:_MAX_FILE]
            entry = json.loads(raw)
            key = self.key(interpreter)
            if key is None or not isinstance(entry, dict) or entry.get("key") != key:
                return None
            watch, description = entry.get("watch"), entry.get("description")
            if not isinstance(watch, list) or not isinstance(description, dict):
                return None
            if not _valid_description(description):
                return None
            recorded = {str(item[0]): item[1] for item in watch if isinstance(item, list) and len(item) == 2}
            if len(recorded) != len(watch) or recorded != _watch(description):
                return None
        except (OSError, ValueError, TypeError, KeyError, IndexError, RecursionError):
            return None
        return description

    def store(self, interpreter: str, key: dict[str, Any], description: Mapping[str, Any], started: float) -> None:
        """Remember ``description`` (probed after ``key`` was taken, at ``started``), if it is safe to."""
        if not _valid_description(description) or self.key(interpreter) != key:
            return  # the interpreter changed while it was probed
        watch = _watch(description)
        newest = max([s[0] for s in watch.values() if s] + [s[0] for s in _key_signatures(key)], default=0)
        if newest / 1e9 > started - _RACY_SECONDS:
            return
        entry = {"key": key, "watch": [[p, s] for p, s in watch.items()], "description": dict(description)}
        target = self._file(interpreter)
        _cache.write_entry(target, entry)  # a read-only or full home: no cache, same snapshot
        _cache.prune_dir(target, MAX_ENTRIES)


def _key_signatures(key: Mapping[str, Any]) -> Iterable[list[int]]:
    for sig in [key.get("lstat"), key.get("stat"), *(key.get("pyvenv") or [])]:
        if isinstance(sig, list) and sig:
            yield sig


def _valid_description(description: Mapping[str, Any]) -> bool:
    """Cacheable: absolute paths only (the scan then reads the same files from any cwd)."""
    path = description.get("path")
    user_site = description.get("user_site")
    site_dirs = description.get("site_packages")
    if not isinstance(path, list) or not all(isinstance(p, str) and os.path.isabs(p) for p in path):
        return False
    if user_site is not None and not (isinstance(user_site, str) and os.path.isabs(user_site)):
        return False
    return isinstance(site_dirs, list) and all(isinstance(p, str) for p in site_dirs)


def _watch(description: Mapping[str, Any]) -> dict[str, Signature]:
    """Signatures of every place whose change could change ``sys.path``."""
    places = [*description["path"], *description["site_packages"]]
    if description.get("user_site"):
        places.append(description["user_site"])
    out: dict[str, Signature] = {}
    for place in places:
        if place in out:
            continue
        out[place] = _signature(place)
        try:
            names = os.listdir(place) if out[place] is not None else []
        except OSError:
            continue
        for name in names:
            if name.endswith(".pth") or name in _WATCH_NAMES:
                child = os.path.join(place, name)
                out[child] = _signature(child)
    return out
