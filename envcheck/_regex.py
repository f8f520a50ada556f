"""Regular expressions compiled once per Python build, not once per run (issue 15).

CPython compiles a pattern with a parser and a code generator written in
Python: 0.1 to 0.7 ms a pattern.  One ``envcheck lint`` compiled about fifty of
them, 9 ms or a sixth of its run, every run, to the same result.  What the
code generator produces (a list of integers the C matcher runs) depends only
on the pattern, the flags and the Python build, so envcheck keeps it in one
cache file per build and makes each pattern object from it with the call
:func:`re.compile` itself ends with (``_sre.compile``).  That call validates
the code before it returns, so a damaged entry is an error (and a fresh
compile), never a crash.

Only patterns written in envcheck's source go through :func:`compile`: a
pattern built from user input stays with :func:`re.compile`, so the file stays
small (a few hundred entries at most) and holds nothing of a user's.  Anything
unexpected (another Python implementation, a changed internal API, a cache
that cannot be read or written, ``ENVCHECK_NO_CACHE``) is a plain
:func:`re.compile`: the answer is the same, only slower.
"""

from __future__ import annotations

import functools
import os
import re
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, AnyStr

#: Entries kept in a cache file: envcheck's own patterns, with room to spare.
MAX_ENTRIES = 1024
#: A larger file is not read: 1024 entries take ~0.5 MB.
MAX_FILE_BYTES = 4 * 1024 * 1024


class _Store:
    """The process's view of the cache file: read on the first compile, written at exit if it grew."""

    __slots__ = ("dirty", "entries", "path", "tried")

    def __init__(self) -> None:
        self.entries: dict[str, Any] | None = None
        self.path = ""
        self.tried = False
        self.dirty = False


_STORE = _Store()


def compile(pattern: AnyStr, flags: int = 0) -> re.Pattern[AnyStr]:
    """``re.compile(pattern, flags)``, from the cache when this Python compiled it before."""
    flags = int(flags)
    entries = _load()
    if entries is None or flags & re.DEBUG:
        return re.compile(pattern, flags)
    # bytes patterns keyed by their latin-1 text, which maps every byte to one character
    key = f"{flags}:s:{pattern}" if isinstance(pattern, str) else f"{flags}:b:{pattern.decode('latin-1')}"
    entry = entries.get(key)
    if entry is not None:
        made = _from_entry(pattern, entry)
        if made is not None:
            return made
    made, entry = _compile_keeping_code(pattern, flags)
    if entry is not None and len(entries) < MAX_ENTRIES:
        entries[key] = entry
        if not _STORE.dirty:
            _STORE.dirty = True
            import atexit

            atexit.register(_save)
    return made


