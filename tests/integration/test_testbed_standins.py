"""The stand-ins are faithful to the official images the generator names.

A generated Dockerfile says ``FROM python:3.11.2-slim-bookworm``; with no image
registry here, the test bed tags a Debian-built stand-in under that name.
These tests pin down what "faithful" means for a user of the round trip: the
same interpreter release as the host's Debian python3, the same PATH, users,
ENV and CMD as the official image, and a working pip / npm / Yarn 1.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
import testbed

pytestmark = pytest.mark.engine


def _config(docker_engine: Any, tag: str) -> dict[str, Any]:
    cfg: dict[str, Any] = docker_engine.client.images.get(tag).attrs["Config"]
    return cfg


def _env(cfg: dict[str, Any]) -> dict[str, str]:
    return dict(item.split("=", 1) for item in cfg.get("Env") or [])


def test_engine_is_private_and_answers(docker_engine: Any) -> None:
    assert docker_engine.host.startswith("unix://")
    assert testbed.ping(docker_engine.host)
    # never the machine's own daemon socket
    assert docker_engine.host != "unix:///var/run/docker.sock"
    assert docker_engine.client.version()["ApiVersion"]


def test_python_standin_tag_is_the_host_debian_python(python_standin: str) -> None:
    host = subprocess.run(
        ["/usr/bin/python3", "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert python_standin == f"python:{host}-slim-bookworm"
    assert python_standin == testbed.PYTHON_STANDIN


def test_python_standin_runs_like_the_official_image(docker_engine: Any, python_standin: str) -> None:
    cfg = _config(docker_engine, python_standin)
    env = _env(cfg)
    assert env["PATH"] == "/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    assert env["LANG"] == "C.UTF-8"
    assert env["PYTHON_VERSION"] == testbed.python_version()
    assert cfg["Cmd"] == ["python3"]
    assert not cfg.get("User")  # the official python image runs as root
    out = docker_engine.run(
        python_standin,
        [
            "sh",
            "-c",
            "for c in python python3 pip pip3; do command -v $c; done; python --version; python3 --version; pip --version;"
            " python3 -m venv /tmp/v && /tmp/v/bin/python -c 'import sys; print(sys.prefix)'; id -u",
        ],
    )
    lines = out.splitlines()
    assert lines[:4] == ["/usr/local/bin/python", "/usr/local/bin/python3", "/usr/local/bin/pip", "/usr/local/bin/pip3"]
    assert lines[4] == lines[5] == f"Python {testbed.python_version()}"
    assert lines[6].startswith("pip ")
    assert lines[7:] == ["/tmp/v", "0"]


def test_python_standin_pip_installs_into_the_system_like_the_official_image(
    docker_engine: Any, python_standin: str
) -> None:
    # The official image has no PEP 668 marker, so `pip install` in a
    # generated Dockerfile must not be refused as "externally managed".
    out = docker_engine.run(python_standin, ["sh", "-c", "ls /usr/lib/python3*/EXTERNALLY-MANAGED 2>/dev/null | wc -l"])
    assert out.strip() == "0"


def test_node_standin_runs_like_the_official_image(docker_engine: Any, node_standin: str) -> None:
    assert node_standin == f"node:{testbed.node_version()}-bookworm-slim" == testbed.NODE_STANDIN
    cfg = _config(docker_engine, node_standin)
    env = _env(cfg)
    assert env["PATH"] == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    assert env["NODE_VERSION"] == testbed.node_version()
    assert cfg["Cmd"] == ["node"]
    assert cfg["Entrypoint"] == ["docker-entrypoint.sh"]
    out = docker_engine.run(
        node_standin,
        [
            "sh",
            "-c",
            "for c in node npm npx; do command -v $c; done; node --version; npm --version; getent passwd node",
        ],
    )
    lines = out.splitlines()
    assert lines[:3] == ["/usr/local/bin/node", "/usr/local/bin/npm", "/usr/local/bin/npx"]
    assert lines[3] == f"v{testbed.node_version()}"
    assert lines[4] == testbed.npm_version()
    assert lines[5] == "node:x:1000:1000::/home/node:/bin/bash"


def test_node_standin_ships_yarn_1_like_the_official_image(docker_engine: Any, node_standin: str) -> None:
    # Generated Yarn 1 Dockerfiles install no yarn: they count on the node image's own.
    assert _env(_config(docker_engine, node_standin))["YARN_VERSION"] == testbed.YARN1_VERSION
    out = docker_engine.run(
        node_standin,
        [
            "sh",
            "-c",
            "for c in yarn yarnpkg; do command -v $c; readlink $(command -v $c); done; yarn --version; yarnpkg --version",
        ],
    )
    home = f"/opt/yarn-v{testbed.YARN1_VERSION}"
    assert out.splitlines() == [
        "/usr/local/bin/yarn",
        f"{home}/bin/yarn",
        "/usr/local/bin/yarnpkg",
        f"{home}/bin/yarnpkg",
        testbed.YARN1_VERSION,
        testbed.YARN1_VERSION,
    ]


def test_node_standin_entrypoint_runs_a_script_argument_with_node(docker_engine: Any, node_standin: str) -> None:
    # `docker run node:… -e '…'` works on the official image because its
    # entrypoint prepends `node` to an option; the stand-in must agree.
    out = docker_engine.client.containers.run(
        node_standin, ["-p", "process.versions.node"], remove=True, network_mode="none"
    )
    assert out.decode().strip() == testbed.node_version()


def test_standins_are_debian_bookworm(docker_engine: Any, python_standin: str, node_standin: str) -> None:
    for tag in (python_standin, node_standin):
        out = docker_engine.run(tag, ["sh", "-c", ". /etc/os-release; echo $ID $VERSION_CODENAME"])
        assert out.strip() == "debian bookworm"


def test_standin_images_are_reused_not_rebuilt(docker_engine: Any, python_standin: str) -> None:
    before = docker_engine.client.images.get(python_standin).id
    again, _ = testbed.ensure_standins(docker_engine.client)
    assert again == python_standin
    assert docker_engine.client.images.get(python_standin).id == before


def test_docker_save_archive_lists_the_tag(docker_engine: Any, python_standin: str, tmp_path: Any) -> None:
    import tarfile

    archive = docker_engine.save(python_standin, tmp_path / "py.tar")
    with tarfile.open(archive) as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        manifest = json.load(member)
    assert manifest[0]["RepoTags"] == [python_standin]
