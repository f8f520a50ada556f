"""Remembered parses of a project's TOML/YAML manifests (envcheck.parsers.remembered): the same answer, cheaper."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from envcheck import _toml
from envcheck.errors import ParseError
from envcheck.parsers import REMEMBERED, parser_for, remembered
from envcheck.scanners.project import scan_project

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv("ENVCHECK_NO_CACHE", raising=False)
    return home / "envcheck" / "parsed"


def _project(tmp_path: Path, fixture: str = "poetry-app") -> Path:
    root = tmp_path / fixture
    shutil.copytree(FIXTURES / fixture, root)
    old = 1_600_000_000  # files not written this instant: nothing racy about them
    for p in root.rglob("*"):
        os.utime(p, (old, old))
    return root


def _two_processes(code: str, root: Path) -> list[Any]:
    """What ``code`` printed (JSON) in two fresh processes, one after the other: cold, then warm."""
    return [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", code, str(root)], capture_output=True, text=True, check=True, env=os.environ
            ).stdout
        )
        for _ in range(2)
    ]


def _remembered_files() -> list[tuple[str, Path, Path]]:
    corpus = FIXTURES.parent / "tests" / "data" / "corpus"
    found = []
    for base in (FIXTURES, corpus):
        for path in sorted(base.rglob("*")):
            module = parser_for(path.name) if path.is_file() else None
            if module in REMEMBERED:
                found.append((module, path, path.parent))
    return found


def test_every_remembered_parser_answers_from_its_files_text_alone() -> None:
    # What the digest keys on (the file's bytes and its name) is all the answer depends on.
    import importlib

    files = _remembered_files()
    assert {m for m, _, _ in files} == set(REMEMBERED)  # each one is exercised here
    for module, path, root in files:
        mod = importlib.import_module(f"envcheck.parsers.{module}")
        try:
            by_path = mod.parse(path, root)
        except ParseError:
            continue
        assert by_path == mod.parse_text(path.read_text(encoding="utf-8"), path.name), path


@pytest.mark.parametrize("fixture", ["poetry-app", "uv-app", "mixed-pnpm"])
def test_a_remembered_parse_is_the_parse(fixture: str, tmp_path: Path, cache: Path) -> None:
    root = _project(tmp_path, fixture)
    first = scan_project(root)
    assert any(cache.iterdir())
    second = scan_project(root)
    os.environ["ENVCHECK_NO_CACHE"] = "1"
    try:
        fresh = scan_project(root)
    finally:
        del os.environ["ENVCHECK_NO_CACHE"]
    assert first.declared == second.declared == fresh.declared
    assert json.dumps(second.to_dict()) == json.dumps(fresh.to_dict())


def test_a_warm_scan_imports_no_toml_parser_and_no_packaging(tmp_path: Path, cache: Path) -> None:
    root = _project(tmp_path)
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from envcheck.scanners.project import scan_project\n"
        "declared = scan_project(Path(sys.argv[1])).declared\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tomllib', 'tomli', 'packaging', 'yaml'))\n"
        "print(json.dumps({'heavy': heavy, 'locks': len(declared.locks)}))\n"
    )
    runs = _two_processes(code, root)
    assert runs[0]["heavy"] != []  # the first run parses
    assert runs[1] == {"heavy": [], "locks": runs[0]["locks"]}


def test_changed_bytes_are_parsed_again(tmp_path: Path, cache: Path) -> None:
    root = _project(tmp_path)
    before = scan_project(root).declared
    lock = root / "poetry.lock"
    lock.write_text(lock.read_text().replace('name = "requests"', 'name = "requestz"'))
    os.utime(lock, (1_600_000_000, 1_600_000_000))
    after = scan_project(root).declared
    assert {x.name for x in before.locks} - {x.name for x in after.locks} == {"requests"}
    assert "requestz" in {x.name for x in after.locks}


def test_a_file_that_does_not_parse_is_never_remembered(tmp_path: Path, cache: Path) -> None:
    root = _project(tmp_path)
    (root / "poetry.lock").write_text("[[package]\nname = \n")
    os.utime(root / "poetry.lock", (1_600_000_000, 1_600_000_000))
    for _ in range(2):
        with pytest.raises(ParseError):
            scan_project(root)


def test_a_damaged_entry_is_parsed_afresh(tmp_path: Path, cache: Path) -> None:
    root = _project(tmp_path)
    expected = scan_project(root).declared
    for entry in cache.iterdir():
        entry.write_text('{"format": "1", "declared": {"locks": "not a list"}}')
    assert scan_project(root).declared == expected
    for entry in cache.iterdir():
        entry.write_bytes(b"\x00garbage")
    assert scan_project(root).declared == expected


def test_what_json_would_not_give_back_is_not_stored(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from envcheck.snapshot import Declared

    real = Declared.to_dict
    monkeypatch.setattr(Declared, "to_dict", lambda self: {**real(self), "locks": []})
    root = _project(tmp_path)
    scan_project(root)

    def entry(module: str, name: str) -> Path:
        return cache / f"{remembered._digest(module, name, (root / name).read_bytes())}.json"

    # pyproject.toml's fragment (no locks) comes back equal and is kept; poetry.lock's would not.
    assert entry("pyproject", "pyproject.toml").is_file()
    assert not entry("poetry_lock", "poetry.lock").exists()


def test_new_envcheck_code_is_a_new_key(tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path)
    scan_project(root)
    before = {p.name for p in cache.iterdir()}
    monkeypatch.setattr(remembered._Producer, "text", "another envcheck")
    scan_project(root)
    after = {p.name for p in cache.iterdir()}
    assert before and after > before


def test_no_cache_stores_nothing(tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVCHECK_NO_CACHE", "1")
    scan_project(_project(tmp_path))
    assert not cache.exists()


def test_a_toml_document_is_remembered_only_when_json_gives_it_back(cache: Path) -> None:
    toml_cache = cache.parent / "toml"
    plain = '[tool.envcheck]\nenv-allow = ["APP_ENV"]\n'
    assert _toml.loads(plain, "pyproject.toml") == {"tool": {"envcheck": {"env-allow": ["APP_ENV"]}}}
    assert len(list(toml_cache.iterdir())) == 1
    assert _toml.loads(plain, "pyproject.toml") == {"tool": {"envcheck": {"env-allow": ["APP_ENV"]}}}
    dated = "released = 2024-05-01\n"
    assert str(_toml.loads(dated, "x.toml")["released"]) == "2024-05-01"
    assert len(list(toml_cache.iterdir())) == 1  # a date does not survive JSON: not kept
    with pytest.raises(ParseError):
        _toml.loads("a = \n", "bad.toml")
    assert len(list(toml_cache.iterdir())) == 1


def test_a_module_that_reads_the_environment_is_parsed_once(tmp_path: Path, cache: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "settings.py").write_text("import os\nSECRET_KEY = os.environ['SECRET_KEY']\n")
    (root / "views.py").write_text("def index():\n    return 'hello'\n")  # never names the environment
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from envcheck.scanners.project import scan_project\n"
        "refs = [r.name for r in scan_project(Path(sys.argv[1])).declared.env_refs]\n"
        "print(json.dumps({'ast': 'ast' in sys.modules, 'refs': refs}))\n"
    )
    runs = _two_processes(code, root)
    assert runs == [{"ast": True, "refs": ["SECRET_KEY"]}, {"ast": False, "refs": ["SECRET_KEY"]}]
