"""EC106/EC107: what the project's files declare exactly, against the interpreter each side runs.

Projects are real directories parsed by the project scanner, so every
declaration form the parsers read is exercised end to end, and each finding
must name the declaring file and line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from engine_testutil import diff, of, scan, snap

from envcheck.cli import main
from envcheck.scanners.project import scan_project


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "app"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _found(tmp_path: Path, files: dict[str, str], *, python: str | None = "3.11.7", node: str | None = None) -> list:
    project = scan_project(_project(tmp_path, files))
    return scan(project=project, host=snap(python=python, node=node))


# The issue's case: .python-version 3.8.10 and .nvmrc 16 on a 3.11.7 / node 20 machine.
def test_the_issue_case_reports_both_runtimes_with_file_and_line(tmp_path: Path) -> None:
    found = _found(tmp_path, {".python-version": "3.8.10\n", ".nvmrc": "16\n"}, node="20.20.2")
    py, nd = of("EC106", found), of("EC107", found)
    assert [(str(f.location), f.severity) for f in py] == [(".python-version:1", "error")]
    assert [(str(f.location), f.severity) for f in nd] == [(".nvmrc:1", "error")]
    assert "3.8.10" in py[0].message and "3.11.7" in py[0].message
    assert py[0].left is not None and py[0].left.value == "3.8.10"
    assert py[0].right is not None and py[0].right.value == "3.11.7"


@pytest.mark.parametrize(
    ("files", "where"),
    [
        ({"runtime.txt": "python-3.6.5\n"}, "runtime.txt:1"),
        ({"Pipfile": '[packages]\nflask = "*"\n\n[requires]\npython_version = "3.9"\n'}, "Pipfile:5"),
        ({"Pipfile": '[requires]\npython_full_version = "3.9.10"\n'}, "Pipfile:2"),
        ({".tool-versions": "nodejs 20.1.0\npython 3.10.4\n"}, ".tool-versions:2"),
        ({"Dockerfile": "# build\nFROM python:3.9.10-slim\nCMD python app.py\n"}, "Dockerfile:2"),
        ({"environment.yml": "name: x\ndependencies:\n  - python=3.8\n"}, "environment.yml:3"),
    ],
)
def test_every_python_declaration_is_compared(tmp_path: Path, files: dict[str, str], where: str) -> None:
    hits = of("EC106", _found(tmp_path, files))
    assert [str(f.location) for f in hits] == [where]
    assert hits[0].severity == "error"  # minor version differs


@pytest.mark.parametrize(
    ("files", "where"),
    [
        ({".nvmrc": "v16.20.2\n"}, ".nvmrc:1"),
        ({".node-version": "# pinned\n18\n"}, ".node-version:2"),
        ({".tool-versions": "python 3.11.7\nnodejs 18.19.0\n"}, ".tool-versions:2"),
        ({"package.json": '{\n  "name": "x",\n  "volta": {\n    "node": "18.19.0"\n  }\n}\n'}, "package.json:4"),
        ({"Dockerfile": "FROM node:18-bookworm-slim\n"}, "Dockerfile:1"),
    ],
)
def test_every_node_declaration_is_compared(tmp_path: Path, files: dict[str, str], where: str) -> None:
    hits = of("EC107", _found(tmp_path, files, node="20.20.2"))
    assert [str(f.location) for f in hits] == [where]
    assert hits[0].severity == "error"  # major version differs


@pytest.mark.parametrize(
    ("declared", "host"),
    [("3.11", "3.11.7"), ("3", "3.11.7"), ("3.11.7", "3.11.7"), ("pypy3.11", "3.11.7")],
)
def test_a_prefix_matches_as_users_mean_it(tmp_path: Path, declared: str, host: str) -> None:
    assert not of("EC106", _found(tmp_path, {".python-version": declared + "\n"}, python=host))


def test_a_patch_difference_is_a_warning(tmp_path: Path) -> None:
    hits = of("EC106", _found(tmp_path, {".python-version": "3.11.4\n"}))
    assert [(f.severity, "patch" in f.message) for f in hits] == [("warning", True)]


def test_node_minor_difference_is_a_warning(tmp_path: Path) -> None:
    hits = of("EC107", _found(tmp_path, {".nvmrc": "20.11\n"}, node="v20.20.2"))
    assert [f.severity for f in hits] == ["warning"]


def test_floating_and_unreadable_declarations_say_nothing(tmp_path: Path) -> None:
    files = {".nvmrc": "lts/*\n", ".python-version": "system\n", "Dockerfile": "FROM python:latest\n"}
    found = _found(tmp_path, files, node="20.20.2")
    assert not of("EC106", found) and not of("EC107", found)


def test_no_interpreter_on_the_side_is_not_a_mismatch(tmp_path: Path) -> None:
    found = _found(tmp_path, {".python-version": "3.8.10\n", ".nvmrc": "16\n"}, python=None, node=None)
    assert not of("EC106", found) and not of("EC107", found)


def test_every_side_is_compared_host_image_and_stored(tmp_path: Path) -> None:
    project = scan_project(_project(tmp_path, {".python-version": "3.11.7\n"}))
    found = scan(project=project, host=snap(), image=snap("image", python="3.9.18"))
    hits = of("EC106", found)
    assert [(f.right.kind if f.right else None) for f in hits] == ["image"]


def test_pipfile_lock_beside_its_pipfile_is_not_reported_twice(tmp_path: Path) -> None:
    lock = {"_meta": {"requires": {"python_version": "3.8"}}, "default": {}, "develop": {}}
    files = {"Pipfile": '[requires]\npython_version = "3.8"\n', "Pipfile.lock": json.dumps(lock)}
    assert [str(f.location) for f in of("EC106", _found(tmp_path, files))] == ["Pipfile:2"]


def test_stored_snapshots_give_the_same_answer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``diff project.json host.json`` reports what ``scan`` reports."""
    root = _project(tmp_path, {".python-version": "3.8.10\n", "runtime.txt": "python-3.8.10\n"})
    project = scan_project(root)
    host = snap()
    assert {str(f.location) for f in of("EC106", diff(project, host))} == {".python-version:1", "runtime.txt:1"}
    (tmp_path / "project.json").write_text(project.to_json())
    (tmp_path / "host.json").write_text(host.to_json())
    code = main(["diff", str(tmp_path / "project.json"), str(tmp_path / "host.json"), "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    assert sorted(f["location"]["line"] for f in out["findings"] if f["rule"] == "EC106") == [1, 1]
