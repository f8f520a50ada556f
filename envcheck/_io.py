"""File output that never leaves a half-written user file behind."""

from __future__ import annotations

import os
from pathlib import Path

from envcheck.errors import EnvcheckError


def atomic_write(path: str | os.PathLike[str], data: str | bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` via a temp file in the same directory and rename.

    A full disk, a read-only directory or an interrupt leaves the previous file
    (or no file) in place, never a truncated one.
    """
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    directory = target.parent if str(target.parent) else Path(".")
    try:
        import tempfile  # only when writing: most commands only read

        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise EnvcheckError(f"cannot write: {exc.strerror or exc}", path=str(target)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        elif target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o7777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        _discard(tmp)
        raise EnvcheckError(f"cannot write: {exc.strerror or exc}", path=str(target)) from None
    except BaseException:
        _discard(tmp)
        raise


def _discard(tmp: str | os.PathLike[str]) -> None:
    # Not contextlib.suppress: importing contextlib was 1.5% of every command's start (issue 15).
    try:
        os.unlink(tmp)
    except OSError:
        pass


def read_text(path: str | os.PathLike[str], *, limit: int = 64 * 1024 * 1024) -> str:
    """Read a user's text file with a size cap and a clear error."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            raw = fh.read(limit + 1)
    except FileNotFoundError:
        raise EnvcheckError("no such file", path=str(p)) from None
    except IsADirectoryError:
        raise EnvcheckError("is a directory, expected a file", path=str(p)) from None
    except OSError as exc:
        raise EnvcheckError(f"cannot read: {exc.strerror or exc}", path=str(p)) from None
    if len(raw) > limit:
        raise EnvcheckError(f"file larger than {limit // (1024 * 1024)} MiB, refusing to read", path=str(p))
    try:
        # utf-8-sig by hand: the codec is one more module to import on every run
        return (raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EnvcheckError(f"not UTF-8 text (byte {exc.start})", path=str(p)) from None
