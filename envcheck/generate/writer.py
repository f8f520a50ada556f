"""Writing generated files: atomically, never over a user's own Dockerfile, or checking.

* A Dockerfile that exists is replaced only with ``force``.
* ``requirements.lock`` is replaced when it is ours (it starts with the
  generator's header) or with ``force``; a hand-written one is kept.
* ``.dockerignore`` is written only when missing: users tune it.
* :func:`check` compares what is committed with what would be generated and
  returns a unified diff for CI; nothing is written.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from envcheck._io import atomic_write, read_text
from envcheck.errors import EnvcheckError
from envcheck.generate.dockerfile import LOCK_HEADER, GeneratedFiles
from envcheck.record import record


class OverwriteError(EnvcheckError):
    """A file exists that the generator must not replace without --force."""


@record
class Written:
    path: Path
    action: str  # "created" | "replaced" | "unchanged" | "kept"


def _existing(path: Path) -> str | None:
    if not path.exists():
        return None
    return read_text(path)


def plan(root: Path, dockerfile: Path, files: GeneratedFiles) -> list[tuple[Path, str, bool]]:
    """(path, text, replace_only_if_ours_or_forced) for every file the generator owns."""
    items: list[tuple[Path, str, bool]] = [(dockerfile, files.dockerfile, False)]
    items.extend((root / rel, text, True) for rel, text in sorted(files.locks.items()))
    return items


def write(root: Path, dockerfile: Path, files: GeneratedFiles, *, force: bool = False) -> list[Written]:
    """Write the files; refuse (before writing anything) when one may not be replaced."""
    items = plan(root, dockerfile, files)
    current = {path: _existing(path) for path, _, _ in items}
    for path, text, ours_ok in items:
        old = current[path]
        if old is None or old == text or force:
            continue
        if ours_ok and old.startswith(LOCK_HEADER):
            continue
        what = "a Dockerfile" if path == dockerfile else "a file the generator did not write"
        raise OverwriteError(
            f"{what} already exists; pass --force to replace it (or --check to compare)", path=str(path)
        )
    done: list[Written] = []
    for path, text, _ in items:
        old = current[path]
        if old == text:
            done.append(Written(path, "unchanged"))
            continue
        atomic_write(path, text)
        done.append(Written(path, "created" if old is None else "replaced"))
    ignore = root / ".dockerignore"
    if ignore.exists():
        done.append(Written(ignore, "kept"))
    else:
        atomic_write(ignore, files.dockerignore)
        done.append(Written(ignore, "created"))
    return done


def check(root: Path, dockerfile: Path, files: GeneratedFiles) -> str:
    """A unified diff between the committed files and fresh output; empty when current."""
    chunks: list[str] = []
    for path, text, _ in plan(root, dockerfile, files):
        old = _existing(path)
        if old == text:
            continue
        try:
            shown = str(path.relative_to(root))
        except ValueError:
            shown = str(path)
        chunks.extend(
            difflib.unified_diff(
                (old or "").splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"{shown} (committed)" if old is not None else f"{shown} (missing)",
                tofile=f"{shown} (generated)",
            )
        )
    return "".join(chunks)
