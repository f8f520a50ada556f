"""envcheck's own cache directory: where it is, and how an entry is read and written.

Shared by the interpreter cache (:mod:`envcheck.scanners.interpreter_cache`),
the parsed built-in rules (:mod:`envcheck.rules`) and the parsed Dockerfiles
(:mod:`envcheck.parsers.dockerfile`).  One convention for
both: ``$XDG_CACHE_HOME/envcheck/<name>`` (else ``~/.cache/envcheck/<name>``),
JSON entries written atomically (a temp file then a rename), a file that cannot
be read or parsed is a miss and never an error, a cache that cannot be written
changes nothing, and ``ENVCHECK_NO_CACHE=1`` turns every cache off.

:mod:`json` and :mod:`pathlib` are imported by the functions that use them,
not with the module: the regex cache (:mod:`envcheck._regex`) finds its
directory here (:func:`cache_dir`) before either is imported, so that their
patterns (json's, urllib.parse's) are among those it primes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any


#: Set (to anything but empty or ``0``) to neither read nor write any cache.
DISABLE_ENV = "ENVCHECK_NO_CACHE"
#: A file changed this recently may change again within the same timestamp
#: tick (coarse file systems): an entry never vouches for it (git's "racy" rule).
RACY_SECONDS = 2.0
_MAX_FILE = 1_000_000


def cache_dir(environ: Mapping[str, str], name: str) -> str | None:
    """The directory for the cache ``name``, or None when caching is off or there is no home to put it in."""
    if environ.get(DISABLE_ENV, "") not in ("", "0"):
        return None
    xdg = environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):  # the XDG spec: a relative value is ignored
        return os.path.join(xdg, "envcheck", name)
    home = environ.get("HOME", "")
    if home and os.path.isabs(home):
        return os.path.join(home, ".cache", "envcheck", name)
    return None


def cache_home(environ: Mapping[str, str], name: str) -> Path | None:
    """:func:`cache_dir` as a path."""
    found = cache_dir(environ, name)
    if found is None:
        return None
    from pathlib import Path

    return Path(found)


def fnv64(text: str) -> int:
    """64-bit FNV-1a: a stable file name for a key, not a secure hash (hashlib's start-up costs more than a hit)."""
    value = 0xCBF29CE484222325
    for byte in text.encode("utf-8", "surrogateescape"):
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


def read_entry(path: Path, *, limit: int = _MAX_FILE) -> Any:
    """The JSON in ``path``, or None when it is missing, larger than ``limit`` bytes or not JSON."""
    import json

    try:
        with open(path, "rb") as fh:
            raw = fh.read(limit + 1)
        if len(raw) > limit:
            return None
        return json.loads(raw)
    except (OSError, ValueError, RecursionError):
        return None


def prune_dir(keep: Path, limit: int) -> None:
    """Keep at most ``limit`` entries like ``keep`` (its suffix) beside it; the least recently written go."""
    entries: list[tuple[float, str]] = []
    try:
        with os.scandir(keep.parent) as it:
            for child in it:
                if child.name.endswith(keep.suffix) and child.path != str(keep):
                    try:
                        entries.append((child.stat().st_mtime, child.path))
                    except OSError:
                        continue
    except OSError:
        return
    entries.sort()
    for _, path in entries[: max(0, len(entries) - (limit - 1))]:
        try:
            os.unlink(path)
        except OSError:
            continue


def write_entry(path: Path, entry: object) -> None:
    """Write ``entry`` as JSON atomically; a read-only or full home just means no cache."""
    import json

    try:
        data = json.dumps(entry).encode("utf-8", "surrogateescape")
    except (ValueError, TypeError):
        return
    write_bytes(path, data)


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` atomically (a temporary file, then a rename); a read-only or full home just means no cache."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        return


def parsed_file(path: Path, parse: Callable[[str], Any]) -> Any:
    """``parse(text of path)``, remembered in the cache ``data`` while the file's stat and envcheck's version hold.

    For envcheck's own knowledge files (``envcheck/data/*.toml``): reading
    one cached JSON entry spares ``envcheck lint`` importing a TOML parser
    for a project that has no TOML file (issue 15).  Only a value that JSON
    gives back unchanged is stored; anything else is parsed every time.
    """
    from envcheck import __version__

    home = cache_home(os.environ, "data")
    try:
        st = os.stat(path)
    except OSError:
        st = None
    if home is None or st is None:
        return parse(path.read_text(encoding="utf-8"))
    key = {"path": str(path), "stat": [st.st_mtime_ns, st.st_size, st.st_ino, st.st_dev], "version": __version__}
    entry_path = home / f"{fnv64(str(path)):016x}.json"
    entry = read_entry(entry_path)
    if isinstance(entry, dict) and entry.get("key") == key and "value" in entry:
        return entry["value"]
    value = parse(path.read_text(encoding="utf-8"))
    if st.st_mtime < time.time() - RACY_SECONDS and _survives_json(value):
        write_entry(entry_path, {"key": key, "value": value})
    return value


def _survives_json(value: Any) -> bool:
    """Whether JSON gives ``value`` back unchanged (a tuple would come back a list): only such values are stored."""
    import json

    try:
        return bool(json.loads(json.dumps(value)) == value)
    except (TypeError, ValueError, RecursionError):
        return False


#: Entries kept per content cache: the projects a developer lints in a week.
MAX_CONTENT_ENTRIES = 64


def by_content(name: str, text: str, salt: str, compute: Callable[[str], Any]) -> Any:
    """``compute(text)``, remembered in the cache ``name`` under the text itself.

    For a parse of a user's file whose text is already read (a Dockerfile on
    every ``envcheck lint``): the entry stores the whole text and is used only
    when it is equal, so no stat race and no hash collision can hand back
    another file's parse.  ``salt`` names what else the answer depends on
    (envcheck's version, the parsing library's identity).  Only a value that
    JSON gives back unchanged is stored; anything else is computed every time.
    """
    home = cache_home(os.environ, name)
    if home is None:
        return compute(text)
    from zlib import crc32

    encoded = text.encode("utf-8", "surrogateescape")
    entry_path = home / f"{crc32(encoded):08x}{len(encoded):x}.json"
    entry = read_entry(entry_path)
    if isinstance(entry, dict) and entry.get("salt") == salt and entry.get("text") == text and "value" in entry:
        return entry["value"]
    value = compute(text)
    if len(encoded) <= _MAX_FILE // 4 and _survives_json(value):
        write_entry(entry_path, {"salt": salt, "text": text, "value": value})
        prune_dir(entry_path, MAX_CONTENT_ENTRIES)
    return value
