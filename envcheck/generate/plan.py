"""A Dockerfile as frozen data: what the image is made of, each part with its reason.

The ecosystem planners (:mod:`.python`, :mod:`.node`) decide; they return a
:class:`Plan`.  :mod:`.render` is the only code that turns a plan into text,
so tests assert on decisions (the base image, the CMD's argv, the port, the
system packages) rather than on wording, and golden files cover the text.

Every step carries ``why``: the comment lines written above it.  A reader of
the Dockerfile sees the same reasons a test can inspect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from envcheck.record import field, record


@record
class Note:
    """Comment lines only (a list of runtime settings, a once-before-start step)."""

    lines: tuple[str, ...]


@record
class Arg:
    """``ARG NAME`` lines: build arguments with no default (unset unless given)."""

    names: tuple[str, ...]
    why: tuple[str, ...] = ()


@record
class Env:
    """One ``ENV`` instruction; values are rendered as given (already quoted)."""

    vars: tuple[tuple[str, str], ...]
    why: tuple[str, ...] = ()


@record
class Run:
    """A ``RUN`` in shell form; ``command`` may hold `` \\`` continuations."""

    command: str
    why: tuple[str, ...] = ()
    mounts: tuple[str, ...] = ()  # "type=secret,id=npmrc,target=/root/.npmrc"


@record
class SystemPackages:
    """Debian packages installed with apt, without recommends, lists removed."""

    packages: tuple[str, ...]
    why: tuple[str, ...] = ()


@record
class Copy:
    sources: tuple[str, ...]
    dest: str
    why: tuple[str, ...] = ()
    from_stage: str | None = None
    chown: str | None = None


@record
class Workdir:
    path: str
    why: tuple[str, ...] = ()


@record
class User:
    uid: int
    why: tuple[str, ...] = ()


@record
class Expose:
    port: int
    why: tuple[str, ...] = ()


@record
class Cmd:
    """The start command: exec form (``argv``), or ``shell`` when it needs one."""

    argv: tuple[str, ...]
    why: tuple[str, ...] = ()


Step = Note | Arg | Env | Run | SystemPackages | Copy | Workdir | User | Expose | Cmd
S = TypeVar("S", Note, Arg, Env, Run, SystemPackages, Copy, Workdir, User, Expose, Cmd)


@record
class Stage:
    image: str  # "python:3.11.7-slim-bookworm"; the renderer adds a digest when it has one
    steps: tuple[Step, ...] = ()
    name: str | None = None  # "builder"; the final stage has none
    why: tuple[str, ...] = ()

    def find(self, kind: type[S]) -> tuple[S, ...]:
        return tuple(s for s in self.steps if isinstance(s, kind))


@record
class Plan:
    """A whole Dockerfile: header comments, then its stages; the last one runs."""

    header: tuple[str, ...]
    stages: tuple[Stage, ...]
    warnings: tuple[str, ...] = ()
    locks: Mapping[str, str] = field(default_factory=dict)  # project-relative path -> text
    # Python requirements the lock leaves open (nothing pinned them), for the
    # shell to resolve as of the project's date (see :mod:`.asof`).
    python_open: tuple[str, ...] = ()
    # The interpreter chosen, and whether the project itself declares one.
    python: tuple[str, bool] | None = None

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    @property
    def cmd(self) -> Cmd | None:
        found = self.final.find(Cmd)
        return found[-1] if found else None

    @property
    def expose(self) -> Expose | None:
        found = self.final.find(Expose)
        return found[-1] if found else None

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)
