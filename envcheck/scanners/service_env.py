"""The environment of a running service, not of the login shell (issue 16).

``--pid PID`` reads ``/proc/PID/environ``; ``--unit NAME`` reads a systemd
unit's ``Environment=`` and ``EnvironmentFiles=`` (``systemctl show`` and the
files it names).  The readers live in :mod:`._remote_probe` so that the same
code runs here and, over ssh, on a remote host.  A variable's value is kept
only under the secret policy (:func:`envcheck.scanners.host.capture_env`);
a file or process envcheck may not read is an error, never an empty set.
"""

from __future__ import annotations

from collections.abc import Iterable

from envcheck.errors import EnvcheckError
from envcheck.record import replace
from envcheck.scanners.host import capture_env
from envcheck.snapshot import Snapshot


def service_environ(pid: int | None, unit: str | None, timeout: float = 20.0) -> tuple[dict[str, str], str]:
    """``(environment, where it came from)`` for a process or a systemd unit on this machine."""
    from envcheck.scanners import _remote_probe as collector

    try:
        return collector.environ_for({"pid": pid, "unit": unit}, timeout)
    except collector.CollectorError as exc:
        raise EnvcheckError(str(exc)) from None


def with_service_env(
    snap: Snapshot, *, pid: int | None, unit: str | None, env_allow: Iterable[str] = (), timeout: float = 20.0
) -> Snapshot:
    """``snap`` with its variables' presence (and safe values) taken from the service instead."""
    environ, source = service_environ(pid, unit, timeout)
    env = capture_env(list(snap.env), environ, tuple(env_allow))
    return replace(snap, env=env, notes=(*snap.notes, f"env: read from {source}"))
