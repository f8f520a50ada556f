"""The README's demo is real output: the quick-start command prints what the README shows.

``scripts/quickstart`` installs envcheck into a venv of its own and makes the
example's laptop venv from a pinned list, so everything it prints is fixed
except what the README says is the machine's: the Python version on the EC101
line (and EC501 lines for variables the shell sets, which this test unsets).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COMMAND = (
    "envcheck scan fixtures/flask-legacy --against fixtures/snapshots/flask-legacy-prod.json"
    " --python .quickstart/laptop/bin/python"
)
#: The variables the demo's EC501 lines name: set in a shell, they drop a line.
DEMO_ENV = ("FLASK_APP", "DATABASE_URL", "SECRET_KEY", "WEATHER_API_KEY", "MAIL_SERVER", "WAREHOUSE_CITY")
_VERSION = re.compile(r"\d+(?:\.\d+)+")


def _demo_block() -> tuple[list[str], int]:
    text = (REPO / "README.md").read_text()
    block = text.split(f"$ {COMMAND}\n", 1)[1].split("```", 1)[0]
    lines = block.splitlines()
    assert lines[-2:-1] == ["$ echo $?"], "the demo ends with its exit code"
    return [line for line in lines[:-2] if line.strip() not in ("", "…")], int(lines[-1])


def _pattern(line: str) -> re.Pattern[str]:
    """The README line, exact; on the EC101 line (and its fix) this machine's Python version is free."""
    if "EC101" not in line and "use Python" not in line:
        return re.compile(re.escape(line))
    out, pos = [], 0
    for m in _VERSION.finditer(line):
        out.append(re.escape(line[pos : m.start()]))
        out.append(re.escape(m.group()) if m.group() == "3.9.2" else _VERSION.pattern)
        pos = m.end()
    out.append(re.escape(line[pos:]))
    return re.compile("".join(out))


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in DEMO_ENV and k != "VIRTUAL_ENV"}
    env.update(NO_COLOR="1", ENVCHECK_QUICKSTART_DIR=str(tmp_path_factory.mktemp("quickstart")))
    return subprocess.run(
        ["bash", "scripts/quickstart"], cwd=REPO, capture_output=True, text=True, env=env, check=False, timeout=600
    )


@pytest.mark.network
def test_readme_demo_is_what_the_quick_start_prints(quickstart: subprocess.CompletedProcess[str]) -> None:
    expected, code = _demo_block()
    assert quickstart.returncode == code, quickstart.stderr
    printed = quickstart.stdout.splitlines()
    # In order: the README abridges, it does not reorder; the counts are exact.
    at = 0
    for line in expected:
        pattern = _pattern(line)
        for i in range(at, len(printed)):
            if pattern.fullmatch(printed[i]):
                at = i + 1
                break
        else:
            raise AssertionError(f"README line not printed (in order): {line!r}\n--- printed:\n{quickstart.stdout}")


@pytest.mark.network
def test_quick_start_never_scans_envchecks_own_environment(quickstart: subprocess.CompletedProcess[str]) -> None:
    assert "the one envcheck runs in" not in quickstart.stderr
    assert "rich" not in quickstart.stdout and "docker is" not in quickstart.stdout


def test_two_hosts_are_told_apart() -> None:
    """The machine just probed is "this host"; the stored one is named by its file."""
    expected, _ = _demo_block()
    ec101 = next(line for line in expected if "EC101" in line)
    assert " on this host but " in ec101 and " on host (flask-legacy-prod.json)" in ec101
