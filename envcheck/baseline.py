"""Baselines: accept today's findings, report only new ones (``--write-baseline FILE``).

A baseline stores :meth:`Finding.fingerprint` values — rule, subject, path and
the kinds of the two sides — not messages or line numbers, so a finding that
moves down a file or whose *other* side bumps a version is still recognised.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from envcheck._io import atomic_write, read_text
from envcheck.errors import ConfigError
from envcheck.findings import Finding

SCHEMA = "envcheck.baseline/1"


def dumps(findings: Iterable[Finding]) -> str:
    fingerprints = sorted({f.fingerprint() for f in findings})
    return json.dumps({"schema": SCHEMA, "fingerprints": fingerprints}, indent=2) + "\n"


def write_baseline(path: str | Path, findings: Iterable[Finding]) -> None:
    atomic_write(path, dumps(findings))


def load_baseline(path: str | Path) -> frozenset[str]:
    where = str(path)
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"baseline: malformed JSON: {exc.msg}", path=where, line=exc.lineno) from None
    except RecursionError:
        raise ConfigError("baseline: nested too deeply", path=where) from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ConfigError(f"not an envcheck baseline (expected schema {SCHEMA!r})", path=where)
    items = data.get("fingerprints")
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ConfigError("baseline: fingerprints must be a list of strings", path=where)
    return frozenset(items)


def new_findings(findings: Sequence[Finding], accepted: frozenset[str]) -> list[Finding]:
    return [f for f in findings if f.fingerprint() not in accepted]
