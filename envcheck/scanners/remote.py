"""The host scanner for a remote machine: ``envcheck snapshot host ssh://…`` (issue 16).

Same snapshot as :func:`envcheck.scanners.host.scan_host`, captured on the
other end of an ssh connection without installing or writing anything there:

1. the collector (:mod:`._remote_probe`, standard library only) runs in the
   remote ``python3`` from stdin; it resolves the project's interpreter by the
   local rules (``--python``, ``$VIRTUAL_ENV``, ``./.venv``, ``./venv``,
   ``python3``), runs the host probe (:mod:`._host_probe`) in it, finds node,
   npm/yarn/pnpm and walks ``node_modules``, reads the platform facts and
   lists the project's files;
2. envcheck picks the files its parsers read (:func:`envcheck.parsers.parser_for`)
   and a second request over the same connection returns their contents,
   which the *local* project scanner parses from a private temporary copy;
3. the variables the project reads are asked for: presence for all, values
   only for names the secret policy may store (:mod:`envcheck.secrets`), so
   a credential's value never leaves the remote host.

Everything is then assembled with the host scanner's own functions, which is
what makes a remote snapshot of a tree equal to the local snapshot of it.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from envcheck.errors import EnvcheckError
from envcheck.scanners.host import (
    _SUBPROCESS_ENV,
    _timeout_from,
    capture_env,
    env_example_names,
    normalise_arch,
    parse_os_release,
    python_from_probe,
)
from envcheck.scanners.ssh import SshError, SshSession, SshTarget, parse_ssh_url
from envcheck.secrets import is_safe_name
from envcheck.snapshot import Declared, Package, Platform, Runtime, Snapshot, Source

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


_HERE = Path(__file__).parent
# The project scanner's own cap on a lock file; a large monorepo lock must not make the remote differ.
MAX_FILE = 64 * 1024 * 1024
MAX_TOTAL = 256 * 1024 * 1024


def collector_program(params: Mapping[str, Any]) -> str:
    """The collector's source with its parameters, ready for ``python3 -``."""
    encoded = base64.b64encode(json.dumps(params).encode("utf-8")).decode("ascii")
    source = (_HERE / "_remote_probe.py").read_text(encoding="utf-8")
    return f"PARAMS = {encoded!r}\n{source}"


def parse_collector_output(target: SshTarget, stdout: str, stderr: str) -> dict[str, Any]:
    from envcheck.scanners._remote_probe import MARKER

    for line in reversed(stdout.splitlines()):
        if line.startswith(MARKER):
            try:
                doc = json.loads(line[len(MARKER) :])
            except ValueError:
                break
            if isinstance(doc, dict) and isinstance(doc.get("error"), str):
                raise SshError(f"{target}: {doc['error']}")
            if isinstance(doc, dict) and isinstance(doc.get("ok"), dict):
                return dict(doc["ok"])
            break
    last = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
    detail = f": {last[-1][:200]}" if last else ""
    raise SshError(f"{target}: the remote python gave no result (envcheck's probe needs Python 3.6+){detail}")


class _Remote:
    def __init__(self, session: SshSession, target: SshTarget, limit: float) -> None:
        self.session = session
        self.target = target
        self.limit = limit

    def ask(self, params: dict[str, Any]) -> dict[str, Any]:
        params = {**params, "root": self.target.path or "~", "timeout": self.limit}
        # Each subprocess of the collector is bounded by `limit`; the whole request by a few of them.
        out, err = self.session.run_python(collector_program(params), timeout=self.limit * 3 + 2)
        return parse_collector_output(self.target, out, err)


