"""tomllib on 3.11+, tomli before; one place so parse errors read the same."""

from __future__ import annotations

import re
import sys

from envcheck.errors import ParseError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def loads(text: str, path: str) -> dict[str, Any]:
    """The TOML document ``text`` (``path`` names it in errors).

    Remembered under the text itself (:func:`envcheck._cache.by_content`,
    the cache ``toml``): a project's ``pyproject.toml`` is read for its
    ``[tool.envcheck]`` table on every command, and importing the parser
    costs more than the run's other work on a small project (issue 15).
    Only a document JSON gives back unchanged is kept (no dates or times),
    and only with the standard library's parser, whose answer is fixed by
    the Python version; an invalid document is never kept.
    """
    if sys.version_info >= (3, 11):
        from envcheck import __version__
        from envcheck._cache import by_content

        doc: dict[str, Any] = by_content("toml", text, f"{__version__} {sys.version}", lambda t: _parse(t, path))
        return doc
    return _parse(text, path)  # pragma: no cover - Python 3.10: tomli's answer may change with its version


def _parse(text: str, path: str) -> dict[str, Any]:
    # Imported here: a command that finds no TOML file to read (a host
    # snapshot without a config) does not pay for the parser (issue 15).
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        if line is None:  # before 3.14 the position is only in the message
            at = re.search(r"\(at line (\d+), column \d+\)", str(exc))
            line = int(at.group(1)) if at else None
        msg = getattr(exc, "msg", None) or str(exc).split(" (at line")[0]
        raise ParseError(f"invalid TOML: {msg}", path=path, line=line) from None
    except RecursionError:
        raise ParseError("invalid TOML: nested too deeply", path=path) from None
