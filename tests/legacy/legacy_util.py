"""Plumbing for the legacy-project serve test: the corpus, the developer's host, build, run, probe.

The corpus (real public projects, see its README) is read only through
``ENVCHECK_LEGACY_CORPUS``.  Its lock files name registries by ``.invalid``
placeholders; the real hosts are put back in a private copy from the tools'
own configuration at run time (pip's index, ``npm config get registry``, apt's
mirror), never from a host name written here.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import testbed

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the project supports 3.10
    import tomli as tomllib

CORPUS_ENV = "ENVCHECK_LEGACY_CORPUS"
#: How long a started container may take to answer its first request (the corpus README's protocol).
FIRST_ANSWER_S = 90.0
#: How long a trial project's container must stay up to count as "starts without a crash".
TRIAL_ALIVE_S = 8.0


def corpus_root() -> Path | None:
    value = os.environ.get(CORPUS_ENV, "").strip()
    return Path(value).resolve() if value else None


# --------------------------------------------------------------------------- the corpus


@dataclass(frozen=True)
class ServeSpec:
    """One ``NAME.serve.toml``: the developer's host, the deployer's env and the probe."""

    name: str
    tree: Path
    host_python: str | None
    host_install: str | list[str] | None
    release: str | None
    env: Mapping[str, str]
    probe_path: str
    probe_status: tuple[int, ...]
    raw: Mapping[str, Any] = field(default_factory=dict)


def load_spec(path: Path) -> ServeSpec:
    data = tomllib.loads(path.read_text())
    name = path.name[: -len(".serve.toml")]
    probe = data.get("probe") or {}
    return ServeSpec(
        name=name,
        tree=path.parent / name,
        host_python=data.get("host_python"),
        host_install=data.get("host_install"),
        release=data.get("release") or None,
        env={str(k): str(v) for k, v in (data.get("env") or {}).items()},
        probe_path=str(probe.get("path", "/")),
        probe_status=tuple(int(s) for s in probe.get("status", [200])),
        raw=data,
    )


def verified_projects(root: Path) -> list[ServeSpec]:
    """Top-level ``NAME/`` with ``NAME.serve.toml``: the projects that must serve."""
    return [load_spec(p) for p in sorted(root.glob("*.serve.toml")) if (root / p.name[: -len(".serve.toml")]).is_dir()]


def trial_projects(root: Path) -> list[Path]:
    trial = root / "trial"
    return sorted(p for p in trial.iterdir() if p.is_dir()) if trial.is_dir() else []


# --------------------------------------------------------------------------- registries


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def pip_index_url() -> str:
    """The index pip uses here: PIP_INDEX_URL, pip's config, else pip's own default."""
    env = os.environ.get("PIP_INDEX_URL", "").split()
    if env:
        return env[0]
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False, timeout=60
    )
    for line in proc.stdout.splitlines():
        key, _, value = line.partition("=")
        if key.split(".", 1)[-1] == "index-url":
            return value.strip().strip("'\"").split()[0]
    from pip._internal.models.index import PyPI

    return str(PyPI.simple_url)


def pip_files_origin(index_url: str) -> str:
    """Where the index's files live: PyPI keeps them on its file storage host, a mirror on itself."""
    from pip._internal.models.index import PyPI

    if _origin(index_url) == _origin(PyPI.url):
        return f"https://{PyPI.file_storage_domain}"
    return _origin(index_url)


