# ruff: noqa: UP006, UP035, UP031, UP045
"""The collector envcheck sends to a remote host over ssh (issue 16).

Like :mod:`envcheck.scanners._host_probe`, this file is *source to send*, not
a module envcheck needs on the other side: ``envcheck.scanners.ssh`` prepends
one line of parameters and pipes the text to ``python3 -I -B -`` on the remote
host, so nothing is installed or written there (``-B``: no bytecode; ``-``:
the program comes on stdin).  It must therefore run on Python 3.6+ with the
standard library only, and print exactly one line that starts with
:data:`MARKER` (login scripts may print banners around it).

It gathers *raw facts* — which interpreter the project would run with (the
same rules as :func:`envcheck.scanners.host.resolve_python`), the host probe's
JSON from that interpreter, node and its tools, the ``node_modules`` tree,
platform facts, the project's file names and, on a second request, the
contents of the files envcheck's parsers read — and envcheck turns them into a
snapshot with the same code the local host scanner uses.

Environment values are secrets until proven otherwise: the collector returns
the *value* of a variable only when envcheck named it in ``env.values`` (names
the secret policy lets through, decided on envcheck's side); every other
variable comes back as presence only, so a credential never leaves the host.

The environment functions (a process's ``/proc/PID/environ``, a systemd
unit's ``Environment=``/``EnvironmentFiles=``) are also imported locally by
:mod:`envcheck.scanners.service_env`: one implementation for both sides.
"""

import base64
import json
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple

MARKER = "ENVCHECK-REMOTE-1 "
_MAX_MANIFEST = 4 * 1024 * 1024
_MAX_NODE_DEPTH = 64
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


class CollectorError(Exception):
    """A fact the user asked for cannot be read (one line, reported as an error)."""


# --------------------------------------------------------------------------- subprocesses


def run(
    argv: Sequence[str], timeout: float, env: Optional[Mapping[str, str]] = None, cwd: Optional[str] = None
) -> Tuple[Optional[int], str, str]:
    """``(returncode or None when killed after timeout, stdout, stderr)``."""
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,  # a timeout kills the whole group
        )
    except OSError as exc:
        return 126, "", "cannot run %s: %s" % (argv[0], exc.strerror or exc)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            proc.kill()
        proc.communicate()
        return None, "", ""
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:200] if lines else "no output"


# --------------------------------------------------------------------------- python (host.resolve_python's rules)


def _interpreter_at(path: str) -> Optional[str]:
    if os.path.isdir(path):
        for rel in ("bin/python", "bin/python3", "Scripts/python.exe"):
            exe = os.path.join(path, rel)
            if os.path.isfile(exe) and os.access(exe, os.X_OK):
                return os.path.abspath(exe)
        return None
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return os.path.abspath(path)
    return None


def _inside(path: str, root: str) -> bool:
    real = os.path.realpath(path)
    base = os.path.realpath(root)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def resolve_python(root: str, python: Optional[str], environ: Mapping[str, str]) -> Tuple[Optional[str], List[str]]:
    notes = []  # type: List[str]
    search_path = environ.get("PATH", os.defpath)
    if python:
        candidate = _interpreter_at(python) if (os.sep in python or os.path.exists(python)) else None
        if candidate is None and os.sep not in python:
            candidate = shutil.which(python, path=search_path)
        if candidate is None:
            notes.append("python: --python %s: no such interpreter; snapshot has no python part" % python)
        return candidate, notes
    venv = environ.get("VIRTUAL_ENV")
    if venv:
        found = _interpreter_at(venv)
        if found:
            return found, notes
        notes.append("python: VIRTUAL_ENV=%s has no bin/python; ignored" % venv)
    for name in (".venv", "venv"):
        found = _interpreter_at(os.path.join(root, name))
        if found and _inside(found, root):
            notes.append(
                "python: not running %s/bin/python: it resolves inside the project, so it came with "
                "the repository, not from venv; pass --python to trust it" % name
            )
            continue
        if found:
            return found, notes
    found = shutil.which("python3", path=search_path)
    if found is None:
        notes.append("python: no interpreter found (--python, $VIRTUAL_ENV, ./.venv, ./venv, python3 on PATH)")
    return found, notes


