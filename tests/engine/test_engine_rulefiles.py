"""Rule files: validation errors name the file; guard tests over the built-in set; custom project rules."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from engine_testutil import of, scan, snap, world  # type: ignore[import-not-found]

from envcheck.checks import CHECKS, POLICY_KINDS
from envcheck.errors import ConfigError
from envcheck.rules import load_rules
from envcheck.rules_path import builtin_rules_dir

REPO = Path(__file__).resolve().parents[2]
DESIGN_IDS = [
    *(f"EC10{i}" for i in range(1, 9)),
    "EC201", "EC202", "EC203", "EC211", "EC212", "EC213", "EC214",
    *(f"EC30{i}" for i in range(1, 6)),
    *(f"EC40{i}" for i in range(1, 6)),
    "EC501", "EC502", "EC503",
]  # fmt: skip


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text)
    return path


NO_PICKLE5 = """\
id = "ACME001"
name = "no-pickle5-in-image"
severity = "error"
check = "package-policy"
summary = "pickle5 must not be in the image"

[params]
ecosystem = "python"
forbid = ["pickle5"]
on = ["image"]
"""


# --------------------------------------------------------------------------- guard tests


def test_builtin_rules_are_exactly_the_design_table() -> None:
    assert sorted(load_rules()) == sorted(DESIGN_IDS)


def test_every_rule_file_is_named_after_its_id_and_name() -> None:
    for rule in load_rules().values():
        assert rule.path and Path(rule.path).name == f"{rule.id}-{rule.name}.toml"


def test_every_rule_has_user_facing_text() -> None:
    for rule in load_rules().values():
        for text in (rule.summary, rule.why, rule.fix, rule.example):
            assert len(text) > 20, (rule.id, text)


def test_ids_and_names_are_unique() -> None:
    rules = list(load_rules().values())
    assert len({r.id for r in rules}) == len({r.name for r in rules}) == len(rules)


def test_every_check_kind_is_used_by_a_builtin_rule_or_is_a_policy_kind() -> None:
    used = {r.check for r in load_rules().values()}
    assert used | POLICY_KINDS == set(CHECKS)
    assert not used & POLICY_KINDS


def test_docs_rules_md_is_generated_and_fresh() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen_rules_doc.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    text = (REPO / "docs" / "rules.md").read_text()
    for rule_id in DESIGN_IDS:
        assert re.search(rf"^## {rule_id} ", text, re.M)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (NO_PICKLE5.replace("package-policy", "package-polcy"), "unknown check kind 'package-polcy'"),
        (NO_PICKLE5.replace('on = ["image"]', 'on = ["laptop"]'), "params.on: 'laptop' is not one of host, image"),
        (NO_PICKLE5.replace('ecosystem = "python"', "ecosystem = 3"), "params.ecosystem: expected a string"),
        (NO_PICKLE5.replace('on = ["image"]', "colour = 1"), "params.colour: unknown parameter"),
        (NO_PICKLE5.replace('forbid = ["pickle5"]', 'forbid = ["pickle5 >>> 2"]'), "not a python requirement"),
        (NO_PICKLE5.replace('severity = "error"', 'severity = "fatal"'), "severity: 'fatal' is not one of"),
        (NO_PICKLE5.replace('id = "ACME001"', 'id = "acme"'), "id: 'acme' is not a rule id"),
        (NO_PICKLE5.replace('summary = "pickle5 must not be in the image"', ""), "summary: missing"),
        ("extra = 1\n" + NO_PICKLE5, "unknown key 'extra'"),
        ("id = [", "invalid TOML"),
        ('help_uri = "wiki/ACME001"\n' + NO_PICKLE5, "help_uri: 'wiki/ACME001' is not an http(s) URL"),
    ],
    ids=["check", "choice", "type", "param", "spec", "severity", "id", "summary", "key", "toml", "help_uri"],
)
def test_invalid_rule_file_is_a_config_error_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "rules", "ACME001-no-pickle5.toml", text)
    with pytest.raises(Exception) as info:
        load_rules(tmp_path / "rules")
    assert str(path) in str(info.value)
    assert message in str(info.value)
    from envcheck.errors import EnvcheckError

    assert isinstance(info.value, EnvcheckError)


def test_builtin_rules_must_explain_themselves(tmp_path: Path) -> None:
    from envcheck.rules import load_rule_file

    path = write(tmp_path, "ACME001.toml", NO_PICKLE5)
    with pytest.raises(ConfigError, match="why: missing"):
        load_rule_file(path, builtin=True)


def test_duplicate_id_names_both_files(tmp_path: Path) -> None:
    write(tmp_path / "rules", "a.toml", NO_PICKLE5)
    second = write(tmp_path / "rules", "b.toml", NO_PICKLE5.replace("no-pickle5-in-image", "other-name"))
    with pytest.raises(ConfigError) as info:
        load_rules(tmp_path / "rules")
    assert str(second) in str(info.value) and "duplicate rule id ACME001" in str(info.value)
    assert "a.toml" in str(info.value)


def test_project_rule_cannot_reuse_a_builtin_id(tmp_path: Path) -> None:
    path = write(tmp_path / "rules", "x.toml", NO_PICKLE5.replace("ACME001", "EC201"))
    with pytest.raises(ConfigError, match="duplicate rule id EC201") as info:
        load_rules(tmp_path / "rules")
    assert str(path) in str(info.value)


def test_builtin_rules_dir_exists() -> None:
    assert builtin_rules_dir().is_dir()


# --------------------------------------------------------------------------- custom rules


def test_custom_package_policy_rule_fires_on_the_image_only(tmp_path: Path) -> None:
    write(tmp_path / "rules", "ACME001-no-pickle5.toml", NO_PICKLE5)
    custom = {k: v for k, v in load_rules(tmp_path / "rules").items() if not v.builtin}
    w = world()
    host = snap(py={"pickle5": "0.0.11", "flask": "3.0.0"})
    image = snap("image", py={"pickle5": "0.0.11", "flask": "3.0.0"})
    [f] = of("ACME001", scan(project=w.project, host=host, image=image, extra_rules=custom))
    assert f.message == "pickle5 0.0.11 is installed in image, which the project forbids (pickle5)"
    assert f.severity == "error" and f.name == "no-pickle5-in-image"
    assert not of("ACME001", scan(project=w.project, host=host, image=w.image, extra_rules=custom))


def test_a_project_rule_links_to_its_own_page_or_to_none(tmp_path: Path) -> None:
    """SARIF viewers show helpUri as "learn more": never envcheck's site for a rule it does not document."""
    import json

    from envcheck.report import render

    write(tmp_path / "rules", "ACME001.toml", NO_PICKLE5)
    write(
        tmp_path / "rules",
        "ACME002.toml",
        'help_uri = "https://wiki.acme.example/envcheck/ACME002"\n'
        + NO_PICKLE5.replace("ACME001", "ACME002").replace("no-pickle5", "no-pickle5-wiki"),
    )
    rules = load_rules(tmp_path / "rules")
    assert rules["ACME001"].help_uri is None
    assert rules["ACME002"].help_uri == "https://wiki.acme.example/envcheck/ACME002"
    assert rules["EC201"].help_uri and rules["EC201"].help_uri.endswith("#ec201-python-package-version-drift")
    doc = json.loads(render([], "sarif", rules=rules))
    by_id = {r["id"]: r for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert "helpUri" not in by_id["ACME001"]
    assert by_id["ACME002"]["helpUri"] == "https://wiki.acme.example/envcheck/ACME002"
    # A project rule without why/fix/example still gets a readable help text.
    assert by_id["ACME001"]["help"]["text"] == "pickle5 must not be in the image"
    assert by_id["ACME001"]["fullDescription"]["text"] == "pickle5 must not be in the image"


def test_custom_env_policy_rule(tmp_path: Path) -> None:
    write(
        tmp_path / "rules",
        "ACME002.toml",
        'id = "ACME002"\nname = "sentry-dsn-required"\nseverity = "warning"\ncheck = "env-policy"\n'
        'summary = "the image must be given SENTRY_DSN"\n[params]\nrequire = ["SENTRY_DSN"]\non = ["image"]\n',
    )
    custom = {k: v for k, v in load_rules(tmp_path / "rules").items() if not v.builtin}
    w = world()
    [f] = of("ACME002", scan(host=w.host, image=w.image, extra_rules=custom))
    assert f.message == "SENTRY_DSN must be set in image but is not"


def test_custom_rule_reusing_a_builtin_check_kind(tmp_path: Path) -> None:
    """A stricter EC402: no `-alpine` variants either."""
    write(
        tmp_path / "rules",
        "ACME003.toml",
        'id = "ACME003"\nname = "no-alpine"\nseverity = "error"\ncheck = "base-image"\n'
        'summary = "no alpine images"\n[params]\nrequire = "tag"\nfloating-tags = ["alpine", "latest"]\n',
    )
    rules = load_rules(tmp_path / "rules")
    assert rules["ACME003"].params["require"] == "tag"
