"""The one exception type users ever see from envcheck.

Every input problem (a malformed manifest, a corrupt tarball, a missing engine)
is raised as :class:`EnvcheckError`; the CLI turns it into a single
``path:line: message`` line and exit code 2.  Anything else escaping is a bug.
"""

from __future__ import annotations

from envcheck.secrets import redact


class EnvcheckError(Exception):
    """A problem with the user's input or environment, reported as one line."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        # Newlines would break the "one line" promise of the CLI contract; a
        # quoted line of the user's file may hold a credential (SECURITY.md).
        self.message = redact(" ".join(str(message).split()))
        self.path = path
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"


class ParseError(EnvcheckError):
    """A file could not be parsed."""


class ImageError(EnvcheckError):
    """An image reference, archive or layer could not be read safely."""


class EngineError(EnvcheckError):
    """The container engine is missing, unreachable or failed."""


class ConfigError(EnvcheckError):
    """A config or rule file is invalid."""
