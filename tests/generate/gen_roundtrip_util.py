"""Round-trip plumbing: local package servers for offline image builds.

The generated Dockerfiles install from the public indexes by default and
declare ``ARG PIP_INDEX_URL/PIP_FIND_LINKS/PIP_NO_INDEX`` and
``ARG NPM_CONFIG_REGISTRY`` for mirrors.  The round trip uses exactly that
feature: it serves pre-downloaded wheels and npm tarballs on 127.0.0.1 and
builds with ``--network host`` and those build args, the way a team behind a
mirror would.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import http.server
import json
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import testbed

NPM_TARBALLS = testbed.CACHE_DIR / "npm-tarballs"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve_dir(directory: Path) -> Iterator[str]:
    """Serve ``directory`` read-only on 127.0.0.1; yields the base URL."""
    handler = functools.partial(_Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def ensure_wheels(pins: Sequence[str]) -> Path:
    """The shared wheel cache, with a wheel for every ``name==version`` in ``pins``."""
    dest = testbed.CACHE_DIR / "wheels"
    dest.mkdir(parents=True, exist_ok=True)
    for pin in pins:
        name, _, version = pin.partition("==")
        stems = {name.lower().replace("-", "_"), name.lower()}
        if any(p.name.lower().startswith(f"{s}-{version}-") for p in dest.glob("*.whl") for s in stems):
            continue
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(dest), pin],
            check=True,
            capture_output=True,
            timeout=600,
        )
    return dest


def _npm_pack(name: str, version: str) -> Path:
    NPM_TARBALLS.mkdir(parents=True, exist_ok=True)
    fname = f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"
    path = NPM_TARBALLS / fname
    if not path.exists():
        subprocess.run(
            ["npm", "pack", f"{name}@{version}", "--pack-destination", str(NPM_TARBALLS), "--silent"],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return path


def _integrity(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def _manifest(path: Path) -> dict[str, Any]:
    with tarfile.open(path) as tf:
        for member in tf.getmembers():
            if member.name.endswith("package.json") and member.name.count("/") == 1:
                fh = tf.extractfile(member)
                if fh is not None:
                    data: dict[str, Any] = json.load(fh)
                    return data
    raise AssertionError(f"no package.json in {path}")


@contextlib.contextmanager
def npm_registry(lock: Path) -> Iterator[str]:
    """A tiny read-only npm registry for every package ``lock`` (package-lock v3) names."""
    data = json.loads(lock.read_text())
    tarballs: dict[str, Path] = {}
    versions: dict[str, dict[str, Path]] = {}
    for key, entry in data.get("packages", {}).items():
        if not key:
            continue
        name = entry.get("name") or key.rsplit("node_modules/", 1)[1]
        path = _npm_pack(name, entry["version"])
        tarballs[path.name] = path
        versions.setdefault(name, {})[entry["version"]] = path
    state: dict[str, str] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            path = unquote(self.path.split("?")[0]).lstrip("/")
            if path.startswith("-/tarballs/") and path[len("-/tarballs/") :] in tarballs:
                body = tarballs[path[len("-/tarballs/") :]].read_bytes()
                self._send(200, body, "application/octet-stream")
                return
            if path in versions:
                packument: dict[str, Any] = {"name": path, "versions": {}, "dist-tags": {}}
                for ver, tgz in versions[path].items():
                    meta = _manifest(tgz)
                    meta["dist"] = {"tarball": f"{state['base']}-/tarballs/{tgz.name}", "integrity": _integrity(tgz)}
                    packument["versions"][ver] = meta
                    packument["dist-tags"]["latest"] = ver
                self._send(200, json.dumps(packument).encode(), "application/json")
                return
            self._send(404, b"{}", "application/json")

        def _send(self, code: int, body: bytes, ctype: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["base"] = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["base"]
    finally:
        server.shutdown()
        server.server_close()


def build(client: Any, context: Path, tag: str, buildargs: Mapping[str, str]) -> None:
    """``docker build --network host --build-arg …`` of a generated Dockerfile, as is."""
    import docker.errors

    try:
        client.images.build(
            path=str(context), tag=tag, rm=True, forcerm=True, network_mode="host", buildargs=dict(buildargs)
        )
    except docker.errors.BuildError as err:
        log = "".join(str(c.get("stream", c.get("error", ""))) for c in err.build_log)
        raise AssertionError(f"docker build failed: {err.msg}\n{log[-4000:]}") from None
