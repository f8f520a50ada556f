"""The generator's acceptance test, with the real engine.

generate from a real host environment → ``docker build`` the Dockerfile as
written → ``envcheck scan --image`` against that same host → no finding at
warning level or above.  Base images are the test bed's local stand-ins for
``python:3.11.2-slim-bookworm`` and ``node:20.20.2-bookworm-slim``; packages
come from pre-downloaded wheels and npm tarballs served on 127.0.0.1 through
the Dockerfile's own mirror build args (see docs/dockerfile.md).  The node
app is built four ways: npm, pnpm, Yarn 1 (the node image's own) and yarn
berry through corepack; pnpm and yarn themselves come from that local
registry too, on the host and in the image.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gen_roundtrip_util as rt
import pytest
import testbed
from gen_testutil import hadolint, serious, write_tree

from envcheck.cli import main
from envcheck.generate import generate_for, writer
from envcheck.generate.dockerfile import GeneratedFiles
from envcheck.scanners.host import scan_host
from envcheck.scanners.image import scan_image

# engine: the test bed's dockerd; network: wheels/tarballs are fetched once when not cached.
pytestmark = [pytest.mark.engine, pytest.mark.network]

# Flask and requests with their dependencies, plus six: installed on the host
# but not required by the project, so the lock must leave it out.
HOST_PINS = (
    "flask==3.1.0",
    "werkzeug==3.1.9",
    "jinja2==3.1.6",
    "markupsafe==3.0.4",
    "itsdangerous==2.2.0",
    "click==8.5.1",
    "blinker==1.9.0",
    "requests==2.28.2",
    "urllib3==1.26.15",
    "idna==3.4",
    "certifi==2022.12.7",
    "charset-normalizer==3.1.0",
    "six==1.16.0",
)

PY_APP = {
    "requirements.txt": "flask>=3\nrequests\n",
    "app.py": (
        "import os\n\nfrom flask import Flask\n\napp = Flask(__name__)\n\n\n"
        "@app.get('/')\ndef index():\n    return {'env': os.environ.get('APP_ENV', 'dev')}\n"
    ),
    ".env.example": "APP_ENV=development\n",
}


@pytest.fixture
def engine(docker_engine: Any, standins: tuple[str, str]) -> tuple[Any, str]:
    """(docker client, DOCKER_HOST) of the session's test bed, with the stand-in base images."""
    assert standins == (
        f"python:{testbed.python_version()}-slim-bookworm",
        f"node:{testbed.node_version()}-bookworm-slim",
    )
    return docker_engine.client, docker_engine.host


def _scan(
    proj: Path,
    tag: str,
    extra: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    host_env: Any,
) -> dict[str, Any]:
    monkeypatch.setenv("DOCKER_HOST", host_env)
    capsys.readouterr()
    code = main(["scan", str(proj), "--image", f"docker:{tag}", "--format", "json", "--fail-on", "warning", *extra])
    out = capsys.readouterr().out
    report: dict[str, Any] = json.loads(out)
    report["exit"] = code
    return report


def _serious(report: dict[str, Any]) -> list[str]:
    return [f"{f['rule']}: {f['message']}" for f in report["findings"] if f["severity"] in ("error", "warning")]


def test_python_round_trip(
    engine: tuple[Any, str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    wheels = rt.ensure_wheels(HOST_PINS)
    proj = write_tree(tmp_path / "shop", PY_APP)
    venv = tmp_path / "venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", str(venv)], check=True, timeout=300)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--no-index", "--find-links", str(wheels), "--quiet", *HOST_PINS],
        check=True,
        timeout=600,
    )
    monkeypatch.setenv("APP_ENV", "production")
    host = scan_host(proj, python=str(venv / "bin" / "python"), node=False)
    assert host.runtime("python") is not None and host.runtimes["python"].version == testbed.python_version()

    files = generate_for(proj, proj / "Dockerfile", source=host)
    writer.write(proj, proj / "Dockerfile", files)
    df = files.dockerfile
    assert f"FROM python:{testbed.python_version()}-slim-bookworm AS builder" in df
    assert "ENV APP_ENV=production" in df
    lock = (proj / "requirements.lock").read_text()
    assert "flask==3.1.0" in lock and "urllib3==1.26.15" in lock
    assert "six" not in lock, "six is installed but not needed by the project"
    assert not serious(hadolint(df, tmp_path))

    tag = "envcheck-test/gen-roundtrip-python:1"
    with rt.serve_dir(wheels) as url:
        rt.build(engine[0], proj, tag, {"PIP_FIND_LINKS": url, "PIP_NO_INDEX": "1"})
    report = _scan(proj, tag, ["--python", str(venv / "bin" / "python"), "--no-node"], capsys, monkeypatch, engine[1])
    assert not _serious(report), report["findings"]
    assert report["exit"] == 0
    # Not vacuous: the image holds exactly the host's versions of what the app needs.
    image = scan_image(f"docker:{tag}")
    installed = {p.name: p.version for p in image.active_packages("python")}
    assert installed["flask"] == "3.1.0" and installed["urllib3"] == "1.26.15"
    assert "six" not in installed
    assert image.image is not None and image.image.get("user") == "10001"


