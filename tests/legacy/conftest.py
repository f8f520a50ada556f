"""The legacy-project run's bookkeeping: its figures and the "did not run" notice in the summary."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# --import-mode=importlib puts no test directory on sys.path.
sys.path.insert(0, str(Path(__file__).parent))

from legacy_util import CORPUS_ENV, corpus_root


@dataclass
class Figures:
    """What one project's run measured (None: the run stopped before that step)."""

    project: str
    tier: str
    result: str = "failed"
    step: str = ""
    generate_s: float | None = None
    build_s: float | None = None
    size_mb: float | None = None
    first_answer_s: float | None = None
    note: str = ""


@dataclass
class FigureBook:
    rows: list[Figures] = field(default_factory=list)

    def new(self, project: str, tier: str) -> Figures:
        row = Figures(project, tier)
        self.rows.append(row)
        return row


_BOOK = FigureBook()


@pytest.fixture(scope="session")
def legacy_figures() -> FigureBook:
    return _BOOK


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Without a corpus there is nothing to parametrise over: the per-project
    # tests are deselected (not skipped), and the one placeholder test stays
    # only under CI, where it fails; the summary says the tests did not run.
    if corpus_root() is not None:
        return
    here = Path(__file__).parent
    dropped = [
        i
        for i in items
        if here in Path(str(i.path)).parents and not (_ci() and i.name == "test_legacy_corpus_is_given")
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [i for i in items if i not in dropped]


def _fmt(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:.1f}{unit}"


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    # This conftest is loaded only when collection reaches tests/legacy.
    if corpus_root() is None:
        terminalreporter.write_line(f"legacy-project tests did not run ({CORPUS_ENV} unset)", yellow=True, bold=True)
        return
    if not _BOOK.rows:
        return
    terminalreporter.section("legacy projects: build, size, first answer")
    terminalreporter.write_line(
        f"{'project':<34} {'tier':<8} {'result':<8} {'generate':>9} {'build':>8} {'size':>9} {'1st answer':>10}  note"
    )
    for r in _BOOK.rows:
        terminalreporter.write_line(
            f"{r.project:<34} {r.tier:<8} {r.result:<8} {_fmt(r.generate_s, 's'):>9} {_fmt(r.build_s, 's'):>8}"
            f" {_fmt(r.size_mb, 'MB'):>9} {_fmt(r.first_answer_s, 's'):>10}  {r.step + ': ' if r.step else ''}{r.note}"
        )
