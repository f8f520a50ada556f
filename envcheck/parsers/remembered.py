"""What a project's TOML and YAML manifests and locks parsed to, remembered by their bytes (issue 15).

Parsing ``pyproject.toml`` and ``poetry.lock`` imports a TOML parser and
``packaging`` (its version, specifier and marker grammars): 50 to 60 ms on
every ``envcheck lint`` and host snapshot of a Poetry or uv project, more
than the whole budget of either, for files that change a few times a week.
A ``pnpm-lock.yaml`` costs PyYAML the same way, and a settings module that
reads the environment costs ``ast``.  So the fragment a parser in
:data:`envcheck.parsers.REMEMBERED` returns (and the references of a Python
module that names the environment) is kept in the cache ``parsed``
(``~/.cache/envcheck/parsed``), under a BLAKE2 digest of:

- the parser's name and the file's project-relative name (sources embed it);
- the file's bytes — those parsers read nothing else;
- what produced the answer: envcheck's version and the size and time of
  every module and data file of ``envcheck`` and ``envcheck/parsers`` (an
  edited parser is a new key), the Python version (``tomllib``) and where
  ``packaging`` and ``yaml`` are installed, with their files' stat.

A hit loads the fragment from JSON (~0.5 ms for a Poetry project) instead of
parsing; nothing is imported for the format.  Only a fragment that comes back
from JSON equal to what the parser returned is stored, so a hit is the same
answer, byte for byte; a file that fails to parse is never stored, so its
error is reported every time.  A damaged or foreign entry is a miss.  JSON
parsers are not remembered: ``package-lock.json`` parses faster (15 ms for
1,500 packages) than its remembered fragment loads (18 ms).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any

    from envcheck.snapshot import Declared

#: Projects' fragments kept: the files of the projects a developer works on in a month.
MAX_ENTRIES = 512
#: A larger remembered fragment is not read (a 10,000-package lock is ~3 MB).
MAX_ENTRY_BYTES = 32 * 1024 * 1024
#: A larger file is parsed every time (the parsers' own cap is larger still).
MAX_SOURCE_BYTES = 16 * 1024 * 1024
# Raised when the stored form changes.
_FORMAT = "1"


def parse(module: str, path: Path, rel: str, parse_file: Callable[[], Declared]) -> Declared:
    """``parse_file()``, or what it returned for the same bytes of ``path`` under the same name before."""
    home = _home()
    if home is None:
        return parse_file()
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_SOURCE_BYTES + 1)
    except OSError:
        return parse_file()  # the parser reports it as it always has
    return _remembered(home, module, rel, data, parse_file)


def parse_bytes(module: str, rel: str, data: bytes, parse_data: Callable[[], Declared]) -> Declared:
    """``parse_data()`` (a parse of ``data``, the bytes of ``rel``), or what it returned for the same bytes before."""
    home = _home()
    if home is None:
        return parse_data()
    return _remembered(home, module, rel, data, parse_data)


def _home() -> Path | None:
    from envcheck._cache import cache_home

    return cache_home(os.environ, "parsed")


def _remembered(home: Path, module: str, rel: str, data: bytes, compute: Callable[[], Declared]) -> Declared:
    if len(data) > MAX_SOURCE_BYTES:
        return compute()
    entry_path = home / f"{_digest(module, rel, data)}.json"
    found = _load(entry_path, rel)
    if found is not None:
        return found
    fragment = compute()
    _store(entry_path, fragment, rel)
    return fragment


def _digest(module: str, rel: str, data: bytes) -> str:
    try:
        from _blake2 import blake2b  # the C module hashlib wraps, without hashlib's OpenSSL start (~3 ms)
    except ImportError:  # pragma: no cover - a Python without it
        from hashlib import blake2b
    h = blake2b(digest_size=20)
    for part in (_FORMAT, _producer(), module, rel):
        h.update(part.encode("utf-8", "surrogateescape"))
        h.update(b"\0")
    h.update(data)
    return h.hexdigest()


def _load(entry_path: Path, rel: str) -> Declared | None:
    from envcheck._cache import read_entry
    from envcheck.snapshot import Declared

    entry = read_entry(entry_path, limit=MAX_ENTRY_BYTES)
    if not isinstance(entry, dict) or entry.get("format") != _FORMAT:
        return None
    try:
        return Declared.from_dict(entry.get("declared"), path=rel)
    except Exception:  # a damaged or foreign entry: parse afresh
        return None


def _store(entry_path: Path, fragment: Declared, rel: str) -> None:
    import json

    from envcheck._cache import prune_dir, write_bytes
    from envcheck.snapshot import Declared

    doc = fragment.to_dict()
    try:
        text = json.dumps({"format": _FORMAT, "declared": doc})
        if Declared.from_dict(json.loads(text)["declared"], path=rel) != fragment:
            return  # JSON would not give this fragment back: parsed every time instead
    except Exception:
        return
    write_bytes(entry_path, text.encode("utf-8", "surrogateescape"))
    prune_dir(entry_path, MAX_ENTRIES)


class _Producer:
    text: str | None = None


def _producer() -> str:
    """envcheck's version, its code's and data's stat, Python's version and packaging's and PyYAML's place."""
    if _Producer.text is not None:
        return _Producer.text
    from envcheck import __version__

    parts: list[str] = [__version__, sys.version]
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for directory in (package, os.path.join(package, "parsers"), os.path.join(package, "data")):
        parts.extend(_stats(directory))
    for library in ("packaging", "yaml"):
        parts.append(_library(library))
    _Producer.text = "\n".join(parts)
    return _Producer.text


def _stats(directory: str) -> list[str]:
    try:
        with os.scandir(directory) as it:
            entries = sorted((e.name, e) for e in it if e.is_file())
    except OSError:
        return [f"{directory} unreadable"]
    out = []
    for name, entry in entries:
        try:
            st = entry.stat()
        except OSError:
            continue
        out.append(f"{name} {st.st_size} {st.st_mtime_ns}")
    return out


def _library(name: str) -> str:
    """Where ``name`` would be imported from, with its files' stat, found without importing it."""
    loaded: Any = sys.modules.get(name)
    places = [os.path.dirname(loaded.__file__)] if loaded is not None and getattr(loaded, "__file__", None) else []
    places += [os.path.join(entry or os.curdir, name) for entry in sys.path]
    for place in places:
        if os.path.isfile(os.path.join(place, "__init__.py")):
            return f"{name} {os.path.abspath(place)} " + " ".join(_stats(place))
    return f"{name} absent"
