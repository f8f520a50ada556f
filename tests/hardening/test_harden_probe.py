"""``--probe`` sandbox, asserted against the real engine on the container it created.

The container is inspected through the engine (``docker inspect``'s view, not
the options envcheck meant to pass) between its creation and its removal.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from envcheck.scanners.image import scan_image


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    from docker.models.containers import Container, ContainerCollection

    seen: dict[str, list[Any]] = {"attrs": [], "wait": [], "ids": []}
    real_run, real_wait = ContainerCollection.run, Container.wait

    def run(self: Any, image: Any, command: Any = None, **kwargs: Any) -> Any:
        container = real_run(self, image, command, **kwargs)
        container.reload()  # the engine's own record of what it created
        seen["attrs"].append(container.attrs)
        seen["ids"].append(container.id)
        return container

    def wait(self: Any, **kwargs: Any) -> Any:
        seen["wait"].append(kwargs)
        return real_wait(self, **kwargs)

    monkeypatch.setattr(ContainerCollection, "run", run)
    monkeypatch.setattr(Container, "wait", wait)
    return seen


def _assert_sandboxed(attrs: dict[str, Any]) -> None:
    host, config = attrs["HostConfig"], attrs["Config"]
    assert host["NetworkMode"] == "none"
    assert set(attrs["NetworkSettings"]["Networks"]) <= {"none"}
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"] and not host.get("CapAdd")
    assert "no-new-privileges" in (host.get("SecurityOpt") or [])
    assert host["Privileged"] is False
    user = config["User"]
    assert user and user.split(":")[0] not in ("", "0", "root"), user
    assert not attrs["Mounts"] and not host.get("Binds") and not host.get("Mounts")
    assert not host.get("Devices") and not host.get("VolumesFrom")
    assert host["Memory"] > 0 and (host.get("PidsLimit") or 0) > 0
    # Nothing from the host's environment goes in: only what the image itself declares.
    image_env = set(attrs.get("_image_env", []))
    planted = os.environ.get("ENVCHECK_HARDEN_CANARY", "")
    assert not any(planted and planted in e for e in config.get("Env") or []), config.get("Env")
    assert set(config.get("Env") or []) <= image_env or not image_env


def test_python_probe_container_is_sandboxed(
    docker_engine: Any, python_venv_image: Any, recorded: dict[str, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVCHECK_HARDEN_CANARY", "canary-" + os.urandom(8).hex())
    snap = scan_image(f"docker:{python_venv_image.tag}", probe=True)
    assert snap.image is not None
    assert snap.image["probe"]["python"]["version"] == snap.runtimes["python"].version
    assert len(recorded["attrs"]) == 1
    image_env = docker_engine.client.images.get(python_venv_image.tag).attrs["Config"].get("Env") or []
    attrs = dict(recorded["attrs"][0], _image_env=image_env)
    _assert_sandboxed(attrs)
    # The wait has a deadline (the engine's wait would otherwise block for ever on a hung probe).
    assert recorded["wait"] and all(0 < w.get("timeout", 0) <= 60 for w in recorded["wait"])
    # And the container is gone afterwards.
    ids = {c.id for c in docker_engine.client.containers.list(all=True)}
    assert not ids.intersection(recorded["ids"])


def test_node_probe_container_is_sandboxed(
    docker_engine: Any, node_app_image: Any, recorded: dict[str, list[Any]]
) -> None:
    snap = scan_image(f"docker:{node_app_image.tag}", probe=True)
    assert snap.image is not None
    assert snap.image["probe"]["node"]["version"] == snap.runtimes["node"].version
    assert recorded["attrs"]
    for attrs in recorded["attrs"]:
        _assert_sandboxed(attrs)
    ids = {c.id for c in docker_engine.client.containers.list(all=True)}
    assert not ids.intersection(recorded["ids"])