NODE_SERVER = "const debug = require('debug')('app');\nconsole.log(process.env.NODE_ENV, require('ms')('1h'));\n"


def test_node_round_trip(
    engine: tuple[Any, str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    proj = _node_project(tmp_path / "api")
    shutil.copy2(testbed.node_app_lock(), proj / "package-lock.json")
    lock = proj / "package-lock.json"
    # The host the image must match runs the app in production mode.
    monkeypatch.setenv("NODE_ENV", "production")
    with rt.npm_registry(lock) as registry:
        # The host installs from the same bytes the image will.
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--registry", registry, "--cache", str(tmp_path / "npm-cache")],
            cwd=proj,
            check=True,
            capture_output=True,
            timeout=600,
        )
        host = scan_host(proj, python="/usr/bin/python3", node=True)
        assert host.runtime("node") is not None
        files = generate_for(proj, proj / "Dockerfile", source=host)
        writer.write(proj, proj / "Dockerfile", files)
        assert f"FROM node:{testbed.node_version()}-bookworm-slim AS deps" in files.dockerfile
        assert "npm ci --omit=dev" in files.dockerfile
        assert "ENV NODE_ENV=production" in files.dockerfile
        assert not serious(hadolint(files.dockerfile, tmp_path))
        tag = "envcheck-test/gen-roundtrip-node:1"
        rt.build(engine[0], proj, tag, {"NPM_CONFIG_REGISTRY": registry})
    report = _scan(proj, tag, ["--python", "/usr/bin/python3"], capsys, monkeypatch, engine[1])
    assert not _serious(report), report["findings"]
    assert report["exit"] == 0
    image = scan_image(f"docker:{tag}")
    node_pkgs = {(p.name, p.version) for p in image.active_packages("node")}
    assert {("debug", "2.6.9"), ("ms", "2.1.3"), ("ms", "2.0.0")} <= node_pkgs


# The package managers the two tests below pin in package.json, served by the
# local registry like the app's own dependencies.
PNPM_VERSION = "9.15.9"
YARN_VERSION = "4.9.2"
# What every package manager installs for the node app (debug's nested ms 2.0.0 included).
NODE_APP_PACKAGES = frozenset((name, version) for _path, name, version in testbed.NODE_APP_INSTALLED)


def _node_project(root: Path, package_manager: str | None = None) -> Path:
    root.mkdir()
    manifest = testbed._node_app_manifest()
    if package_manager:
        manifest = {**manifest, "packageManager": package_manager}
    (root / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (root / "server.js").write_text(NODE_SERVER)
    return root


def _generate_from_host(proj: Path, tool: str, version: str) -> GeneratedFiles:
    """Snapshot the host the package manager just installed, and write its Dockerfile."""
    host = scan_host(proj, python="/usr/bin/python3", node=True)
    assert host.runtime(tool) is not None and host.runtimes[tool].version == version
    assert {(p.name, p.version) for p in host.active_packages("node")} == NODE_APP_PACKAGES
    files = generate_for(proj, proj / "Dockerfile", source=host)
    writer.write(proj, proj / "Dockerfile", files)
    return files


def _host_run(argv: list[str], cwd: Path, env: Mapping[str, str]) -> None:
    proc = subprocess.run(
        argv, check=False, cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, (
        f"{' '.join(argv)}: exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )


def _node_round_trip(
    proj: Path,
    tag: str,
    buildargs: Mapping[str, str],
    engine: tuple[Any, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[str, set[tuple[str, str]]]:
    """Build the Dockerfile already written into ``proj``, scan the image against the host; (Dockerfile, node packages)."""
    df = (proj / "Dockerfile").read_text()
    assert not serious(hadolint(df, proj.parent)), df
    rt.build(engine[0], proj, tag, buildargs)
    report = _scan(proj, tag, ["--python", "/usr/bin/python3"], capsys, monkeypatch, engine[1])
    assert not _serious(report), report["findings"]
    assert report["exit"] == 0
    image = scan_image(f"docker:{tag}")
    assert image.image is not None and image.image.get("user") == "1000"
    packages = [(p.name, p.version) for p in image.active_packages("node")]
    # One entry per installed copy: pnpm's links to its store are not copies.
    assert len(packages) == len(set(packages)), packages
    return df, set(packages)


def test_pnpm_round_trip(
    engine: tuple[Any, str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    proj = _node_project(tmp_path / "api", f"pnpm@{PNPM_VERSION}")
    monkeypatch.setenv("NODE_ENV", "production")
    prefix = tmp_path / "pnpm-prefix"
    with rt.npm_registry(extra={*NODE_APP_PACKAGES, ("pnpm", PNPM_VERSION)}) as registry:
        # The host's pnpm comes from the local registry into a private prefix;
        # its store and caches stay under tmp_path too.
        tools = {
            "NPM_CONFIG_REGISTRY": registry,
            "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
            "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
            "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
        }
        npm_cache = ["--cache", str(tmp_path / "npm-cache"), "--no-fund", "--no-audit"]
        _host_run(
            ["npm", "install", "--global", "--prefix", str(prefix), *npm_cache, f"pnpm@{PNPM_VERSION}"], proj, tools
        )
        monkeypatch.setenv("PATH", f"{prefix / 'bin'}{os.pathsep}{os.environ['PATH']}")
        _host_run(["pnpm", "install", "--store-dir", str(tmp_path / "pnpm-store")], proj, tools)
    assert (proj / "node_modules" / ".pnpm").is_dir(), "pnpm's own layout, not a flat one"
    lock = proj / "pnpm-lock.yaml"
    assert rt.lock_packages(lock) == NODE_APP_PACKAGES
    assert "127.0.0.1" not in lock.read_text(), "the lock must not name the throw-away registry"

    files = _generate_from_host(proj, "pnpm", PNPM_VERSION)
    df = files.dockerfile
    assert f"FROM node:{testbed.node_version()}-bookworm-slim AS deps" in df
    assert "COPY package.json pnpm-lock.yaml ./" in df
    assert f"npm install --global --no-fund --no-audit pnpm@{PNPM_VERSION}" in df
    assert "pnpm install --frozen-lockfile --prod" in df
    assert "ARG NPM_CONFIG_REGISTRY" in df

    # The mirror the image builds from is a second registry, driven by the lock pnpm wrote.
    with rt.npm_registry(lock, extra={("pnpm", PNPM_VERSION)}) as mirror:
        df, image_packages = _node_round_trip(
            proj, "envcheck-test/gen-roundtrip-pnpm:1", {"NPM_CONFIG_REGISTRY": mirror}, engine, capsys, monkeypatch
        )
    assert image_packages == NODE_APP_PACKAGES


def _corepack_pin(version: str) -> str:
    """``yarn@VERSION+sha512.…`` as `corepack use` writes it: the hash of yarn's single-file bundle."""
    with tarfile.open(rt.npm_tarball("@yarnpkg/cli-dist", version)) as tf:
        fh = tf.extractfile("package/bin/yarn.js")
        assert fh is not None
        digest = hashlib.sha512(fh.read()).hexdigest()
    return f"yarn@{version}+sha512.{digest}"


def test_yarn_berry_round_trip(
    engine: tuple[Any, str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pin = _corepack_pin(YARN_VERSION)
    proj = _node_project(tmp_path / "api", pin)
    (proj / ".yarnrc.yml").write_text("nodeLinker: node-modules\n")
    monkeypatch.setenv("NODE_ENV", "production")
    shims = tmp_path / "corepack-bin"
    shims.mkdir()
    # corepack (node's own) puts its yarn shim in a private folder and yarn
    # itself in a private COREPACK_HOME; the scan below reads yarn's version there.
    monkeypatch.setenv("COREPACK_HOME", str(tmp_path / "corepack"))
    monkeypatch.setenv("PATH", f"{shims}{os.pathsep}{os.environ['PATH']}")
    with rt.npm_registry(extra={*NODE_APP_PACKAGES, ("@yarnpkg/cli-dist", YARN_VERSION)}) as registry:
        tools = {
            "COREPACK_NPM_REGISTRY": registry,
            "YARN_NPM_REGISTRY_SERVER": registry,
            "YARN_UNSAFE_HTTP_WHITELIST": "127.0.0.1",
            "YARN_GLOBAL_FOLDER": str(tmp_path / "yarn-global"),
            "YARN_ENABLE_TELEMETRY": "0",
            # Yarn turns immutable installs on whenever CI is set; this is the
            # install that writes the lock, as a developer's would.
            "YARN_ENABLE_IMMUTABLE_INSTALLS": "false",
        }
        _host_run(["corepack", "enable", "--install-directory", str(shims), "yarn"], proj, tools)
        _host_run(["yarn", "install"], proj, tools)
    lock = proj / "yarn.lock"
    assert rt.lock_packages(lock) == NODE_APP_PACKAGES
    assert "127.0.0.1" not in lock.read_text(), "the lock must not name the throw-away registry"

    files = _generate_from_host(proj, "yarn", YARN_VERSION)
    assert not files.warnings, files.warnings
    df = files.dockerfile
    assert f"FROM node:{testbed.node_version()}-bookworm-slim AS deps" in df
    # .yarnrc.yml carries nodeLinker: without it yarn would install Plug'n'Play and no node_modules.
    assert "COPY package.json yarn.lock .yarnrc.yml ./" in df
    assert f"corepack prepare {pin} --activate" in df
    assert "yarn workspaces focus --all --production" in df
    for arg in ("COREPACK_NPM_REGISTRY", "YARN_NPM_REGISTRY_SERVER", "YARN_UNSAFE_HTTP_WHITELIST"):
        assert f"ARG {arg}\n" in df

    with rt.npm_registry(lock, extra={("@yarnpkg/cli-dist", YARN_VERSION)}) as mirror:
        buildargs = {
            "COREPACK_NPM_REGISTRY": mirror,
            "YARN_NPM_REGISTRY_SERVER": mirror,
            "YARN_UNSAFE_HTTP_WHITELIST": "127.0.0.1",
        }
        df, image_packages = _node_round_trip(
            proj, "envcheck-test/gen-roundtrip-yarn-berry:1", buildargs, engine, capsys, monkeypatch
        )
    assert image_packages == NODE_APP_PACKAGES


# Yarn 1 records every tarball's full URL in yarn.lock.  A developer's lock names
# their registry; a host that cannot exist stands for it here, so the image
# gets its packages through the mirror or not at all.
YARN1_LOCK_REGISTRY = "https://registry.example.invalid"


def test_yarn1_round_trip(
    engine: tuple[Any, str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    proj = _node_project(tmp_path / "api")
    monkeypatch.setenv("NODE_ENV", "production")
    prefix = tmp_path / "yarn-prefix"
    home = tmp_path / "home"
    home.mkdir()
    with rt.npm_registry(extra={*NODE_APP_PACKAGES, ("yarn", testbed.YARN1_VERSION)}) as registry:
        # The host's Yarn 1 comes from the local registry into a private prefix;
        # npm's and yarn's caches, logs and rc files stay under tmp_path.
        tools = {"NPM_CONFIG_REGISTRY": registry, "HOME": str(home), "YARN_CACHE_FOLDER": str(tmp_path / "yarn-cache")}
        npm_cache = ["--cache", str(tmp_path / "npm-cache"), "--no-fund", "--no-audit"]
        _host_run(
            ["npm", "install", "--global", "--prefix", str(prefix), *npm_cache, f"yarn@{testbed.YARN1_VERSION}"],
            proj,
            tools,
        )
        monkeypatch.setenv("PATH", f"{prefix / 'bin'}{os.pathsep}{os.environ['PATH']}")
        # The install that writes yarn.lock, as a developer's would: unlike berry,
        # Yarn 1 does not freeze the lock when CI is set.
        _host_run(["yarn", "install", "--non-interactive"], proj, tools)
    lock = proj / "yarn.lock"
    assert lock.read_text().startswith("# THIS IS AN AUTOGENERATED FILE"), "a Yarn 1 lock"
    assert rt.lock_packages(lock) == NODE_APP_PACKAGES
    text = lock.read_text()
    assert text.count(f'resolved "{registry}/') == len(NODE_APP_PACKAGES)
    lock.write_text(text.replace(f'resolved "{registry}/', f'resolved "{YARN1_LOCK_REGISTRY}/'))

    files = _generate_from_host(proj, "yarn", testbed.YARN1_VERSION)
    assert not files.warnings, files.warnings
    df = files.dockerfile
    assert f"FROM node:{testbed.node_version()}-bookworm-slim AS deps" in df
    assert "COPY package.json yarn.lock ./" in df
    assert "&& yarn install --frozen-lockfile --production --ignore-engines \\\n" in df
    # The node image's own yarn: nothing installs one.
    assert "corepack" not in df and "npm install" not in df
    assert "ARG NPM_CONFIG_REGISTRY\n" in df

    requests: list[str] = []
    with rt.npm_registry(lock, requests=requests) as mirror:
        df, image_packages = _node_round_trip(
            proj, "envcheck-test/gen-roundtrip-yarn1:1", {"NPM_CONFIG_REGISTRY": mirror}, engine, capsys, monkeypatch
        )
    assert image_packages == NODE_APP_PACKAGES
    # Every tarball came from the mirror, by the path the lock records after its host.
    assert {f"{name}/-/{name.rpartition('/')[2]}-{version}.tgz" for name, version in NODE_APP_PACKAGES} <= set(requests)
    assert not any(home.iterdir()), "nothing is left in HOME"
