"""Helpers for the hardening tests: run envcheck in a child process and measure it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Ran:
    code: int
    stdout: str
    stderr: str
    seconds: float


def cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300, stdin: str = ""
) -> Ran:
    """``python -m envcheck ARGS`` as a user runs it (a fresh process: no state shared with pytest)."""
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "envcheck", *args],
        check=False,
        cwd=cwd,
        env=env if env is not None else dict(os.environ),
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
    )
    return Ran(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start)


@dataclass(frozen=True)
class Measured:
    outcome: str  # "ok" or "EnvcheckError: <message>"; anything else fails the child
    seconds: float
    peak_rss_mib: float


def measure(body: str, *, timeout: float = 300) -> Measured:
    """Run ``body`` (Python; it may ``raise``) in a fresh interpreter and report time and peak RSS.

    Only the body is timed; the interpreter and imports are not.  The peak
    resident set size includes the interpreter (~20-40 MiB).
    """
    script = textwrap.dedent(
        """
        import json, sys, time
        from envcheck.errors import EnvcheckError
        t0 = time.monotonic()
        try:
        {body}
            outcome = "ok"
        except EnvcheckError as exc:
            outcome = f"EnvcheckError: {{exc}}"
        took = time.monotonic() - t0
        # VmHWM, not ru_maxrss: subprocess starts this child with vfork, and Linux carries
        # the parent's high-water mark (pytest's, after a long run) into ru_maxrss at exec.
        with open("/proc/self/status") as status:
            peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
        print(json.dumps({{"outcome": outcome, "seconds": took, "peak": peak}}))
        """
    ).format(body=textwrap.indent(textwrap.dedent(body), "    "))
    proc = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=timeout, cwd=REPO
    )
    if proc.returncode != 0:
        raise AssertionError(f"child failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    return Measured(doc["outcome"], doc["seconds"], doc["peak"])


def leftovers(directory: Path) -> list[str]:
    """Temp files an interrupted atomic write could leave behind."""
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))