def probe_python(interpreter: str, source: str, timeout: float, env: Mapping[str, str]) -> Tuple[Any, Optional[str]]:
    code, out, err = run([interpreter, "-E", "-B", "-c", source], timeout, env=env, cwd=os.path.abspath(os.sep))
    if code is None:
        return None, "python: probe of %s killed after %gs timeout; snapshot has no python part" % (
            interpreter,
            timeout,
        )
    if code == 126 and not out:
        return None, "python: %s; snapshot has no python part" % err
    if code != 0:
        return None, "python: probe of %s failed (exit %s): %s" % (interpreter, code, _last_line(err))
    try:
        doc = json.loads(out.strip().splitlines()[-1] if out.strip() else "")
    except (ValueError, IndexError):
        return None, "python: probe of %s printed no JSON; is it a Python interpreter?" % interpreter
    if not isinstance(doc, dict):
        return None, "python: probe of %s printed unexpected JSON" % interpreter
    return doc, None


# --------------------------------------------------------------------------- node (host.py's rules)


def _clean_version(text: str) -> Optional[str]:
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    first = first[1:] if first.startswith("v") else first
    return first if re.match(r"^[0-9][0-9A-Za-z.+-]*$", first) else None


def _version_beside(binary: str, package: str) -> Optional[str]:
    real = os.path.realpath(binary)
    parent = real
    for _ in range(3):
        parent = os.path.dirname(parent)
        doc = _json_file(os.path.join(parent, "package.json"), 1000000)
        if isinstance(doc, dict) and doc.get("name") == package and isinstance(doc.get("version"), str):
            return str(doc["version"])
    return None


def _json_file(path: str, limit: int) -> Any:
    try:
        with open(path, "rb") as fh:
            return json.loads(fh.read(limit).decode("utf-8-sig"))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return None


def _project_managers(root: str) -> List[str]:
    used = []  # type: List[str]
    manager = ""
    doc = _json_file(os.path.join(root, "package.json"), 4000000)
    if isinstance(doc, dict) and isinstance(doc.get("packageManager"), str):
        manager = doc["packageManager"].split("@")[0]
    if manager == "yarn" or os.path.isfile(os.path.join(root, "yarn.lock")):
        used.append("yarn")
    if manager == "pnpm" or os.path.isfile(os.path.join(root, "pnpm-lock.yaml")):
        used.append("pnpm")
    return used


def node_facts(root: str, environ: Mapping[str, str], child_env: Mapping[str, str], timeout: float) -> Dict[str, Any]:
    search_path = environ.get("PATH", os.defpath)
    node_bin = shutil.which("node", path=search_path)
    out = {"node_path": node_bin, "tools": {}, "tool_notes": []}  # type: Dict[str, Any]
    if node_bin:
        code, stdout, stderr = run([node_bin, "--version"], timeout, env=child_env, cwd=os.path.abspath(os.sep))
        version = _clean_version(stdout) if code == 0 else None
        if version:
            out["node_version"] = version
        elif code is None:
            out["node_note"] = "node: `node --version` killed after %gs timeout" % timeout
        else:
            out["node_note"] = "node: `%s --version` failed: %s" % (node_bin, _last_line(stderr))
    wanted = (["npm"] if node_bin else []) + _project_managers(root)
    for tool in wanted:
        binary = shutil.which(tool, path=search_path)
        if binary is None:
            out["tool_notes"].append("%s: not found on PATH" % tool)
            continue
        version = _version_beside(binary, tool)
        if version is None:
            quiet = dict(child_env)
            quiet.update({"COREPACK_ENABLE_NETWORK": "0", "COREPACK_ENABLE_DOWNLOAD_PROMPT": "0"})
            code, stdout, _err = run([binary, "--version"], timeout, env=quiet, cwd=root)
            version = _clean_version(stdout) if code == 0 else None
            if version is None:
                out["tool_notes"].append("%s: `%s --version` gave no version" % (tool, tool))
                continue
        out["tools"][tool] = {"path": binary, "version": version}
    return out


def _package_json(pkg_dir: str) -> Tuple[bool, Optional[str]]:
    """``(has a manifest, its version)`` like node_modules.parse_package_json."""
    try:
        with open(os.path.join(pkg_dir, "package.json"), "rb") as fh:
            data = fh.read(_MAX_MANIFEST)
    except OSError:
        return False, None
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return True, None
    version = doc.get("version") if isinstance(doc, dict) else None
    return True, (version if isinstance(version, str) and version else None)


