"""The real-engine test bed: a private dockerd, Debian base images and stand-ins.

There is no image registry on these machines, so every image the tests use is
made here from Debian's own packages:

* ``debootstrap`` makes two bookworm root file systems (plain minbase, and
  minbase + python3); they are cached as tarballs under
  ``~/.cache/envcheck-test`` because they are the slow part;
* ``docker import`` turns them into base images, and a tiny build on top makes
  local stand-ins for the official images the generator names:
  ``python:<host /usr/bin/python3 version>-slim-bookworm`` (Debian's python3 is
  the same CPython release) and ``node:<host node version>-bookworm-slim``
  (this machine's node and npm copied under /usr/local, and Yarn 1 under
  /opt from the npm registry's ``yarn`` package), each with the official
  image's PATH, users, ENV and CMD;
* the standard test images (a venv app, a node app, a multi-layer delete, a
  system-site python) are built on those, with packages from wheels fetched
  beforehand (``pip download``) or from the package registries during a
  ``--network host`` build, the image trusting this machine's CA bundle.

The engine is Debian's ``dockerd`` on its own socket, data root and exec root
under a temporary directory, so it never touches a system daemon.  A bed that
``DOCKER_HOST`` already points at (``scripts/testbed start``) is reused, which
makes local reruns fast.

This is a plain module: the pytest fixtures (``tests/conftest.py``), the CLI
(``scripts/testbed``) and the benchmarks (``bench/``) all import it.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import functools
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# --------------------------------------------------------------------------- constants

CACHE_DIR = Path(os.environ.get("ENVCHECK_TEST_CACHE") or Path.home() / ".cache" / "envcheck-test")
#: The long-lived bed that ``scripts/testbed start`` runs (fast local reruns).
PERSISTENT_ROOT = Path(tempfile.gettempdir()) / "envcheck-testbed"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")

# Bumped whenever a recipe below changes, so cached artefacts and images made
# by an older recipe are never mistaken for current ones.
RECIPE_VERSION = "3"

# The official images' PATHs, byte for byte: python's Dockerfile prepends
# /usr/local/bin to a PATH that already has it.
PYTHON_IMAGE_PATH = "/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
NODE_IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#: The Yarn 1 release the official node images (20, 22 and 24) ship under
#: /opt/yarn-v<version>, linked as /usr/local/bin/yarn and yarnpkg.
YARN1_VERSION = "1.22.22"

MINBASE_TAG = "envcheck-test/bookworm-minbase:base"
PYBASE_TAG = "envcheck-test/bookworm-python3:base"

# Standard test images (tags are local; nothing is ever pushed).
PYTHON_VENV_TAG = "envcheck-test/python-venv:1"
NODE_APP_TAG = "envcheck-test/node-app:1"
MULTI_LAYER_TAG = "envcheck-test/multi-layer-delete:1"
SYSTEM_PYTHON_TAG = "envcheck-test/system-python:1"

# Pure-python wheels, pinned, fetched on the host before any build.
VENV_WHEELS: tuple[str, ...] = (
    "requests==2.28.2",
    "urllib3==1.26.15",
    "idna==3.4",
    "certifi==2022.12.7",
    "charset-normalizer==3.1.0",
    "six==1.16.0",
)
EXTRA_WHEELS: tuple[str, ...] = ("idna==3.3",)

#: What the venv of the python-venv image holds (name -> version); pip and
#: setuptools come from Debian's python3-venv wheels (bookworm: 23.0.1, 66.1.1).
PYTHON_VENV_PACKAGES: Mapping[str, str] = {
    "requests": "2.28.2",
    "urllib3": "1.26.15",
    "idna": "3.4",
    "certifi": "2022.12.7",
    "charset-normalizer": "3.1.0",
    "six": "1.16.0",
    "pip": "23.0.1",
    "setuptools": "66.1.1",
}
#: Debian's /usr/lib/python3/dist-packages in the python stand-in (python3-pip
#: and what it depends on); setuptools and wheel are egg-info, pip dist-info.
DEBIAN_DIST_PACKAGES: Mapping[str, str] = {"pip": "23.0.1", "setuptools": "66.1.1", "wheel": "0.38.4"}
#: The multi-layer-delete image's venv after all its layers: six deleted by a
#: whiteout, site-packages replaced wholesale (an opaque directory) by idna 3.3.
MULTI_LAYER_PACKAGES: Mapping[str, str] = {"idna": "3.3"}
#: pip-installed into the system site of the system-python image.
SYSTEM_SITE_PACKAGES: Mapping[str, str] = {"six": "1.16.0", "idna": "3.4"}

#: The node-app's package.json dependencies: a scoped package, and ``debug``
#: 2.6.9 which pins ms 2.0.0 while the app wants ms 2.1.3 — a nested duplicate.
NODE_APP_DEPENDENCIES: Mapping[str, str] = {
    "debug": "2.6.9",
    "ms": "2.1.3",
    "@sindresorhus/is": "4.6.0",
    "is-number": "7.0.0",
}
#: (path under /app, name, version) of everything ``npm ci`` installs.
NODE_APP_INSTALLED: tuple[tuple[str, str, str], ...] = (
    ("node_modules/debug", "debug", "2.6.9"),
    ("node_modules/debug/node_modules/ms", "ms", "2.0.0"),
    ("node_modules/ms", "ms", "2.1.3"),
    ("node_modules/@sindresorhus/is", "@sindresorhus/is", "4.6.0"),
    ("node_modules/is-number", "is-number", "7.0.0"),
)


class TestbedError(RuntimeError):
    """The bed could not be set up; the message says which step and why."""

    __test__ = False  # not a pytest test class despite the name


# --------------------------------------------------------------------------- versions


def _run(
    cmd: Sequence[str], *, timeout: float = 600, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> str:
    try:
        proc = subprocess.run(
            list(cmd),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd,
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except FileNotFoundError as err:
        raise TestbedError(f"{cmd[0]}: not installed (scripts/test installs it)") from err
    except subprocess.TimeoutExpired as err:
        raise TestbedError(f"{' '.join(cmd)}: timed out after {timeout:.0f}s") from err
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise TestbedError(f"{' '.join(cmd)}: exit {proc.returncode}\n{tail}")
    return proc.stdout


@functools.cache
def python_version() -> str:
    """Debian's python3 release (the stand-in's tag), read from /usr/bin/python3.

    Without a Debian python3 on the host, the release is read from the dpkg
    database of the cached python rootfs (``python3.11 3.11.2-6+deb12u8`` ->
    ``3.11.2``), so the tag still names what the stand-in really runs.
    """
    if Path("/usr/bin/python3").exists():
        out = _run(["/usr/bin/python3", "-c", "import platform; print(platform.python_version())"])
        return out.strip()
    status = _run(["tar", "-xOf", str(rootfs_tar("python3")), "./var/lib/dpkg/status"])
    for stanza in status.split("\n\n"):
        m = re.search(r"^Package: python3\.\d+\n(?:.*\n)*?Version: (\d+\.\d+\.\d+)", stanza, re.MULTILINE)
        if m:
            return m.group(1)
    raise TestbedError("no python3.X package in the python rootfs")


def _node_binary() -> Path:
    found = shutil.which("node")
    if not found:
        raise TestbedError("node: not on PATH (the node stand-in copies this machine's node)")
    return Path(found).resolve()


def _npm_dir() -> Path:
    found = shutil.which("npm")
    if not found:
        raise TestbedError("npm: not on PATH (the node stand-in copies this machine's npm)")
    # npm is a symlink to <prefix>/lib/node_modules/npm/bin/npm-cli.js.
    return Path(found).resolve().parents[1]


@functools.cache
def node_version() -> str:
    return _run([str(_node_binary()), "--version"]).strip().lstrip("v")


@functools.cache
def npm_version() -> str:
    data = json.loads((_npm_dir() / "package.json").read_text())
    return str(data["version"])


def __getattr__(name: str) -> str:
    # Lazy module attributes: computing them runs the host's interpreters, which
    # an import (e.g. by a test module that only needs a tag constant) must not.
    if name == "PYTHON_STANDIN":
        return f"python:{python_version()}-slim-bookworm"
    if name == "NODE_STANDIN":
        return f"node:{node_version()}-bookworm-slim"
    if name == "PYTHON_VERSION":
        return python_version()
    if name == "NODE_VERSION":
        return node_version()
    if name == "NPM_VERSION":
        return npm_version()
    raise AttributeError(name)


# --------------------------------------------------------------------------- engine


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, sock_path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._sock_path = sock_path

    def connect(self) -> None:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self._sock_path)
        self.sock = s


def ping(host: str, timeout: float = 2.0) -> bool:
    """True when the engine at ``host`` (``unix://PATH``) answers ``/_ping``."""
    if not host.startswith("unix://"):
        # A TCP engine is the user's own business; let the SDK decide.
        try:
            import docker

            docker.DockerClient(base_url=host, timeout=int(timeout) or 1).ping()
            return True
        except Exception:
            return False
    conn = _UnixHTTPConnection(host[len("unix://") :], timeout)
    try:
        conn.request("GET", "/_ping")
        return conn.getresponse().read() == b"OK"
    except OSError:
        return False
    finally:
        conn.close()


@dataclass(frozen=True)
class Engine:
    """A running dockerd. ``owned`` beds are stopped by whoever started them."""

    host: str
    root: Path | None = None
    pid: int | None = None
    owned: bool = False
    storage_driver: str = ""
    log: Path | None = None

    def client(self) -> Any:
        import docker

        return docker.DockerClient(base_url=self.host, timeout=600)


def _log_tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _storage_driver(host: str) -> str:
    conn = _UnixHTTPConnection(host[len("unix://") :], 10)
    try:
        conn.request("GET", "/info")
        info = json.loads(conn.getresponse().read())
        return str(info.get("Driver", ""))
    except (OSError, ValueError):
        return ""
    finally:
        conn.close()


def _spawn(root: Path, driver: str | None, timeout: float) -> Engine:
    sock = root / "docker.sock"
    log = root / "dockerd.log"
    cmd = [
        os.environ.get("ENVCHECK_DOCKERD") or shutil.which("dockerd") or "/usr/sbin/dockerd",
        "--host",
        f"unix://{sock}",
        "--data-root",
        str(root / "data"),
        "--exec-root",
        str(root / "exec"),
        "--pidfile",
        str(root / "docker.pid"),
        # Builds and runs use --network host/none; a bridge would need iptables
        # rules this sandbox may not allow and the tests never need.
        "--bridge=none",
        "--iptables=false",
        "--ip6tables=false",
        "--ip-masq=false",
        "--userland-proxy=false",
    ]
    if driver:
        cmd += ["--storage-driver", driver]
    if not Path(cmd[0]).exists():
        raise TestbedError("dockerd: not installed (apt-get install docker.io; scripts/test does it)")
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)
    host = f"unix://{sock}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise TestbedError(f"dockerd ({driver or 'default driver'}) exited {proc.returncode}:\n{_log_tail(log)}")
        if sock.exists() and ping(host, 1.0):
            (root / "DOCKER_HOST").write_text(host + "\n")
            return Engine(host, root, proc.pid, True, _storage_driver(host), log)
        time.sleep(0.2)
    _kill(proc.pid)
    raise TestbedError(f"dockerd did not answer /_ping within {timeout:.0f}s:\n{_log_tail(log)}")


