"""The lazy check registry and the cached built-in rules (issue 15) change nothing a user sees."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from envcheck import rules as rules_mod
from envcheck.checks import CHECKS, MODES

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def test_the_table_names_each_kinds_module_and_its_modes() -> None:
    for kind, modes in MODES.items():
        module_name = f"envcheck.checks.{kind.replace('-', '_')}"
        assert CHECKS[kind] is importlib.import_module(module_name).CHECK
        assert CHECKS[kind].modes == modes, kind
    assert sorted(CHECKS) == sorted(MODES)
    assert "no-such-kind" not in CHECKS


def _fresh_builtin(monkeypatch: pytest.MonkeyPatch, cache: Path | None) -> tuple[object, ...]:
    if cache is None:
        monkeypatch.setenv("ENVCHECK_NO_CACHE", "1")
    else:
        monkeypatch.delenv("ENVCHECK_NO_CACHE", raising=False)
        monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    rules_mod.builtin_rules.cache_clear()
    try:
        return rules_mod.builtin_rules()
    finally:
        rules_mod.builtin_rules.cache_clear()


def _entries(cache: Path) -> list[Path]:
    return sorted((cache / "envcheck" / "rules").glob("*.json"))


def test_cached_rules_equal_parsed_rules(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    parsed = _fresh_builtin(monkeypatch, None)
    first = _fresh_builtin(monkeypatch, tmp_path)  # parses and stores
    assert len(_entries(tmp_path)) == 1
    second = _fresh_builtin(monkeypatch, tmp_path)  # reads the entry
    assert parsed == first == second
    assert [type(r.params) for r in second] == [dict] * len(second)  # type: ignore[attr-defined]


@pytest.mark.parametrize("damage", ["", "{", "[]", '{"key": 1}', "garbage\x00", None])
def test_a_damaged_entry_is_a_miss_never_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, damage: str | None
) -> None:
    good = _fresh_builtin(monkeypatch, tmp_path)
    (entry,) = _entries(tmp_path)
    if damage is None:  # well-formed JSON under the right key, with a rule that lies about its fields
        data = json.loads(entry.read_text())
        data["rules"][0]["severity"] = "fatal"
        entry.write_text(json.dumps(data))
    else:
        entry.write_text(damage)
    assert _fresh_builtin(monkeypatch, tmp_path) == good


def test_envcheck_no_cache_writes_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("ENVCHECK_NO_CACHE", "1")
    rules_mod.builtin_rules.cache_clear()
    rules_mod.builtin_rules()
    rules_mod.builtin_rules.cache_clear()
    assert not (tmp_path / "envcheck").exists()


def test_the_key_covers_every_rule_file_and_check_module() -> None:
    from envcheck.rules_path import builtin_rules_dir

    directory = builtin_rules_dir()
    key = rules_mod._builtin_key(directory)
    assert key is not None
    names = {Path(p).name for p in key["files"]}
    assert {p.name for p in directory.glob("*.toml")} <= names
    assert "unpinned_requirement.py" in names  # a check's parameter defaults end up in the rules


def _lint(cwd: Path, env: dict[str, str], *args: str) -> tuple[int, str]:
    out = subprocess.run(
        [sys.executable, "-m", "envcheck", "lint", *args], check=False, cwd=cwd, env=env, capture_output=True, text=True
    )
    return out.returncode, out.stdout + out.stderr


@pytest.mark.parametrize("fixture", ["clean-pinned", "flask-legacy", "stale-lock"])
@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_lint_output_is_the_same_with_and_without_the_cache(tmp_path: Path, fixture: str, fmt: str) -> None:
    project = FIXTURES / fixture
    if not project.is_dir():
        pytest.fail(f"fixture {fixture} is missing")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    env.pop("ENVCHECK_NO_CACHE", None)
    uncached = _lint(project, {**env, "ENVCHECK_NO_CACHE": "1"}, "--format", fmt)
    stored = _lint(project, env, "--format", fmt)
    hit = _lint(project, env, "--format", fmt)
    assert uncached == stored == hit