def npm_registry_url() -> str:
    out = subprocess.run(
        ["npm", "config", "get", "registry"], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    return out.rstrip("/")


def registry_replacements() -> dict[str, str]:
    """Placeholder origin -> the configured registry's origin (or base URL for npm)."""
    index = pip_index_url()
    npm = npm_registry_url()
    mirror = testbed.debian_mirror()
    return {
        "https://pypi-index.invalid": _origin(index),
        "http://pypi-index.invalid": _origin(index),
        "https://pypi-files.invalid": pip_files_origin(index),
        "https://npm-registry.invalid": npm,
        "http://npm-registry.invalid": npm,
        # Yarn 1's registry is a read-only mirror of npm's: the configured npm registry serves the same tarballs.
        "https://yarn-registry.invalid": npm,
        "http://debian-mirror.invalid": _origin(mirror),
        "https://debian-mirror.invalid": _origin(mirror),
    }


def copy_with_registries(src: Path, dest: Path) -> Path:
    """A private, writable copy of a corpus tree with the real registry hosts back in its text files."""
    shutil.copytree(src, dest, symlinks=True, ignore=shutil.ignore_patterns("node_modules", ".venv", ".git"))
    for p in [dest, *dest.rglob("*")]:
        if not p.is_symlink():
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
    reps = registry_replacements()
    for p in dest.rglob("*"):
        if p.is_symlink() or not p.is_file() or p.stat().st_size > 50_000_000:
            continue
        data = p.read_bytes()
        if b".invalid" not in data or b"\0" in data:
            continue
        text = data.decode("utf-8", errors="surrogateescape")
        for old, new in reps.items():
            text = text.replace(old, new)
        p.write_bytes(text.encode("utf-8", errors="surrogateescape"))
    return dest


# --------------------------------------------------------------------------- the developer's host


def run(
    cmd: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None, timeout: float = 900
) -> str:
    """Run a command; on failure raise AssertionError with its last lines (the test's message)."""
    proc = subprocess.run(
        list(cmd),
        cwd=cwd,
        env=None if env is None else {**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + "\n" + proc.stderr).strip().splitlines()[-25:])
        raise AssertionError(f"{' '.join(cmd[:6])}{' …' if len(cmd) > 6 else ''}: exit {proc.returncode}\n{tail}")
    return proc.stdout


def _virtualenv_tool() -> Path:
    """A virtualenv that still creates Python 2.7 environments (venv does not exist there)."""
    tool = testbed.CACHE_DIR / "legacy-tools" / "virtualenv"
    exe = tool / "bin" / "virtualenv"
    if not exe.exists():
        run([sys.executable, "-m", "venv", str(tool)])
        run([str(tool / "bin" / "pip"), "install", "-q", "virtualenv<20.22"])
    return exe


def make_python_host(version: str, dest: Path) -> Path:
    """A venv of pyenv's Python ``version``: the interpreter the project's developer had."""
    base = testbed.PYENV_ROOT / "versions" / version / "bin" / "python"
    assert base.exists(), f"no pyenv Python {version} at {base}: the developer's interpreter is missing"
    if version.startswith("2."):
        run([str(_virtualenv_tool()), "-q", "-p", str(base), str(dest)])
    else:
        run([str(base), "-m", "venv", str(dest)])
    return dest / "bin" / "python"


def _pipfile_lock_reqs(lock: Path) -> list[str]:
    data = json.loads(lock.read_text())
    reqs = []
    for name, entry in sorted((data.get("default") or {}).items()):
        if "version" not in entry:
            continue  # a VCS or path entry: not an index install
        line = f"{name}{entry['version']}"
        if entry.get("markers"):
            line += f"; {entry['markers']}"
        reqs.append(line)
    return reqs


def _poetry_lock_reqs(lock: Path) -> list[str]:
    data = tomllib.loads(lock.read_text())
    reqs = []
    for pkg in data.get("package", []):
        groups = pkg.get("groups")
        main = pkg.get("category", "main") == "main" if groups is None else "main" in groups
        if not main or pkg.get("source", {}).get("type") in ("git", "directory", "file", "url"):
            continue
        line = f"{pkg['name']}=={pkg['version']}"
        markers = pkg.get("markers")
        if isinstance(markers, str) and markers:
            line += f"; {markers}"
        elif isinstance(markers, dict) and markers.get("main"):
            line += f"; {markers['main']}"
        reqs.append(line)
    return reqs


def install_python_host(python: Path, project: Path, host_install: str | list[str] | None) -> None:
    """Install what the README table says the developer installed into that interpreter."""
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    if host_install is None:
        return
    if isinstance(host_install, list):
        run([*pip, *host_install], cwd=project)
        return
    path = project / host_install
    assert path.exists(), f"host_install names {host_install}, which the project does not have"
    if path.name == "Pipfile.lock":
        reqs = _pipfile_lock_reqs(path)
    elif path.name == "poetry.lock":
        reqs = _poetry_lock_reqs(path)
    else:
        run([*pip, "-r", str(path)], cwd=project)
        return
    req_file = python.parent.parent / "host-requirements.txt"
    req_file.write_text("\n".join(reqs) + "\n")
    run([*pip, "-r", str(req_file)], cwd=project)


def _yarn1() -> list[str]:
    """Yarn 1 (the registry's own package, cached) run by this machine's node."""
    home = testbed.CACHE_DIR / "legacy-tools" / f"yarn-{testbed.YARN1_VERSION}"
    if not (home / "bin" / "yarn.js").exists():
        home.mkdir(parents=True, exist_ok=True)
        with tarfile.open(testbed.npm_tarball("yarn", testbed.YARN1_VERSION)) as tar:
            tar.extractall(home, filter=lambda m, p: m.replace(name=m.name.partition("/")[2]))
    return ["node", str(home / "bin" / "yarn.js")]


def _pnpm_for(project: Path) -> str:
    """The pnpm major the lock was written by (``packageManager`` when the manifest names one)."""
    manifest = json.loads((project / "package.json").read_text())
    pm = str(manifest.get("packageManager", ""))
    if pm.startswith("pnpm@"):
        wanted = pm.split("+", 1)[0]
        major = re.match(r"pnpm@(\d+)", wanted)
        # pnpm 6 and older do not run on node >= 20 (this machine's); pnpm 7 reads their locks.
        return "pnpm@7" if major and int(major.group(1)) < 7 else wanted
    head = (project / "pnpm-lock.yaml").read_text()[:200]
    m = re.search(r"lockfileVersion:\s*'?(\d+)", head)
    major = int(m.group(1)) if m else 9
    if major == 5:
        # pnpm 7 reads 5.3 and 5.4 locks; pnpm 6 (5.3's writer) no longer runs on node >= 20.
        return "pnpm@7"
    return {6: "pnpm@8", 9: "pnpm@9"}.get(major, "pnpm@9")


def install_node_host(project: Path, host_install: str | None) -> None:
    """The developer's node_modules, from the lock, with this machine's node.

    Lifecycle scripts are not run: the host snapshot needs the installed
    versions, and a 2017 build script may not run on today's node (the image
    build runs what the generated Dockerfile says).
    """
    lock = host_install or "package-lock.json"
    if lock == "package-lock.json":
        run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=project, timeout=1200)
    elif lock == "yarn.lock":
        run(
            [*_yarn1(), "install", "--frozen-lockfile", "--ignore-scripts", "--non-interactive"],
            cwd=project,
            timeout=1200,
        )
    elif lock == "pnpm-lock.yaml":
        run(
            ["npx", "--yes", _pnpm_for(project), "install", "--frozen-lockfile", "--ignore-scripts"],
            cwd=project,
            timeout=1200,
        )
    else:
        raise AssertionError(f"host_install {lock!r}: not a node lock this harness knows")


