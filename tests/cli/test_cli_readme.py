"""The README's demo is real output: the quick-start command prints what the README shows.

Versions on this machine's side change with whatever the test interpreter has
installed, so they match any version; everything else — the prod snapshot's
versions, the rule ids, the wording, the order, the exit code — must match.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COMMAND = "envcheck scan fixtures/flask-legacy --against fixtures/snapshots/flask-legacy-prod.json"
_VERSION = re.compile(r"\d+(?:\.\d+)+")


def _demo_block() -> tuple[list[str], int]:
    text = (REPO / "README.md").read_text()
    block = text.split(f"$ {COMMAND}\n", 1)[1].split("```", 1)[0]
    lines = block.splitlines()
    assert lines[-2:-1] == ["$ echo $?"], "the demo ends with its exit code"
    return [line for line in lines[:-2] if line.strip() not in ("", "…")], int(lines[-1])


def _snapshot_versions() -> set[str]:
    snap = json.loads((REPO / "fixtures" / "snapshots" / "flask-legacy-prod.json").read_text())
    found = {snap["runtimes"]["python"]["version"]}
    found.update(p["version"] for p in snap["packages"]["python"])
    return found


def _pattern(line: str, fixed: set[str]) -> re.Pattern[str]:
    """The README line with this machine's versions and the counts free; the snapshot's versions stay."""
    out, pos = [], 0
    for m in _VERSION.finditer(line):
        out.append(re.escape(line[pos : m.start()]))
        out.append(re.escape(m.group()) if m.group() in fixed else _VERSION.pattern)
        pos = m.end()
    out.append(re.escape(line[pos:]))
    pattern = "".join(out)
    if re.match(r"(Errors|Warnings|Info) \(\d+\)$|Found ", line):
        pattern = re.sub(r"\d+", r"\\d+", pattern)
    return re.compile(pattern)


def test_readme_demo_is_what_the_quick_start_prints() -> None:
    expected, code = _demo_block()
    fixed = _snapshot_versions()
    proc = subprocess.run(
        [sys.executable, "-m", "envcheck", *COMMAND.split()[1:]],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
        timeout=120,
    )
    assert proc.returncode == code, proc.stderr
    printed = proc.stdout.splitlines()
    # In order: the README abridges, it does not reorder.
    at = 0
    for line in expected:
        pattern = _pattern(line, fixed)
        for i in range(at, len(printed)):
            if pattern.fullmatch(printed[i]):
                at = i + 1
                break
        else:
            raise AssertionError(f"README line not printed (in order): {line!r}\n--- printed:\n{proc.stdout}")


def test_two_hosts_are_told_apart() -> None:
    """The machine just probed is "this host"; the stored one is named by its file."""
    expected, _ = _demo_block()
    ec101 = next(line for line in expected if "EC101" in line)
    assert " on this host but " in ec101 and " on host (flask-legacy-prod.json)" in ec101
