"""``--format sarif``: SARIF 2.1.0, as code-scanning services ingest it.

Rule metadata (``shortDescription``, ``fullDescription``, ``help``,
``helpUri``) comes from the rule files, never from text kept here.  Results
carry ``partialFingerprints`` so re-runs de-duplicate across commits.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from envcheck import __version__
from envcheck.findings import Finding
from envcheck.rules import DOCS_ROOT, Rule

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _rule_descriptor(rule: Rule) -> dict[str, Any]:
    parts = [("Why", rule.why), ("Fix", rule.fix)]
    help_text = "\n\n".join([rule.summary, *(f"{k}: {v}" for k, v in parts if v)])
    help_md = "\n\n".join([rule.summary, *(f"**{k}:** {v}" for k, v in parts if v)])
    if rule.example:
        help_text += f"\n\nExample:\n{rule.example}"
        help_md += f"\n\n**Example:**\n\n```\n{rule.example}\n```"
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.why or rule.summary},
        "help": {"text": help_text, "markdown": help_md},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"tags": [rule.check]},
    }
    if rule.help_uri:
        descriptor["helpUri"] = rule.help_uri
    return descriptor


def render(findings: Sequence[Finding], rules: Mapping[str, Rule], *, default_path: str | None = None) -> str:
    rule_ids = sorted(rules)
    index = {rid: i for i, rid in enumerate(rule_ids)}
    results: list[dict[str, Any]] = []
    for f in findings:
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "level": _LEVEL[f.severity],
            "message": {"text": f.message + (f" Fix: {f.fix}" if f.fix else "")},
            "partialFingerprints": {"envcheck/v1": f.fingerprint()},
        }
        if f.rule in index:
            result["ruleIndex"] = index[f.rule]
        path = f.location.path if f.location else default_path
        if path:
            physical: dict[str, Any] = {"artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"}}
            if f.location and f.location.line:
                physical["region"] = {"startLine": f.location.line}
            result["locations"] = [{"physicalLocation": physical}]
        props: dict[str, Any] = {}
        if f.subject:
            props["subject"] = f.subject
        if f.left:
            props["left"] = f.left.to_dict()
        if f.right:
            props["right"] = f.right.to_dict()
        if props:
            result["properties"] = props
        results.append(result)
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "envcheck",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": DOCS_ROOT,
                        "rules": [_rule_descriptor(rules[rid]) for rid in rule_ids],
                    }
                },
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json.dumps(doc, indent=2) + "\n"
