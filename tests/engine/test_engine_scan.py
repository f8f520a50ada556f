"""envcheck scan end to end: the real project scanner, the real host scanner (this interpreter) and a stored snapshot."""

from __future__ import annotations

import json
import platform
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from engine_testutil import snap  # type: ignore[import-not-found]

from envcheck.cli import main
from envcheck.snapshot import Platform


def test_scan_reports_declared_vs_host_and_host_vs_stored_snapshot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    installed = version("packaging")
    project = tmp_path / "app"
    project.mkdir()
    (project / "requirements.txt").write_text("packaging==20.0\n")
    here = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    server = snap(
        "image",
        python=here,
        py={"packaging": "20.0"},
        platform=Platform(os="linux", arch=platform.machine(), libc="glibc 2.36"),
        ref="registry.example/app:1",
    )
    (tmp_path / "server.json").write_text(server.to_json())

    code = main(
        [
            "scan",
            str(project),
            "--python",
            sys.executable,
            "--no-node",
            "--against",
            str(tmp_path / "server.json"),
            "--format",
            "json",
            "--select",
            "EC2,EC3",
        ]
    )
    doc = json.loads(capsys.readouterr().out)
    got = {(f["rule"], f.get("subject"), f["left"]["kind"], f["right"]["kind"]) for f in doc["findings"]}
    assert ("EC301", "packaging", "declared", "host") in got  # this interpreter has packaging 2x, not 20.0
    assert ("EC201", "packaging", "host", "image") in got
    drift = next(f for f in doc["findings"] if f["rule"] == "EC201")
    assert drift["message"] == f"packaging is {installed} on host but 20.0 in image"
    assert drift["location"] == {"path": "requirements.txt", "line": 1}
    assert not any(r == "EC301" and right == "image" for r, _, _, right in got)  # the image satisfies ==20.0
    assert code == 1


def test_scan_missing_project_dir_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["scan", str(tmp_path / "nope"), "--no-node", "--python", sys.executable])
    assert code == 2
    assert "nope" in capsys.readouterr().err
