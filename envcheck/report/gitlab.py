"""``--format gitlab``: GitLab CI's code-quality report (a Code Climate-style JSON array).

GitLab needs ``description``, ``check_name``, ``fingerprint``, ``severity``
(info/minor/major/critical/blocker) and ``location.path`` with
``location.lines.begin`` on every issue.  The path is relative to the
repository with no ``./`` prefix, or the merge-request widget cannot link it;
fingerprints must be unique within a report, or GitLab shows only the first
issue that carries one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from envcheck.findings import Finding

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


_SEVERITY = {"error": "critical", "warning": "major", "info": "info"}


def render(findings: Sequence[Finding], *, default_path: str | None = None) -> str:
    issues: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for f in findings:
        path = _relative(f.location.path if f.location else (default_path or "."))
        line = (f.location.line if f.location else None) or 1
        # The baseline fingerprint ignores lines so it survives edits; two
        # findings may share it, and the second gets an occurrence number.
        identity = f.fingerprint()
        seen[identity] = seen.get(identity, 0) + 1
        if seen[identity] > 1:
            identity += f"|{seen[identity]}"
        issues.append(
            {
                "type": "issue",
                "description": f"{f.rule} {f.message}",
                "check_name": f"{f.rule} {f.name}",
                "fingerprint": hashlib.sha256(identity.encode()).hexdigest(),
                "severity": _SEVERITY[f.severity],
                "categories": ["Bug Risk"] if f.severity == "error" else ["Style"],
                "location": {"path": path, "lines": {"begin": line}},
                **({"content": {"body": f"fix: {f.fix}"}} if f.fix else {}),
            }
        )
    return json.dumps(issues, indent=2) + "\n"


def _relative(path: str) -> str:
    while path.startswith("./"):
        path = path[2:]
    return path or "."
