"""Honest RUN parsing: what is not a plain install is skipped with a note, never turned into packages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envcheck.parsers.dockerfile import parse_text


def installs(run: str) -> tuple[list[tuple[str, tuple[str, ...], tuple[str, ...]]], tuple[str, ...]]:
    d = parse_text(f"FROM python:3.11-slim\n{run}\n", "Dockerfile")
    return [(i.tool, i.packages, i.files) for i in d.installs], d.notes


def test_the_issue_case_is_not_packages() -> None:
    found, notes = installs('RUN /bin/bash -c "pip3 install -r <(pipenv lock -r)"')
    assert found == []
    assert len(notes) == 1 and notes[0].startswith("Dockerfile:2: ") and "install not read" in notes[0]


@pytest.mark.parametrize(
    "run",
    [
        "RUN pip install $(cat requirements.txt)",
        "RUN pip install `cat pkgs`",
        'RUN sh -c "npm install $(cat deps.txt)"',
        "RUN python -m pip install -r <(poetry export)",
    ],
)
def test_substitutions_are_skipped_with_a_note(run: str) -> None:
    found, notes = installs(run)
    assert found == [] and len(notes) == 1


def test_plain_installs_are_still_read() -> None:
    found, notes = installs('RUN pip install --no-cache-dir flask==3.0.0 -r requirements.txt && bash -c "npm ci"')
    assert found == [("pip", ("flask==3.0.0",), ("requirements.txt",)), ("npm", (), ())]
    assert notes == ()


WORDS = st.from_regex(r"[a-z][a-z0-9-]{1,10}", fullmatch=True)


@given(st.lists(WORDS, min_size=1, max_size=5), st.sampled_from(["$({})", "<({})", "`{}`"]), st.booleans())
def test_words_inside_a_substitution_never_become_packages(words: list[str], form: str, wrapped: bool) -> None:
    inner = form.format(" ".join(words))
    script = f"pip install -r {inner}"
    run = f'RUN bash -c "{script}"' if wrapped and "`" not in inner else f"RUN {script}"
    found, notes = installs(run)
    assert all(not set(words) & set(pkgs) for _, pkgs, _ in found)
    assert notes