def scan_remote_host(
    url: str,
    *,
    python: str | None = None,
    node: bool = True,
    env_allow: Iterable[str] = (),
    env_names: Iterable[str] | None = None,
    pid: int | None = None,
    unit: str | None = None,
    timeout: float | None = None,
) -> Snapshot:
    """Snapshot the project at ``url`` (``ssh://[user@]host[:port][/path]``) on its machine.

    ``env_names`` as for :func:`~envcheck.scanners.host.scan_host`: given (``scan``
    passes the local project's), the remote project's files are not read.
    ``pid``/``unit``: the environment is that service's, not the login shell's.
    """
    target = parse_ssh_url(url)
    limit = timeout if timeout is not None else _timeout_from(os.environ)
    allow = tuple(env_allow)
    env_spec: dict[str, Any] = {"pid": pid, "unit": unit}
    want = ["python", "platform"] + (["node"] if node else [])
    params: dict[str, Any] = {
        "python": python,
        "probe": (_HERE / "_host_probe.py").read_text(encoding="utf-8"),
        "subprocess_env": list(_SUBPROCESS_ENV),
    }
    names: list[str] | None = None
    if env_names is not None:
        names = list(dict.fromkeys([*env_names, *allow]))
        want.append("env")
        params["env"] = {**env_spec, "names": names, "values": [n for n in names if is_safe_name(n, allow)]}
    else:
        from envcheck.scanners.project import MAX_DEPTH, MAX_ENTRIES, SKIP_DIRS

        want.append("files")
        params["files"] = {"skip_dirs": sorted(SKIP_DIRS), "max_depth": MAX_DEPTH, "max_entries": MAX_ENTRIES}
    params["want"] = want

    declared: Declared | None = None
    decl_notes: list[str] = []
    with SshSession(target, timeout=limit) as session:
        remote = _Remote(session, target, limit)
        facts = remote.ask(params)
        if names is None:
            declared, wanted, decl_notes, env_doc = _declared_and_env(remote, facts, env_spec, allow)
            names = list(dict.fromkeys([*wanted, *allow]))
        else:
            env_doc = facts.get("env") or {}
    return _assemble(
        target,
        facts,
        node=node,
        declared=declared,
        decl_notes=decl_notes,
        names=names,
        env_doc=env_doc,
        allow=allow,
        service=pid is not None or bool(unit),
    )


def _declared_and_env(
    remote: _Remote, facts: Mapping[str, Any], env_spec: Mapping[str, Any], allow: tuple[str, ...]
) -> tuple[Declared | None, list[str], list[str], dict[str, Any]]:
    """Round two: the files envcheck's parsers read, parsed here; then the env they name."""
    from envcheck.parsers import parser_for
    from envcheck.scanners.project import scan_project

    listing = facts.get("files") or {}
    rels = [f for f in listing.get("files", []) if isinstance(f, str) and parser_for(f) is not None]
    notes = [f"env: {n}" for n in listing.get("notes", []) if isinstance(n, str)]
    read = remote.ask({"want": ["read"], "read": {"files": rels, "max_file": MAX_FILE, "max_total": MAX_TOTAL}}).get(
        "read", {}
    )
    notes += [f"env: {n}" for n in read.get("notes", []) if isinstance(n, str)]
    declared: Declared | None = None
    with tempfile.TemporaryDirectory(prefix="envcheck-remote-") as tmp:
        mirror = Path(tmp)
        for rel, b64 in (read.get("contents") or {}).items():
            dest = _mirror_path(mirror, rel)
            if dest is None or not isinstance(b64, str):
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(base64.b64decode(b64))
        try:
            declared = scan_project(mirror).declared
        except EnvcheckError as exc:
            text = str(exc).replace(str(mirror), str(remote.target))
            notes.append(f"env: project files not read ({text}); only env-allow and .env.example names recorded")
        refs = [r.name for r in declared.env_refs] if declared else []
        wanted = [*refs, *env_example_names(mirror)]
    names = list(dict.fromkeys([*wanted, *allow]))
    env_doc = remote.ask(
        {"want": ["env"], "env": {**env_spec, "names": names, "values": [n for n in names if is_safe_name(n, allow)]}}
    ).get("env", {})
    return declared, wanted, notes, env_doc


def _mirror_path(mirror: Path, rel: str) -> Path | None:
    """Where a remote relative path lands in the private copy; None for anything that could escape it."""
    # The collector lists plain "a/b" names; anything else (empty, ".", "..", absolute) is refused, not normalised.
    parts = rel.split("/")
    if any(p in ("", ".", "..") or "\\" in p or "\0" in p for p in parts):
        return None
    return mirror.joinpath(*parts)


