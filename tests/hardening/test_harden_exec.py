"""What SECURITY.md promises about execution, held against a booby-trapped repository.

The repository ships a ``.venv/bin/python`` that leaves a marker when run.
``lint``, ``snapshot project``, ``diff`` and static image reading never run it;
host capture refuses an interpreter that resolves inside the project (it came
with the repository), and ``--python`` is the documented way to trust one.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from harden_testutil import REPO, cli


@pytest.fixture
def trapped(tmp_path: Path) -> tuple[Path, Path]:
    project = tmp_path / "project"
    shutil.copytree(REPO / "fixtures" / "flask-legacy", project)
    marker = tmp_path / "ran"
    bindir = project / ".venv" / "bin"
    bindir.mkdir(parents=True)
    script = bindir / "python"
    script.write_text(f'#!/bin/sh\ntouch "{marker}"\nexec /usr/bin/python3 "$@"\n')
    script.chmod(0o755)
    (bindir / "python3").symlink_to("python")
    (project / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    # A node_modules/.bin tool and a package.json script that would also leave the marker.
    (project / "package.json").write_text(
        '{"name": "x", "version": "1.0.0", "scripts": {"preinstall": "touch ' + str(marker) + '"}}'
    )
    return project, marker


def test_static_commands_never_execute_anything_from_the_repository(trapped: tuple[Path, Path]) -> None:
    project, marker = trapped
    snap = project.parent / "p.json"
    for args in (
        ["lint", "--fail-on", "never"],
        ["lint", "--format", "sarif", "--fail-on", "never"],
        ["snapshot", "project", str(project), "-o", str(snap)],
        ["diff", str(snap), str(snap)],
        ["snapshot", "image", f"dir:{project}"],
        ["rules"],
    ):
        ran = cli(*args, cwd=project, timeout=120)
        assert ran.code in (0, 1), (args, ran.stderr)
        assert not marker.exists(), f"envcheck {' '.join(args)} executed a file from the repository"


def test_host_capture_with_an_explicit_interpreter_does_not_run_the_repositorys(trapped: tuple[Path, Path]) -> None:
    project, marker = trapped
    python = shutil.which("python3", path="/usr/bin") or "/usr/bin/python3"
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    ran = cli("snapshot", "host", str(project), "--python", python, "--no-node", cwd=project, env=env, timeout=120)
    assert ran.code == 0, ran.stderr
    assert not marker.exists()


def test_host_capture_never_runs_an_interpreter_shipped_inside_the_project(trapped: tuple[Path, Path]) -> None:
    """A real venv links to a base interpreter outside the project; this one is a repository file."""
    project, marker = trapped
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["CI_SECRET_TOKEN"] = "ghp_" + "Zz9" * 12
    ran = cli("snapshot", "host", str(project), "--no-node", cwd=project, env=env, timeout=120)
    assert ran.code == 0, ran.stderr
    assert not marker.exists(), "envcheck ran .venv/bin/python shipped by the repository"
    assert "not running .venv/bin/python: it resolves inside the project" in ran.stderr


def test_trusted_interpreter_gets_no_secrets_from_the_environment(trapped: tuple[Path, Path], tmp_path: Path) -> None:
    """Even an interpreter the user names sees only PATH/HOME/locale, never CI secrets."""
    project, _ = trapped
    dump = tmp_path / "env.txt"
    spy = tmp_path / "spy-python"
    spy.write_text(f'#!/bin/sh\nenv > "{dump}"\nexec /usr/bin/python3 "$@"\n')
    spy.chmod(0o755)
    env = dict(os.environ)
    env["CI_SECRET_TOKEN"] = "ghp_" + "Qq7" * 12
    ran = cli("snapshot", "host", str(project), "--no-node", "--python", str(spy), cwd=project, env=env, timeout=120)
    assert ran.code == 0, ran.stderr
    seen = dump.read_text()
    assert "CI_SECRET_TOKEN" not in seen and "Qq7Qq7" not in seen
    assert "PATH=" in seen
