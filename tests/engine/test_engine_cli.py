"""The commands as a user runs them: envcheck lint / diff / rules / scan (in-process, real files)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from engine_testutil import snap, with_runtime, world  # type: ignore[import-not-found]

from envcheck.cli import main

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

FINDINGS_SCHEMA = {
    "type": "object",
    "required": ["schema", "findings", "summary"],
    "additionalProperties": False,
    "properties": {
        "schema": {"const": "envcheck.findings/1"},
        "summary": {
            "type": "object",
            "required": ["error", "warning", "info"],
            "additionalProperties": False,
            "properties": {k: {"type": "integer", "minimum": 0} for k in ("error", "warning", "info")},
        },
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["rule", "name", "severity", "message"],
                "additionalProperties": False,
                "properties": {
                    "rule": {"type": "string", "pattern": "^[A-Z][A-Z0-9]*[0-9]{2,}$"},
                    "name": {"type": "string"},
                    "severity": {"enum": ["error", "warning", "info"]},
                    "message": {"type": "string"},
                    "subject": {"type": "string"},
                    "fix": {"type": "string"},
                    "left": {"$ref": "#/$defs/side"},
                    "right": {"$ref": "#/$defs/side"},
                    "location": {
                        "type": "object",
                        "required": ["path"],
                        "additionalProperties": False,
                        "properties": {"path": {"type": "string"}, "line": {"type": "integer", "minimum": 1}},
                    },
                },
            },
        },
    },
    "$defs": {
        "side": {
            "type": "object",
            "required": ["kind", "value"],
            "additionalProperties": False,
            "properties": {"kind": {"type": "string"}, "value": {"type": ["string", "null"]}},
        }
    },
}


def make_project(root: Path, *, pinned: bool) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if pinned:
        (root / "requirements.txt").write_text("flask==3.0.0\nrequests==2.31.0\n")
        (root / ".python-version").write_text("3.11.7\n")
        (root / "Dockerfile").write_text(
            "FROM python:3.11.7-slim-bookworm@sha256:" + "a" * 64 + "\n"
            "COPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n"
        )
    else:
        (root / "requirements.txt").write_text("flask>=2  # envcheck: ignore[EC401]\nrequests\n")
        (root / "Dockerfile").write_text(
            f"# envcheck: ignore[EC402]\nFROM python:3\nENV AWS_SECRET_ACCESS_KEY={SECRET}\nRUN pip install gunicorn\n"
        )
    return root


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_lint_clean_project_has_no_warning_or_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(make_project(tmp_path / "p", pinned=True))
    code, out, _ = run(["lint", "--fail-on", "warning"], capsys)
    assert code == 0, out
    assert "No findings" in out


def test_lint_reports_secret_by_rule_and_name_never_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(make_project(tmp_path / "p", pinned=False))
    for fmt in ("text", "json", "sarif", "github"):
        code, out, err = run(["lint", "--format", fmt], capsys)
        assert code == 1
        assert SECRET not in out + err and SECRET[:12] not in out + err
        assert "AWS_SECRET_ACCESS_KEY" in out and "EC503" in out


def test_lint_json_matches_the_findings_schema_and_honours_inline_ignores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(make_project(tmp_path / "p", pinned=False))
    code, out, _ = run(["lint", "--format", "json"], capsys)
    doc = json.loads(out)
    jsonschema.validate(doc, FINDINGS_SCHEMA)
    got = [(f["rule"], f["location"]["path"], f["location"]["line"], f.get("subject")) for f in doc["findings"]]
    assert got == [
        ("EC503", "Dockerfile", 3, "AWS_SECRET_ACCESS_KEY"),
        ("EC401", "requirements.txt", 2, "requests"),
        ("EC404", "Dockerfile", 4, "gunicorn"),
        ("EC403", "Dockerfile", 2, "python:3"),
    ]
    assert doc["summary"] == {"error": 1, "warning": 2, "info": 1}
    assert code == 1


def test_lint_given_files_checks_only_those(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(make_project(tmp_path / "p", pinned=False))
    _, out, _ = run(["lint", "requirements.txt", "--format", "json"], capsys)
    assert {f["rule"] for f in json.loads(out)["findings"]} == {"EC401"}


def test_lint_config_select_severity_and_fail_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path / "p", pinned=False)
    (root / "pyproject.toml").write_text(
        '[tool.envcheck]\nignore = ["EC503", "EC403"]\nfail-on = "warning"\n[tool.envcheck.severity]\nEC404 = "info"\n'
    )
    monkeypatch.chdir(root)
    code, out, _ = run(["lint", "--format", "json"], capsys)
    doc = json.loads(out)
    assert [(f["rule"], f["severity"]) for f in doc["findings"]] == [("EC401", "warning"), ("EC404", "info")]
    assert code == 1  # fail-on warning from config
    code, _, _ = run(["lint", "--fail-on", "error"], capsys)
    assert code == 0  # the command line wins


def test_write_baseline_then_only_new_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path / "p", pinned=False)
    monkeypatch.chdir(root)
    code, _, err = run(["lint", "--write-baseline", ".envcheck-baseline.json"], capsys)
    assert code == 0 and "wrote 4 finding(s)" in err
    (root / "pyproject.toml").write_text('[tool.envcheck]\nbaseline = ".envcheck-baseline.json"\n')
    code, out, _ = run(["lint", "--format", "json"], capsys)
    assert (code, json.loads(out)["findings"]) == (0, [])
    with (root / "requirements.txt").open("a") as fh:
        fh.write("rich\n")
    code, out, _ = run(["lint", "--format", "json", "--fail-on", "warning"], capsys)
    assert [f["subject"] for f in json.loads(out)["findings"]] == ["rich"]
    assert code == 1


def test_lint_output_file_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(make_project(tmp_path / "p", pinned=False))
    code, out, _ = run(["lint", "--format", "json", "-o", "report.json"], capsys)
    assert out == "" and code == 1
    assert json.loads(Path("report.json").read_text())["schema"] == "envcheck.findings/1"


def test_bad_rules_dir_is_exit_2_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path / "p", pinned=True)
    (root / "rules").mkdir()
    (root / "rules" / "bad.toml").write_text(
        'id = "X001"\nname = "x"\nseverity = "error"\ncheck = "nope"\nsummary = "s"\n'
    )
    (root / "envcheck.toml").write_text('rules-dir = "rules"\n')
    monkeypatch.chdir(root)
    code, out, err = run(["lint"], capsys)
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0
    assert "bad.toml: check: unknown check kind 'nope'" in err


def test_diff_two_stored_snapshots(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    w = world()

    image = with_runtime(w.image, "python", "3.10.13")
    (tmp_path / "host.json").write_text(w.host.to_json())
    (tmp_path / "image.json").write_text(image.to_json())
    code, out, _ = run(["diff", str(tmp_path / "host.json"), str(tmp_path / "image.json"), "--format", "json"], capsys)
    doc = json.loads(out)
    assert code == 1
    assert [f["rule"] for f in doc["findings"]] == ["EC101"]
    assert doc["findings"][0]["left"] == {"kind": "host", "value": "3.11.7"}


def test_diff_two_hosts_are_told_apart_by_file_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "laptop.json").write_text(snap(py={"flask": "3.0.0"}).to_json())
    (tmp_path / "server.json").write_text(snap(py={"flask": "2.3.3"}).to_json())
    _, out, _ = run(["diff", str(tmp_path / "laptop.json"), str(tmp_path / "server.json")], capsys)
    assert "flask is 3.0.0 on host (laptop.json) but 2.3.3 on host (server.json)" in out


def test_diff_project_snapshot_against_host(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    w = world()
    from engine_testutil import req, with_declared  # type: ignore[import-not-found]

    from envcheck.record import replace

    p = with_declared(w.project, requirements=(req("flask>=3.1", "requirements.txt:1"),))
    (tmp_path / "project.json").write_text(replace(p, source=replace(p.source, ref=str(tmp_path))).to_json())
    (tmp_path / "host.json").write_text(w.host.to_json())
    code, out, _ = run(
        ["diff", str(tmp_path / "project.json"), str(tmp_path / "host.json"), "--format", "json"], capsys
    )
    # declared vs installed, plus the static rules over the stored declarations (flask>=3.1 is unpinned)
    assert [f["rule"] for f in json.loads(out)["findings"]] == ["EC301", "EC401"]
    assert code == 1


def test_diff_unreadable_snapshot_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.json").write_text("{")
    code, _, err = run(["diff", str(tmp_path / "a.json"), str(tmp_path / "a.json")], capsys)
    assert code == 2 and "a.json:1: malformed JSON" in err


def test_rules_lists_and_explains(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["rules"], capsys)
    assert code == 0 and out.splitlines()[0].split() == ["ID", "NAME", "SEVERITY", "SUMMARY"]
    # One line per built-in rule file under the header.
    shipped = len(list((Path(__file__).resolve().parents[2] / "rules").glob("EC*.toml")))
    assert len(out.splitlines()) == shipped + 1
    code, out, _ = run(["rules", "EC201"], capsys)
    assert code == 0
    assert out.startswith("# EC201 python-package-version-drift")
    for heading in ("## What it does", "## Why is this bad?", "## Example", "## How to fix"):
        assert heading in out
    _, by_name, _ = run(["rules", "floating-base-image"], capsys)
    assert by_name.startswith("# EC402 ")
    code, _, err = run(["rules", "EC999"], capsys)
    assert code == 2 and "no rule 'EC999'" in err


def test_rules_lists_a_projects_own_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "ACME001.toml").write_text(
        'id = "ACME001"\nname = "no-pickle5"\nseverity = "error"\ncheck = "package-policy"\n'
        'summary = "pickle5 must not be in the image"\n[params]\nforbid = ["pickle5"]\non = ["image"]\n'
    )
    (tmp_path / "envcheck.toml").write_text('rules-dir = "rules"\n')
    monkeypatch.chdir(tmp_path)
    _, out, _ = run(["rules"], capsys)
    assert "ACME001  no-pickle5" in out
    _, out, _ = run(["rules", "ACME001"], capsys)
    assert "Defined in" in out and "ACME001.toml" in out
