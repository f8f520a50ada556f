"""One cause, one headline: many findings with the same rule, sides, file and fix fold into a group in text only."""

from __future__ import annotations

import json

from envcheck.findings import Finding, Location, Side
from envcheck.report import render
from envcheck.report.text import render as render_text


def out_of_sync(n: int) -> list[Finding]:
    return [
        Finding(
            rule="EC304",
            name="lockfile-out-of-sync",
            severity="error",
            message=f"poetry.lock locks pkg{i} 1.{i}.0 but 2.{i}.0 is installed on host",
            subject=f"pkg{i}",
            left=Side("lock", f"1.{i}.0"),
            right=Side("host", f"2.{i}.0"),
            location=Location("poetry.lock", 10 + i),
            fix="reinstall from poetry.lock on host",
        )
        for i in range(n)
    ]


def test_thirty_two_lock_findings_are_one_headline_with_details() -> None:
    findings = out_of_sync(32)
    text = render_text(findings)
    lines = text.splitlines()
    headline = [ln for ln in lines if "EC304" in ln]
    assert headline == [
        "  poetry.lock: EC304 [lockfile-out-of-sync] 32 findings (lock vs host), one cause: "
        "reinstall from poetry.lock on host"
    ]
    assert sum("is installed on host" in ln for ln in lines) == 32
    assert "fix:" not in text
    assert lines[-1] == "Found 32 errors, 0 warnings, 0 info."


def test_a_few_stay_separate_and_json_keeps_every_finding() -> None:
    assert render_text(out_of_sync(3)).count("EC304") == 3
    data = json.loads(render(out_of_sync(32), "json", rules={}))
    assert len(data["findings"]) == 32


def test_findings_with_different_fixes_are_not_one_cause() -> None:
    findings = [
        Finding(
            rule="EC201",
            name="python-package-version-drift",
            severity="error",
            message=f"p{i} is 1 on host but 2 in image",
            subject=f"p{i}",
            left=Side("host", "1"),
            right=Side("image", "2"),
            fix=f"pin p{i}==1 and reinstall",
        )
        for i in range(6)
    ]
    assert render_text(findings).count("EC201") == 6
