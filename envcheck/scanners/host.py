"""The host scanner: what the project actually runs on, on this machine (issue 3).

It captures the *project's* interpreter, never envcheck's own: the one named by
``--python``, else ``$VIRTUAL_ENV``, else ``./.venv`` / ``./venv``, else
``python3`` on ``PATH`` (DESIGN.md, Common options).  A small probe
(:mod:`envcheck.scanners._host_probe`) runs inside that interpreter — which may
be 3.6 or 3.13 while envcheck runs on 3.11 — and reports its version and every
installed distribution.  ``node --version`` runs concurrently; npm's version is
read from the ``package.json`` beside the npm script instead of starting npm
(``npm --version`` alone costs ~300 ms).  ``node_modules`` is read directly
(:mod:`envcheck.scanners.node_modules`).

Python packages: every distribution on the interpreter's ``sys.path`` is listed
once per place.  The first copy of a name on ``sys.path`` is the one that
imports and is ``active``; a later copy of the same name (a venv with
``--system-site-packages`` shadowing the base install, a user site below it)
is listed with ``active: false`` and a note, so the active set is exactly what
``pip list`` shows.  A user site this interpreter does not import from is
listed as inactive context too.

The interpreter is not even started when its description is cached
(:mod:`envcheck.scanners.interpreter_cache`, issue 15): the distributions are
then read in this process over the cached ``sys.path``, the same snapshot byte
for byte; ``ENVCHECK_NO_CACHE=1`` turns that off.

Anything missing (no interpreter, no node, a probe that hangs and is killed)
becomes one line in ``Snapshot.notes`` and the snapshot goes on without that
part.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from envcheck import _regex
from envcheck._pep440 import canonical_name, is_normal_version
from envcheck.errors import EnvcheckError
from envcheck.record import record
from envcheck.scanners import _host_probe, interpreter_cache
from envcheck.secrets import keep_value
from envcheck.snapshot import Declared, EnvVar, Package, Platform, Runtime, Snapshot, Source

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


DEFAULT_TIMEOUT = 20.0
TIMEOUT_ENV = "ENVCHECK_PROBE_TIMEOUT"
_PROBE_FILE = Path(__file__).with_name("_host_probe.py")
_ENV_EXAMPLES = (".env.example", ".env.sample", ".env.template", ".env.dist", "example.env")
_ENV_LINE = _regex.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")
_ARCH = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64", "armv8": "aarch64", "i686": "x86", "i386": "x86"}


# --------------------------------------------------------------------------- subprocesses


@record
class _Result:
    returncode: int | None  # None: killed after the timeout
    stdout: str
    stderr: str


class _Proc:
    """A child started now and collected later, so several run at once."""

    def __init__(self, argv: list[str], *, timeout: float, env: Mapping[str, str] | None, cwd: str | None) -> None:
        self.argv = argv
        self.timeout = timeout
        import subprocess  # only when a child is started: a cached interpreter needs none

        # A new session lets a timeout kill the whole group: a wrapper script
        # that sleeps in a grandchild would otherwise hold our pipes open.
        self.popen = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )

    def result(self) -> _Result:
        import signal
        import subprocess

        try:
            out, err = self.popen.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.popen.kill()
            out, err = self.popen.communicate()
            return _Result(None, "", "")
        return _Result(self.popen.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


def _start(
    argv: list[str], *, timeout: float, env: Mapping[str, str] | None = None, cwd: str | None = None
) -> _Proc | str:
    try:
        return _Proc(argv, timeout=timeout, env=env, cwd=cwd)
    except OSError as exc:
        return f"cannot run {argv[0]}: {exc.strerror or exc}"


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:200] if lines else "no output"


# --------------------------------------------------------------------------- python


def _which(name: str, path: str) -> str | None:
    # shutil (with bz2 and lzma behind it) only when a name must be looked up on PATH:
    # a snapshot of a project's own .venv never needs it.
    import shutil

    return shutil.which(name, path=path)


def resolve_python(root: Path, python: str | None, environ: Mapping[str, str]) -> tuple[str | None, list[str]]:
    """The project's interpreter in the design's order, and notes on what was passed over."""
    notes: list[str] = []
    search_path = environ.get("PATH", os.defpath)
    if python:
        candidate = _interpreter_at(Path(python)) if (os.sep in python or Path(python).exists()) else None
        if candidate is None and os.sep not in python:
            candidate = _which(python, path=search_path)
        if candidate is None:
            notes.append(f"python: --python {python}: no such interpreter; snapshot has no python part")
        return candidate, notes
    venv = environ.get("VIRTUAL_ENV")
    if venv:
        found = _interpreter_at(Path(venv))
        if found:
            return found, notes
        notes.append(f"python: VIRTUAL_ENV={venv} has no bin/python; ignored")
    for name in (".venv", "venv"):
        found = _interpreter_at(root / name)
        if found and _inside(found, root):
            # A real venv's bin/python links to a base interpreter outside the
            # project; a file that resolves inside it came with the repository
            # and may be anything. Running it is the user's explicit choice.
            notes.append(
                f"python: not running {name}/bin/python: it resolves inside the project, so it came with "
                "the repository, not from venv; pass --python to trust it"
            )
            continue
        if found:
            return found, notes
    found = _which("python3", path=search_path)
    if found is None:
        notes.append("python: no interpreter found (--python, $VIRTUAL_ENV, ./.venv, ./venv, python3 on PATH)")
    return found, notes


#: The start of the note that says the scanned interpreter is envcheck's own.
OWN_ENVIRONMENT = "python: the interpreter scanned is the one envcheck runs in"


def own_environment_note(doc: Mapping[str, Any], *, python_named: bool) -> str | None:
    """A note when the probed interpreter's environment is envcheck's own, else None.

    Installed with ``pip install .`` into the active interpreter, envcheck would
    report its own dependencies (rich, docker, requests, …) as the project's
    drift: say so, unless the user named that interpreter on purpose.
    """
    prefix = doc.get("prefix")
    if python_named or not isinstance(prefix, str):
        return None
    if os.path.realpath(prefix) != os.path.realpath(sys.prefix):
        return None
    return (
        f"{OWN_ENVIRONMENT} ({prefix}): its packages include envcheck's own dependencies, "
        "not only the project's; install envcheck in its own environment (pipx, uv tool) "
        "or pass --python / activate the project's venv"
    )


def require_interpreter(python: str | None, environ: Mapping[str, str] | None = None) -> None:
    """``--python PATH`` that names no interpreter is a usage error (exit 2), not a snapshot without python."""
    if not python:
        return
    found, _ = resolve_python(Path("."), python, os.environ if environ is None else environ)
    if found is None:
        raise EnvcheckError(
            "--python: no such interpreter (a python executable, or a venv/prefix directory)", path=python
        )


def _inside(interpreter: str, root: Path) -> bool:
    real = os.path.realpath(interpreter)
    base = os.path.realpath(root)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


# What an interpreter or `node --version` needs from the environment; the
# rest (CI secrets among it) never reaches a subprocess.  corepack's shims
# find the yarn/pnpm they run under COREPACK_HOME (else $XDG_CACHE_HOME/node/corepack):
# without it, and with the network off, `yarn --version` has nothing to run.
_SUBPROCESS_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ", "COREPACK_HOME", "XDG_CACHE_HOME")


def subprocess_env(environ: Mapping[str, str]) -> dict[str, str]:
    return {k: environ[k] for k in _SUBPROCESS_ENV if k in environ}


def _interpreter_at(path: Path) -> str | None:
    """An interpreter file, or the interpreter of a venv/prefix directory.

    The path is kept as given (not resolved): a venv's ``bin/python`` is a
    symlink to the base interpreter, and resolving it would lose the venv.
    """
    if path.is_dir():
        for rel in ("bin/python", "bin/python3", "Scripts/python.exe"):
            exe = path / rel
            if exe.is_file() and os.access(exe, os.X_OK):
                return os.path.abspath(exe)
        return None
    if path.is_file() and os.access(path, os.X_OK):
        return os.path.abspath(path)
    return None


def _description(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The probe's answer without what :func:`_host_probe.distributions` reads fresh each run."""
    return {k: v for k, v in doc.items() if k not in ("distributions", "notes")}


