"""Rule definitions: one TOML file per rule under ``rules/`` (and a project's ``rules-dir``).

A rule names a check kind (implemented in :mod:`envcheck.checks`) and carries
the text a user reads: ``summary``, ``why``, ``fix``, ``example``.  ``envcheck
rules ID``, SARIF ``fullDescription`` and ``docs/rules.md`` are all generated
from these fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from envcheck.findings import Severity

DOCS_URL = "https://envcheck.readthedocs.io/en/latest/rules/"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str  # "EC201"
    name: str  # "python-package-version-drift"
    severity: Severity
    check: str  # check kind, a key of envcheck.checks.CHECKS
    summary: str
    why: str
    fix: str
    example: str
    params: Mapping[str, Any] = field(default_factory=dict)
    path: str | None = None  # the file it was loaded from
    builtin: bool = True

    @property
    def help_uri(self) -> str:
        return f"{DOCS_URL}#{self.id.lower()}-{self.name}"
