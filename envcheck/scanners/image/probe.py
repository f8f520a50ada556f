"""``--probe``: ask the image's own interpreters what static reading cannot know.

Opt-in only.  Each probe is one short-lived container from the image with no
network, a read-only root, every capability dropped, no privilege escalation,
the ``nobody`` user, no mounts, memory and process limits, and a timeout after
which it is killed; it is always removed.  The command is the interpreter the
static scan found, with a one-line script that prints JSON — nothing from the
user's machine goes in.
"""

from __future__ import annotations

import json
import os

from envcheck.errors import EngineError
from envcheck.record import field, record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


PY_SCRIPT = (
    "import json,sys,platform;"
    "print(json.dumps({'version':sys.version.split()[0],'sys_version':sys.version,"
    "'implementation':sys.implementation.name,'executable':sys.executable,'machine':platform.machine()}))"
)
NODE_SCRIPT = "JSON.stringify({version: process.versions.node, arch: process.arch, versions: process.versions})"
TIMEOUT = 30
# The same knob bounds the host probe (envcheck.scanners.host); CI can shorten both.
TIMEOUT_ENV = "ENVCHECK_PROBE_TIMEOUT"


def probe_timeout() -> float:
    """Seconds a probe container may run: ``$ENVCHECK_PROBE_TIMEOUT`` or 30."""
    try:
        value = float(os.environ.get(TIMEOUT_ENV, "") or TIMEOUT)
    except ValueError:
        return TIMEOUT
    return value if value > 0 else TIMEOUT


@record
class ProbeResult:
    python: dict[str, Any] | None = None
    node: dict[str, Any] | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def sandbox_options() -> dict[str, Any]:
    """The container settings every probe runs with (also asserted by tests)."""
    return {
        "network_mode": "none",
        "read_only": True,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "user": "65534:65534",
        "mem_limit": "256m",
        "pids_limit": 64,
        "volumes": {},
        "environment": {},
        "detach": True,
        "stdout": True,
        "stderr": True,
    }


def run_probe(
    client: Any, image: str, *, python: str | None, node: str | None, timeout: float | None = None
) -> ProbeResult:
    timeout = probe_timeout() if timeout is None else timeout
    notes: list[str] = []
    py = (
        _run_json(client, image, [python, "-I", "-B", "-c", PY_SCRIPT], timeout=timeout, notes=notes, what="python")
        if python
        else None
    )
    nd = (
        _run_json(client, image, [node, "-p", NODE_SCRIPT], timeout=timeout, notes=notes, what="node") if node else None
    )
    if not python and not node:
        notes.append("probe: no python or node found statically, nothing to ask")
    return ProbeResult(python=py, node=nd, notes=tuple(notes))


def _run_json(
    client: Any, image: str, argv: list[str], *, timeout: float, notes: list[str], what: str
) -> dict[str, Any] | None:
    from docker.errors import DockerException

    container = None
    try:
        container = client.containers.run(image, entrypoint=argv[:1], command=argv[1:], **sandbox_options())
        try:
            status = container.wait(timeout=timeout)
        except Exception:  # requests' ReadTimeout/ConnectionError: the probe overran
            # --probe was asked for; a silent fallback to static facts would
            # hide that it never ran.  The container is killed and removed below.
            raise EngineError(
                f"probe: {what} in {image} did not answer within {timeout:g}s; the container was killed "
                f"(raise the limit with {TIMEOUT_ENV}=SECONDS)"
            ) from None
        out = container.logs(stdout=True, stderr=False).decode("utf-8", "replace")
        code = status.get("StatusCode") if isinstance(status, dict) else None
        if code != 0:
            notes.append(f"probe: {what} exited with status {code}")
            return None
    except DockerException as exc:
        raise EngineError(f"probe: {' '.join(str(exc).split())[:200]}") from None
    finally:
        if container is not None:
            try:
                container.remove(force=True)
            except Exception:
                pass
    lines = [line for line in out.splitlines() if line.strip()]
    try:
        doc = json.loads(lines[-1]) if lines else None
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        notes.append(f"probe: {what} printed no JSON")
        return None
    return doc