def _assemble(
    target: SshTarget,
    facts: Mapping[str, Any],
    *,
    node: bool,
    declared: Declared | None,
    decl_notes: list[str],
    names: list[str],
    env_doc: Mapping[str, Any],
    allow: tuple[str, ...],
    service: bool,
) -> Snapshot:
    notes: list[str] = [n for n in facts.get("python_notes", []) if isinstance(n, str)]
    runtimes: dict[str, Runtime] = {}
    packages: dict[str, tuple[Package, ...]] = {}

    node_doc = facts.get("node") if node else None
    if node and isinstance(node_doc, dict):
        tree = facts.get("node_modules") or {}
        pkgs = tuple(
            Package(name=str(p[0]), version=str(p[1]), path=str(p[2]))
            for p in tree.get("packages", [])
            if isinstance(p, list) and len(p) >= 3
        )
        if pkgs or tree.get("present"):
            packages["node"] = pkgs
        notes += [n for n in tree.get("notes", []) if isinstance(n, str)]
        notes += [n for n in node_doc.get("tool_notes", []) if isinstance(n, str)]
        for tool, info in sorted((node_doc.get("tools") or {}).items()):
            if isinstance(info, dict) and isinstance(info.get("version"), str):
                runtimes[tool] = Runtime(version=info["version"], path=info.get("path"))
    notes += decl_notes

    libc: str | None = None
    if isinstance(facts.get("python_note"), str):
        notes.append(facts["python_note"])
    if isinstance(facts.get("python"), dict):
        runtime, py_packages, probe_notes, libc = python_from_probe(facts["python"])
        runtimes["python"] = runtime
        packages["python"] = py_packages
        notes += probe_notes

    if node and isinstance(node_doc, dict):
        if isinstance(node_doc.get("node_version"), str) and node_doc.get("node_path"):
            runtimes["node"] = Runtime(version=node_doc["node_version"], path=str(node_doc["node_path"]))
        elif isinstance(node_doc.get("node_note"), str):
            notes.append(node_doc["node_note"])
        else:
            notes.append("node: not found on PATH; snapshot has no node runtime")

    raw_vars = env_doc.get("vars")
    present: dict[str, Any] = raw_vars if isinstance(raw_vars, dict) else {}
    # Names the collector did not give a value for are unsafe names: "" keeps them value-less.
    environ = {k: (v if isinstance(v, str) else "") for k, v in present.items() if isinstance(k, str)}
    env = capture_env(names, environ, allow)
    source = env_doc.get("source")
    if isinstance(source, str):
        notes.append(
            f"env: read from {source}"
            if service
            else f"env: {source} (a login shell's; pass --pid or --unit for a running service's)"
        )

    plat = facts.get("platform") or {}
    system = str(plat.get("system") or "") or None
    os_release = plat.get("os_release") if isinstance(plat.get("os_release"), str) else None
    platform = Platform(
        os=system,
        arch=normalise_arch(str(plat.get("machine") or "")) or None,
        distro=parse_os_release(os_release) if system == "linux" and os_release else None,
        libc=(libc or plat.get("libc")) if system == "linux" else None,
    )
    if isinstance(facts.get("python"), dict) and "python" in runtimes:
        # The same wheel facts a local host snapshot records (EC214 reads them);
        # a remote macOS version is not probed, so it gets no macOS tags.
        from envcheck.platform_tags import from_probe

        runtimes["python"] = from_probe(runtimes["python"], platform, facts["python"])
    root = facts.get("root")
    ref = str(SshTarget(target.host, target.user, target.port, root if isinstance(root, str) else target.path))
    return Snapshot(
        source=Source(kind="host", ref=ref),
        platform=platform,
        runtimes=runtimes,
        packages=packages,
        env=env,
        declared=declared,
        notes=tuple(dict.fromkeys(notes)),
    )
