"""A status line for long scans (image layers, a large node_modules), on stderr, only for a person.

Shown only when stderr is a terminal and the user did not ask for ``--quiet``;
everywhere else (pipes, CI logs, pre-commit, ``NO_COLOR``-agnostic) it is a
no-op, so reports on stdout and logs stay byte-for-byte the same.  ``rich`` is
imported only when a status line is actually drawn.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from contextvars import ContextVar
    from typing import Any, Protocol, TextIO

    class Progress(Protocol):
        def update(self, message: str) -> None: ...


class _Silent:
    def update(self, message: str) -> None:
        pass


class _Status:
    def __init__(self, status: object) -> None:
        self._status = status

    def update(self, message: str) -> None:
        from rich.markup import escape

        self._status.update(escape(message))  # type: ignore[attr-defined]


class _Active:
    """The status line of the command in progress, if any.

    Scanners deep in the call stack (the layer walk) report through it
    without every signature in between carrying a callback.  A context
    variable, so a thread or task started elsewhere does not draw on it; made
    when a status line is first drawn, so runs that draw none (pipes, CI,
    pre-commit) do not import ``contextvars`` (~0.5 ms of a start, issue 15).
    """

    var: ContextVar[Progress | None] | None = None

    @classmethod
    def made(cls) -> ContextVar[Progress | None]:
        if cls.var is None:
            from contextvars import ContextVar

            cls.var = ContextVar("envcheck_progress", default=None)
        return cls.var


def report(message: str) -> None:
    """Update the active status line; free when there is none (pipes, CI, the library)."""
    var = _Active.var
    active = var.get() if var is not None else None
    if active is not None:
        active.update(message)


def wanted(*, quiet: bool = False, stream: TextIO | None = None) -> bool:
    stream = sys.stderr if stream is None else stream
    try:
        return not quiet and stream.isatty()
    except (AttributeError, ValueError):
        return False


def status(message: str, *, quiet: bool = False, stream: TextIO | None = None) -> StatusLine:
    """``with status("scanning image") as p: … p.update("layer 3/7")`` — a spinner, or nothing."""
    return StatusLine(message, quiet=quiet, stream=stream)


class StatusLine:
    """The context :func:`status` returns (a class: ``contextlib`` was 1.5% of every start, issue 15)."""

    def __init__(self, message: str, *, quiet: bool, stream: TextIO | None) -> None:
        self._message = message
        self._quiet = quiet
        self._stream = stream
        self._live: Any = None
        self._token: Any = None

    def __enter__(self) -> Progress:
        if not wanted(quiet=self._quiet, stream=self._stream):
            return _Silent()
        from rich.console import Console
        from rich.markup import escape

        stream = self._stream
        console = Console(file=sys.stderr if stream is None else stream, stderr=stream is None)
        self._live = console.status(escape(self._message))
        shown = _Status(self._live.__enter__())
        self._token = _Active.made().set(shown)
        return shown

    def __exit__(self, *exc: object) -> None:
        if self._live is None:
            return
        try:
            _Active.made().reset(self._token)
        finally:
            self._live.__exit__(*exc)