def _children(modules_dir: str) -> List[Tuple[str, str, bool]]:
    out = []  # type: List[Tuple[str, str, bool]]
    try:
        entries = sorted(os.scandir(modules_dir), key=lambda e: e.name)
    except OSError:
        return out
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.name.startswith("@"):
            try:
                scoped = sorted(os.scandir(entry.path), key=lambda e: e.name)
            except OSError:
                continue
            for sub in scoped:
                if not sub.name.startswith("."):
                    out.append(("%s/%s" % (entry.name, sub.name), sub.path, sub.is_symlink()))
            continue
        out.append((entry.name, entry.path, entry.is_symlink()))
    return out


class NodeWalker:
    """The same walk as :mod:`envcheck.scanners.node_modules` (a test holds them equal)."""

    def __init__(self) -> None:
        self.packages = []  # type: List[List[Any]]
        self.notes = []  # type: List[str]
        self.seen_real = set()  # type: Set[str]

    def walk(self, modules_dir: str, modules_real: str, logical: str, depth: int) -> None:
        if depth > _MAX_NODE_DEPTH:
            self.notes.append("node: %s: nested deeper than %d levels, not followed" % (logical, _MAX_NODE_DEPTH))
            return
        for folder, path, is_link in _children(modules_dir):
            rel = "%s/%s" % (logical, folder)
            if is_link and not os.path.exists(path):
                self.notes.append("node: %s: broken symlink" % rel)
                continue
            if not os.path.isdir(path):
                continue
            real = os.path.realpath(path) if is_link else os.path.join(modules_real, folder)
            if real in self.seen_real:
                continue
            self.seen_real.add(real)
            has_manifest, version = _package_json(path)
            if not has_manifest:
                continue
            if version is None:
                self.notes.append("node: %s/package.json: no valid version, skipped" % rel)
                continue
            self.packages.append([folder, version, rel, is_link])
            nested = os.path.join(path, "node_modules")
            if os.path.isdir(nested) and ("%snode_modules%s.pnpm%s" % (os.sep, os.sep, os.sep)) not in real:
                self.walk(nested, os.path.join(real, "node_modules"), rel + "/node_modules", depth + 1)

    def walk_pnpm_store(self, store: str, logical: str) -> None:
        try:
            ids = sorted(os.scandir(store), key=lambda e: e.name)
        except OSError:
            return
        for entry in ids:
            if entry.name == "node_modules" or entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
                continue
            inner = os.path.join(entry.path, "node_modules")
            inner_real = os.path.realpath(inner)
            for folder, path, is_link in _children(inner):
                if is_link:
                    continue
                real = os.path.join(inner_real, folder)
                if real in self.seen_real:
                    continue
                self.seen_real.add(real)
                has_manifest, version = _package_json(path)
                if not has_manifest or version is None:
                    continue
                rel = "%s/.pnpm/%s/node_modules/%s" % (logical, entry.name, folder)
                self.packages.append([folder, version, rel, False])


def walk_node_modules(root: str) -> Dict[str, Any]:
    top = os.path.join(root, "node_modules")
    if not os.path.isdir(top):
        return {"present": False, "packages": [], "notes": []}
    walker = NodeWalker()
    walker.walk(top, os.path.realpath(top), "node_modules", 0)
    store = os.path.join(top, ".pnpm")
    if os.path.isdir(store):
        walker.walk_pnpm_store(store, "node_modules")
    return {"present": True, "packages": walker.packages, "notes": walker.notes}


# --------------------------------------------------------------------------- platform


def _libc(timeout: float) -> Optional[str]:
    try:
        value = os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, ValueError, OSError):
        value = None
    if value:
        return value
    try:
        loaders = sorted(n for n in os.listdir("/lib") if n.startswith("ld-musl-") and n.endswith(".so.1"))
    except OSError:
        loaders = []
    for loader in loaders:
        _code, _out, err = run([os.path.join("/lib", loader)], min(timeout, 5.0))
        match = re.search(r"Version\s+([0-9.]+)", err)
        return "musl %s" % match.group(1) if match else "musl"
    return None


