"""package.json: dependencies by group, engines, package manager, workspaces, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envcheck.errors import EnvcheckError, ParseError
from envcheck.parsers import package_json
from envcheck.snapshot import Declared, Requirement

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"


def _write(tmp_path: Path, data: object | str, name: str = "package.json") -> Path:
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(data if isinstance(data, str) else json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return p


def _by_name(d: Declared) -> dict[str, Requirement]:
    return {r.name: r for r in d.requirements}


def test_mdn_engines_and_groups() -> None:
    d = package_json.parse(CORPUS / "mdn__express-locallibrary-tutorial" / "package.json", CORPUS)
    assert d.node is not None
    assert d.node.requires == ">=22.0.0"
    assert d.node.requires_source == "mdn__express-locallibrary-tutorial/package.json:5"
    assert len(d.requirements) == 15
    groups = [r.group for r in d.requirements]
    assert groups.count(None) == 12 and groups.count("dev") == 3
    express = next(r for r in d.requirements if r.name == "express")
    assert express.specifier == "^5.1.0"
    assert express.source == "mdn__express-locallibrary-tutorial/package.json:18"
    assert d.files == ("mdn__express-locallibrary-tutorial/package.json",)


def test_warehouse_lines_and_counts() -> None:
    d = package_json.parse(CORPUS / "pypi__warehouse" / "package.json", CORPUS / "pypi__warehouse")
    assert len(d.requirements) == 16 + 33
    reqs = {r.name: r for r in d.requirements}
    assert reqs["jquery"].source == "package.json:34"
    assert reqs["sharp"].source == "package.json:70" and reqs["sharp"].group == "dev"
    # "overrides" are resolutions, not declared dependencies.
    assert "sweetalert2" not in reqs
    assert d.node is None


def test_hagopj13_exact_pin_and_engines() -> None:
    d = package_json.parse(CORPUS / "hagopj13__node-express-boilerplate" / "package.json", CORPUS)
    husky = next(r for r in d.requirements if r.name == "husky")
    assert husky.specifier == "7.0.4" and husky.is_pinned and husky.group == "dev"
    assert d.node is not None and d.node.requires == ">=12.0.0"


def test_scoped_names_kept_as_written() -> None:
    d = package_json.parse(CORPUS / "fastapi__full-stack-fastapi-template" / "frontend" / "package.json", CORPUS)
    names = [r.name for r in d.requirements]
    assert "@tanstack/react-query" in names and "@types/node" in names
    assert len(names) == 33 + 13


@pytest.mark.parametrize(
    ("folder", "manager"),
    [
        ("bun", "bun@0"),
        ("npm", "npm@7"),
        ("pnpm", "pnpm@8"),
        ("pnpm-version-range", "^pnpm@8.0.0"),
        ("pnpm@6", "pnpm@6"),
        ("unknown", "future-package-manager"),
        ("yarn", "yarn@1"),
        ("yarn@berry", "yarn@3"),
    ],
)
def test_antfu_odd_package_manager_values_kept_verbatim(folder: str, manager: str) -> None:
    path = CORPUS / "antfu__ni" / "test" / "fixtures" / "packager" / folder / "package.json"
    d = package_json.parse(path, CORPUS / "antfu__ni")
    assert d.node is not None and d.node.package_manager == manager
    assert d.node.requires is None and d.requirements == ()


def test_root_package_managers() -> None:
    ni = package_json.parse(CORPUS / "antfu__ni" / "package.json", CORPUS)
    assert ni.node is not None and ni.node.package_manager == "pnpm@8.11.0"
    assert len(ni.requirements) == 22 and all(r.group == "dev" for r in ni.requirements)
    ofetch = package_json.parse(CORPUS / "unjs__ofetch" / "package.json", CORPUS)
    assert ofetch.node is not None and ofetch.node.package_manager == "pnpm@10.20.0"


def test_wagtail_dev_engines_package_manager() -> None:
    d = package_json.parse(CORPUS / "wagtail__bakerydemo" / "package.json", CORPUS)
    assert d.node is not None and d.node.package_manager == "npm"
    assert len(d.requirements) == 6


def test_dev_engines_runtime_and_versioned_manager(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        {
            "devEngines": {
                "runtime": [{"name": "bun"}, {"name": "node", "version": ">=20.11"}],
                "packageManager": {"name": "pnpm", "version": "^9"},
            }
        },
    )
    d = package_json.parse(p, tmp_path)
    assert d.node is not None
    assert d.node.requires == ">=20.11" and d.node.requires_source == "package.json:3"
    assert d.node.package_manager == "pnpm@^9"


def test_engines_node_wins_over_dev_engines(tmp_path: Path) -> None:
    p = _write(tmp_path, {"engines": {"node": "^18"}, "devEngines": {"runtime": {"name": "node", "version": "22"}}})
    d = package_json.parse(p, tmp_path)
    assert d.node is not None and d.node.requires == "^18"


def test_special_specs(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        {
            "dependencies": {
                "a": "git+https://github.com/x/a.git#v1",
                "b": "https://example.invalid/b.tgz",
                "c": "file:../c",
                "d": "user/repo#abc123",
                "e": "workspace:^1.0.0",
                "f": "npm:other@^2.1.0",
                "g": "latest",
                "h": " ^1.2.3 ",
                "@s/i": "github:s/i",
            },
            "peerDependencies": {"react": ">=17"},
            "optionalDependencies": {"fsevents": "^2"},
        },
    )
    r = _by_name(package_json.parse(p, tmp_path))
    for name in ("a", "b", "c", "d", "@s/i"):
        assert r[name].url and r[name].specifier == ""
    assert r["e"].specifier == "workspace:^1.0.0" and r["e"].url is None
    assert r["f"].specifier == "npm:other@^2.1.0"
    assert r["g"].specifier == "latest"
    assert r["h"].specifier == "^1.2.3"
    assert r["react"].group == "peer" and r["fsevents"].group == "optional"


def test_workspace_globs(tmp_path: Path) -> None:
    assert package_json.workspace_globs(CORPUS / "fastapi__full-stack-fastapi-template" / "package.json") == (
        "frontend",
        "packages/*",
    )
    p = _write(tmp_path, {"workspaces": {"packages": ["apps/*", 3, "libs/*"], "nohoist": ["**/x"]}})
    assert package_json.workspace_globs(p) == ("apps/*", "libs/*")
    assert package_json.workspace_globs(CORPUS / "unjs__ofetch" / "package.json") == ()


def test_invalid_json_names_file_and_line(tmp_path: Path) -> None:
    p = _write(tmp_path, '{\n  "name": "x",\n  "dependencies": {\n    "a": "^1",\n  }\n}\n')
    with pytest.raises(ParseError) as err:
        package_json.parse(p, tmp_path)
    assert err.value.line == 5 and str(err.value).startswith("package.json:5: invalid JSON")


@pytest.mark.parametrize("text", ["[]", '"x"', "null", "3"])
def test_non_object_is_a_parse_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(ParseError, match="must be a JSON object"):
        package_json.parse(_write(tmp_path, text), tmp_path)


def test_wrong_types_are_parse_errors(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as err:
        package_json.parse(_write(tmp_path, '{\n  "dependencies": {\n    "a": 1\n  }\n}'), tmp_path)
    assert err.value.line == 3 and "dependencies.a" in str(err.value)
    with pytest.raises(ParseError):
        package_json.parse(_write(tmp_path, '{"devDependencies": ["a"]}'), tmp_path)


def test_key_lines_ignores_nested_and_array_keys() -> None:
    text = '{\n "a": {\n  "b": {"c": 1},\n  "d": [{"e": 2}]\n },\n "f": "x"\n}'
    lines = package_json.key_lines(text)
    assert lines == {("a",): 2, ("a", "b"): 3, ("a", "d"): 4, ("f",): 6}


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
_sections = st.sampled_from(
    ["dependencies", "devDependencies", "engines", "devEngines", "packageManager", "workspaces", "x"]
)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_only_raises_envcheck_error(text: str) -> None:
    try:
        package_json.parse_text(text, "package.json")
    except EnvcheckError:
        pass


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_sections, _json, max_size=5))
def test_arbitrary_json_shapes_only_raise_envcheck_error(data: dict[str, object]) -> None:
    try:
        package_json.parse_text(json.dumps(data, indent=1), "package.json")
    except EnvcheckError:
        pass
