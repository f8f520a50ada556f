"""`envcheck lint fixtures/NAME` prints exactly the findings fixtures/README.md promises, and quickly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from envcheck.cli import main

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

# Transcribed from the table in fixtures/README.md: (rule, severity, location, subject).
EXPECTED: dict[str, list[tuple[str, str, str, str]]] = {
    "flask-legacy": [
        ("EC401", "warning", "requirements.txt:2", "flask"),
        ("EC401", "warning", "requirements.txt:3", "requests"),
        ("EC401", "warning", "requirements.txt:4", "gunicorn"),
        ("EC401", "warning", "requirements.txt:5", "python-dotenv"),
        ("EC401", "warning", "requirements.txt:6", "psycopg2-binary"),
    ],
    "django-runtime": [
        ("EC402", "warning", "Dockerfile:1", "python:latest"),
        ("EC403", "info", "Dockerfile:1", "python:latest"),
        ("EC503", "error", "Dockerfile:7", "SECRET_KEY"),
        ("EC404", "warning", "Dockerfile:10", "django"),
        ("EC404", "warning", "Dockerfile:10", "gunicorn"),
        ("EC404", "warning", "Dockerfile:11", "psycopg"),
        ("EC404", "warning", "Dockerfile:11", "whitenoise"),
    ],
    "poetry-app": [],
    "uv-app": [],
    "express-app": [
        ("EC402", "warning", "Dockerfile:1", "node:20"),
        ("EC403", "info", "Dockerfile:1", "node:20"),
        ("EC405", "warning", "Dockerfile:5", "npm install"),
    ],
    "mixed-pnpm": [
        ("EC305", "warning", "Dockerfile:9", "python"),
        ("EC403", "info", "Dockerfile:1", "node:20.11.1-bookworm-slim"),
        ("EC403", "info", "Dockerfile:9", "python:3.12-slim"),
    ],
    "stale-lock": [("EC304", "error", "package.json:15", "helmet")],
    "clean-pinned": [],
}


def test_every_fixture_in_the_readme_is_covered() -> None:
    readme = (FIXTURES / "README.md").read_text()
    listed = {line.split("`")[1] for line in readme.splitlines() if line.startswith("| `")}
    assert listed == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_lint_fixture_prints_exactly_the_expected_findings(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["lint", str(FIXTURES / name), "--format", "json", "--fail-on", "info"])
    doc = json.loads(capsys.readouterr().out)
    got = sorted(
        (f["rule"], f["severity"], f"{f['location']['path']}:{f['location']['line']}", f["subject"])
        for f in doc["findings"]
    )
    assert got == sorted(EXPECTED[name])
    assert code == (1 if EXPECTED[name] else 0)


def test_django_secret_value_is_never_printed(capsys: pytest.CaptureFixture[str]) -> None:
    dockerfile = (FIXTURES / "django-runtime" / "Dockerfile").read_text()
    line = next(x for x in dockerfile.splitlines() if x.startswith("ENV SECRET_KEY"))
    value = line.split("=", 1)[1].strip().strip("\\").strip().strip("\"'")
    assert len(value) > 8
    for fmt in ("text", "json", "sarif", "github", "gitlab"):
        main(["lint", str(FIXTURES / "django-runtime"), "--format", fmt])
        out, err = capsys.readouterr()
        assert value not in out + err
        assert "SECRET_KEY" in out


@pytest.mark.parametrize("name", ["flask-legacy", "django-runtime", "express-app", "clean-pinned"])
def test_lint_imports_nothing_heavy(name: str) -> None:
    """rich, docker, yaml and requests stay out of the lint path (pnpm projects may need yaml)."""
    code = (
        "import sys, io, contextlib\n"
        "from envcheck.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['lint', {str(FIXTURES / name)!r}, '--fail-on', 'never'])\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'rich', 'docker', 'yaml', 'requests', 'urllib3'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"
