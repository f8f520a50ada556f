"""``--format gitlab``: GitLab CI's code-quality report (a Code Climate-style JSON array).

GitLab needs ``description``, ``check_name``, ``fingerprint``, ``severity``
(info/minor/major/critical/blocker) and ``location.path`` with
``location.lines.begin`` on every issue.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from envcheck.findings import Finding

_SEVERITY = {"error": "critical", "warning": "major", "info": "info"}


def render(findings: Sequence[Finding], *, default_path: str | None = None) -> str:
    issues: list[dict[str, Any]] = []
    for f in findings:
        path = f.location.path if f.location else (default_path or ".")
        line = (f.location.line if f.location else None) or 1
        issues.append(
            {
                "type": "issue",
                "description": f"{f.rule} {f.message}",
                "check_name": f"{f.rule} {f.name}",
                "fingerprint": hashlib.sha256(f.fingerprint().encode()).hexdigest(),
                "severity": _SEVERITY[f.severity],
                "categories": ["Bug Risk"] if f.severity == "error" else ["Style"],
                "location": {"path": path, "lines": {"begin": line}},
                **({"content": {"body": f"fix: {f.fix}"}} if f.fix else {}),
            }
        )
    return json.dumps(issues, indent=2) + "\n"
