"""Arbitrary input never escapes as anything but EnvcheckError, for every Python parser."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envcheck.errors import EnvcheckError
from envcheck.parsers import (
    conda_env,
    pipfile,
    pipfile_lock,
    poetry,
    poetry_lock,
    pyproject,
    requirements,
    setup_cfg,
    uv_lock,
)
from envcheck.snapshot import Declared

TEXT_PARSERS: dict[str, Callable[[str, str], Declared]] = {
    "requirements": requirements.parse_text,
    "pyproject": pyproject.parse_text,
    "setup_cfg": setup_cfg.parse_text,
    "pipfile": pipfile.parse_text,
    "pipfile_lock": pipfile_lock.parse_text,
    "poetry_lock": poetry_lock.parse_text,
    "uv_lock": uv_lock.parse_text,
    "conda_env": conda_env.parse_text,
}

# Fragments that steer random text toward each format's interesting paths.
_ATOMS = [
    "\n",
    " ",
    "#",
    "\\",
    "=",
    "==",
    ">=",
    "<",
    "~",
    "^",
    "*",
    ",",
    ";",
    "[",
    "]",
    "{",
    "}",
    '"',
    "'",
    ":",
    "-",
    "@",
    "-r ",
    "-c ",
    "-e ",
    "--hash=sha256:",
    "--index-url ",
    "git+https://h.invalid/r.git",
    "#egg=",
    ".whl",
    ".tar.gz",
    "requests",
    "Django",
    "python_version < '3.8'",
    "[project]\n",
    "dependencies = [",
    "requires-python = ",
    "[tool.poetry.dependencies]\n",
    "python = ",
    "[dependency-groups]\n",
    "{include-group = ",
    "[[package]]\n",
    "name = ",
    "version = ",
    "files = [",
    "groups = [",
    "[metadata]\n",
    "lock-version = ",
    "[packages]\n",
    "[dev-packages]\n",
    "[requires]\n",
    "python_version = ",
    '{"default": {',
    '"version": "==1.0"',
    '"hashes": [',
    "dependencies:\n",
    "  - python=3.9\n",
    "  - pip:\n",
    "      - ",
    "[options]\n",
    "install_requires =\n    ",
    "[options.extras_require]\n",
    'source = { editable = "." }',
    "sdist = {hash = ",
    "version = 1\n",
    "\t",
    "\x00",
    "é",
    "&",
    "!",
    "|",
    "||",
    "1.2.3",
    "0",
    "*\n",
]
texts = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(_ATOMS), max_size=40).map("".join),
)


@pytest.mark.parametrize("kind", sorted(TEXT_PARSERS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts)
def test_any_text_parses_or_raises_envcheck_error(kind: str, text: str) -> None:
    try:
        declared = TEXT_PARSERS[kind](text, "f")
    except EnvcheckError as exc:
        assert str(exc).startswith("f"), "the error names the file"
        assert "\n" not in str(exc)
        return
    assert isinstance(declared, Declared)
    for r in declared.requirements:
        assert r.ecosystem == "python" and r.name
        assert r.source.startswith("f")


@settings(max_examples=300, deadline=None)
@given(
    constraint=st.lists(
        st.sampled_from(["^", "~", "~=", ">=", "<", "==", "!=", "*", "1", ".2", ".3", ",", " ", "||", "a", "0"]),
        max_size=12,
    ).map("".join)
)
def test_poetry_constraints_convert_or_raise_parse_error(constraint: str) -> None:
    from packaging.specifiers import SpecifierSet

    try:
        spec = poetry.poetry_to_pep440(constraint, ("pyproject.toml", 3))
    except EnvcheckError as exc:
        assert str(exc).startswith("pyproject.toml:3:")
        return
    SpecifierSet(spec)  # whatever it returns is valid PEP 440


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400))
def test_any_bytes_on_disk_parse_or_raise_envcheck_error(tmp_path: Path, data: bytes) -> None:
    files = {
        "requirements.txt": requirements.parse,
        "pyproject.toml": pyproject.parse,
        "setup.cfg": setup_cfg.parse,
        "Pipfile": pipfile.parse,
        "Pipfile.lock": pipfile_lock.parse,
        "poetry.lock": poetry_lock.parse,
        "uv.lock": uv_lock.parse,
        "environment.yml": conda_env.parse,
    }
    for name, parse in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        try:
            parse(path, tmp_path)
        except EnvcheckError as exc:
            assert str(exc).startswith(name)