def platform_facts(timeout: float) -> Dict[str, Any]:
    system = platform.system().lower() or sys.platform
    os_release = None
    if system == "linux":
        for candidate in ("/etc/os-release", "/usr/lib/os-release"):
            try:
                with open(candidate, "rb") as fh:
                    os_release = fh.read(64 * 1024).decode("utf-8", "replace")
                break
            except OSError:
                continue
    return {
        "system": system,
        "machine": platform.machine(),
        "os_release": os_release,
        "libc": _libc(timeout) if system == "linux" else None,
    }


# --------------------------------------------------------------------------- project files


def list_files(root: str, skip_dirs: Sequence[str], max_depth: int, max_entries: int) -> Dict[str, Any]:
    """Relative paths of the files project.discover would consider (envcheck picks the parsed ones)."""
    skip = set(skip_dirs)
    real_root = os.path.realpath(root)
    files = []  # type: List[str]
    notes = []  # type: List[str]
    entries = 0
    stack = [(root, "", 0)]
    while stack:
        directory, rel_dir, depth = stack.pop()
        try:
            children = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            if not rel_dir:
                raise CollectorError("cannot read directory: %s" % (exc.strerror or exc)) from None
            notes.append("%s: skipped, cannot read (%s)" % (rel_dir, exc.strerror or exc))
            continue
        subdirs = []
        for entry in children:
            entries += 1
            if entries > max_entries:
                notes.append("stopped after %d files and folders; pass FILES to scan more" % max_entries)
                stack = []
                break
            rel = entry.name if not rel_dir else rel_dir + "/" + entry.name
            try:
                is_link = entry.is_symlink()
                if entry.is_dir(follow_symlinks=False):
                    if not is_link and not _skip_dir(entry.name, entry.path, skip):
                        subdirs.append((entry.path, rel))
                    continue
                if not entry.is_file(follow_symlinks=True):
                    continue
                if is_link and not _inside(entry.path, real_root):
                    continue
            except OSError:
                continue
            files.append(rel)
        if depth + 1 > max_depth:
            if subdirs:
                notes.append("%s: not descending deeper than %d levels" % (rel_dir or ".", max_depth))
            continue
        stack.extend((d, r, depth + 1) for d, r in reversed(subdirs))
    return {"files": files, "notes": notes}


def _skip_dir(name: str, path: str, skip: Set[str]) -> bool:
    if name in skip or name.endswith(".egg-info"):
        return True
    if os.path.isfile(os.path.join(path, "pyvenv.cfg")) or os.path.isdir(os.path.join(path, "conda-meta")):
        return True
    if name == "build":
        try:
            return any(n == "lib" or n.startswith(("bdist.", "temp.", "lib.", "scripts-")) for n in os.listdir(path))
        except OSError:
            return False
    return False


def read_files(root: str, rels: Sequence[str], max_file: int, max_total: int) -> Dict[str, Any]:
    real_root = os.path.realpath(root)
    contents = {}  # type: Dict[str, str]
    notes = []  # type: List[str]
    total = 0
    for rel in rels:
        parts = rel.split("/")
        if rel.startswith("/") or ".." in parts:
            continue
        path = os.path.join(root, *parts)
        if not _inside(path, real_root):
            continue
        try:
            with open(path, "rb") as fh:
                data = fh.read(max_file + 1)
        except OSError as exc:
            notes.append("%s: cannot read (%s)" % (rel, exc.strerror or exc))
            continue
        if len(data) > max_file:
            notes.append("%s: larger than %d bytes, not read" % (rel, max_file))
            continue
        if total + len(data) > max_total:
            notes.append("stopped reading project files after %d bytes" % max_total)
            break
        total += len(data)
        contents[rel] = base64.b64encode(data).decode("ascii")
    return {"contents": contents, "notes": notes}


# --------------------------------------------------------------------------- environment sources


def parse_environ(data: bytes) -> Dict[str, str]:
    """``/proc/PID/environ``: NUL-separated ``NAME=value`` entries (the first of a name wins, like getenv)."""
    out = {}  # type: Dict[str, str]
    for item in data.split(b"\0"):
        if not item or b"=" not in item[1:]:
            continue
        name, _, value = item.partition(b"=")
        key = name.decode("utf-8", "replace")
        if key not in out:
            out[key] = value.decode("utf-8", "replace")
    return out