def _normalise_version(raw: str) -> str:
    if is_normal_version(raw):
        return raw  # packaging (~10 ms to import) only for the rare other kind
    from packaging.version import InvalidVersion, Version

    try:
        return str(Version(raw))
    except InvalidVersion:
        return raw  # pip keeps legacy versions as written, so do we


def _canonical(name: str) -> str:
    return canonical_name(name)


def python_from_probe(doc: Mapping[str, Any]) -> tuple[Runtime, tuple[Package, ...], list[str], str | None]:
    """Runtime, packages, notes and libc from the probe's JSON."""
    runtime = Runtime(
        version=str(doc.get("version", "")),
        implementation=str(doc.get("implementation") or "") or None,
        path=str(doc.get("executable") or "") or None,
    )
    packages: list[Package] = []
    raw_notes = doc.get("notes")
    notes = [f"python: {n}" for n in raw_notes if isinstance(n, str)] if isinstance(raw_notes, list) else []
    used: dict[str, tuple[str, str]] = {}
    dists = doc.get("distributions", [])
    for d in dists if isinstance(dists, list) else []:
        if not isinstance(d, dict) or not isinstance(d.get("name"), str) or not isinstance(d.get("version"), str):
            continue
        name = _canonical(d["name"])
        version = _normalise_version(d["version"])
        path = d.get("path") if isinstance(d.get("path"), str) else None
        active = bool(d.get("active"))
        packages.append(Package(name=name, version=version, path=path, active=active, editable=bool(d.get("editable"))))
        if active:
            used[name] = (version, path or "")
    for d in dists if isinstance(dists, list) else []:
        if isinstance(d, dict) and d.get("shadowed") and isinstance(d.get("name"), str):
            name = _canonical(d["name"])
            if name in used:
                version, where = used[name]
                notes.append(
                    f"python: {name} is installed twice: {version} at {where} is used, "
                    f"{_normalise_version(str(d.get('version')))} at {d.get('path')} is shadowed"
                )
    libc = doc.get("libc") if isinstance(doc.get("libc"), str) else None
    return runtime, tuple(packages), notes, libc


