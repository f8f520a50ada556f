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

The standard library compiles its own patterns through :func:`re.compile` on
every start too (gettext's plural tokenizer as argparse is imported, argparse's
help and argument matchers, locale, urllib.parse, json's scanner and
encoder): ~18 patterns, ~2.7 ms of a 60 ms ``envcheck snapshot host``.  The
program entry (:func:`envcheck.cli.entry`, never a library's or a test's
:func:`~envcheck.cli.main`) calls :func:`prime`: the same file keeps, apart, the
code of those patterns, and each is made again and put into :mod:`re`'s own
cache (``re._cache``) under the key :func:`re.compile` looks up, before the
module that compiles it is imported, so that compile is a cache hit.  Which
patterns: learned from the process itself, never from a list here
(:func:`started`, :func:`_learn`) -- those in ``re._cache`` when start-up ends
(imports, the parser, the arguments parsed; no envcheck option makes a pattern
of its value), and, later in the run, only those that are module-level
variables of standard-library modules imported meanwhile (json's).  A pattern
compiled later from anything else (a glob from a config file, a rule) is never
kept, so the promise above holds for this part too.
"""

from __future__ import annotations

import functools
import os
import re
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, AnyStr, Literal

#: Entries kept in a cache file: envcheck's own patterns, with room to spare.
MAX_ENTRIES = 1024
#: A larger file is not read: 1024 entries take ~0.5 MB.
MAX_FILE_BYTES = 4 * 1024 * 1024
#: Standard-library patterns primed into ``re._cache`` at most: a start-up
#: compiles ~20, and re's cache (512 entries) must keep its room for the run's.
MAX_PRIMED = 64
#: The entry holding them, ``{(pattern, flags as re.compile was given them): entry}``.
#: Not a key :func:`compile` makes (those begin with the flags' digits), so a
#: version of envcheck from before priming reads the file, never looks this
#: entry up and writes it back unchanged: the two share one file.
PRIMES_KEY = "re._cache"
#: The flags a primed pattern may have been compiled with.  Not DEBUG (never
#: cached), not TEMPLATE (3.11 and 3.12 warn on each compile, which a cache hit
#: would skip), not LOCALE (the one flag tied to the process's state; no
#: start-up pattern uses it, so leaving it out costs nothing).
_PRIMABLE_FLAGS = int(re.IGNORECASE | re.MULTILINE | re.DOTALL | re.UNICODE | re.VERBOSE | re.ASCII)


class _Store:
    """The process's view of the cache file: read on the first compile (or :func:`prime`), written at exit if it grew."""

    __slots__ = ("dirty", "entries", "exit_hook", "path", "primes", "tried")

    def __init__(self) -> None:
        self.entries: dict[str, Any] | None = None
        #: ``entries[PRIMES_KEY]``: the standard library's start-up patterns.
        self.primes: dict[tuple[str | bytes, int], Any] | None = None
        self.path = ""
        self.tried = False
        self.dirty = False
        self.exit_hook = False


_STORE = _Store()


class _Primer:
    """What :func:`prime` put into ``re._cache``, and what the process compiled by the end of start-up."""

    __slots__ = ("active", "modules", "skip", "startup")

    def __init__(self) -> None:
        self.active = False
        #: Keys not to learn: there before :func:`prime` (the console script's own), or primed.
        self.skip: set[Any] = set()
        self.startup: dict[Any, Any] | None = None
        self.modules: set[str] = set()


_PRIMER = _Primer()


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
        _mark_dirty()
    return made


def _mark_dirty() -> None:
    _STORE.dirty = True
    _on_exit()


def _on_exit() -> None:
    """One exit hook a process, whatever asked for it: the learning, then at most one write."""
    if not _STORE.exit_hook:
        _STORE.exit_hook = True
        import atexit

        atexit.register(_at_exit)


def _at_exit() -> None:
    if _PRIMER.active and _PRIMER.startup is not None:
        try:
            _learn()
        except Exception:  # the run's answer is given: a cache that cannot learn stays as it was
            pass
    if _STORE.dirty:
        _save()


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


# --------------------------------------------------------------------------- re's own cache


def prime() -> None:
    """Put the standard library's start-up patterns, made from this build's file, into ``re._cache``.

    For the program entry only, before argparse and json are imported: their
    :func:`re.compile` then finds the pattern made and returns it, as it would
    have returned its own from a second compile.  On CPython 3.10 to 3.13
    ``re._compile`` looks up ``_cache[type(pattern), pattern, flags]`` (3.12
    and later look in ``_cache2`` first, then take the entry from ``_cache`` and
    put it in both), so an entry in ``_cache`` is what a compile finds.  A key
    already there is left alone; an entry that cannot be made is skipped, and
    that pattern is compiled as usual (and learned again at exit).
    """
    cache = getattr(re, "_cache", None)
    if type(cache) is not dict or _PRIMER.active:
        return
    if _load() is None or _STORE.primes is None:
        return
    _PRIMER.active = True
    skip = _PRIMER.skip
    skip.update(cache)
    for spec, entry in _STORE.primes.items():
        if not (type(spec) is tuple and len(spec) == 2 and type(spec[0]) in (str, bytes) and type(spec[1]) is int):
            continue
        pattern: Any = spec[0]
        flags: int = spec[1]
        key = (type(pattern), pattern, flags)
        if key in cache:
            continue
        made = _from_entry(pattern, entry)
        if made is not None:
            cache[key] = made
            skip.add(key)
    _on_exit()


def started() -> None:
    """Start-up is over (the command's parser built, the arguments parsed): note what it compiled."""
    if not _PRIMER.active or _PRIMER.startup is not None:
        return
    cache = getattr(re, "_cache", None)
    if type(cache) is not dict:
        _PRIMER.active = False
        return
    skip = _PRIMER.skip
    _PRIMER.startup = {key: made for key, made in cache.items() if key not in skip}
    _PRIMER.modules = set(sys.modules)


def _learn() -> None:
    """Keep the code of what start-up compiled, and of the module-level patterns of standard-library modules imported since.

    The second kind is told by identity: the object in ``re._cache`` is the
    one a module's global holds (json's ``NUMBER_RE``, ``ESCAPE``...).  A
    pattern compiled later by anything else -- a glob from the host's files
    through fnmatch, a pattern in a rule -- is in no module's globals, so it is
    never kept.
    """
    primes = _STORE.primes
    cache = getattr(re, "_cache", None)
    if primes is None or _PRIMER.startup is None or type(cache) is not dict:
        return
    found = dict(_PRIMER.startup)
    skip = _PRIMER.skip  # primed, or compiled before prime(): neither is learned
    later = {id(made): key for key, made in list(cache.items()) if key not in skip and key not in found}
    if later:
        stdlib: frozenset[str] = getattr(sys, "stdlib_module_names", frozenset())
        for name in set(sys.modules) - _PRIMER.modules:
            module = sys.modules.get(name)
            if module is None or name.partition(".")[0] not in stdlib:
                continue
            names = getattr(module, "__dict__", {})
            if later.keys().isdisjoint(map(id, names.values())):  # most modules: one pass at C speed
                continue
            for value in list(names.values()):
                key = later.get(id(value))
                if key is not None and cache.get(key) is value:
                    found[key] = value
    for key, reference in found.items():
        if len(primes) >= MAX_PRIMED:
            break
        if not (type(key) is tuple and len(key) == 3 and type(reference) is re.Pattern):
            continue
        kind, pattern, flags = key
        if kind not in (str, bytes) or type(pattern) is not kind or type(flags) is not int:
            continue
        if flags & ~_PRIMABLE_FLAGS:
            continue
        _made, entry = _compile_keeping_code(pattern, flags, reference)
        if entry is not None:
            primes[(pattern, flags)] = entry
            _STORE.dirty = True


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
    from envcheck._cache import cache_dir, fnv64

    home = cache_dir(os.environ, "regex")
    if build is None or home is None:
        return None
    path = os.path.join(home, f"{fnv64(build):016x}.marshal")
    entries = _read(path, build)
    primes = entries.get(PRIMES_KEY)
    if not isinstance(primes, dict):
        primes = entries[PRIMES_KEY] = {}
    _STORE.entries, _STORE.primes = entries, primes
    _STORE.path = path
    return entries


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

        flags, code, groups, groupindex, indexgroup = entry
        # memoryview, not array: the same words, without importing array (~0.1 ms) before the first pattern
        made: re.Pattern[AnyStr] = _sre.compile(
            pattern, flags, memoryview(code).cast(_code_type()).tolist(), groups, groupindex, tuple(indexgroup)
        )
        return made
    except Exception:  # a damaged or foreign entry: compile afresh
        return None


@functools.cache
def _code_type() -> Literal["I", "L", "Q"]:
    """The struct (and array) type code of the matcher's code words (``_sre.CODESIZE`` bytes each)."""
    import _sre

    for code in ("I", "L", "Q"):
        if memoryview(bytes(8)).cast(code).itemsize == _sre.CODESIZE:
            return code
    raise ValueError(f"no type code for {_sre.CODESIZE}-byte words")  # callers fall back to re.compile


def _compile_keeping_code(
    pattern: AnyStr, flags: int, reference: re.Pattern[AnyStr] | None = None
) -> tuple[re.Pattern[AnyStr], tuple[Any, ...] | None]:
    """The pattern, and what :func:`_from_entry` needs to make it again (None when that cannot be had).

    The same steps as CPython's ``re._compiler.compile`` (3.10 to 3.13),
    with the code kept: parse, generate, then ``_sre.compile``.  The entry is
    kept only if the pattern made from it equals ``reference`` (the pattern
    re's own compiler makes, compiled here when not given): patterns compare
    equal when their flags, text and code are the same.  That reference is
    compiled without ``re.compile`` so that envcheck's own patterns stay out
    of ``re._cache``, where :func:`started` would take them for the standard
    library's.
    """
    try:
        if sys.version_info >= (3, 11):
            from re import _compiler, _parser
        else:  # pragma: no cover - Python 3.10
            import sre_compile as _compiler
            import sre_parse as _parser
        if reference is None:
            reference = _compiler.compile(pattern, flags)
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
        return reference if reference is not None else re.compile(pattern, flags), None
    made = _from_entry(pattern, entry)
    if (
        made is None
        or made != reference
        or (made.flags, made.groups, made.groupindex) != (reference.flags, reference.groups, reference.groupindex)
    ):
        return reference, None
    return made, entry
