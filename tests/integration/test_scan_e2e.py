"""`envcheck scan --image` end to end: a real host venv against a real built image.

The host venv has requests 2.31.0 and rich on pyenv's CPython 3.11.7; the
image (built by the test bed from Debian's python 3.11.2) has requests
2.28.2 and not the SENTRY_DSN the app reads, which the host sets.  The
scan must exit 1 with EC102, EC201 and EC501 among its findings, and the
SARIF form of the same run must validate against the official schema.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.host.host_testutil import clean_env, make_venv, pip_install, pyenv_python

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("e2e-project")
    (root / "requirements.txt").write_text("requests==2.31.0\nrich\n")
    (root / "app.py").write_text(
        "import os\n\nimport requests\nfrom rich import print\n\n"
        "SENTRY_DSN = os.environ['SENTRY_DSN']\n"
        "print(requests.get('http://localhost:8000', timeout=3).status_code)\n"
    )
    venv = root / ".venv"
    make_venv(pyenv_python("3.11.7"), venv)
    pip_install(venv / "bin" / "python", "requests==2.31.0", "rich")
    return root


def _scan(project: Path, image: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(SENTRY_DSN="https://k3y:s3cr3t-pw@sentry.invalid/4", DOCKER_HOST=os.environ["DOCKER_HOST"])
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "envcheck",
            "scan",
            str(project),
            "--image",
            image,
            "--python",
            str(project / ".venv"),
            *extra,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def test_scan_image_reports_patch_drift_package_drift_and_missing_env(project: Path, python_venv_image: Any) -> None:
    proc = _scan(project, f"docker:{python_venv_image.tag}", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for f in doc["findings"]:
        by_rule.setdefault(f["rule"], []).append(f)
    assert {"EC102", "EC201", "EC501"} <= set(by_rule), sorted(by_rule)
    patch = by_rule["EC102"][0]
    assert (patch["left"]["value"], patch["right"]["value"]) == ("3.11.7", "3.11.2")
    requests_drift = [f for f in by_rule["EC201"] if f["subject"] == "requests"]
    assert requests_drift and requests_drift[0]["left"] == {"kind": "host", "value": "2.31.0"}
    assert requests_drift[0]["right"] == {"kind": "image", "value": "2.28.2"}
    assert any(f["subject"] == "SENTRY_DSN" for f in by_rule["EC501"])
    # The host's SENTRY_DSN value is a secret: never in the report.
    assert "s3cr3t-pw" not in proc.stdout + proc.stderr


def test_same_run_as_sarif_validates(project: Path, python_venv_image: Any, tmp_path: Path) -> None:
    out = tmp_path / "envcheck.sarif"
    proc = _scan(
        project, f"docker-archive:{python_venv_image.refs.docker_archive}", "--format", "sarif", "-o", str(out)
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(out.read_text())
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(doc)
    rules = {r["ruleId"] for r in doc["runs"][0]["results"]}
    assert {"EC102", "EC201", "EC501"} <= rules
