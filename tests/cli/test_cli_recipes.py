"""docs/ci.md's recipes, run as written against the fixture projects (real processes)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest

REPO = Path(__file__).resolve().parents[2]
CI_DOC = (REPO / "docs" / "ci.md").read_text(encoding="utf-8")
SARIF_SCHEMA = json.loads((REPO / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
BIN = Path(sys.executable).parent

# GitLab's documented code-quality format: an array of issues, each with these
# fields; severity from GitLab's five levels; a repository-relative path.
GITLAB_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "type": {"const": "issue"},
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "pattern": "^[0-9a-f]{32,64}$"},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "categories": {"type": "array", "items": {"type": "string"}},
            "location": {
                "type": "object",
                "required": ["path", "lines"],
                "properties": {
                    "path": {"type": "string", "pattern": r"^(?!/)(?!\./)\S"},
                    "lines": {
                        "type": "object",
                        "required": ["begin"],
                        "properties": {"begin": {"type": "integer", "minimum": 1}},
                    },
                },
            },
        },
    },
}


def project(tmp_path: Path, fixture: str) -> Path:
    dest = tmp_path / fixture
    shutil.copytree(REPO / "fixtures" / fixture, dest)
    return dest


def sh(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A recipe line as CI runs it: a shell, envcheck on PATH (this interpreter's console script)."""
    assert command in CI_DOC, f"docs/ci.md no longer shows {command!r}"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "NO_COLOR": "1"}
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, check=False)


GITHUB_LINE = re.compile(r"^::(error|warning|notice) (file=[^,:]+,(line=\d+,)?)?title=EC\d{3} [a-z-]+::\S.*$")


def test_github_annotations_fail_the_job_on_errors(tmp_path: Path) -> None:
    proc = sh("envcheck lint --format github", project(tmp_path, "django-runtime"))
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines and all(GITHUB_LINE.match(line) for line in lines), proc.stdout
    assert any(line.startswith("::error file=Dockerfile,line=7,title=EC503 secret-in-image::") for line in lines)
    assert {line.split(" ")[0] for line in lines} == {"::error", "::warning", "::notice"}
    # The secret baked into the Dockerfile is named, never printed.
    assert "SECRET_KEY" in proc.stdout


def test_github_annotations_are_silent_on_a_clean_project(tmp_path: Path) -> None:
    proc = sh("envcheck lint --format github", project(tmp_path, "clean-pinned"))
    assert (proc.returncode, proc.stdout) == (0, "")


@pytest.mark.parametrize("fixture", ["django-runtime", "stale-lock", "clean-pinned"])
def test_sarif_for_code_scanning_validates(tmp_path: Path, fixture: str) -> None:
    root = project(tmp_path, fixture)
    proc = sh("envcheck lint --format sarif -o envcheck.sarif --fail-on never", root)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((root / "envcheck.sarif").read_text(encoding="utf-8"))
    jsonschema.validate(doc, SARIF_SCHEMA)
    results = doc["runs"][0]["results"]
    assert bool(results) == (fixture != "clean-pinned")
    for result in results:
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert (root / uri).is_file(), uri  # code scanning links findings to files in the checkout


@pytest.mark.parametrize("fixture", ["django-runtime", "stale-lock", "mixed-pnpm", "clean-pinned"])
def test_gitlab_code_quality_report_has_gitlabs_shape(tmp_path: Path, fixture: str) -> None:
    root = project(tmp_path, fixture)
    proc = sh("envcheck lint --format gitlab -o gl-code-quality-report.json --fail-on never", root)
    assert proc.returncode == 0, proc.stderr
    issues = json.loads((root / "gl-code-quality-report.json").read_text(encoding="utf-8"))
    jsonschema.validate(issues, GITLAB_SCHEMA)
    assert bool(issues) == (fixture != "clean-pinned")
    assert len({i["fingerprint"] for i in issues}) == len(issues), "GitLab shows one issue per fingerprint"
    for issue in issues:
        assert (root / issue["location"]["path"]).is_file()
    # The second line of the recipe sets the job status.
    assert sh("envcheck lint", root).returncode == (1 if fixture in ("django-runtime", "stale-lock") else 0)


GENERIC = CI_DOC.split("## Any other CI (shell)", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]


@pytest.mark.parametrize(
    ("fixture", "status", "said"),
    [("clean-pinned", 0, "envcheck: clean"), ("stale-lock", 1, "envcheck: findings, see envcheck.json")],
)
def test_generic_shell_recipe_exit_codes(tmp_path: Path, fixture: str, status: int, said: str) -> None:
    root = project(tmp_path, fixture)
    proc = sh(GENERIC, root)
    assert (proc.returncode, proc.stdout.strip()) == (status, said), proc.stderr
    doc = json.loads((root / "envcheck.json").read_text(encoding="utf-8"))
    assert doc["schema"] == "envcheck.findings/1"


def test_generic_shell_recipe_passes_on_unreadable_input(tmp_path: Path) -> None:
    root = project(tmp_path, "stale-lock")
    (root / "package.json").write_text('{"dependencies": ', encoding="utf-8")
    proc = sh(GENERIC, root)
    assert proc.returncode == 2
    assert "envcheck: could not run (exit 2)" in proc.stdout
    assert "package.json" in proc.stderr and "Traceback" not in proc.stderr


def test_baseline_recipe_accepts_todays_findings(tmp_path: Path) -> None:
    root = project(tmp_path, "stale-lock")
    assert sh("envcheck lint --write-baseline .envcheck-baseline.json", root).returncode == 0
    assert sh("envcheck lint --baseline .envcheck-baseline.json", root).returncode == 0
