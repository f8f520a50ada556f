"""envcheck never scans its own environment by accident (issue: green on a fresh machine)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from envcheck.scanners.host import OWN_ENVIRONMENT, own_environment_note

REPO = Path(__file__).resolve().parents[2]


def test_the_probe_of_envchecks_own_prefix_is_named() -> None:
    note = own_environment_note({"prefix": sys.prefix}, python_named=False)
    assert note is not None and note.startswith(OWN_ENVIRONMENT)
    assert "pipx" in note and "--python" in note


def test_a_named_interpreter_or_another_prefix_is_no_accident(tmp_path: Path) -> None:
    assert own_environment_note({"prefix": sys.prefix}, python_named=True) is None
    assert own_environment_note({"prefix": str(tmp_path)}, python_named=False) is None
    assert own_environment_note({}, python_named=False) is None


def test_scan_warns_on_stderr_and_notes_it_in_the_snapshot(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    env = {**os.environ, "VIRTUAL_ENV": sys.prefix, "NO_COLOR": "1"}
    scan = subprocess.run(
        [sys.executable, "-m", "envcheck", "scan", str(tmp_path), "--no-node", "--fail-on", "never"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=tmp_path,
    )
    assert scan.returncode == 0, scan.stderr
    assert f"envcheck: warning: {OWN_ENVIRONMENT}" in scan.stderr
    snap = subprocess.run(
        [sys.executable, "-m", "envcheck", "snapshot", "host", str(tmp_path), "--no-node"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=tmp_path,
    )
    assert snap.returncode == 0, snap.stderr
    assert OWN_ENVIRONMENT in snap.stdout  # in the snapshot's notes, where a stored snapshot keeps it