def _collect_probe(proc: _Proc | str, interpreter: str) -> tuple[dict[str, Any] | None, str | None]:
    if isinstance(proc, str):
        return None, f"python: {proc}; snapshot has no python part"
    res = proc.result()
    if res.returncode is None:
        return (
            None,
            f"python: probe of {interpreter} killed after {proc.timeout:g}s timeout; snapshot has no python part",
        )
    if res.returncode != 0:
        return None, f"python: probe of {interpreter} failed (exit {res.returncode}): {_last_line(res.stderr)}"
    try:
        doc = json.loads(res.stdout.strip().splitlines()[-1] if res.stdout.strip() else "")
    except (ValueError, IndexError):
        return None, f"python: probe of {interpreter} printed no JSON; is it a Python interpreter?"
    if not isinstance(doc, dict):
        return None, f"python: probe of {interpreter} printed unexpected JSON"
    return doc, None


# --------------------------------------------------------------------------- node


def _version_beside(binary: str, package: str) -> str | None:
    """Read a JS tool's version from its own package.json instead of starting it.

    ``/usr/bin/npm`` -> ``/usr/lib/node_modules/npm/bin/npm-cli.js`` ->
    ``../package.json`` with ``"name": "npm"``.
    """
    real = Path(os.path.realpath(binary))
    for parent in list(real.parents)[:3]:
        manifest = parent / "package.json"
        try:
            doc = json.loads(manifest.read_bytes()[:1_000_000])
        except (OSError, ValueError, UnicodeDecodeError):
            continue
        if isinstance(doc, dict) and doc.get("name") == package and isinstance(doc.get("version"), str):
            return str(doc["version"])
    return None


