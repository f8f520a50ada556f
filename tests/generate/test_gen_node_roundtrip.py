"""A node workspace with a build step, generated → built on the real engine → run → it answers HTTP.

The project is an npm workspace like real monorepos: an app under ``apps/``
that depends on a library member, a dev-only tooling member the build uses,
a root ``postinstall`` that reads a file outside any manifest (the
``patches/`` case) and a husky-style ``prepare``.  Every dependency is a
workspace member or a vendored ``file:`` tarball (the dev-only tooling), so
neither the host install nor the image build needs a registry: what is
tested is the generator's plan, end to end.

Base image: the test bed's ``node:<host's node>-bookworm-slim`` stand-in.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gen_roundtrip_util as rt
import pytest
import testbed
from gen_testutil import hadolint, serious, write_tree

from envcheck.generate import generate_for, writer
from envcheck.scanners.host import scan_host
from envcheck.scanners.image import scan_image

# engine: the test bed's dockerd.
pytestmark = [pytest.mark.engine]

WORKSPACE = {
    "package.json": {
        "name": "shop",
        "version": "1.0.0",
        "private": True,
        "workspaces": ["apps/*", "packages/*"],
        "scripts": {
            "build": "npm run build --workspace apps/web",
            # Reads a file no manifest names: it must run once the whole tree is in the image.
            "postinstall": "node scripts/setup.js",
            # husky-style: its tool is a dev dependency, absent from a production install.
            "prepare": "node -e \"if(process.env.NODE_ENV!=='production'){require('@shop/hooks')}\"",
        },
        "devDependencies": {"@shop/tools": "file:vendor/shop-tools-1.0.0.tgz", "@shop/hooks": "1.0.0"},
    },
    "scripts/setup.js": (
        "const fs = require('fs');\n"
        "fs.mkdirSync('generated', { recursive: true });\n"
        "fs.writeFileSync('generated/setup.json', JSON.stringify({ patched: fs.readFileSync('patches/note.txt', 'utf8').trim() }));\n"
    ),
    "patches/note.txt": "patched-by-postinstall\n",
    "packages/greeting/package.json": {"name": "@shop/greeting", "version": "1.0.0", "main": "index.js"},
    "packages/greeting/index.js": "module.exports = (who) => `hello ${who}`;\n",
    "packages/hooks/package.json": {"name": "@shop/hooks", "version": "1.0.0", "main": "index.js"},
    "packages/hooks/index.js": "module.exports = 'git hooks would be installed here';\n",
    "apps/web/package.json": {
        "name": "@shop/web",
        "version": "1.0.0",
        "scripts": {"build": "node build.js", "start": "node server.js"},
        "dependencies": {"@shop/greeting": "1.0.0"},
        "devDependencies": {"@shop/tools": "file:../../vendor/shop-tools-1.0.0.tgz"},
    },
    "apps/web/build.js": (
        "const fs = require('fs');\n"
        "const stamp = require('@shop/tools');\n"
        "fs.mkdirSync('dist', { recursive: true });\n"
        "fs.writeFileSync('dist/page.html', stamp(require('@shop/greeting')('world')));\n"
    ),
    "apps/web/server.js": (
        "const http = require('http');\n"
        "const fs = require('fs');\n"
        "const page = fs.readFileSync(__dirname + '/dist/page.html', 'utf8');\n"
        "const setup = fs.readFileSync(__dirname + '/../../generated/setup.json', 'utf8');\n"
        "const port = process.env.PORT || 4100;\n"
        "http.createServer((req, res) => res.end(page + '\\n' + setup)).listen(port);\n"
    ),
}


# A dev-only build tool, vendored as the tarball `npm pack` makes.
TOOLS = {
    "package.json": {"name": "@shop/tools", "version": "1.0.0", "main": "index.js"},
    "index.js": "module.exports = (s) => `<!-- built -->${s}`;\n",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def _running(client: Any, tag: str, port: int) -> Iterator[Any]:
    container = client.containers.run(tag, detach=True, network_mode="host", environment={"PORT": str(port)})
    try:
        yield container
    finally:
        container.remove(force=True)


def _get(url: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                body: str = resp.read().decode()
                return body
        except (urllib.error.URLError, ConnectionError, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_npm_workspace_with_a_build_step_builds_and_serves(
    docker_engine: Any, node_standin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert node_standin == f"node:{testbed.node_version()}-bookworm-slim"
    proj = write_tree(tmp_path / "shop", WORKSPACE)
    tools = write_tree(tmp_path / "tools-src", TOOLS)
    (proj / "vendor").mkdir()
    subprocess.run(
        ["npm", "pack", "--pack-destination", str(proj / "vendor")], cwd=tools, check=True, capture_output=True
    )
    # The developer's host: the lock written and the tree installed by the machine's own npm.
    for argv in (
        ["npm", "install", "--package-lock-only", "--offline", "--ignore-scripts"],
        ["npm", "ci", "--offline"],
    ):
        subprocess.run(argv, cwd=proj, check=True, capture_output=True, timeout=300)
    assert (proj / "generated" / "setup.json").is_file()
    monkeypatch.setenv("ENVCHECK_NODE_RELEASES", "snapshot")  # the release list is not under test here
    host = scan_host(proj, python="/usr/bin/python3", node=True)
    files = generate_for(proj, proj / "Dockerfile", source=host)
    writer.write(proj, proj / "Dockerfile", files)
    df = files.dockerfile
    # The host ran the project: its node is pinned.
    assert f"FROM node:{testbed.node_version()}-bookworm-slim AS deps" in df
    for member in ("apps/web", "packages/greeting", "packages/hooks"):
        assert f"COPY {member}/package.json ./{member}/" in df
    assert "COPY vendor/shop-tools-1.0.0.tgz ./vendor/shop-tools-1.0.0.tgz" in df
    assert "npm ci --ignore-scripts" in df
    assert "FROM build AS prod" in df
    assert "EXPOSE 4100" in df
    assert not serious(hadolint(df, tmp_path))

    tag = "gen-node/test-workspace:1"
    started = time.monotonic()
    rt.build(docker_engine.client, proj, tag, {})
    build_seconds = time.monotonic() - started
    port = _free_port()
    with _running(docker_engine.client, tag, port):
        body = _get(f"http://127.0.0.1:{port}/", timeout=90)
    assert "<!-- built -->hello world" in body  # the build ran with the dev-only tooling member
    assert "patched-by-postinstall" in body  # the postinstall saw patches/ in the image
    # The workspace's node_modules is at the root, above the member's WORKDIR the scanner reads.
    listing = docker_engine.client.containers.run(tag, ["ls", "/app/node_modules/@shop"], remove=True)
    members = set(listing.decode().split())
    assert "greeting" in members
    # npm links every workspace member (they are the project's own code); a dev-only package is pruned.
    assert "tools" not in members, "a dev-only dependency reached the runtime image"
    image = scan_image(f"docker:{tag}")
    assert image.image is not None and image.image.get("user") == "1000"
    assert build_seconds < 600
