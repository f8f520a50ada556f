"""``container:NAME|ID`` on the test bed's real engine (issue 16).

A container started like ``docker run -e APP_MODE=prod -e API_TOKEN=…`` from
the python stand-in: its runtime environment is what the image alone lacks.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from remote_testutil import envcheck_env, one_line_error, run_envcheck, snapshot_json

TOKEN = "tok-Q7x9LmP2vR8sK4wZ1nB6cD3fH5jT0yUe"


def _start(docker_engine: Any, image: str) -> Any:
    """``docker run -d -e APP_MODE=prod -e API_TOKEN=… -w /srv IMAGE python3 -c 'sleep'``."""
    return docker_engine.client.containers.run(
        image,
        ["python3", "-c", "import time; time.sleep(600)"],
        detach=True,
        name=f"remote-test-{uuid.uuid4().hex[:10]}",
        environment={"APP_MODE": "prod", "API_TOKEN": TOKEN},
        working_dir="/srv",
        network_mode="none",
    )


@pytest.fixture(scope="module")
def running(docker_engine: Any, python_standin: str) -> Iterator[Any]:
    """One container for the tests that only read it (each scan exports its image: the slow part)."""
    container = _start(docker_engine, python_standin)
    try:
        yield container
    finally:
        container.remove(force=True)


@pytest.fixture
def stoppable(docker_engine: Any, python_standin: str) -> Iterator[Any]:
    container = _start(docker_engine, python_standin)
    try:
        yield container
    finally:
        container.remove(force=True)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    root.mkdir()
    (root / "app.py").write_text('import os\nMODE = os.environ["APP_MODE"]\nTOKEN = os.environ["API_TOKEN"]\n')
    (root / "envcheck.toml").write_text('env-allow = ["APP_MODE"]\n')
    return root


def test_container_shows_the_runtime_env_the_image_lacks(running: Any, python_standin: str) -> None:
    proc = run_envcheck("snapshot", "image", f"container:{running.name}", env=envcheck_env())
    doc = snapshot_json(proc)
    assert doc["source"]["ref"] == f"container:{running.name}"
    assert doc["env"]["APP_MODE"]["set"] is True
    assert doc["env"]["API_TOKEN"] == {"set": True}
    assert TOKEN not in proc.stdout + proc.stderr
    # Where each part came from, and which container it was.
    assert doc["image"]["origin"]["env"] == "container"
    assert doc["image"]["origin"]["packages"] == "image"
    assert doc["image"]["container"]["name"] == running.name
    assert doc["image"]["workdir"] == "/srv"  # the container's -w, not the image's WORKDIR
    assert doc["runtimes"]["python"]["version"]
    # A runtime -e is not baked into the image: no EC503 material.
    assert "API_TOKEN" not in doc["image"]["secret_env"]

    image = snapshot_json(run_envcheck("snapshot", "image", f"docker:{python_standin}", env=envcheck_env()))
    assert "APP_MODE" not in image["env"] and "API_TOKEN" not in image["env"]
    assert image["runtimes"]["python"] == doc["runtimes"]["python"]


def test_env_rules_fire_against_a_host_that_lacks_them(running: Any, project: Path, python_standin: str) -> None:
    env = envcheck_env(APP_MODE="dev")
    proc = run_envcheck(
        "scan", str(project), "--image", f"container:{running.name}", "--format", "json", "--select", "EC501,EC502",
        env=env,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    assert {(f["rule"], f["subject"]) for f in findings} >= {("EC501", "API_TOKEN"), ("EC502", "APP_MODE")}
    assert TOKEN not in proc.stdout + proc.stderr

    # The image alone has neither variable: no API_TOKEN finding at all.
    image_only = run_envcheck(
        "scan", str(project), "--image", f"docker:{python_standin}", "--format", "json", "--select", "EC501,EC502",
        "--fail-on", "never", env=env,
    )  # fmt: skip
    assert image_only.returncode == 0, image_only.stderr
    assert "API_TOKEN" not in {f["subject"] for f in json.loads(image_only.stdout)["findings"]}


def test_probe_execs_in_the_running_container_and_changes_nothing(running: Any) -> None:
    before = running.diff()
    proc = run_envcheck("snapshot", "image", f"container:{running.name}", "--probe", env=envcheck_env())
    doc = snapshot_json(proc)
    assert doc["image"]["origin"]["packages"] == "probe"
    assert doc["image"]["origin"]["runtimes"] == "probe"
    assert any(p["name"] == "pip" for p in doc["packages"]["python"])
    assert running.diff() == before
    running.reload()
    assert running.status == "running"


def test_probe_on_a_stopped_container_is_one_line(stoppable: Any) -> None:
    stoppable.stop(timeout=1)
    proc = run_envcheck("snapshot", "image", f"container:{stoppable.name}", "--probe", env=envcheck_env())
    assert "running container" in one_line_error(proc)


def test_an_unknown_container_is_one_line(docker_engine: Any) -> None:
    proc = run_envcheck("snapshot", "image", "container:remote-no-such-container", env=envcheck_env())
    line = one_line_error(proc)
    assert line.startswith("container:remote-no-such-container")


def test_a_container_reference_without_a_name_is_one_line() -> None:
    assert "container:NAME" in one_line_error(run_envcheck("snapshot", "image", "container:", env=envcheck_env()))
