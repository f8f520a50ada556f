"""``--format json``: the design's ``envcheck.findings/1`` document."""

from __future__ import annotations

import json
from collections.abc import Sequence

from envcheck.findings import Finding, findings_document


def render(findings: Sequence[Finding]) -> str:
    return json.dumps(findings_document(findings), indent=2) + "\n"
