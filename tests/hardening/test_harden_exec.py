"""What SECURITY.md promises about execution, held against a booby-trapped repository.

The repository ships a ``.venv/bin/python`` that leaves a marker when run.
``lint``, ``snapshot project``, ``diff`` and static image reading never run it;
host capture runs the project's interpreter by design (SECURITY.md says so),
and ``--python`` is the documented way to choose a trusted one instead.
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


def test_host_capture_by_default_runs_the_projects_interpreter_as_documented(trapped: tuple[Path, Path]) -> None:
    """SECURITY.md: host capture runs ./.venv/bin/python; this pins that the document tells the truth."""
    project, marker = trapped
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    ran = cli("snapshot", "host", str(project), "--no-node", cwd=project, env=env, timeout=120)
    assert ran.code == 0, ran.stderr
    assert marker.exists()
    assert "Never executes anything from a scanned repository" not in (REPO / "SECURITY.md").read_text()