class LazyPattern:
    """A pattern compiled (through :func:`compile`) on its first use.

    For modules every command imports whose patterns most runs never test
    (:mod:`envcheck.secrets`, through :mod:`envcheck.errors`).
    """

    __slots__ = ("_compiled", "_flags", "_source")

    def __init__(self, source: str, flags: int = 0) -> None:
        self._source = source
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    def get(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = compile(self._source, self._flags)
        return self._compiled

    def search(self, text: str) -> re.Match[str] | None:
        return self.get().search(text)

    def match(self, text: str) -> re.Match[str] | None:
        return self.get().match(text)

    def fullmatch(self, text: str) -> re.Match[str] | None:
        return self.get().fullmatch(text)

    def sub(self, repl: str, text: str) -> str:
        return self.get().sub(repl, text)

    def split(self, text: str) -> list[str | Any]:
        return self.get().split(text)


# --------------------------------------------------------------------------- the cache file


def _build_key() -> str | None:
    """What the compiled code depends on: the implementation, the exact build, the matcher's format."""
    if sys.implementation.name != "cpython":
        return None
    try:
        import _sre  # type: ignore[import-not-found]  # no stub: CPython's regular expression engine

        return f"{sys.implementation.cache_tag} {sys.version} {_sre.MAGIC} {_sre.CODESIZE}"
    except (ImportError, AttributeError):
        return None


def _load() -> dict[str, Any] | None:
    if _STORE.tried:
        return _STORE.entries
    _STORE.tried = True  # a failure below is not retried on every pattern
    build = _build_key()
    from envcheck._cache import cache_home, fnv64

    home = cache_home(os.environ, "regex")
    if build is None or home is None:
        return None
    path = home / f"{fnv64(build):016x}.marshal"
    _STORE.entries = _read(str(path), build)
    _STORE.path = str(path)
    return _STORE.entries


def _read(path: str, build: str) -> dict[str, Any]:
    """The entries in ``path`` if it is this build's file, else none.

    marshal, the format of the ``.pyc`` files Python reads from the same kind
    of user-writable directory: a hundred patterns load in ~50 µs, where JSON
    took 2 ms (most of what the cache saved).  Its format is per Python
    version, as the file is.
    """
    import marshal

    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            return {}
        doc = marshal.loads(data)  # noqa: S302 - our own file, trusted as __pycache__ is
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if isinstance(doc, tuple) and len(doc) == 2 and doc[0] == build and isinstance(doc[1], dict):
        return doc[1]
    return {}


def _save() -> None:
    if not _STORE.path or _STORE.entries is None:
        return
    import marshal
    from pathlib import Path

    from envcheck._cache import prune_dir, write_bytes

    target = Path(_STORE.path)
    try:
        data = marshal.dumps((_build_key(), _STORE.entries))
    except ValueError:
        return
    write_bytes(target, data)
    prune_dir(target, 8)  # one file per Python build: a few interpreters at most


# --------------------------------------------------------------------------- compiling


def _from_entry(pattern: AnyStr, entry: Any) -> re.Pattern[AnyStr] | None:
    try:
        import _sre
        from array import array

        flags, code, groups, groupindex, indexgroup = entry
        made: re.Pattern[AnyStr] = _sre.compile(
            pattern, flags, array(_code_type(), code).tolist(), groups, groupindex, tuple(indexgroup)
        )
        return made
    except Exception:  # a damaged or foreign entry: compile afresh
        return None


@functools.cache
def _code_type() -> str:
    """The array type code of the matcher's code words (``_sre.CODESIZE`` bytes each)."""
    import _sre
    from array import array

    return next(t for t in ("I", "L", "Q") if array(t).itemsize == _sre.CODESIZE)


def _compile_keeping_code(pattern: AnyStr, flags: int) -> tuple[re.Pattern[AnyStr], tuple[Any, ...] | None]:
    """The pattern, and what :func:`_from_entry` needs to make it again (None when that cannot be had).

    The same steps as CPython's ``re._compiler.compile`` (3.10 to 3.13),
    with the code kept: parse, generate, then ``_sre.compile``.
    """
    try:
        if sys.version_info >= (3, 11):
            from re import _compiler, _parser
        else:  # pragma: no cover - Python 3.10
            import sre_compile as _compiler
            import sre_parse as _parser
        parsed = _parser.parse(pattern, flags)  # type: ignore[arg-type]  # bytes too, as re.compile passes them
        code = _compiler._code(parsed, flags)  # type: ignore[attr-defined]
        state = parsed.state
        groupindex = dict(state.groupdict)
        indexgroup: list[str | None] = [None] * state.groups
        for name, index in groupindex.items():
            indexgroup[index] = name
        from array import array

        # The code kept as bytes: one object to store and load, not a thousand ints.
        packed = array(_code_type(), code).tobytes()
        entry: tuple[Any, ...] = (flags | state.flags, packed, state.groups - 1, groupindex, tuple(indexgroup))
    except Exception:
        return re.compile(pattern, flags), None
    made = _from_entry(pattern, entry)
    reference = re.compile(pattern, flags)
    if made is None or (made.flags, made.groups, made.groupindex) != (
        reference.flags,
        reference.groups,
        reference.groupindex,
    ):
        return reference, None
    return made, entry