# --------------------------------------------------------------------------- image build, run, probe


def base_images(dockerfile: str) -> list[str]:
    """The external images a Dockerfile's stages start FROM (not earlier stages, not scratch)."""
    stages: set[str] = set()
    bases: list[str] = []
    args: dict[str, str] = {}
    for line in re.sub(r"\\\n", " ", dockerfile).splitlines():
        words = line.strip().split()
        if not words:
            continue
        if words[0].upper() == "ARG" and len(words) > 1 and "=" in words[1] and not stages and not bases:
            k, _, v = words[1].partition("=")
            args[k] = v.strip("\"'")
        if words[0].upper() != "FROM":
            continue
        rest = [w for w in words[1:] if not w.startswith("--")]
        ref = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), rest[0])
        if len(rest) >= 3 and rest[1].upper() == "AS":
            stages.add(rest[2].lower())
        if ref.lower() not in stages and ref != "scratch" and ref not in bases:
            bases.append(ref.split("@", 1)[0])
    return bases


def declared_args(dockerfile: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^\s*ARG\s+(\w+)", dockerfile, re.MULTILINE)}


#: A build that takes longer fails (the CI budget is shared by every project); override with
#: ENVCHECK_LEGACY_BUILD_TIMEOUT (seconds).
BUILD_LIMIT_S = float(os.environ.get("ENVCHECK_LEGACY_BUILD_TIMEOUT") or 1200)


def docker_build(client: Any, context: Path, dockerfile: str, tag: str, buildargs: Mapping[str, str]) -> None:
    """``docker build --network host`` of a generated Dockerfile, as it was written.

    The docker CLI (its classic builder, as the SDK drives it elsewhere) so the
    build has a wall-clock limit: killing the client cancels the build in the
    engine, and one slow project cannot eat the whole run's budget.
    """
    del client  # the CLI talks to the same engine through DOCKER_HOST
    cmd = ["docker", "build", "--network", "host", "--force-rm", "-t", tag, "-f", str(context / dockerfile)]
    for key, value in buildargs.items():
        cmd += ["--build-arg", f"{key}={value}"]
    cmd.append(str(context))
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=BUILD_LIMIT_S,
            check=False,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "DOCKER_BUILDKIT": "0"},
        )
    except subprocess.TimeoutExpired as err:
        out = err.stdout.decode(errors="replace") if isinstance(err.stdout, bytes) else str(err.stdout or "")
        raise AssertionError(f"docker build did not finish within {BUILD_LIMIT_S:.0f}s:\n{out[-3000:]}") from None
    if proc.returncode != 0:
        raise AssertionError(f"docker build failed (exit {proc.returncode}):\n{(proc.stdout + proc.stderr)[-5000:]}")