def process_environ(pid: int) -> Dict[str, str]:
    path = "/proc/%d/environ" % pid
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise CollectorError("--pid %d: no such process" % pid) from None
    except PermissionError:
        raise CollectorError(
            "--pid %d: permission denied reading %s (run as the process's user or root)" % (pid, path)
        ) from None
    except OSError as exc:
        raise CollectorError("--pid %d: cannot read %s: %s" % (pid, path, exc.strerror or exc)) from None
    return parse_environ(data)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$", "`": "`"}


def parse_env_file(text: str) -> Dict[str, str]:
    """A systemd ``EnvironmentFile=`` (also a docker ``--env-file``): ``NAME=value`` lines.

    ``#``/``;`` comments, an optional ``export``, single quotes verbatim,
    double quotes with backslash escapes, a trailing backslash continues the
    line (systemd.exec(5), "EnvironmentFile=").
    """
    out = {}  # type: Dict[str, str]
    lines = text.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        stripped = line.lstrip()
        if not stripped or stripped[0] in "#;":
            continue
        while stripped.endswith("\\") and not stripped.endswith("\\\\") and i < len(lines) and "'" not in stripped:
            stripped = stripped[:-1] + lines[i]
            i += 1
        if stripped.startswith("export ") or stripped.startswith("export\t"):
            stripped = stripped[7:].lstrip()
        name, sep, raw = stripped.partition("=")
        name = name.strip()
        if not sep or not _ENV_NAME.match(name):
            continue
        out[name] = _env_value(raw.strip())
    return out


def _env_value(raw: str) -> str:
    value = []  # type: List[str]
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "'":
            end = raw.find("'", i + 1)
            end = len(raw) if end < 0 else end
            value.append(raw[i + 1 : end])
            i = end + 1
        elif ch == '"':
            i += 1
            while i < len(raw) and raw[i] != '"':
                if raw[i] == "\\" and i + 1 < len(raw):
                    value.append(_ESCAPES.get(raw[i + 1], "\\" + raw[i + 1]))
                    i += 2
                else:
                    value.append(raw[i])
                    i += 1
            i += 1
        elif ch == "\\" and i + 1 < len(raw):
            value.append(raw[i + 1])
            i += 2
        elif ch == "#" and (i == 0 or raw[i - 1] in " \t"):
            break  # an unquoted comment after the value
        else:
            value.append(ch)
            i += 1
    return "".join(value).rstrip()


def parse_systemctl_show(text: str) -> Dict[str, Any]:
    """``systemctl show -p LoadState -p Environment -p EnvironmentFiles`` → its parts.

    ``Environment=`` is one line of shell-quoted ``NAME=value`` words;
    ``EnvironmentFiles=`` one line per file, ``PATH (ignore_errors=yes|no)``.
    """
    out = {"load_state": None, "environment": {}, "files": []}  # type: Dict[str, Any]
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue
        if key == "LoadState":
            out["load_state"] = value.strip()
        elif key == "Environment" and value.strip():
            try:
                words = shlex.split(value)
            except ValueError:
                words = value.split()
            for word in words:
                name, eq, val = word.partition("=")
                if eq and _ENV_NAME.match(name):
                    out["environment"][name] = val
        elif key == "EnvironmentFiles" and value.strip():
            match = re.match(r"^(.*?)\s*\(ignore_errors=(yes|no)\)\s*$", value)
            path, optional = (match.group(1), match.group(2) == "yes") if match else (value.strip(), False)
            if path.startswith("-"):
                path, optional = path[1:], True
            out["files"].append((path, optional))
    return out