def _project_managers(root: Path) -> list[str]:
    """``yarn``/``pnpm`` when the project uses them (a lock file or ``packageManager``)."""
    used: list[str] = []
    manager = ""
    try:
        doc = json.loads((root / "package.json").read_bytes()[:4_000_000])
        if isinstance(doc, dict) and isinstance(doc.get("packageManager"), str):
            manager = doc["packageManager"].split("@")[0]
    except (OSError, ValueError, UnicodeDecodeError):
        pass
    if manager == "yarn" or (root / "yarn.lock").is_file():
        used.append("yarn")
    if manager == "pnpm" or (root / "pnpm-lock.yaml").is_file():
        used.append("pnpm")
    return used


def _clean_version(text: str) -> str | None:
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    first = first[1:] if first.startswith("v") else first
    return first if re.fullmatch(r"[0-9][0-9A-Za-z.+-]*", first) else None


# --------------------------------------------------------------------------- platform


def parse_os_release(text: str) -> str | None:
    """``"debian 12"`` from /etc/os-release (ID and VERSION_ID)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            fields[key.strip()] = value.strip().strip("\"'")
    ident = fields.get("ID")
    if not ident:
        return None
    version = fields.get("VERSION_ID") or fields.get("VERSION_CODENAME")
    return f"{ident} {version}" if version else ident


def normalise_arch(machine: str) -> str:
    m = machine.lower()
    return _ARCH.get(m, m)


def _uname() -> tuple[str, str]:
    """platform.system() and platform.machine(): the same os.uname() fields, without importing platform."""
    uname = getattr(os, "uname", None)
    if uname is not None:
        info = uname()
        return info.sysname, info.machine
    import platform as _platform

    return _platform.system(), _platform.machine()


def host_platform(probe_libc: str | None, timeout: float) -> Platform:
    sysname, machine = _uname()
    system = sysname.lower() or sys.platform
    distro = None
    if system == "linux":
        for candidate in ("/etc/os-release", "/usr/lib/os-release"):
            try:
                distro = parse_os_release(Path(candidate).read_text(encoding="utf-8", errors="replace"))
                break
            except OSError:
                continue
    libc = (probe_libc or _own_libc(timeout)) if system == "linux" else None
    return Platform(os=system, arch=normalise_arch(machine), distro=distro, libc=libc)


def _own_libc(timeout: float) -> str | None:
    try:
        value = os.confstr("CS_GNU_LIBC_VERSION")
    except (ValueError, OSError):
        value = None
    if value:
        return value
    # musl has no confstr for it; its dynamic loader prints "Version 1.2.4" when run bare.
    for loader in sorted(Path("/lib").glob("ld-musl-*.so.1")):
        proc = _start([str(loader)], timeout=min(timeout, 5.0))
        if isinstance(proc, str):
            continue
        match = re.search(r"Version\s+([0-9.]+)", proc.result().stderr)
        return f"musl {match.group(1)}" if match else "musl"
    return None


# --------------------------------------------------------------------------- env


def env_example_names(root: Path) -> list[str]:
    """Variable names a project documents in ``.env.example`` and friends."""
    names: list[str] = []
    for fname in _ENV_EXAMPLES:
        path = root / fname
        try:
            text = path.read_bytes()[:4_000_000].decode("utf-8", "replace")
        except OSError:
            continue
        for line in text.splitlines():
            m = _ENV_LINE.match(line)
            if m:
                names.append(m.group(1))
    return names


def capture_env(names: Iterable[str], environ: Mapping[str, str], allow: Iterable[str]) -> dict[str, EnvVar]:
    """Set/unset for each name; a value only where :func:`envcheck.secrets.keep_value` allows."""
    allow_t = tuple(allow)
    out: dict[str, EnvVar] = {}
    for name in names:
        if name in out:
            continue
        value = environ.get(name)
        if value is None:
            out[name] = EnvVar(set=False)
        else:
            out[name] = EnvVar(set=True, value=value if keep_value(name, value, allow_t) else None)
    return out


def _project_declared(root: Path) -> tuple[Declared | None, list[str]]:
    try:
        from envcheck.scanners.project import scan_project
    except ImportError:
        return None, ["env: the project scanner is unavailable; only env-allow and .env.example names recorded"]
    try:
        return scan_project(root).declared, []
    except EnvcheckError as exc:
        return None, [f"env: project files not read ({exc}); only env-allow and .env.example names recorded"]


# --------------------------------------------------------------------------- entry point


def scan_host(
    root: Path,
    *,
    python: str | None = None,
    node: bool = True,
    env_allow: Iterable[str] = (),
    env_names: Iterable[str] | None = None,
    environ: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> Snapshot:
    """Snapshot the project's interpreter, node, environment and platform on this machine.

    ``timeout`` bounds each subprocess (default 20 s, or ``$ENVCHECK_PROBE_TIMEOUT``).
    """
    env_map: Mapping[str, str] = os.environ if environ is None else environ
    limit = timeout if timeout is not None else _timeout_from(env_map)
    root = Path(root)
    notes: list[str] = []
    cwd = os.path.abspath(os.sep)

    # Start every subprocess first; they run while we read files below.
    interpreter, py_notes = resolve_python(root, python, env_map)
    notes.extend(py_notes)
    child_env = subprocess_env(env_map)
    cache_home = interpreter_cache.cache_dir(env_map) if interpreter else None
    cache = (
        interpreter_cache.InterpreterCache(cache_home, interpreter_cache.probe_identity(_PROBE_FILE), child_env)
        if cache_home
        else None
    )
    cached = cache.load(interpreter) if cache and interpreter else None
    py_proc: _Proc | str | None = None
    cache_key: dict[str, Any] | None = None
    probe_started = 0.0
    if interpreter and cached is None:
        cache_key = cache.key(interpreter) if cache else None
        probe_started = time.time()
        probe = [interpreter, "-E", "-c", _PROBE_FILE.read_text(encoding="utf-8")]
        py_proc = _start(probe, timeout=limit, env=child_env, cwd=cwd)
    search_path = env_map.get("PATH", os.defpath)
    node_bin = _which("node", path=search_path) if node else None
    node_proc = _start([node_bin, "--version"], timeout=limit, env=child_env, cwd=cwd) if node_bin else None

    runtimes: dict[str, Runtime] = {}
    packages: dict[str, tuple[Package, ...]] = {}

    if node:
        from envcheck.scanners.node_modules import walk_node_modules

        tree = walk_node_modules(root)
        if tree.packages or (root / "node_modules").is_dir():
            packages["node"] = tuple(Package(name=p.name, version=p.version, path=p.path) for p in tree.packages)
        notes.extend(tree.notes)
        notes.extend(
            _tools(
                root,
                search_path=search_path,
                limit=limit,
                environ=env_map,
                runtimes=runtimes,
                have_node=node_bin is not None,
            )
        )

    declared: Declared | None = None
    if env_names is None:
        declared, decl_notes = _project_declared(root)
        notes.extend(decl_notes)
        refs = [r.name for r in declared.env_refs] if declared else []
        wanted = [*refs, *env_example_names(root)]
    else:
        wanted = list(env_names)
    allow = tuple(env_allow)
    env = capture_env([*wanted, *allow], env_map, allow)

    libc: str | None = None
    doc: dict[str, Any] | None = None
    if cached is not None:
        # The interpreter is unchanged since it was probed: only what is
        # installed is read, here, with the probe's own code.
        doc = dict(cached)
        doc["distributions"], doc["notes"] = _host_probe.distributions(cached)
    elif py_proc is not None and interpreter is not None:
        doc, note = _collect_probe(py_proc, interpreter)
        if note:
            notes.append(note)
        if doc is not None and cache is not None and cache_key is not None:
            cache.store(interpreter, cache_key, _description(doc), probe_started)
    probe_doc = doc
    probe_path: list[str] = []
    if doc is not None:
        raw_path = doc.get("path")
        probe_path = [p for p in raw_path if isinstance(p, str)] if isinstance(raw_path, list) else []
        runtime, py_packages, probe_notes, libc = python_from_probe(doc)
        runtimes["python"] = runtime
        packages["python"] = py_packages
        notes.extend(probe_notes)
        own = own_environment_note(doc, python_named=python is not None)
        if own:
            notes.append(own)

    if node:
        if isinstance(node_proc, _Proc) and node_bin:
            res = node_proc.result()
            version = _clean_version(res.stdout) if res.returncode == 0 else None
            if version:
                runtimes["node"] = Runtime(version=version, path=node_bin)
            elif res.returncode is None:
                notes.append(f"node: `node --version` killed after {limit:g}s timeout")
            else:
                notes.append(f"node: `{node_bin} --version` failed: {_last_line(res.stderr)}")
        elif isinstance(node_proc, str):
            notes.append(f"node: {node_proc}")
        else:
            notes.append("node: not found on PATH; snapshot has no node runtime")

    platform = host_platform(libc, limit)
    if probe_doc is not None and "python" in runtimes:
        from envcheck.platform_tags import from_probe

        mac = None
        if platform.os == "darwin":
            import platform as _platform

            mac = _platform.mac_ver()[0]
        runtimes["python"] = from_probe(runtimes["python"], platform, probe_doc, os_version=mac or None)

    # Native libraries the installed extensions link (issue 18), read in this
    # process from the paths the probe reported, cached by stat.
    from envcheck.scanners.native_host import scan_host_native

    native, native_notes = scan_host_native(root, packages, probe_path, environ=env_map, timeout=limit)
    notes.extend(native_notes)

    return Snapshot(
        source=Source(kind="host", ref=os.path.abspath(root)),
        platform=platform,
        runtimes=runtimes,
        packages=packages,
        env=env,
        declared=declared,
        notes=tuple(notes),
        native=native,
    )


def _timeout_from(environ: Mapping[str, str]) -> float:
    raw = environ.get(TIMEOUT_ENV)
    if raw:
        try:
            value = float(raw)
        except ValueError:
            return DEFAULT_TIMEOUT
        if value > 0:
            return value
    return DEFAULT_TIMEOUT


def _tools(
    root: Path,
    *,
    search_path: str,
    limit: float,
    environ: Mapping[str, str],
    runtimes: dict[str, Runtime],
    have_node: bool,
) -> list[str]:
    """npm (always, when node is there) and yarn/pnpm (when the project uses them)."""
    notes: list[str] = []
    wanted = (["npm"] if have_node else []) + _project_managers(root)
    for tool in wanted:
        binary = _which(tool, path=search_path)
        if binary is None:
            notes.append(f"{tool}: not found on PATH")
            continue
        version = _version_beside(binary, tool)
        if version is None:
            # corepack shims and standalone builds: ask the tool, in the
            # project so corepack honours its packageManager pin.
            # Corepack must not fetch a package manager named by the repository.
            quiet = {**subprocess_env(environ), "COREPACK_ENABLE_NETWORK": "0", "COREPACK_ENABLE_DOWNLOAD_PROMPT": "0"}
            proc = _start([binary, "--version"], timeout=limit, env=quiet, cwd=os.path.abspath(root))
            if isinstance(proc, str):
                notes.append(f"{tool}: {proc}")
                continue
            res = proc.result()
            version = _clean_version(res.stdout) if res.returncode == 0 else None
            if version is None:
                notes.append(f"{tool}: `{tool} --version` gave no version")
                continue
        runtimes[tool] = Runtime(version=version, path=binary)
    return notes
