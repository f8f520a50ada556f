"""``scan`` and ``diff`` judge the same pair the same way, for every rule.

The issue's case: a requirements file that pins installer tooling (pip,
setuptools, wheel) gave "pip is required … but not installed" errors through
``scan --image`` while ``diff host.json image.json`` on the same pair said
"No findings". Installer tooling is now skipped in every comparison path, and
a host snapshot carries the project's declarations into ``diff``, so both
commands run every rule over the same comparisons.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from engine_testutil import rules, snap

from envcheck.cli import main
from envcheck.engine import Settings, evaluate, plan_scan
from envcheck.scanners.project import scan_project
from envcheck.snapshot import Snapshot

REQUIREMENTS = """\
pip==23.0.1
setuptools==66.1.1
wheel==0.38.4
flask==3.0.0
requests>=2.31
gunicorn
"""


def _pair(tmp_path: Path) -> tuple[Snapshot, Snapshot, Snapshot]:
    root = tmp_path / "app"
    root.mkdir()
    (root / "requirements.txt").write_text(REQUIREMENTS)
    (root / ".python-version").write_text("3.11.7\n")
    (root / ".nvmrc").write_text("18\n")
    (root / "Dockerfile").write_text("FROM python:3.11-slim\nENV GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D\n")
    (root / "app.py").write_text("import os\nDB = os.environ['DATABASE_URL']\nMODE = os.environ['APP_MODE']\n")
    project = scan_project(root)
    host = snap(
        py={"pip": "24.0", "setuptools": "69.0.3", "flask": "3.0.0", "requests": "2.31.0", "click": "8.1.7"},
        node="20.20.2",
        env={"DATABASE_URL": None, "APP_MODE": "dev"},
    )
    host = Snapshot(
        source=host.source, platform=host.platform, runtimes=host.runtimes, packages=host.packages,
        env=host.env, declared=project.declared,
    )  # fmt: skip
    image = snap(
        "image",
        python="3.10.13",
        py={"pip": "23.0.1", "wheel": "0.38.4", "flask": "2.3.3", "gunicorn": "21.2.0", "ipython": "8.20.0"},
        node="18.19.0",
        env={"APP_MODE": "prod"},
    )
    return project, host, image


def _key(f: dict[str, object]) -> tuple[str, ...]:
    return tuple(json.dumps(f.get(k), sort_keys=True) for k in ("rule", "severity", "subject", "message", "location"))


def test_every_rule_gives_the_same_findings_through_scan_and_diff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project, host, image = _pair(tmp_path)
    scanned = evaluate(rules(), plan_scan(project, host, image), Settings(), project)
    (tmp_path / "host.json").write_text(host.to_json())
    (tmp_path / "image.json").write_text(image.to_json())
    main(["diff", str(tmp_path / "host.json"), str(tmp_path / "image.json"), "--format", "json"])
    diffed = json.loads(capsys.readouterr().out)["findings"]

    assert sorted(_key(f.to_dict()) for f in scanned) == sorted(_key(f) for f in diffed)
    fired = {f.rule for f in scanned}
    # The pair is built to exercise the runtime, package, env and declaration families.
    assert {"EC101", "EC103", "EC106", "EC107", "EC201", "EC202", "EC203", "EC401", "EC501", "EC502"} <= fired
    # Installer tooling is nowhere: not missing, not drifting, not unsatisfied.
    assert not [f for f in scanned if f.subject in ("pip", "setuptools", "wheel")]
    # An official image's public ENV is no secret.
    assert "EC503" not in fired