def unit_environ(unit: str, timeout: float, systemctl: str = "systemctl") -> Dict[str, str]:
    """The environment a systemd unit's configuration gives its processes."""
    if not re.match(r"^[A-Za-z0-9@._:\\-]+$", unit) or unit.startswith("-"):
        raise CollectorError("--unit %s: not a systemd unit name" % unit)
    binary = shutil.which(systemctl)
    if binary is None:
        raise CollectorError("--unit %s: systemctl not found (is this a systemd host?)" % unit)
    argv = [binary, "show", "--no-pager", "-p", "LoadState", "-p", "Environment", "-p", "EnvironmentFiles", unit]
    code, out, err = run(argv, timeout)
    if code is None:
        raise CollectorError("--unit %s: systemctl show did not answer within %gs" % (unit, timeout))
    if code != 0:
        raise CollectorError("--unit %s: systemctl show failed (exit %s): %s" % (unit, code, _last_line(err)))
    shown = parse_systemctl_show(out)
    if shown["load_state"] in ("not-found", "masked", None):
        raise CollectorError("--unit %s: no such unit (LoadState=%s)" % (unit, shown["load_state"] or "?"))
    env = {}  # type: Dict[str, str]
    # systemd applies Environment= first and EnvironmentFiles= over it.
    env.update(shown["environment"])
    for path, optional in shown["files"]:
        try:
            with open(path, "rb") as fh:
                env.update(parse_env_file(fh.read(4 * 1024 * 1024).decode("utf-8", "replace")))
        except FileNotFoundError:
            if not optional:
                raise CollectorError("--unit %s: its EnvironmentFile %s does not exist" % (unit, path)) from None
        except PermissionError:
            raise CollectorError("--unit %s: permission denied reading its EnvironmentFile %s" % (unit, path)) from None
        except OSError as exc:
            raise CollectorError("--unit %s: cannot read %s: %s" % (unit, path, exc.strerror or exc)) from None
    return env


def environ_for(spec: Mapping[str, Any], timeout: float) -> Tuple[Dict[str, str], str]:
    """The environment the snapshot describes, and where it came from."""
    pid = spec.get("pid")
    unit = spec.get("unit")
    if pid is not None:
        return process_environ(int(pid)), "/proc/%d/environ" % int(pid)
    if unit:
        return unit_environ(str(unit), timeout), "systemd unit %s (Environment=, EnvironmentFiles=)" % unit
    return dict(os.environ), "the ssh session's environment"


def select_env(environ: Mapping[str, str], names: Optional[Sequence[str]], values: Sequence[str]) -> Dict[str, Any]:
    """Presence for ``names`` (every name when None); a value only for names in ``values``."""
    allowed = set(values)
    wanted = sorted(environ) if names is None else list(names)
    return {n: (environ[n] if n in allowed else None) for n in wanted if n in environ}


# --------------------------------------------------------------------------- entry point


def collect(params: Mapping[str, Any]) -> Dict[str, Any]:
    timeout = float(params.get("timeout") or 20.0)
    root_raw = params.get("root") or "~"
    root = os.path.abspath(os.path.expanduser(root_raw))
    out = {"root": root}  # type: Dict[str, Any]
    if not os.path.isdir(root):
        problem = "no such directory" if not os.path.exists(root) else "not a directory"
        # The URL already names the path; an expanded `~` is worth saying.
        raise CollectorError(problem + ("" if root == root_raw else " (%s)" % root))
    environ = dict(os.environ)
    child_env = {k: environ[k] for k in params.get("subprocess_env", ()) if k in environ}
    want = set(params.get("want", ()))
    if "python" in want:
        interpreter, notes = resolve_python(root, params.get("python"), environ)
        out["interpreter"] = interpreter
        out["python_notes"] = notes
        if interpreter:
            out["python"], out["python_note"] = probe_python(interpreter, params["probe"], timeout, child_env)
    if "node" in want:
        out["node"] = node_facts(root, environ, child_env, timeout)
        out["node_modules"] = walk_node_modules(root)
    if "platform" in want:
        out["platform"] = platform_facts(timeout)
    if "files" in want:
        spec = params["files"]
        out["files"] = list_files(root, spec["skip_dirs"], int(spec["max_depth"]), int(spec["max_entries"]))
    if "read" in want:
        spec = params["read"]
        out["read"] = read_files(root, spec["files"], int(spec["max_file"]), int(spec["max_total"]))
    if "env" in want:
        spec = params["env"]
        env, source = environ_for(spec, timeout)
        out["env"] = {"source": source, "vars": select_env(env, spec.get("names"), spec.get("values", ()))}
    return out


def main() -> None:
    params = json.loads(base64.b64decode(PARAMS).decode("utf-8"))  # type: ignore[name-defined]  # noqa: F821
    try:
        result = {"ok": collect(params)}  # type: Dict[str, Any]
    except CollectorError as exc:
        result = {"error": str(exc)}
    sys.stdout.write(MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
