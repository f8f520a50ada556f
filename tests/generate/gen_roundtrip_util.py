"""Round-trip plumbing: local package servers for offline image builds.

The generated Dockerfiles install from the public indexes by default and
declare ``ARG PIP_INDEX_URL/PIP_FIND_LINKS/PIP_NO_INDEX``, ``ARG
NPM_CONFIG_REGISTRY`` (npm, pnpm, Yarn 1) or ``ARG COREPACK_NPM_REGISTRY/
YARN_NPM_REGISTRY_SERVER/YARN_UNSAFE_HTTP_WHITELIST`` (yarn berry) for
mirrors.  The round trip uses exactly that feature: it serves pre-downloaded
wheels and npm tarballs on 127.0.0.1 and builds with ``--network host`` and
those build args, the way a team behind a mirror would.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import http.server
import json
import re
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import testbed


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


def npm_tarball(name: str, version: str) -> Path:
    """The registry's own tarball of ``name@version`` (``npm pack``), cached under testbed.CACHE_DIR."""
    return testbed.npm_tarball(name, version)


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


# pnpm-lock.yaml v9 keys: "debug@2.6.9:" or "'@sindresorhus/is@4.6.0':" (peer suffixes in parentheses).
_PNPM_KEY = re.compile(r"""^  '?((?:@[^@/\s']+/)?[^@\s'(]+)@([^\s'():]+)(?:\([^']*\))?'?:\s*$""")
# yarn berry: `  resolution: "debug@npm:2.6.9"`.
_YARN_RESOLUTION = re.compile(r'^  resolution: "((?:@[^@/"]+/)?[^@"]+)@npm:([^"]+)"\s*$')
# yarn 1: a block `"@sindresorhus/is@4.6.0", "@sindresorhus/is@^4":` then `  version "4.6.0"`.
_YARN1_VERSION = re.compile(r'^  version "([^"]+)"\s*$')


def lock_packages(lock: Path) -> set[tuple[str, str]]:
    """Every registry package ``(name, version)`` a package-lock.json, pnpm-lock.yaml or yarn.lock (1 or berry) names."""
    text = lock.read_text()
    found: set[tuple[str, str]] = set()
    if lock.name in ("package-lock.json", "npm-shrinkwrap.json"):
        for key, entry in json.loads(text).get("packages", {}).items():
            if key and not entry.get("link"):
                found.add((entry.get("name") or key.rsplit("node_modules/", 1)[1], entry["version"]))
    elif lock.name == "pnpm-lock.yaml":
        section = ""
        for line in text.splitlines():
            if line and not line.startswith(" "):
                section = line.rstrip(":")
            elif section == "packages" and (m := _PNPM_KEY.match(line)):
                found.add((m.group(1), m.group(2)))
    elif lock.name == "yarn.lock":
        name = ""
        for line in text.splitlines():
            if m := _YARN_RESOLUTION.match(line):
                found.add((m.group(1), m.group(2)))
            elif line and not line.startswith((" ", "#")):
                descriptor = line.split(",")[0].strip().rstrip(":").strip('"')
                name = descriptor[: descriptor.rindex("@")] if "@" in descriptor[1:] else ""
            elif name and (m := _YARN1_VERSION.match(line)):
                found.add((name, m.group(1)))
    else:
        raise AssertionError(f"{lock.name}: not a lock file this registry reads")
    assert found, f"{lock}: no registry packages found"
    return found


@contextlib.contextmanager
def npm_registry(
    lock: Path | None = None, *, extra: Iterable[tuple[str, str]] = (), requests: list[str] | None = None
) -> Iterator[str]:
    """A tiny read-only npm registry; yields its URL (no trailing slash, as registries are usually written).

    It serves every package ``lock`` names plus ``extra`` (for example the
    package manager itself: ``pnpm``, or ``@yarnpkg/cli-dist`` for corepack),
    from tarballs fetched once with ``npm pack``.  Tarballs live at the
    conventional ``NAME/-/BASENAME-VERSION.tgz`` path: pnpm and yarn record a
    full tarball URL in their locks for any other path, and a lock must not
    name this throw-away server.  Besides the packument (``/NAME``) it answers
    ``/NAME/VERSION`` and ``/NAME/latest``, which corepack asks for.
    ``requests``, when given, collects every path asked for: the public
    registries are reachable from these machines, so only this log shows
    that a build really went through the mirror.
    """
    wanted = set(extra) | (lock_packages(lock) if lock is not None else set())
    tarballs: dict[str, Path] = {}
    versions: dict[str, dict[str, Path]] = {}
    for name, version in sorted(wanted):
        path = npm_tarball(name, version)
        tarballs[f"{name}/-/{name.rpartition('/')[2]}-{version}.tgz"] = path
        versions.setdefault(name, {})[version] = path
    state: dict[str, str] = {}
    metas: dict[tuple[str, str], dict[str, Any]] = {}

    def meta(name: str, version: str) -> dict[str, Any]:
        if (name, version) not in metas:
            tgz = versions[name][version]
            doc = _manifest(tgz)
            doc["dist"] = {
                "tarball": f"{state['base']}/{name}/-/{name.rpartition('/')[2]}-{version}.tgz",
                "integrity": _integrity(tgz),
                "shasum": hashlib.sha1(tgz.read_bytes()).hexdigest(),
            }
            metas[name, version] = doc
        return metas[name, version]

    def latest(name: str) -> str:
        return max(versions[name], key=lambda v: tuple(int(x) for x in re.findall(r"\d+", v)))

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            path = unquote(self.path.split("?")[0]).strip("/")
            while "//" in path:
                path = path.replace("//", "/")
            if requests is not None:
                requests.append(path)
            if path in tarballs:
                self._send(200, tarballs[path].read_bytes(), "application/octet-stream")
                return
            if path in versions:
                packument: dict[str, Any] = {
                    "name": path,
                    "versions": {v: meta(path, v) for v in sorted(versions[path])},
                    "dist-tags": {"latest": latest(path)},
                }
                self._send(200, json.dumps(packument).encode(), "application/json")
                return
            name, _, tag = path.rpartition("/")
            if name in versions and (tag in versions[name] or tag == "latest"):
                version = latest(name) if tag == "latest" else tag
                self._send(200, json.dumps(meta(name, version)).encode(), "application/json")
                return
            self._send(404, b"{}", "application/json")

        def _send(self, code: int, body: bytes, ctype: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["base"] = f"http://127.0.0.1:{server.server_address[1]}"
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
