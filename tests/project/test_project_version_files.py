"""Interpreter version files: .python-version, runtime.txt, .tool-versions, .nvmrc, .node-version."""

from __future__ import annotations

from pathlib import Path

import pytest

from envcheck.errors import EnvcheckError, ParseError
from envcheck.parsers import version_files as vf

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3.11.7\n", "3.11.7"),
        ("3.12", "3.12"),
        ("# pinned for the CI image\n3.10.13\n", "3.10.13"),
        ("3.12.1\n3.11.7\n3.10.13\n", "3.12.1"),  # pyenv activates the first; the rest are for tox
        ("3.12.1 3.11.7\n", "3.12.1"),
        ("pypy3.10-7.3.12\n", "3.10"),
        ("pypy3.10-7.3\n", "3.10"),
        ("3.13t\n", "3.13"),
        ("3.12-dev\n", "3.12"),
        ("3.14.0rc1\n", "3.14.0rc1"),
        ("system\n", None),
        ("miniconda3-latest\n", None),
        ("\n\n", None),
    ],
)
def test_python_version_file(text: str, expected: str | None) -> None:
    assert vf.parse_python_version_file(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("python-3.12.1\n", "3.12.1"),
        ("python-3.7", "3.7"),
        ("python-3\n", "3"),
        ("python-2.7\n", "2.7"),
        ("r-4.3.2-2024-01-10\n", None),  # repo2docker R runtime: not Python, not an error
        ("r-2025-07-01\n", None),
        ("", None),
    ],
)
def test_runtime_txt(text: str, expected: str | None) -> None:
    assert vf.parse_runtime_txt(text) == expected


def test_runtime_txt_with_unreadable_python_line_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "runtime.txt", "# heroku\npython-three\n")
    with pytest.raises(ParseError) as exc:
        vf.parse(path, tmp_path)
    assert str(exc.value).startswith("runtime.txt:2:")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("python 3.11.7\nnodejs 20.1.0\n", ("3.11.7", "20.1.0")),
        ("# asdf\nnodejs 18.19.0 # LTS\npython 3.12.1 3.11.7\n", ("3.12.1", "18.19.0")),
        ("node 20\nruby 3.3.0\n", (None, "20")),
        ("python system\n", (None, None)),
        ("golang 1.22\n", (None, None)),
        ("python\n", (None, None)),
    ],
)
def test_tool_versions(text: str, expected: tuple[str | None, str | None]) -> None:
    assert vf.parse_tool_versions(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v20\n", "20"),
        ("20.11.1\n", "20.11.1"),
        ("lts/iron\n", "20"),
        ("lts/hydrogen", "18"),
        ("lts/*\n", None),
        ("node\n", None),
        ("stable\n", None),
        ("# team default\nv18.19.0\n", "18.19.0"),
    ],
)
def test_nvmrc(text: str, expected: str | None) -> None:
    assert vf.parse_nvmrc(text) == expected


def test_parse_keys_version_by_relative_path(tmp_path: Path) -> None:
    (tmp_path / "backend").mkdir()
    path = _write(tmp_path / "backend", ".python-version", "3.11.7\n")
    declared = vf.parse(path, tmp_path)
    assert declared.python is not None
    assert dict(declared.python.version_files) == {"backend/.python-version": "3.11.7"}
    assert declared.node is None
    assert declared.files == ("backend/.python-version",)


def test_tool_versions_declares_both_runtimes(tmp_path: Path) -> None:
    path = _write(tmp_path, ".tool-versions", "python 3.11.7\nnodejs 20.1.0\n")
    declared = vf.parse(path, tmp_path)
    assert declared.python is not None and declared.node is not None
    assert dict(declared.python.version_files) == {".tool-versions": "3.11.7"}
    assert dict(declared.node.version_files) == {".tool-versions": "20.1.0"}


def test_floating_nvmrc_declares_nothing(tmp_path: Path) -> None:
    declared = vf.parse(_write(tmp_path, ".nvmrc", "node\n"), tmp_path)
    assert declared.node is None
    assert declared.files == (".nvmrc",)


def test_not_utf8_is_an_envcheck_error(tmp_path: Path) -> None:
    path = tmp_path / ".python-version"
    path.write_bytes(b"\xff\xfe3.11\n")
    with pytest.raises(EnvcheckError) as exc:
        vf.parse(path, tmp_path)
    assert ".python-version" in str(exc.value)


# --------------------------------------------------------------------------- corpus


@pytest.mark.parametrize(
    ("relpath", "python", "node"),
    [
        ("wagtail__bakerydemo/.python-version", "3.12", None),
        ("wagtail__bakerydemo/runtime.txt", "3.12.1", None),
        ("wagtail__bakerydemo/.nvmrc", None, "24"),
        ("pypi__warehouse/.python-version", "3.14.7", None),
        ("fastapi__full-stack-fastapi-template/.python-version", "3.14", None),
        ("jupyterhub__repo2docker/tests/pipfile/py36/runtime.txt", "3.7", None),
        ("jupyterhub__repo2docker/tests/venv/py3/runtime.txt", "3", None),
        ("jupyterhub__repo2docker/tests/venv/py2-with-kernel-requirements/runtime.txt", "2.7", None),
        ("jupyterhub__repo2docker/tests/r/r3.6-rspm/runtime.txt", None, None),
        ("jupyterhub__repo2docker/tests/r/r4.3.2-rspm/runtime.txt", None, None),
        ("jupyterhub__repo2docker/tests/r/r-rspm-apt-file/runtime.txt", None, None),
    ],
)
def test_corpus_version_files(relpath: str, python: str | None, node: str | None) -> None:
    path = CORPUS / relpath
    root = CORPUS / relpath.split("/", maxsplit=1)[0]
    declared = vf.parse(path, root)
    rel = relpath.split("/", 1)[1]
    got_py = declared.python.version_files.get(rel) if declared.python else None
    got_node = declared.node.version_files.get(rel) if declared.node else None
    assert (got_py, got_node) == (python, node)
