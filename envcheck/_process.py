"""The ``envcheck`` program's process: how it starts and how it ends, in milliseconds (issue 15).

A host snapshot is held to 3x ``uv pip list``, a Rust binary that starts in
about 2 ms; the Python interpreter alone takes 15 to 20.  Three standard
library costs were paid on every run for nothing the command used:

- **ipaddress** (~2.2 ms): :mod:`pathlib` imports :mod:`urllib.parse` (for
  ``Path.as_uri``) and, since CPython 3.11.4, ``urllib.parse`` imports
  :mod:`ipaddress` at its top to validate ``[bracketed]`` hosts in
  ``urlsplit``.  CPython 3.13 already imports ``urllib.parse`` lazily in
  ``pathlib``.  Here the module is registered as *deferred*: the name is
  bound as usual, and its body runs on the first attribute read (a bracketed
  host, a proxy rule) — the same module, the same objects, later.
- **ntpath** (~0.8 ms): :mod:`pathlib` imports the Windows path module for
  ``PureWindowsPath``, and on POSIX its body tries five imports from ``nt``
  that each search all of ``sys.path`` before failing.  Deferred the same way.
- **argparse's gettext** (~2 ms): every string argparse shows goes through
  :func:`gettext.gettext`, which searches for a ``messages`` catalog on each
  call and imports :mod:`locale` to spell the language (60 ``stat`` calls
  and 1.4 ms of import on one run).  envcheck's command line is English
  (DESIGN.md: its errors are English sentences); argparse's own words
  (``usage:``, ``error:``) are shown as written, so a usage error reads in one
  language.

And one cost at the end: **interpreter shutdown** (~7M instructions, 5% of a
host snapshot; 8M of the 39M of ``python -c pass``) clears every module and
frees every object one by one, with a last full garbage collection, only for
the operating system to take the memory back anyway.  :func:`end` runs what
shutdown would run that matters (the ``atexit`` functions: caches written,
temporary directories removed, logs flushed), flushes stdout and stderr, and
ends the process — only when no other thread is alive and the flush
succeeded; otherwise the usual shutdown runs, and reports a closed pipe as
it always has.

Only the program entry (:func:`envcheck.cli.entry`) calls :func:`prepare`,
:func:`english_argparse` and :func:`end`: a process that imports envcheck as a library keeps its import
system, its argparse and its shutdown as they are.
"""

from __future__ import annotations

import _thread
import os
import sys
from types import ModuleType  # already imported by enum, itself imported by re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec
    from typing import Any

#: Standard library modules whose bodies wait for their first use.
DEFERRED: tuple[str, ...] = ("ipaddress", "ntpath")


class DeferredModule(ModuleType):
    """A module bound under its name whose body runs when an attribute is first read.

    The import system hands this object to ``import NAME``.  The first read
    of a name it does not hold runs the module's code *into this object*
    (as :class:`importlib.util.LazyLoader` does, without importing
    ``importlib.util`` and its ``contextlib``), so there is only ever one
    module object: identity checks (``flavour is ntpath``) hold, and the
    module's functions see the same globals the importer sees.
    """

    def __getattr__(self, attr: str) -> Any:
        with _LOADING:
            if self.__dict__.get(_LOADING_MARK):
                # Read from code its own body runs: as in any import cycle, not there yet.
                raise AttributeError(f"partially initialized module {self.__name__!r} has no attribute {attr!r}")
            if type(self) is DeferredModule:  # another thread may have loaded it while this one waited
                self.load()
        return getattr(self, attr)

    def load(self) -> None:
        name = self.__name__
        spec = _find_spec(name)
        if spec is None or spec.loader is None:
            sys.modules.pop(name, None)
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        self.__spec__ = spec
        self.__loader__ = spec.loader
        self.__package__ = spec.parent
        if spec.has_location:
            self.__file__ = spec.origin
            if spec.cached:
                self.__cached__ = spec.cached
        self.__dict__[_LOADING_MARK] = True
        try:
            spec.loader.exec_module(self)
        except BaseException:
            sys.modules.pop(name, None)  # as after any failed import: the next import tries afresh
            raise
        finally:
            self.__dict__.pop(_LOADING_MARK, None)
        # A plain module once its body has run; until then a thread reading it waits on the lock.
        self.__class__ = ModuleType  # type: ignore[assignment]  # what LazyLoader does


# One lock for every deferred module's first use (import itself holds a per-module lock;
# this is that, for the body run here): a second thread waits for the body, never sees half of it.
_LOADING = _thread.RLock()
_LOADING_MARK = "__envcheck_loading__"


def _find_spec(name: str) -> ModuleSpec | None:
    """The spec the import system would use: the first finder on ``sys.meta_path`` that knows ``name``."""
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        spec: ModuleSpec | None = find_spec(name, None)
        if spec is not None:
            return spec
    return None


def defer(name: str) -> bool:
    """Register top-level module ``name`` as a :class:`DeferredModule`; False when it is already imported."""
    if name in sys.modules or "." in name:
        return False
    sys.modules[name] = DeferredModule(name)
    return True


def english_argparse() -> None:
    """argparse's strings as written, without a catalog search per string."""
    import argparse

    argparse._ = _as_written  # type: ignore[attr-defined]
    argparse.ngettext = _plural_as_written  # type: ignore[attr-defined]


def _as_written(message: str) -> str:
    return message


def _plural_as_written(singular: str, plural: str, n: int) -> str:
    # gettext's rule when no catalog applies (NullTranslations.ngettext).
    return singular if n == 1 else plural


def prepare() -> None:
    """The deferred modules, for a process that runs one envcheck command and exits.

    :func:`english_argparse` waits for the first parser (argparse is imported
    then: ``envcheck --version`` never needs it).
    """
    for name in DEFERRED:
        defer(name)


def end(code: int) -> int:
    """End the process with ``code`` without interpreter shutdown; ``code`` back when that is not safe."""
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return code  # a thread still running is joined by the usual shutdown
    if not _flushed():
        return code
    import atexit

    atexit._run_exitfuncs()  # what shutdown runs first; it clears them, so nothing runs twice
    if not _flushed():
        return code
    os._exit(code)


def _flushed() -> bool:
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):  # a closed pipe or stream: left to the usual shutdown to report
        return False
    return True