def exposed_port(client: Any, tag: str) -> int | None:
    ports = (client.images.get(tag).attrs.get("Config") or {}).get("ExposedPorts") or {}
    tcp = sorted(int(p.split("/")[0]) for p in ports if p.endswith("/tcp"))
    return tcp[0] if tcp else None


def container_command(client: Any, tag: str, release: str | None) -> tuple[list[str] | None, list[str] | None]:
    """(entrypoint, cmd) for ``docker run``: the image's own, with ``release`` run first when given.

    The image's ENTRYPOINT and CMD are kept as they are: ``release`` runs in a
    ``sh -c`` that then ``exec``s exactly the argv the image would have run.
    """
    cfg = client.images.get(tag).attrs.get("Config") or {}
    entry = list(cfg.get("Entrypoint") or [])
    cmd = list(cfg.get("Cmd") or [])
    if not release:
        return None, None
    argv = entry + cmd
    assert argv, f"{tag} has neither ENTRYPOINT nor CMD"
    return ["/bin/sh", "-c", f'{release} && exec "$@"', "release"], argv


def http_status(port: int, path: str, timeout: float = 5.0) -> int | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": f"127.0.0.1:{port}"})
        return conn.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def listening_addresses(container: Any, port: int) -> set[str]:
    """Local addresses where a process *of this container* listens on TCP ``port``.

    ``ss -ltnp`` in the container's network namespace (the host's, under
    ``--network host``), keeping only sockets whose owning process is in the
    container's cgroup: another server on the same port does not count.
    """
    container.reload()
    pid = container.attrs["State"]["Pid"]
    out = subprocess.run(
        ["nsenter", "-t", str(pid), "-n", "ss", "-Hltnp"], capture_output=True, text=True, check=False, timeout=30
    ).stdout
    found = set()
    for line in out.splitlines():
        cols = line.split()
        if len(cols) < 4:
            continue
        addr, _, p = cols[3].rpartition(":")
        if p != str(port):
            continue
        owners = [int(m) for m in re.findall(r"pid=(\d+)", line)]
        if any(_in_container(owner, container.id) for owner in owners):
            found.add(addr.strip("[]"))
    return found


def _in_container(pid: int, container_id: str) -> bool:
    try:
        return container_id in Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return False


@contextlib.contextmanager
def started(client: Any, tag: str, env: Mapping[str, str], release: str | None, name: str) -> Iterator[Any]:
    entry, cmd = container_command(client, tag, release)
    kwargs: dict[str, Any] = {"entrypoint": entry, "command": cmd} if entry else {}
    container = client.containers.run(tag, detach=True, network_mode="host", environment=dict(env), name=name, **kwargs)
    try:
        yield container
    finally:
        with contextlib.suppress(Exception):
            container.remove(force=True)


