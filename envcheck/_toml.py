"""tomllib on 3.11+, tomli before; one place so parse errors read the same."""

from __future__ import annotations

import re
import sys

from envcheck.errors import ParseError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def loads(text: str, path: str) -> dict[str, Any]:
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
