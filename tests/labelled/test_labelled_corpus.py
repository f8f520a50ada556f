"""Labelled real projects give exactly their expected findings; precision and recall are measured on them.

Projects from ``$ENVCHECK_LEGACY_CORPUS`` (the verified legacy projects) are
"did not run" when the variable is unset — and a failure under CI, where the
corpus must be there. Run ``python tests/labelled/measure.py`` for the numbers.
"""

from __future__ import annotations

import os
import sys
import venv
from pathlib import Path

import pytest
from labelled_util import Case, key, load_cases, run, score

from envcheck.scanners.host import scan_host

CASES = load_cases()


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _host_for(case: Case, tmp_path: Path):  # type: ignore[no-untyped-def]
    if not case.host.get("real-venv"):
        return None
    # A real venv from the interpreter running the tests, nothing installed in it
    # beyond what `python -m venv` puts there (pip, and setuptools before 3.12).
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env)
    assert case.project_dir is not None
    environ = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    return scan_host(case.project_dir, python=str(env / "bin" / "python"), node=False, environ=environ)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_labelled_project_gives_exactly_its_expected_findings(case: Case, tmp_path: Path) -> None:
    if case.project_dir is None:
        if _ci():
            pytest.fail("ENVCHECK_LEGACY_CORPUS is not set: the labelled legacy projects must run in CI")
        pytest.skip("did not run: ENVCHECK_LEGACY_CORPUS is not set")
    assert case.project_dir.is_dir(), case.project_dir
    found = run(case, _host_for(case, tmp_path))
    got = sorted(key(f) for f in found)
    want = sorted(lb.key for lb in case.labels)
    assert got == want, "\n".join(
        [f"{case.name}: produced but not labelled: {k}" for k in got if k not in want]
        + [f"{case.name}: labelled but not produced: {k}" for k in want if k not in got]
    )


def test_every_label_is_reviewed() -> None:
    for case in CASES:
        for label in case.labels:
            assert label.verdict in ("true", "false-alarm"), (case.name, label)
            assert label.why.strip(), (case.name, label)
        for missed in case.missed:
            assert missed.get("what") and missed.get("why"), (case.name, missed)


def test_precision_and_recall_are_what_the_labels_say() -> None:
    s = score(CASES)
    print(f"labelled corpus: {s.true} true findings, {s.false_alarms} false alarms, {s.missed} missed", file=sys.stderr)
    assert s.true > 0
