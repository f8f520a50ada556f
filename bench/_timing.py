"""Paired, interleaved timing shared by the benchmarks (issue 15).

The machine the benchmarks run on is usually shared: a burst of load that
lands on one command's runs and not the other's makes a ratio meaningless.
Every round runs each command once, in turn (A B C, A B C, ...), so a burst
costs all of them alike; the median of the rounds is reported.
"""

from __future__ import annotations

import compileall
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Timed:
    label: str
    argv: tuple[str, ...]
    seconds: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def best(self) -> float:
        return min(self.seconds)


def paired(
    commands: Sequence[tuple[str, Sequence[str]]],
    *,
    runs: int,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    envs: Mapping[str, Mapping[str, str]] | None = None,
) -> list[Timed]:
    """Wall seconds of each command over ``runs`` interleaved rounds, after one warm-up round."""
    samples: dict[str, list[float]] = {label: [] for label, _ in commands}
    for round_ in range(runs + 1):
        for label, argv in commands:
            run_env = (envs or {}).get(label, env)
            start = time.perf_counter()
            subprocess.run(
                list(argv),
                cwd=cwd,
                env=dict(run_env) if run_env is not None else None,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
            if round_:
                samples[label].append(time.perf_counter() - start)
    return [Timed(label, tuple(argv), tuple(samples[label])) for label, argv in commands]


def table(rows: Sequence[Timed], *, anchor: str, floor: str) -> str:
    """Each row's median beside the anchor's and the floor's, with the exact command."""
    by = {r.label: r for r in rows}
    a, f = by[anchor].median, by[floor].median
    width = max(len(r.label) for r in rows)
    out = [f"{'command':<{width}}  {'median':>8}  {'best':>8}  {'x ' + anchor:>12}  {'- floor':>8}"]
    for r in rows:
        out.append(
            f"{r.label:<{width}}  {r.median * 1000:6.1f}ms  {r.best * 1000:6.1f}ms  "
            f"{r.median / a:12.2f}  {(r.median - f) * 1000:6.1f}ms"
        )
    out.append("")
    out.extend(f"  {r.label}: {' '.join(r.argv)}" for r in rows)
    return "\n".join(out)


def load() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "load: unknown"
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def with_bytecode(env: Mapping[str, str]) -> dict[str, str]:
    """envcheck as a user has it: its .pyc written (pip compiles on install), whatever this shell says."""
    import envcheck

    compileall.compile_dir(str(Path(envcheck.__file__).parent), quiet=1)
    return {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}


def beside_python(name: str) -> str | None:
    """A console script next to this interpreter (the venv's own, not a shim on PATH)."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else None
