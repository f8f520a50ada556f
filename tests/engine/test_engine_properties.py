"""Arbitrary rule files, baselines and snapshots never raise anything but EnvcheckError, and checks never crash."""

from __future__ import annotations

from pathlib import Path

from engine_testutil import scan, snap, world  # type: ignore[import-not-found]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envcheck.baseline import load_baseline
from envcheck.errors import EnvcheckError
from envcheck.rules import parse_rule

_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10,
)
_KEYS = st.sampled_from(["id", "name", "severity", "check", "params", "summary", "why", "fix", "example", "x"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_KEYS, _VALUES, max_size=9))
def test_arbitrary_rule_tables_raise_only_envcheck_errors(table: dict[str, object]) -> None:
    try:
        parse_rule(table, "rules/x.toml", builtin=False)
    except EnvcheckError as exc:
        assert str(exc).startswith("rules/x.toml: ")


@settings(max_examples=150, deadline=None)
@given(
    params=st.dictionaries(
        st.sampled_from(["runtime", "levels", "level-severity", "ecosystem", "report", "forbid", "on", "require"]),
        _VALUES,
        max_size=4,
    ),
    kind=st.sampled_from(["runtime-version", "package-set", "package-policy", "base-image", "env-policy"]),
)
def test_arbitrary_params_raise_only_envcheck_errors(params: dict[str, object], kind: str) -> None:
    table = {"id": "X001", "name": "x", "severity": "error", "check": kind, "summary": "s", "params": params}
    try:
        parse_rule(table, "r.toml", builtin=False)
    except EnvcheckError:
        pass


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_arbitrary_baseline_bytes_raise_only_envcheck_errors(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "baseline.json"
    path.write_bytes(data)
    try:
        load_baseline(path)
    except EnvcheckError:
        pass


_VERSION = st.one_of(
    st.from_regex(r"\A[0-9]{1,3}(\.[0-9]{1,3}){0,3}(rc[0-9])?\Z"),
    st.text(alphabet="0123456789.abv-+*^~<>=!, ", max_size=12),
)


@settings(max_examples=200, deadline=None)
@given(
    host_versions=st.dictionaries(st.sampled_from(["flask", "requests", "werkzeug"]), _VERSION, max_size=3),
    image_versions=st.dictionaries(st.sampled_from(["flask", "requests", "werkzeug"]), _VERSION, max_size=3),
    python=_VERSION,
)
def test_checks_never_crash_on_odd_versions(
    host_versions: dict[str, str], image_versions: dict[str, str], python: str
) -> None:
    w = world()
    host = snap(py=host_versions, python=python or None)
    image = snap("image", py=image_versions, python="3.11.7")
    for f in scan(project=w.project, host=host, image=image):
        assert f.rule.startswith("EC")


_TEXT = st.text(max_size=15)


@settings(max_examples=200, deadline=None)
@given(
    specs=st.lists(st.tuples(st.sampled_from(["python", "node"]), _TEXT, _TEXT, st.none() | _TEXT), max_size=4),
    refs=st.lists(_TEXT, max_size=3),
    args=st.lists(_TEXT, max_size=3),
    version_files=st.dictionaries(_TEXT, _TEXT, max_size=3),
    requires=st.none() | _TEXT,
)
def test_checks_never_crash_on_hostile_declarations(
    specs: list[tuple[str, str, str, str | None]],
    refs: list[str],
    args: list[str],
    version_files: dict[str, str],
    requires: str | None,
) -> None:
    """A stored project snapshot (envcheck diff) may hold anything a JSON file can."""
    from engine_testutil import (  # type: ignore[import-not-found]
        BaseImage,
        DeclaredRuntime,
        InstallCommand,
        LockedPackage,
        project,
    )

    from envcheck.snapshot import Requirement

    p = project(
        python=DeclaredRuntime(requires=requires, version_files=version_files),
        node=DeclaredRuntime(requires=requires, version_files=version_files),
        requirements=tuple(Requirement(e, n or "x", s, source="f:1", marker=m) for e, n, s, m in specs),  # type: ignore[arg-type]
        locks=tuple(LockedPackage(e, n or "x", s, source="package-lock.json") for e, n, s, _ in specs),  # type: ignore[arg-type]
        base_images=tuple(BaseImage(r, "Dockerfile:1") for r in refs),
        installs=(InstallCommand("pip", "install", tuple(args)), InstallCommand("npm", "install", tuple(args))),
    )
    host = snap(py={n or "x": s for _, n, s, _ in specs}, js={n or "x": s for _, n, s, _ in specs}, node="20.1.0")
    for f in scan(project=p, host=host, image=snap("image", python="3.12.0")):
        assert f.rule.startswith("EC")
