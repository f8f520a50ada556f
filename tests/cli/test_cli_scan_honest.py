"""A first run tells the truth: nothing to scan is not "all clear", -v says what was scanned, a wrong --python is an error."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

from envcheck.cli import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("command", ["scan", "lint"])
def test_an_empty_directory_is_refused_in_one_line(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("not a project\n")
    code, out, err = run([command, str(tmp_path)], capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert "nothing to scan" in err and "pyproject.toml" in err and ".nvmrc" in err and str(tmp_path) in err


def test_the_refusal_names_the_projects_below(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "requirements.txt").write_text("flask==3.0.0\n")
    code, _, err = run(["lint", str(tmp_path)], capsys)
    assert code == 2 and "api/" in err


def test_allow_empty_in_the_config_makes_it_intended(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "envcheck.toml").write_text("allow-empty = true\n")
    code, out, _ = run(["lint", str(tmp_path)], capsys)
    assert code == 0 and "No findings." in out


def test_a_python_that_does_not_exist_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "requirements.txt").write_text("flask==3.0.0\n")
    for argv in (
        ["scan", str(tmp_path), "--python", "/nonexistent/python"],
        ["snapshot", "host", str(tmp_path), "--python", "/nonexistent/python"],
    ):
        code, out, err = run(argv, capsys)
        assert code == 2 and out == ""
        assert err.strip().splitlines() == [err.strip()] and "/nonexistent/python" in err


def test_verbose_states_the_interpreter_its_kind_the_counts_and_the_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "app"
    project.mkdir()
    (project / "requirements.txt").write_text("pip\n")
    (project / ".python-version").write_text("3\n")
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env)
    py = env / "bin" / "python"
    subprocess.run([str(py), "-c", "pass"], check=True)
    code, _, err = run(["scan", str(project), "--python", str(py), "-v", "--no-node"], capsys)
    assert code in (0, 1)
    assert f"venv {env}" in err
    assert "python package(s)" in err
    assert "project: read 2 file(s): .python-version, requirements.txt" in err
    # A global interpreter is called one.
    code, _, err = run(["scan", str(project), "--python", sys.base_prefix + "/bin/python3", "-v", "--no-node"], capsys)
    assert "global interpreter" in err


def test_installer_tooling_pinned_in_requirements_is_not_missing_in_a_fresh_venv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's case: `printf 'pip==23.0.1\\nsetuptools==66.1.1\\n' > requirements.txt` in a fresh venv."""
    import json

    project = tmp_path / "app"
    project.mkdir()
    (project / "requirements.txt").write_text("pip==23.0.1\nsetuptools==66.1.1\nwheel==0.38.4\n")
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env)
    code, out, _ = run(
        ["scan", str(project), "--python", str(env / "bin" / "python"), "--no-node", "--format", "json"], capsys
    )
    findings = json.loads(out)["findings"]
    assert [f for f in findings if f["subject"] in ("pip", "setuptools", "wheel")] == []
    assert code == 0
