"""Config applied to findings: select/ignore, severity overrides, per-path ignores, inline ignores, baseline, fail-on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from engine_testutil import (  # type: ignore[import-not-found]
    BaseImage,
    Suppression,
    declared,
    ids,
    lint,
    project,
    req,
    settings,
    with_declared,
)

from envcheck.baseline import dumps, load_baseline, new_findings
from envcheck.engine import Settings, exit_code, is_selected, settings_from
from envcheck.errors import ConfigError
from envcheck.rules import load_rules
from envcheck.snapshot import Snapshot


def legacy_project() -> Snapshot:
    """Unpinned requirements in two places and a floating base image."""
    return project(
        requirements=(
            req("flask>=2", "requirements.txt:1"),
            req("requests", "legacy/requirements.txt:1"),
        ),
        base_images=(BaseImage("python:3", "Dockerfile:1"),),
    )


def test_without_config_every_rule_reports() -> None:
    assert ids(lint(legacy_project())) == ["EC401", "EC402", "EC403"]


def test_select_and_ignore_prefixes_the_more_specific_wins() -> None:
    p = legacy_project()
    assert ids(lint(p, settings(select=("EC4",), ignore=("EC403",)))) == ["EC401", "EC402"]
    assert ids(lint(p, settings(select=("EC401",), ignore=("EC4",)))) == ["EC401"]
    assert ids(lint(p, settings(ignore=("EC40",)))) == []
    rules = load_rules()
    assert is_selected(rules["EC402"], ("floating-base-image",), ())


def test_command_line_select_replaces_config_and_ignore_extends_it() -> None:
    from envcheck.config import Config

    s = settings_from(Config(select=("EC1",), ignore=("EC403",)), select=("EC4",), ignore=("EC402",))
    assert s.select == ("EC4",) and s.ignore == ("EC403", "EC402")
    assert ids(lint(legacy_project(), s)) == ["EC401"]


def test_severity_override_changes_findings_and_exit_code() -> None:
    p = legacy_project()
    default = lint(p)
    assert exit_code(default, "error") == 0  # only warnings and info
    upgraded = lint(p, settings(severity={"EC401": "error"}))
    assert {f.severity for f in upgraded if f.rule == "EC401"} == {"error"}
    assert exit_code(upgraded, "error") == 1


def test_severity_override_for_unknown_rule_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"severity.EC999: no such rule"):
        lint(legacy_project(), settings(severity={"EC999": "error"}, path="pyproject.toml"))


def test_per_path_ignores_are_globs_on_the_finding_path() -> None:
    found = lint(legacy_project(), settings(per_path_ignores={"legacy/*": ("EC401",)}))
    assert [(f.rule, str(f.location)) for f in found if f.rule == "EC401"] == [("EC401", "requirements.txt:1")]
    found = lint(legacy_project(), settings(per_path_ignores={"Dockerfile": ("EC4",)}))
    assert ids(found) == ["EC401"]


def test_inline_ignore_drops_only_the_named_rule_on_that_line() -> None:
    p = with_declared(
        legacy_project(),
        suppressions=(Suppression("requirements.txt:1", ("EC401",)), Suppression("Dockerfile:1", ("EC403",))),
    )
    found = [(f.rule, str(f.location)) for f in lint(p)]
    assert ("EC401", "requirements.txt:1") not in found
    assert ("EC401", "legacy/requirements.txt:1") in found
    assert ("EC402", "Dockerfile:1") in found and ("EC403", "Dockerfile:1") not in found


def test_bare_inline_ignore_drops_every_rule_on_that_line() -> None:
    p = with_declared(legacy_project(), suppressions=(Suppression("Dockerfile:1"),))
    assert [f for f in lint(p) if f.location and f.location.path == "Dockerfile"] == []


def test_baseline_reports_only_new_findings(tmp_path: Path) -> None:
    old = lint(legacy_project())
    path = tmp_path / "baseline.json"
    path.write_text(dumps(old))
    accepted = load_baseline(path)
    assert json.loads(path.read_text())["schema"] == "envcheck.baseline/1"
    worse = with_declared(
        legacy_project(), requirements=(*declared(legacy_project()).requirements, req("rich", "requirements.txt:9"))
    )
    new = lint(worse, Settings(baseline=accepted))
    assert [(f.rule, f.subject) for f in new] == [("EC401", "rich")]
    assert new_findings(old, accepted) == []


def test_baseline_survives_line_moves() -> None:
    before = lint(project(requirements=(req("flask>=2", "requirements.txt:1"),)))
    after = lint(project(requirements=(req("flask>=2", "requirements.txt:7"),)))
    assert {f.fingerprint() for f in before} == {f.fingerprint() for f in after}


def test_malformed_baseline_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "b.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="malformed JSON"):
        load_baseline(bad)
    bad.write_text('{"schema": "other"}')
    with pytest.raises(ConfigError, match="not an envcheck baseline"):
        load_baseline(bad)


@pytest.mark.parametrize(("fail_on", "code"), [("error", 0), ("warning", 1), ("info", 1), ("never", 0)])
def test_fail_on_thresholds(fail_on: str, code: int) -> None:
    assert exit_code(lint(legacy_project()), fail_on) == code


def test_findings_are_sorted_and_deterministic() -> None:
    p = legacy_project()
    runs = [lint(p) for _ in range(3)]
    assert runs[0] == runs[1] == runs[2]
    keys = [f.sort_key() for f in runs[0]]
    assert keys == sorted(keys)