def logs(container: Any, lines: int = 40) -> str:
    with contextlib.suppress(Exception):
        return "\n".join(container.logs().decode(errors="replace").splitlines()[-lines:])
    return "(no logs)"


def wait_for_answer(container: Any, port: int, path: str, accepted: Sequence[int], timeout: float) -> tuple[int, float]:
    """Poll until ``path`` answers an accepted status; (status, seconds).  Fails on exit or timeout."""
    t0 = time.monotonic()
    last: int | None = None
    while time.monotonic() - t0 < timeout:
        last = http_status(port, path)
        if last in accepted:
            return last, time.monotonic() - t0
        container.reload()
        if container.status in ("exited", "dead"):
            code = container.attrs["State"]["ExitCode"]
            raise AssertionError(f"the container exited ({code}) before answering:\n{logs(container)}")
        time.sleep(0.5)
    raise AssertionError(
        f"no accepted answer ({list(accepted)}) on 127.0.0.1:{port}{path} within {timeout:.0f}s "
        f"(last status: {last}):\n{logs(container)}"
    )


def image_size_mb(client: Any, tag: str) -> float:
    return float(client.images.get(tag).attrs.get("Size", 0)) / 1e6


# --------------------------------------------------------------------------- trial projects

# A project that declares a service beside the app (a database it connects to)
# cannot serve here, where only package registries are reachable: for those,
# generating and building is the whole trial.  The declaration is read from
# the project itself — a compose file or CI job that runs a database image, a
# database URL in an env example, or a Node driver that connects at start-up.
_SERVICE_IMAGES = re.compile(r"image:\s*['\"]?(postgres|postgis|mysql|mariadb|mongo|redis)\b", re.IGNORECASE)
_SERVICE_URL = re.compile(r"\b(postgres(?:ql)?|mysql|mongodb(?:\+srv)?)://", re.IGNORECASE)
_STARTUP_DRIVERS = frozenset({"mongoose", "connect-mongo"})


def outside_service(project: Path) -> str | None:
    """Why ``project`` needs an outside service to start (None when it needs none)."""
    files = [
        *project.glob("docker-compose*.y*ml"),
        *project.glob("compose*.y*ml"),
        *project.glob(".github/workflows/*.y*ml"),
    ]
    for f in files:
        m = _SERVICE_IMAGES.search(f.read_text(errors="replace"))
        if m:
            return f"{f.relative_to(project)} runs {m.group(1)} beside the app"
    for f in project.glob(".env*example*"):
        m = _SERVICE_URL.search(f.read_text(errors="replace"))
        if m:
            return f"{f.relative_to(project)} points the app at a {m.group(1)} server"
    manifest = project / "package.json"
    if manifest.exists():
        deps = set(json.loads(manifest.read_text()).get("dependencies") or {})
        hit = sorted(deps & _STARTUP_DRIVERS)
        if hit:
            return f"package.json depends on {', '.join(hit)}, which connects at start-up"
    return None


def commit_dates() -> dict[str, str]:
    """Project name -> the committer date of the commit its SOURCE.md names (commit_dates.toml)."""
    import tomllib

    table = tomllib.loads((Path(__file__).parent / "commit_dates.toml").read_text())
    return {str(k): str(v) for k, v in table.get("date", {}).items()}


def as_git_clone(project: Path, date: str) -> None:
    """Make a corpus copy what a user's clone is: a git checkout whose last commit has the project's date."""
    env = {
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
        "GIT_AUTHOR_NAME": "corpus",
        "GIT_AUTHOR_EMAIL": "corpus@example.invalid",
        "GIT_COMMITTER_NAME": "corpus",
        "GIT_COMMITTER_EMAIL": "corpus@example.invalid",
    }
    run(["git", "init", "-q"], cwd=project)
    run(["git", "add", "-A"], cwd=project)
    run(["git", "commit", "-q", "--no-verify", "--no-gpg-sign", "-m", "snapshot"], cwd=project, env=env)
