"""envcheck's own cache directory: where it is, and how an entry is read and written.

Shared by the interpreter cache (:mod:`envcheck.scanners.interpreter_cache`)
and the parsed built-in rules (:mod:`envcheck.rules`).  One convention for
both: ``$XDG_CACHE_HOME/envcheck/<name>`` (else ``~/.cache/envcheck/<name>``),
JSON entries written atomically (a temp file then a rename), a file that cannot
be read or parsed is a miss and never an error, a cache that cannot be written
changes nothing, and ``ENVCHECK_NO_CACHE=1`` turns every cache off.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: Set (to anything but empty or ``0``) to neither read nor write any cache.
DISABLE_ENV = "ENVCHECK_NO_CACHE"
#: A file changed this recently may change again within the same timestamp
#: tick (coarse file systems): an entry never vouches for it (git's "racy" rule).
RACY_SECONDS = 2.0
_MAX_FILE = 1_000_000


def cache_home(environ: Mapping[str, str], name: str) -> Path | None:
    """The directory for the cache ``name``, or None when caching is off or there is no home to put it in."""
    if environ.get(DISABLE_ENV, "") not in ("", "0"):
        return None
    xdg = environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):  # the XDG spec: a relative value is ignored
        return Path(xdg) / "envcheck" / name
    home = environ.get("HOME", "")
    if home and os.path.isabs(home):
        return Path(home) / ".cache" / "envcheck" / name
    return None


def fnv64(text: str) -> int:
    """64-bit FNV-1a: a stable file name for a key, not a secure hash (hashlib's start-up costs more than a hit)."""
    value = 0xCBF29CE484222325
    for byte in text.encode("utf-8", "surrogateescape"):
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


def read_entry(path: Path) -> Any:
    """The JSON in ``path``, or None when it is missing, too large or not JSON."""
    try:
        raw = path.read_bytes()
        if len(raw) > _MAX_FILE:
            return None
        return json.loads(raw)
    except (OSError, ValueError, RecursionError):
        return None


def write_entry(path: Path, entry: object) -> None:
    """Write ``entry`` as JSON atomically; a read-only or full home just means no cache."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(entry), encoding="utf-8", errors="surrogateescape")
        os.replace(tmp, path)
    except (OSError, ValueError, TypeError):
        return