# The bed this process started: every caller in one pytest run (session
# fixtures, module fixtures of other test packages, benches) shares it, and it
# is stopped when the process exits unless it was started to be kept.
_STARTED: list[Engine] = []


def _stop_started() -> None:
    while _STARTED:
        stop(_STARTED.pop())


def start(root: Path | None = None, *, reuse: bool = True, keep: bool = False, timeout: float = 60.0) -> Engine:
    """Start a private dockerd (or reuse the responsive one ``DOCKER_HOST`` names).

    overlay2 is tried first; where the kernel or sandbox refuses it the bed
    falls back to vfs (slower, larger, but works anywhere).  A bed started
    here is stopped at interpreter exit unless ``keep`` (``scripts/testbed
    start``).
    """
    if reuse and _STARTED and ping(_STARTED[-1].host):
        return _STARTED[-1]
    if reuse:
        host = os.environ.get("DOCKER_HOST", "")
        if host and ping(host):
            return Engine(host, storage_driver=_storage_driver(host) if host.startswith("unix://") else "")
        state = PERSISTENT_ROOT / "DOCKER_HOST"
        # CI always gets a bed of its own: a leftover one proves nothing.
        if root is None and state.exists() and not os.environ.get("CI"):
            host = state.read_text().strip()
            if ping(host):
                return Engine(host, PERSISTENT_ROOT, storage_driver=_storage_driver(host))
    if os.geteuid() != 0:
        raise TestbedError("the test bed runs dockerd, which needs root")
    made = root is None
    if root is None:
        root = Path(tempfile.mkdtemp(prefix="envcheck-bed-"))
    root.mkdir(parents=True, exist_ok=True)
    errors = []
    for driver in (os.environ.get("ENVCHECK_TEST_STORAGE_DRIVER") or None, "vfs"):
        try:
            eng = _spawn(root, driver, timeout)
            if not keep:
                if not _STARTED:
                    atexit.register(_stop_started)
                _STARTED.append(eng)
            return eng
        except TestbedError as err:
            errors.append(str(err))
            shutil.rmtree(root / "data", ignore_errors=True)
    if made:
        _rmtree(root)
    raise TestbedError("could not start dockerd:\n" + "\n---\n".join(errors))


