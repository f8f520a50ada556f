"""``--format github``: GitHub Actions workflow commands (``::error file=…,line=…::``).

Escaping follows the runner's rules: ``%``, CR and LF in the message; also
``:`` and ``,`` inside properties, or the runner splits them.
"""

from __future__ import annotations

from collections.abc import Sequence

from envcheck.findings import Finding

_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def render(findings: Sequence[Finding], *, default_path: str | None = None) -> str:
    lines = []
    for f in findings:
        props = []
        path = f.location.path if f.location else default_path
        if path:
            props.append(f"file={_escape_property(path)}")
            if f.location and f.location.line:
                props.append(f"line={f.location.line}")
        props.append(f"title={_escape_property(f'{f.rule} {f.name}')}")
        message = f.message + (f"\nfix: {f.fix}" if f.fix else "")
        lines.append(f"::{_LEVEL[f.severity]} {','.join(props)}::{_escape_data(message)}")
    return "\n".join(lines) + ("\n" if lines else "")
