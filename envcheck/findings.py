"""Findings: what the engine produces and every reporter renders (schema ``envcheck.findings/1``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from envcheck.record import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Literal

    Severity = Literal["error", "warning", "info"]

FINDINGS_SCHEMA = "envcheck.findings/1"
SEVERITY_ORDER: Mapping[str, int] = {"error": 0, "warning": 1, "info": 2}


@record
class Side:
    """One side of a comparison: which snapshot kind, and what it says (never a secret value)."""

    kind: str  # "host" | "image" | "project" | "declared" | a snapshot ref
    value: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value}


@record
class Location:
    path: str
    line: int | None = None

    @classmethod
    def parse(cls, source: str | None) -> Location | None:
        """``requirements.txt:3`` → Location; ``Dockerfile`` → Location without line."""
        if not source:
            return None
        path, sep, tail = source.rpartition(":")
        if sep and tail.isdigit() and path:
            return cls(path=path, line=int(tail))
        return cls(path=source)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"path": self.path}
        if self.line is not None:
            d["line"] = self.line
        return d

    def __str__(self) -> str:
        return self.path if self.line is None else f"{self.path}:{self.line}"


@record
class Finding:
    rule: str  # "EC201"
    name: str  # "python-package-version-drift"
    severity: Severity
    message: str
    subject: str | None = None
    left: Side | None = None
    right: Side | None = None
    location: Location | None = None
    fix: str | None = None

    def sort_key(self) -> tuple[Any, ...]:
        loc = self.location
        return (
            SEVERITY_ORDER[self.severity],
            self.rule,
            loc.path if loc else "",
            loc.line or 0 if loc else 0,
            self.subject or "",
            self.message,
        )

    def fingerprint(self) -> str:
        """Stable identity for baselines: survives line moves and version bumps of the *other* side."""
        loc = self.location.path if self.location else ""
        left = self.left.kind if self.left else ""
        right = self.right.kind if self.right else ""
        return f"{self.rule}|{self.subject or ''}|{loc}|{left}|{right}"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "rule": self.rule,
            "name": self.name,
            "severity": self.severity,
            "message": self.message,
        }
        if self.subject is not None:
            d["subject"] = self.subject
        if self.left is not None:
            d["left"] = self.left.to_dict()
        if self.right is not None:
            d["right"] = self.right.to_dict()
        if self.location is not None:
            d["location"] = self.location.to_dict()
        if self.fix is not None:
            d["fix"] = self.fix
        return d


def summarize(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {"error": 0, "warning": 0, "info": 0}
    for f in findings:
        counts[f.severity] += 1
    return counts


def findings_document(findings: Iterable[Finding]) -> dict[str, Any]:
    items = sorted(findings, key=Finding.sort_key)
    return {
        "schema": FINDINGS_SCHEMA,
        "findings": [f.to_dict() for f in items],
        "summary": summarize(items),
    }