def _kill(pid: int, grace: float = 20.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            # Reap it if it is our child; otherwise just probe for existence.
            with contextlib.suppress(ChildProcessError):
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    break
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        # dockerd leads its own session (start_new_session): its managed
        # containerd and shims are in that group and go with it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def stop(engine: Engine, *, remove: bool = True) -> None:
    """SIGTERM, wait, SIGKILL; then remove the bed's directory (owned beds only)."""
    if not engine.owned or engine.root is None:
        return
    if engine in _STARTED:
        _STARTED.remove(engine)
    pid = engine.pid
    if pid is None:
        with contextlib.suppress(OSError, ValueError):
            pid = int((engine.root / "docker.pid").read_text().strip())
    if pid is not None:
        _kill(pid)
    if remove:
        _rmtree(engine.root)


def stop_persistent() -> bool:
    """Stop the bed ``scripts/testbed start`` left running. False if none was."""
    pidfile = PERSISTENT_ROOT / "docker.pid"
    if not pidfile.exists():
        return False
    try:
        pid = int(pidfile.read_text().strip())
    except ValueError:
        pid = None
    stop(Engine(host="", root=PERSISTENT_ROOT, pid=pid, owned=True))
    return True


def _rmtree(path: Path) -> None:
    # overlay2 may leave a mount behind if dockerd was killed; unmount first so
    # rmtree does not wander into (and fail on) a mounted layer.
    with contextlib.suppress(OSError):
        mounts = [ln.split()[1] for ln in Path("/proc/self/mounts").read_text().splitlines()]
        for mnt in sorted((m for m in mounts if m.startswith(str(path) + "/")), key=len, reverse=True):
            subprocess.run(["umount", "-l", mnt], check=False, capture_output=True)
    shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def running(root: Path | None = None) -> Iterator[Engine]:
    """``with running() as eng:`` — a bed for the block, stopped after it."""
    eng = start(root)
    try:
        yield eng
    finally:
        stop(eng)


# --------------------------------------------------------------------------- debian mirror


def debian_mirror(apt_dir: Path = Path("/etc/apt")) -> str:
    """The Debian mirror this machine's apt uses for bookworm ``main``.

    Read from the apt sources at run time (one-line ``.list`` and deb822
    ``.sources`` formats), so the bed follows whatever mirror the machine is
    configured for.  ``ENVCHECK_DEBIAN_MIRROR`` overrides.
    """
    override = os.environ.get("ENVCHECK_DEBIAN_MIRROR")
    if override:
        return override
    apt = apt_dir
    files = [apt / "sources.list", *sorted((apt / "sources.list.d").glob("*.list"))]
    for f in files:
        with contextlib.suppress(OSError):
            for line in f.read_text().splitlines():
                words = line.split("#", 1)[0].split()
                if len(words) >= 4 and words[0] == "deb":
                    rest = [w for w in words[1:] if not w.startswith("[")]
                    # drop "[arch=...]" options, which may span words
                    if words[1].startswith("["):
                        i = next(i for i, w in enumerate(words) if w.endswith("]"))
                        rest = words[i + 1 :]
                    if len(rest) >= 3 and rest[1] == "bookworm" and "main" in rest[2:]:
                        return rest[0]
    for f in sorted((apt / "sources.list.d").glob("*.sources")):
        with contextlib.suppress(OSError):
            for stanza in re.split(r"\n\s*\n", f.read_text()):
                fields: dict[str, str] = {}
                for line in stanza.splitlines():
                    if ":" in line and not line.startswith(("#", " ")):
                        key, _, value = line.partition(":")
                        fields[key.strip().lower()] = value.strip()
                if fields.get("enabled", "yes").lower() == "no" or "deb" not in fields.get("types", "").split():
                    continue
                if "bookworm" in fields.get("suites", "").split() and "main" in fields.get("components", "").split():
                    return fields.get("uris", "").split()[0]
    raise TestbedError("no Debian bookworm 'main' source in /etc/apt/sources.list(.d); set ENVCHECK_DEBIAN_MIRROR")


# --------------------------------------------------------------------------- cache


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    """A file lock, so parallel sessions (tests + bench) build an artefact once."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with (CACHE_DIR / f".{name}.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


ROOTFS_INCLUDES: Mapping[str, tuple[str, ...]] = {
    "minbase": (),
    # What python:*-slim-bookworm carries besides CPython: CA certificates,
    # netbase and tzdata; python3-venv and python3-pip so venvs and pip work.
    "python3": ("python3", "python3-venv", "python3-pip", "ca-certificates", "netbase", "tzdata"),
}


def rootfs_tar(flavour: str) -> Path:
    """A cached ``debootstrap --variant=minbase bookworm`` rootfs tarball."""
    includes = ROOTFS_INCLUDES[flavour]
    path = CACHE_DIR / f"bookworm-{flavour}.tar"
    if path.exists():
        return path
    with _locked(f"rootfs-{flavour}"):
        if path.exists():
            return path
        if not shutil.which("debootstrap"):
            raise TestbedError("debootstrap: not installed (apt-get install debootstrap; scripts/test does it)")
        work = Path(tempfile.mkdtemp(prefix=f"rootfs-{flavour}-", dir=CACHE_DIR))
        try:
            root = work / "root"
            cmd = ["debootstrap", "--variant=minbase"]
            if includes:
                cmd.append("--include=" + ",".join(includes))
            cmd += ["bookworm", str(root), debian_mirror()]
            _run(cmd, timeout=1200)
            # As the official slim images do: no package caches or indexes.
            for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
                for p in (root / junk).glob("*"):
                    if p.is_file():
                        p.unlink()
            tmp = work / "rootfs.tar"
            _run(["tar", "-C", str(root), "--numeric-owner", "-cf", str(tmp), "."])
            os.replace(tmp, path)
        finally:
            _rmtree(work)
    return path


@functools.cache
def wheels_dir() -> Path:
    """Pure-python wheels for the test images, fetched once with ``pip download``."""
    dest = CACHE_DIR / "testbed-wheels"
    reqs = (*VENV_WHEELS, *EXTRA_WHEELS)
    marker = dest / (".complete-" + hashlib.sha256("\n".join(reqs).encode()).hexdigest()[:16])
    if marker.exists():
        return dest
    with _locked("wheels"):
        if marker.exists():
            return dest
        dest.mkdir(parents=True, exist_ok=True)
        for req in reqs:
            # One at a time: idna 3.3 and 3.4 cannot be in one resolver request.
            _run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(dest), req],
                timeout=600,
            )
        marker.touch()
    return dest


def npm_tarball(name: str, version: str) -> Path:
    """The registry's own tarball of ``name@version`` (``npm pack``), fetched once."""
    dest = CACHE_DIR / "npm-tarballs"
    path = dest / f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"
    if path.exists():
        return path
    with _locked("npm-tarballs"):
        if not path.exists():
            dest.mkdir(parents=True, exist_ok=True)
            _run(["npm", "pack", f"{name}@{version}", "--pack-destination", str(dest), "--silent"], timeout=300)
    if not path.exists():
        raise TestbedError(f"npm pack {name}@{version} wrote no {path.name} in {dest}")
    return path


# --------------------------------------------------------------------------- images


def _recipe_hash(*parts: str | bytes | Path) -> str:
    h = hashlib.sha256(RECIPE_VERSION.encode())
    for part in parts:
        if isinstance(part, Path):
            for f in sorted(p for p in part.rglob("*") if p.is_file() and not p.is_symlink()):
                h.update(str(f.relative_to(part)).encode())
                h.update(f.read_bytes() if f.stat().st_size < 1 << 20 else str(f.stat().st_size).encode())
        else:
            h.update(part.encode() if isinstance(part, str) else part)
    return h.hexdigest()[:16]


def _image_label(client: Any, tag: str) -> str | None:
    import docker.errors

    try:
        img = client.images.get(tag)
    except docker.errors.ImageNotFound:
        return None
    labels = (img.attrs.get("Config") or {}).get("Labels") or {}
    return str(labels.get("envcheck.testbed.recipe", ""))


def build(client: Any, context: Path, tag: str, *, network_host: bool = True, recipe: str | None = None) -> str:
    """``docker build`` (legacy builder, as the SDK drives it); returns the image id.

    With ``recipe`` the image is labelled, and a present image with the same
    label is reused instead of rebuilt (cached by tag and recipe).
    """
    import docker.errors

    if recipe is not None and _image_label(client, tag) == recipe:
        return str(client.images.get(tag).id)
    labels = {"envcheck.testbed.recipe": recipe} if recipe is not None else None
    try:
        image, _logs = client.images.build(
            path=str(context),
            tag=tag,
            rm=True,
            forcerm=True,
            network_mode="host" if network_host else "none",
            labels=labels,
        )
    except docker.errors.BuildError as err:
        out = "".join(str(chunk.get("stream", chunk.get("error", ""))) for chunk in err.build_log)
        raise TestbedError(f"docker build {tag} failed: {err.msg}\n{out[-3000:]}") from err
    except docker.errors.APIError as err:
        raise TestbedError(f"docker build {tag} failed: {err}") from err
    return str(image.id)


def save(client: Any, tag: str, path: Path) -> Path:
    """``docker save TAG -o PATH`` (this engine writes the docker-archive format)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with tmp.open("wb") as fh:
        for chunk in client.images.get(tag).save(named=True):
            fh.write(chunk)
    os.replace(tmp, path)
    return path


def _import(client: Any, tarball: Path, tag: str, changes: Sequence[str] = ()) -> None:
    repo, _, ver = tag.rpartition(":")
    client.api.import_image_from_file(str(tarball), repository=repo, tag=ver, changes=list(changes) or None)


def ensure_base_images(client: Any) -> None:
    """Import the cached rootfs tarballs as base images (once per engine)."""
    for flavour, tag in (("minbase", MINBASE_TAG), ("python3", PYBASE_TAG)):
        tar = rootfs_tar(flavour)
        recipe = f"{tar.stat().st_size}-{int(tar.stat().st_mtime)}"
        if _image_label(client, tag) == recipe:
            continue
        _import(client, tar, tag, [f'LABEL envcheck.testbed.recipe="{recipe}"', 'CMD ["bash"]'])


_PYTHON_STANDIN_DOCKERFILE = """\
FROM {base}
# The official image's interpreter lives in /usr/local; Debian's is the same
# CPython release, so /usr/local/bin links make python/python3/pip reachable
# first on the same PATH.  The official image has no PEP 668 marker either.
RUN set -eux; \\
    rm -f /usr/lib/python3.*/EXTERNALLY-MANAGED; \\
    for n in python python3 python3.{minor}; do ln -s /usr/bin/python3 /usr/local/bin/$n; done; \\
    for n in pip pip3 pip3.{minor}; do ln -s /usr/bin/pip3 /usr/local/bin/$n; done; \\
    test "$(python3 -c 'import platform; print(platform.python_version())')" = "{version}"
ENV PATH={path} \\
    LANG=C.UTF-8 \\
    PYTHON_VERSION={version}
CMD ["python3"]
"""

# The official image's entrypoint, verbatim in behaviour: run the arguments
# with node when the first one is an option or not a command.
_NODE_ENTRYPOINT = """\
#!/bin/sh
set -e
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
"""

_NODE_STANDIN_DOCKERFILE = """\
FROM {base}
RUN groupadd --gid 1000 node \\
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
{corepack_copy}
# The official image unpacks yarn's release tarball into /opt.  Its host is out
# of reach here; the npm registry's yarn package is the same build (its
# package.json says installationMethod "tar").
COPY yarn /opt/yarn-v{yarn_version}
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN set -eux; \\
    ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm; \\
    ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx; \\
    {corepack_link} \\
    ln -s /opt/yarn-v{yarn_version}/bin/yarn /usr/local/bin/yarn; \\
    ln -s /opt/yarn-v{yarn_version}/bin/yarnpkg /usr/local/bin/yarnpkg; \\
    chmod 0755 /usr/local/bin/docker-entrypoint.sh; \\
    test "$(node --version)" = "v{version}"; \\
    npm --version; \\
    test "$(yarn --version)" = "{yarn_version}"
ENV NODE_VERSION={version} \\
    YARN_VERSION={yarn_version} \\
    PATH={path}
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["node"]
"""


def _fresh_dir(name: str) -> Path:
    """A private build context (parallel sessions must not share one)."""
    parent = CACHE_DIR / "contexts"
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=parent))


def _build_ctx(client: Any, ctx: Path, tag: str, *, recipe: str) -> str:
    try:
        return build(client, ctx, tag, recipe=recipe)
    finally:
        _rmtree(ctx)


def ensure_standins(client: Any) -> tuple[str, str]:
    """Tag the python and node stand-ins in this engine; returns their tags."""
    ensure_base_images(client)
    py_tag = f"python:{python_version()}-slim-bookworm"
    minor = ".".join(python_version().split(".")[:2])
    dockerfile = _PYTHON_STANDIN_DOCKERFILE.format(
        base=PYBASE_TAG, version=python_version(), minor=minor, path=PYTHON_IMAGE_PATH
    )
    recipe = _recipe_hash(dockerfile, str(client.images.get(PYBASE_TAG).id))
    if _image_label(client, py_tag) != recipe:
        ctx = _fresh_dir("python-standin")
        (ctx / "Dockerfile").write_text(dockerfile)
        _build_ctx(client, ctx, py_tag, recipe=recipe)

    node_tag = f"node:{node_version()}-bookworm-slim"
    node = _node_binary()
    corepack = _npm_dir().parent / "corepack"
    if corepack.is_dir():
        corepack_copy = "COPY corepack /usr/local/lib/node_modules/corepack"
        corepack_link = "ln -s ../lib/node_modules/corepack/dist/corepack.js /usr/local/bin/corepack;"
    else:
        corepack_copy = corepack_link = ""
    dockerfile = _NODE_STANDIN_DOCKERFILE.format(
        base=MINBASE_TAG,
        version=node_version(),
        path=NODE_IMAGE_PATH,
        corepack_copy=corepack_copy,
        corepack_link=corepack_link,
        yarn_version=YARN1_VERSION,
    )
    yarn = npm_tarball("yarn", YARN1_VERSION)
    recipe = _recipe_hash(
        dockerfile,
        _NODE_ENTRYPOINT,
        node_version(),
        npm_version(),
        str(node.stat().st_size),
        _sha256_file(yarn),
        str(client.images.get(MINBASE_TAG).id),
    )
    if _image_label(client, node_tag) != recipe:
        ctx = _fresh_dir("node-standin")
        shutil.copy2(node, ctx / "node")
        shutil.copytree(_npm_dir(), ctx / "npm", symlinks=True)
        if corepack_copy:
            shutil.copytree(corepack, ctx / "corepack", symlinks=True)
        (ctx / "yarn").mkdir()
        _run(["tar", "-xzf", str(yarn), "-C", str(ctx / "yarn"), "--strip-components=1", "--no-same-owner"])
        (ctx / "docker-entrypoint.sh").write_text(_NODE_ENTRYPOINT)
        (ctx / "Dockerfile").write_text(dockerfile)
        _build_ctx(client, ctx, node_tag, recipe=recipe)
    return py_tag, node_tag


# --------------------------------------------------------------------------- standard test images


def _copy_wheels(ctx: Path, reqs: Sequence[str]) -> None:
    src = wheels_dir()
    dest = ctx / "wheels"
    dest.mkdir()
    for req in reqs:
        name, _, ver = req.partition("==")
        stem = f"{name.replace('-', '_')}-{ver}-"
        matches = [p for p in src.glob("*.whl") if p.name.lower().startswith(stem.lower())]
        if not matches:
            raise TestbedError(f"no wheel for {req} in {src}")
        for m in matches:
            shutil.copy2(m, dest / m.name)


_PYTHON_VENV_DOCKERFILE = """\
FROM {base}
COPY wheels /tmp/wheels
RUN python3 -m venv /opt/venv \\
 && /opt/venv/bin/pip install --no-index --no-cache-dir --find-links /tmp/wheels {reqs} \\
 && rm -rf /tmp/wheels
RUN useradd --uid 10001 --create-home --shell /usr/sbin/nologin app
ENV VIRTUAL_ENV=/opt/venv \\
    PATH=/opt/venv/bin:{path} \\
    APP_ENV=production \\
    DATABASE_URL=postgres://app:hunter2-not-a-real-secret@db/app
WORKDIR /app
COPY app.py /app/app.py
USER app
CMD ["python", "app.py"]
"""

_MULTI_LAYER_DOCKERFILE = """\
FROM {base}
COPY wheels /tmp/wheels
RUN python3 -m venv /opt/venv \\
 && /opt/venv/bin/pip install --no-index --no-cache-dir --find-links /tmp/wheels six==1.16.0 idna==3.4 certifi==2022.12.7
# A later layer deletes one package: whiteouts for its module and dist-info.
RUN rm -rf /opt/venv/lib/python{minor}/site-packages/six.py /opt/venv/lib/python{minor}/site-packages/six-1.16.0.dist-info
# Another replaces site-packages wholesale: on overlay2 an opaque directory.
RUN rm -rf /opt/venv/lib/python{minor}/site-packages \\
 && mkdir /opt/venv/lib/python{minor}/site-packages \\
 && python3 -m pip install --no-index --no-cache-dir --find-links /tmp/wheels \\
      --target /opt/venv/lib/python{minor}/site-packages idna==3.3 \\
 && rm -rf /tmp/wheels
ENV PATH=/opt/venv/bin:{path}
"""

_SYSTEM_PYTHON_DOCKERFILE = """\
FROM {base}
COPY wheels /tmp/wheels
RUN pip install --no-index --no-cache-dir --find-links /tmp/wheels six==1.16.0 idna==3.4 && rm -rf /tmp/wheels
WORKDIR /srv
"""

_NODE_APP_DOCKERFILE = """\
FROM {base}
ENV NODE_ENV=production
WORKDIR /app
# The build reaches the npm registry through this machine's TLS setup, so the
# image must trust its CA bundle while npm runs; a later layer removes it.
COPY ca-bundle.crt /tmp/ca-bundle.crt
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --cafile /tmp/ca-bundle.crt --cache /tmp/npm-cache \\
 && rm -rf /tmp/npm-cache /tmp/ca-bundle.crt
COPY server.js ./
USER node
CMD ["node", "server.js"]
"""


def _node_app_manifest() -> dict[str, Any]:
    return {
        "name": "envcheck-node-app",
        "version": "1.0.0",
        "private": True,
        "description": "envcheck test image: scoped package, nested duplicate",
        "main": "server.js",
        "scripts": {"start": "node server.js"},
        "engines": {"node": ">=20"},
        "dependencies": dict(NODE_APP_DEPENDENCIES),
    }


def npm_lock(manifest: Mapping[str, Any]) -> Path:
    """package-lock.json for ``manifest``, resolved once on the host (cached by content)."""
    text = json.dumps(manifest, indent=2) + "\n"
    key = hashlib.sha256(text.encode()).hexdigest()[:16]
    dest = CACHE_DIR / "npm" / key
    lock = dest / "package-lock.json"
    if lock.exists():
        return lock
    with _locked("npm-lock"):
        if lock.exists():
            return lock
        work = Path(tempfile.mkdtemp(prefix="lock-", dir=CACHE_DIR))
        try:
            (work / "package.json").write_text(text)
            _run(
                ["npm", "install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund"],
                cwd=work,
                timeout=300,
            )
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(work / "package-lock.json", lock)
        finally:
            _rmtree(work)
    return lock


def node_app_lock() -> Path:
    """package-lock.json of the node-app test image."""
    return npm_lock(_node_app_manifest())


@dataclass(frozen=True)
class TestImage:
    """A built test image; ``recipe`` is the label that identifies its inputs."""

    __test__ = False

    tag: str
    image_id: str
    facts: Mapping[str, Any] = field(default_factory=dict)


def build_python_venv(client: Any) -> TestImage:
    py_tag, _ = ensure_standins(client)
    ctx = _fresh_dir("python-venv")
    _copy_wheels(ctx, VENV_WHEELS)
    (ctx / "app.py").write_text("import os\n\nimport requests\n\nprint(requests.__version__, os.environ['APP_ENV'])\n")
    reqs = " ".join(VENV_WHEELS)
    (ctx / "Dockerfile").write_text(_PYTHON_VENV_DOCKERFILE.format(base=py_tag, reqs=reqs, path=PYTHON_IMAGE_PATH))
    image_id = _build_ctx(client, ctx, PYTHON_VENV_TAG, recipe=_recipe_hash(ctx, str(client.images.get(py_tag).id)))
    return TestImage(PYTHON_VENV_TAG, image_id, {"venv": dict(PYTHON_VENV_PACKAGES)})


def build_multi_layer(client: Any) -> TestImage:
    py_tag, _ = ensure_standins(client)
    ctx = _fresh_dir("multi-layer-delete")
    _copy_wheels(ctx, ("six==1.16.0", "idna==3.4", "certifi==2022.12.7", "idna==3.3"))
    minor = ".".join(python_version().split(".")[:2])
    (ctx / "Dockerfile").write_text(_MULTI_LAYER_DOCKERFILE.format(base=py_tag, minor=minor, path=PYTHON_IMAGE_PATH))
    image_id = _build_ctx(client, ctx, MULTI_LAYER_TAG, recipe=_recipe_hash(ctx, str(client.images.get(py_tag).id)))
    return TestImage(MULTI_LAYER_TAG, image_id, {"venv": dict(MULTI_LAYER_PACKAGES)})


def build_system_python(client: Any) -> TestImage:
    py_tag, _ = ensure_standins(client)
    ctx = _fresh_dir("system-python")
    _copy_wheels(ctx, ("six==1.16.0", "idna==3.4"))
    (ctx / "Dockerfile").write_text(_SYSTEM_PYTHON_DOCKERFILE.format(base=py_tag))
    image_id = _build_ctx(client, ctx, SYSTEM_PYTHON_TAG, recipe=_recipe_hash(ctx, str(client.images.get(py_tag).id)))
    return TestImage(SYSTEM_PYTHON_TAG, image_id, {"system": dict(SYSTEM_SITE_PACKAGES)})


def build_node_app(client: Any) -> TestImage:
    _, node_tag = ensure_standins(client)
    ctx = _fresh_dir("node-app")
    (ctx / "package.json").write_text(json.dumps(_node_app_manifest(), indent=2) + "\n")
    shutil.copy2(node_app_lock(), ctx / "package-lock.json")
    if not CA_BUNDLE.exists():
        raise TestbedError(f"{CA_BUNDLE}: missing (the node build needs this machine's CA bundle)")
    shutil.copy2(CA_BUNDLE, ctx / "ca-bundle.crt")
    (ctx / "server.js").write_text(
        "const debug = require('debug')('app');\nconst ms = require('ms');\ndebug('up');\nconsole.log(ms(60000));\n"
    )
    (ctx / "Dockerfile").write_text(_NODE_APP_DOCKERFILE.format(base=node_tag))
    # The CA bundle changes with the machine, not the recipe: keep it out of the key.
    recipe = _recipe_hash(
        (ctx / "Dockerfile").read_text(),
        (ctx / "package.json").read_text(),
        (ctx / "package-lock.json").read_text(),
        (ctx / "server.js").read_text(),
        str(client.images.get(node_tag).id),
    )
    image_id = _build_ctx(client, ctx, NODE_APP_TAG, recipe=recipe)
    return TestImage(NODE_APP_TAG, image_id, {"node_modules": list(NODE_APP_INSTALLED)})


STANDARD_IMAGES = {
    "python-venv": build_python_venv,
    "node-app": build_node_app,
    "multi-layer-delete": build_multi_layer,
    "system-python": build_system_python,
}


# --------------------------------------------------------------------------- other transports


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def docker_archive_to_oci(archive: Path, dest: Path, *, gzip_layers: bool = False, ref_name: str | None = None) -> Path:
    """Write an OCI image layout (``oci:DIR``) from a ``docker save`` archive.

    Debian's dockerd 20.10 saves the classic docker-archive format (Docker 25+
    writes OCI-in-tar); this conversion gives the tests a real OCI layout with
    the very same layers.  ``gzip_layers`` stores the layers gzip-compressed,
    as registries and most OCI tools do.
    """
    import gzip

    _rmtree(dest)
    blobs = dest / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data: bytes) -> tuple[str, int]:
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return f"sha256:{digest}", len(data)

    with tarfile.open(archive) as tar:
        manifest_member = tar.extractfile("manifest.json")
        if manifest_member is None:
            raise TestbedError(f"{archive}: no manifest.json")
        entry = json.load(manifest_member)[0]
        cfg_member = tar.extractfile(entry["Config"])
        if cfg_member is None:
            raise TestbedError(f"{archive}: no config")
        config_digest, config_size = put(cfg_member.read())
        layers = []
        for name in entry["Layers"]:
            member = tar.extractfile(name)
            if member is None:
                raise TestbedError(f"{archive}: no layer {name}")
            tmp = blobs / "incoming"
            with tmp.open("wb") as out:
                if gzip_layers:
                    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, compresslevel=1) as gz:
                        shutil.copyfileobj(member, gz, 1 << 20)
                else:
                    shutil.copyfileobj(member, out, 1 << 20)
            digest = _sha256_file(tmp)
            size = tmp.stat().st_size
            os.replace(tmp, blobs / digest)
            media = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if gzip_layers else "")
            layers.append({"mediaType": media, "digest": f"sha256:{digest}", "size": size})
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": config_size,
        },
        "layers": layers,
    }
    manifest_digest, manifest_size = put(json.dumps(manifest, separators=(",", ":")).encode())
    desc: dict[str, Any] = {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": manifest_digest,
        "size": manifest_size,
        "platform": {"architecture": "amd64", "os": "linux"},
    }
    tags = entry.get("RepoTags") or []
    name = ref_name or (tags[0] if tags else None)
    if name:
        desc["annotations"] = {"org.opencontainers.image.ref.name": name}
    (dest / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (dest / "index.json").write_text(
        json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [desc]})
    )
    return dest


def oci_dir_to_archive(layout: Path, path: Path) -> Path:
    """Tar an OCI layout into an ``oci-archive:`` file."""
    with tarfile.open(path, "w") as tar:
        for p in sorted(layout.rglob("*")):
            tar.add(p, arcname=str(p.relative_to(layout)), recursive=False)
    return path


def export_rootfs(client: Any, tag: str, dest: Path) -> Path:
    """Unpack an image's flattened file system into ``dest`` (a ``dir:`` ref)."""
    _rmtree(dest)
    dest.mkdir(parents=True)
    container = client.containers.create(tag, command=["true"], network_mode="none")
    try:
        tarball = dest.with_name(dest.name + ".export.tar")
        with tarball.open("wb") as fh:
            for chunk in container.export():
                fh.write(chunk)
    finally:
        container.remove(force=True)
    try:
        _run(["tar", "-C", str(dest), "--numeric-owner", "-xf", str(tarball)])
    finally:
        tarball.unlink()
    return dest


