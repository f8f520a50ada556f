"""Every output format renders, and each is what its consumer expects."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from envcheck.findings import Finding, Location, Side
from envcheck.report import Format, render
from envcheck.rules import Rule

DATA = Path(__file__).resolve().parents[1] / "data"

RULES = {
    "EC201": Rule(
        id="EC201",
        name="python-package-version-drift",
        severity="error",
        check="package-drift",
        summary="The same distribution has different versions.",
        why="Code tested against one version runs against another.",
        fix="Pin the version the project was tested with.",
        example="requests 2.31.0 on host, 2.28.2 in image",
    ),
    "EC402": Rule(
        id="EC402",
        name="floating-base-image",
        severity="warning",
        check="base-image-tag",
        summary="FROM without a precise tag.",
        why="latest moves.",
        fix="Pin python:3.11.7-slim-bookworm.",
        example="FROM python:latest",
    ),
}

FINDINGS = [
    Finding(
        rule="EC402",
        name="floating-base-image",
        severity="warning",
        message="base image python:latest floats",
        subject="python:latest",
        location=Location("Dockerfile", 1),
        fix="pin python:3.11.7-slim-bookworm",
    ),
    Finding(
        rule="EC201",
        name="python-package-version-drift",
        severity="error",
        message="requests is 2.31.0 on host but 2.28.2 in image",
        subject="requests",
        left=Side("host", "2.31.0"),
        right=Side("image", "2.28.2"),
        fix="pin requests==2.31.0",
    ),
    Finding(
        rule="EC201",
        name="python-package-version-drift",
        severity="error",
        message="odd, chars: 100% here\nnext line",
        subject="odd",
        location=Location("req, s.txt", 3),
    ),
]


@pytest.mark.parametrize("fmt", list(Format))
def test_every_format_renders(fmt: Format) -> None:
    out = render(FINDINGS, fmt, rules=RULES, color=False, default_path="requirements.txt")
    assert out.endswith("\n")
    assert "2.28.2" in out or fmt is Format.GITLAB


@pytest.mark.parametrize("fmt", list(Format))
def test_every_format_renders_nothing_cleanly(fmt: Format) -> None:
    out = render([], fmt, rules=RULES, color=False)
    if fmt is Format.TEXT:
        assert out == "No findings.\n"
    elif fmt is Format.GITHUB:
        assert out == ""
    else:
        json.loads(out)


def test_json_matches_design_schema() -> None:
    doc = json.loads(render(FINDINGS, "json", rules=RULES))
    assert doc["schema"] == "envcheck.findings/1"
    assert doc["summary"] == {"error": 2, "warning": 1, "info": 0}
    first = doc["findings"][0]
    # Errors come first, then by rule and location: deterministic order.
    assert first["rule"] == "EC201" and first["severity"] == "error"
    drift = next(f for f in doc["findings"] if f["subject"] == "requests")
    assert drift["left"] == {"kind": "host", "value": "2.31.0"}
    assert drift["right"] == {"kind": "image", "value": "2.28.2"}
    assert drift["fix"] == "pin requests==2.31.0"
    assert "location" not in drift


def test_sarif_validates_against_official_schema() -> None:
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    doc = json.loads(render(FINDINGS, "sarif", rules=RULES, default_path="requirements.txt"))
    jsonschema.Draft7Validator(schema).validate(doc)
    driver = doc["runs"][0]["tool"]["driver"]
    assert [r["id"] for r in driver["rules"]] == ["EC201", "EC402"]
    assert driver["rules"][0]["fullDescription"]["text"] == RULES["EC201"].why
    assert driver["rules"][0]["helpUri"].startswith("https://")
    levels = {r["ruleId"]: r["level"] for r in doc["runs"][0]["results"]}
    assert levels == {"EC201": "error", "EC402": "warning"}
    # Every result has a file, so code scanning accepts the upload.
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in doc["runs"][0]["results"])


def test_github_annotations_are_escaped() -> None:
    out = render(FINDINGS, "github", rules=RULES).splitlines()
    assert out[0].startswith("::error ")
    odd = next(line for line in out if "odd" in line)
    assert "file=req%2C s.txt,line=3" in odd
    assert "100%25 here%0Anext line" in odd
    assert any(line.startswith("::warning file=Dockerfile,line=1,title=EC402 floating-base-image::") for line in out)


def test_gitlab_code_quality_shape() -> None:
    issues = json.loads(render(FINDINGS, "gitlab", rules=RULES, default_path="requirements.txt"))
    assert len(issues) == 3
    for issue in issues:
        assert set(issue) >= {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert issue["location"]["lines"]["begin"] >= 1
    assert len({i["fingerprint"] for i in issues}) == 3


def test_text_plain_groups_by_severity_with_fix() -> None:
    out = render(FINDINGS, "text", rules=RULES, color=False)
    assert out.index("Errors (2)") < out.index("Warnings (1)")
    assert "  Dockerfile:1: EC402 [floating-base-image] base image python:latest floats" in out
    assert "      fix: pin python:3.11.7-slim-bookworm" in out
    assert out.rstrip().endswith("Found 2 errors, 1 warning, 0 info.")
    assert "\x1b[" not in out


def test_text_color_uses_ansi_and_quiet_drops_summary() -> None:
    colored = render(FINDINGS, "text", rules=RULES, color=True)
    assert "\x1b[" in colored
    quiet = render(FINDINGS, "text", rules=RULES, color=False, quiet=True)
    assert "Found" not in quiet and "fix:" not in quiet
    assert quiet.count("\n") == 3


def test_no_color_env_disables_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    from envcheck.report.text import want_color

    monkeypatch.setenv("NO_COLOR", "1")
    assert want_color() is False


def test_text_neutralises_terminal_escapes_from_scanned_names() -> None:
    hostile = Finding(
        rule="EC203",
        name="python-package-extra",
        severity="info",
        message="evil\x1b[2J\x1b]0;pwned\x07 is only in the image",
        subject="evil",
    )
    for color in (False, True):
        out = render([hostile], "text", rules=RULES, color=color)
        assert "\x1b[2J" not in out and "\x07" not in out
