"""The stand-ins are faithful to the official images the generator names.

A generated Dockerfile says ``FROM python:3.11.2-slim-bookworm``; with no image
registry here, the test bed tags a Debian-built stand-in under that name.
These tests pin down what "faithful" means for a user of the round trip: the
same interpreter release as the host's Debian python3, the same PATH, users,
ENV and CMD as the official image, and a working pip / npm / Yarn 1.
"""

from __future__ import annotations

import json
import re
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
    # The official image's GPG_KEY and pip pins, as scans of generated images meet them.
    official = testbed.OFFICIAL_PYTHON.get(testbed.python_version())
    if official:
        assert env["GPG_KEY"] == official.gpg_key
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


# --------------------------------------------------------------------------- pyenv-built python stand-ins

# Every release the corpus's projects need, built lazily (only when a test asks).
PYENV_RELEASES = [v for v in testbed.OFFICIAL_PYTHON if v in testbed.pyenv_versions()]


# What a legacy project's code imports from the standard library: each needs a
# shared library that the stand-in must carry (ssl, sqlite3, ctypes/ffi, …).
def _stdlib_probe(version: str) -> str:
    lzma = "" if version.startswith("2.") else " lzma,"  # Python 2 has no lzma module
    return (
        f"import ssl, sqlite3, ctypes, zlib, bz2,{lzma} hashlib, uuid, decimal, readline, curses, json;"
        "ctypes.CDLL(None);"
        "sqlite3.connect(':memory:').execute('select 1');"
        "print(ssl.OPENSSL_VERSION.split()[0])"
    )


def test_every_needed_release_is_built_by_pyenv_here() -> None:
    # The corpus needs 2.7 and 3.6 to 3.13; a machine without them cannot run it.
    assert {v.rsplit(".", 1)[0] for v in PYENV_RELEASES} >= {"2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12"}


@pytest.mark.parametrize("version", PYENV_RELEASES)
def test_pyenv_standin_is_the_official_image(docker_engine: Any, version: str, tmp_path: Any) -> None:
    try:
        tag = testbed.ensure_image(docker_engine.client, f"python:{version}-slim-bookworm")
    except testbed.TestbedError as err:
        pytest.fail(str(err), pytrace=False)
    official = testbed.OFFICIAL_PYTHON[version]
    cfg = _config(docker_engine, tag)
    env = _env(cfg)
    # The official ENV, variable for variable (GPG_KEY, pip pins, …): scans of
    # a generated image must meet what the real base image sets.
    for key, value in official.env().items():
        assert env.get(key) == value, key
    assert not {"PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"} & set(env)
    assert cfg["Cmd"] == [official.cmd]
    major = version.split(".", 1)[0]
    out = docker_engine.run(
        tag,
        [
            "sh",
            "-c",
            f"for c in python python{major} pip; do command -v $c; done; python --version 2>&1;"
            f' python -c "{_stdlib_probe(version)}";'
            " pip --version; cat /etc/pip.conf; echo --site--; ls /usr/local/lib/python*/site-packages",
        ],
    )
    lines = out.splitlines()
    assert lines[:3] == ["/usr/local/bin/python", f"/usr/local/bin/python{major}", "/usr/local/bin/pip"]
    assert lines[3] == f"Python {version}"
    assert lines[4] == "OpenSSL"
    if official.pip:
        assert lines[5].startswith(f"pip {official.pip} ")
    assert testbed.STANDIN_CA_PATH in out
    # Only the installer: nothing the developer installed into pyenv's global site leaks in.
    site = {re.split(r"[-.]", n)[0] for n in lines[lines.index("--site--") + 1 :]}
    assert site <= {
        "pip",
        "setuptools",
        "pkg_resources",
        "_distutils_hack",
        "easy_install",
        "distutils",
        "README",
        "wheel",
        "__pycache__",
    }

    # pip reaches the configured index from a --network host build, through pip.conf alone.
    (tmp_path / "Dockerfile").write_text(
        f"FROM {tag}\nRUN pip install --no-cache-dir six==1.16.0 && python -c 'import six'\n"
    )
    docker_engine.build(tmp_path, f"envcheck-test/pip-probe-{version}:1")


def test_pyenv_standin_answers_to_the_variant_the_generator_names(docker_engine: Any) -> None:
    # 3.6 never had a bookworm image; the real tag is -slim-bullseye (or -slim-buster).
    version = next(v for v in PYENV_RELEASES if v.startswith("3.6"))
    tag = testbed.ensure_image(docker_engine.client, f"python:{version}-slim-bullseye")
    assert (
        docker_engine.client.images.get(tag).id == docker_engine.client.images.get(f"python:{version}-slim-bookworm").id
    )
    assert testbed.ensure_image(docker_engine.client, "python:3.6-slim") == "python:3.6-slim"
    assert docker_engine.run("python:3.6-slim", ["python", "--version"]).strip() == f"Python {version}"


# --------------------------------------------------------------------------- node stand-ins for any release


def test_node_standin_for_any_release(docker_engine: Any) -> None:
    # The node line a 2022 project declares (engines "16"): the newest 16.x release.
    tag = testbed.ensure_image(docker_engine.client, "node:16-bookworm-slim")
    cfg = _config(docker_engine, tag)
    env = _env(cfg)
    version = env["NODE_VERSION"]
    assert version.startswith("16.")
    assert cfg["Entrypoint"] == ["docker-entrypoint.sh"]
    assert cfg["Cmd"] == ["node"]
    out = docker_engine.run(
        tag,
        ["sh", "-c", "node -v; npm -v; yarn --version; getent passwd node; npm config get cafile"],
    )
    lines = out.splitlines()
    assert lines[0] == f"v{version}"
    assert lines[1] == testbed.NPM_OF_NODE_LINE[16]
    assert lines[2] == env["YARN_VERSION"]
    assert lines[3] == "node:x:1000:1000::/home/node:/bin/bash"
    assert lines[4] == testbed.STANDIN_CA_PATH


def test_node_standin_installs_from_the_registry(docker_engine: Any, tmp_path: Any) -> None:
    tag = testbed.ensure_image(docker_engine.client, "node:16-bookworm-slim")
    (tmp_path / "Dockerfile").write_text(
        f"FROM {tag}\nWORKDIR /app\nRUN npm install --no-audit --no-fund is-number@7.0.0"
        " && node -e \"require('is-number')\"\n"
    )
    docker_engine.build(tmp_path, "envcheck-test/npm-probe-16:1")


def test_yarn1_follows_the_release_date() -> None:
    assert testbed.yarn1_for("2023-08-09") == "1.22.19"
    assert testbed.yarn1_for("2024-05-01") == "1.22.22"
    assert testbed.yarn1_for("2018-01-01") is None
