"""Helpers for the ssh:// and service-environment tests (the sshd fixture is in conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# One PATH for the local run and the remote session, so both resolve the same node and python3.
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class SshServer:
    port: int
    user: str
    dir: Path
    home: Path  # the remote session's HOME
    tmp: Path  # the remote session's TMPDIR
    config: Path  # the test's ssh client config (trusts the host key)
    wrong_config: Path  # the same, with another key recorded for the host
    user_key: Path

    def url(self, path: Path | str | None = None) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}" + (str(path) if path else "")

    def ssh_command(self, *extra: str, config: Path | None = None) -> str:
        return " ".join(["ssh", "-F", str(config or self.config), *extra])


def envcheck_env(**extra: str) -> dict[str, str]:
    """What envcheck runs with here: none of the caller's venv or envcheck settings, the system PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_", "ENVCHECK_", "VIRTUAL_ENV"))}
    env["PATH"] = SYSTEM_PATH
    env.update(extra)
    return env


def run_envcheck(
    *args: str, env: dict[str, str], cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "envcheck", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    """Assert the CLI contract for failures: exit 2, one line on stderr, no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-500:], proc.stderr[-2000:])
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def snapshot_json(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc: dict[str, Any] = json.loads(proc.stdout)
    return doc


def listing(*roots: Path) -> set[str]:
    """Every path under ``roots`` (files and folders), to compare before and after a capture."""
    out: set[str] = set()
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            out.update(os.path.join(dirpath, n) for n in dirnames + filenames)
    return out


def write_fake_systemctl(where: Path) -> Path:
    """A ``systemctl`` that prints what ``systemctl show`` prints for ``app.service``; returns its folder.

    These machines run no systemd, so ``--unit`` is exercised against this
    stand-in: the unit's ``Environment=`` line, a required env file holding a
    secret and an optional one that does not exist.
    """
    bin_dir = where / "bin"
    bin_dir.mkdir(exist_ok=True)
    env_file = where / "app.env"
    env_file.write_text("# the service's secrets\nSERVICE_TOKEN='s3cr3t-Value-0123456789abcdef'\nLOG_LEVEL=debug\n")
    show = (
        "LoadState=loaded\n"
        'Environment=APP_MODE=prod "GREETING=hello world"\n'
        f"EnvironmentFiles={env_file} (ignore_errors=no)\n"
        f"EnvironmentFiles={where / 'optional.env'} (ignore_errors=yes)\n"
    )
    script = bin_dir / "systemctl"
    script.write_text(
        "#!/bin/sh\n"
        "for last; do :; done\n"
        'if [ "$last" = "app.service" ]; then cat <<"EOF"\n' + show + 'EOF\nelse echo "LoadState=not-found"; fi\n'
    )
    script.chmod(0o755)
    return bin_dir
