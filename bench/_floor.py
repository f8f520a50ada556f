"""What the image benchmarks share: paired runs of child commands and the floors they are held to.

A figure means little alone on a shared, noisy machine, so every command of
one benchmark is run interleaved (A B C A B C …, after one warm-up round) and
its median printed beside the *floor*: the least any tool must do for that
input — ``cat`` (read every byte) and a sha256 of it for an archive, an
inflate-only pass for a gzip layer (issue 15).
"""

from __future__ import annotations

import gzip
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

HASH_CHILD = (
    "import hashlib,sys\n"
    "h=hashlib.sha256()\n"
    "with open(sys.argv[1],'rb') as f:\n"
    "    while b:=f.read(4<<20): h.update(b)\n"
)


@dataclass(frozen=True)
class Figure:
    seconds: float  # median wall time
    rss_mib: float  # largest peak RSS of the child over the runs
    runs: int
    cpu: float = 0.0  # median user + system CPU seconds: less swayed by a loaded machine than wall time


def measure(cmd: Sequence[str], env: Mapping[str, str] | None = None) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (KiB) and CPU seconds (wait4 rusage) of one child run; exits on failure."""
    t0 = time.perf_counter()
    # Children start in "/": ``python -m envcheck`` puts its working directory
    # first on sys.path, so run from a checkout it would import that
    # checkout's envcheck and ignore the PYTHONPATH of --envcheck-src.
    proc = subprocess.Popen(
        list(cmd), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd="/"
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err[-2000:]}")
    return wall, int(usage.ru_maxrss), usage.ru_utime + usage.ru_stime


def compile_bytecode(src: Path | None = None) -> None:
    """Byte-compile the envcheck package timed (this checkout's, or ``src``'s), as ``pip install`` does.

    An editable install (or PYTHONPATH) leaves envcheck as source, and with
    PYTHONDONTWRITEBYTECODE set every child run would compile each module
    again: start-up an installed envcheck never pays.
    """
    package = (src or Path(__file__).resolve().parents[1]) / "envcheck"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True, stdout=subprocess.DEVNULL)


def paired(commands: Mapping[str, tuple[Sequence[str], Mapping[str, str] | None]], runs: int) -> dict[str, Figure]:
    """Run every command once to warm up, then ``runs`` interleaved rounds; medians per command."""
    for cmd, env in commands.values():
        measure(cmd, env)
    samples: dict[str, list[tuple[float, int, float]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, (cmd, env) in commands.items():
            samples[name].append(measure(cmd, env))
    return {
        name: Figure(
            statistics.median(s[0] for s in got),
            max(s[1] for s in got) / 1024,
            runs,
            statistics.median(s[2] for s in got),
        )
        for name, got in samples.items()
    }


def archive_floor(path: Path) -> dict[str, tuple[Sequence[str], Mapping[str, str] | None]]:
    """The read floor (``cat``) and the read-and-hash floor (hashlib sha256, 4 MiB reads) of a file."""
    return {
        "floor: cat": (["sh", "-c", 'cat "$1" >/dev/null', "sh", str(path)], None),
        "floor: sha256": ([sys.executable, "-c", HASH_CHILD, str(path)], None),
    }


def inflate_seconds(blobs: Sequence[Path], module: str) -> float:
    """Seconds to inflate every gzip blob (in this process, output discarded) with ``stdlib`` or ``isal``."""
    opener = gzip.open
    if module == "isal":
        from isal import igzip

        opener = igzip.open
    t0 = time.perf_counter()
    for blob in blobs:
        with opener(blob, "rb") as fh:
            while fh.read(4 << 20):
                pass
    return time.perf_counter() - t0


def median_inflate(blobs: Sequence[Path], runs: int) -> dict[str, float]:
    """Paired medians of the inflate-only floor, stdlib against isal (where installed)."""
    modules = ["stdlib"]
    try:
        import isal  # noqa: F401
    except ImportError:
        pass
    else:
        modules.append("isal")
    got: dict[str, list[float]] = {m: [] for m in modules}
    for _ in range(runs):
        for m in modules:
            got[m].append(inflate_seconds(blobs, m))
    return {m: statistics.median(v) for m, v in got.items()}


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min) {five:.2f} (5 min) on {os.cpu_count()} cores"