@dataclass(frozen=True)
class ImageRefs:
    """One image under every transport the scanner reads."""

    tag: str
    docker_archive: Path
    oci_dir: Path
    oci_archive: Path
    rootfs: Path

    def refs(self) -> dict[str, str]:
        return {
            "docker-archive": f"docker-archive:{self.docker_archive}",
            "docker": f"docker:{self.tag}",
            "oci": f"oci:{self.oci_dir}",
            "oci-archive": f"oci-archive:{self.oci_archive}",
            "dir": f"dir:{self.rootfs}",
        }


def materialize(client: Any, tag: str, dest: Path, *, rootfs: bool = True) -> ImageRefs:
    """Save ``tag`` as docker-archive, OCI layout (gzip layers), oci-archive and, optionally, a rootfs."""
    dest.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", tag)
    archive = save(client, tag, dest / f"{stem}.docker.tar")
    oci = docker_archive_to_oci(archive, dest / f"{stem}.oci", gzip_layers=True, ref_name=tag)
    oci_tar = oci_dir_to_archive(oci, dest / f"{stem}.oci.tar")
    root = export_rootfs(client, tag, dest / f"{stem}.rootfs") if rootfs else dest / f"{stem}.rootfs"
    return ImageRefs(tag, archive, oci, oci_tar, root)


def run_in(client: Any, tag: str, command: Sequence[str], *, user: str | None = None) -> str:
    """Run ``command`` in a throw-away, network-less container; returns stdout."""
    out = client.containers.run(
        tag, list(command), remove=True, network_mode="none", user=user, stdout=True, stderr=False
    )
    return out.decode() if isinstance(out, bytes) else str(out)
