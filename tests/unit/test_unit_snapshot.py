"""The snapshot JSON contract: exact round trip, clear errors, never a traceback."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envcheck.errors import EnvcheckError
from envcheck.snapshot import (
    SCHEMA,
    BaseImage,
    Declared,
    DeclaredRuntime,
    DockerfileVar,
    EnvRef,
    EnvVar,
    InstallCommand,
    LockedPackage,
    Package,
    Platform,
    Requirement,
    Runtime,
    Snapshot,
    SnapshotError,
    Source,
    Suppression,
)

DESIGN_EXAMPLE: dict[str, Any] = {
    "schema": "envcheck.snapshot/1",
    "source": {"kind": "host", "ref": "laptop", "captured_at": "2026-11-28T03:50:00Z"},
    "platform": {"os": "linux", "arch": "x86_64", "distro": "debian 12", "libc": "glibc 2.36"},
    "runtimes": {
        "node": {"version": "20.20.2", "path": "/usr/bin/node"},
        "npm": {"version": "11.19.1"},
        "python": {"version": "3.11.7", "implementation": "cpython", "path": "/usr/local/bin/python3.11"},
    },
    "packages": {
        "node": [{"name": "@types/node", "version": "20.1.0", "path": "node_modules/@types/node"}],
        "python": [{"name": "requests", "version": "2.31.0", "path": "/venv/requests-2.31.0.dist-info"}],
    },
    "env": {"APP_ENV": {"set": True, "value": "production"}, "DATABASE_URL": {"set": True}},
    "declared": {
        "python": {"requires": ">=3.10", "version_files": {".python-version": "3.11.7"}},
        "node": {"engines": ">=18", "version_files": {".nvmrc": "20"}},
        "requirements": [
            {"ecosystem": "python", "name": "requests", "specifier": "==2.31.0", "source": "requirements.txt:3"}
        ],
        "locks": [{"ecosystem": "node", "name": "express", "version": "4.18.2", "source": "package-lock.json"}],
        "base_images": [{"ref": "python:3.11-slim", "source": "Dockerfile:1"}],
        "env_refs": [{"name": "DATABASE_URL", "source": "app/settings.py:12"}],
    },
}


def test_design_example_round_trips_exactly() -> None:
    snap = Snapshot.from_dict(DESIGN_EXAMPLE)
    assert snap.runtime("python") == Runtime("3.11.7", "cpython", "/usr/local/bin/python3.11")
    assert snap.declared is not None and snap.declared.python is not None
    assert snap.declared.python.requires == ">=3.10"
    assert snap.declared.node is not None and snap.declared.node.requires == ">=18"
    assert snap.to_dict() == DESIGN_EXAMPLE


def test_absent_things_are_absent_keys() -> None:
    snap = Snapshot(source=Source("image", "docker:app", "2026-01-01T00:00:00Z"))
    d = snap.to_dict()
    assert d == {
        "schema": SCHEMA,
        "source": {"kind": "image", "ref": "docker:app", "captured_at": "2026-01-01T00:00:00Z"},
        "runtimes": {},
        "packages": {},
        "env": {},
    }


def test_full_model_round_trips() -> None:
    snap = Snapshot(
        source=Source("project", "fixtures/x"),
        platform=Platform(os="linux", arch="aarch64"),
        runtimes={"python": Runtime("3.12.1")},
        packages={"python": (Package("six", "1.16.0", "/s", active=False, editable=True),)},
        env={"SECRET_KEY": EnvVar(set=False)},
        declared=Declared(
            python=DeclaredRuntime(requires=">=3.10", requires_source="pyproject.toml:4", package_manager=None),
            node=DeclaredRuntime(package_manager="pnpm@8.11.0"),
            requirements=(
                Requirement(
                    "python",
                    "django",
                    ">=4.2,<5",
                    "requirements.txt:1",
                    extras=("argon2",),
                    marker='python_version >= "3.10"',
                    hashes=("sha256:ab",),
                    group="dev",
                ),
                Requirement("python", "mylib", "", "requirements.txt:2", url="git+https://x/y@abc", editable=True),
            ),
            locks=(
                LockedPackage(
                    "node", "b", "1.0.0", "package-lock.json", dev=True, path="node_modules/a/node_modules/b"
                ),
            ),
            base_images=(BaseImage("python:3.11", "Dockerfile:3", stage="build", raw="python:${PY}"),),
            env_refs=(EnvRef("DATABASE_URL", "app.py:3"),),
            installs=(InstallCommand("pip", "install", ("flask",), ("req.txt",), "Dockerfile:5"),),
            dockerfile_vars=(DockerfileVar("API_TOKEN", "ENV", "Dockerfile:6", has_value=True, secret=True),),
            suppressions=(Suppression("Dockerfile:1", ("EC402",)),),
            files=("requirements.txt", "Dockerfile"),
        ),
        image={"user": "app", "secret_env": ["API_TOKEN"]},
        notes=("node: not found",),
    )
    again = Snapshot.from_json(snap.to_json())
    assert again == snap


def test_active_packages_exclude_context_environments() -> None:
    snap = Snapshot(
        source=Source("image", "x"),
        packages={"python": (Package("a", "1", "/opt/venv"), Package("b", "1", "/usr/lib", active=False))},
    )
    assert [p.name for p in snap.active_packages("python")] == ["a"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{not json", "laptop.json:1: malformed JSON"),
        ('{"schema": "other/2"}', "not an envcheck snapshot"),
        ("[]", "not an envcheck snapshot"),
        ('{"schema": "envcheck.snapshot/1"}', "snapshot.source: missing"),
        (
            '{"schema": "envcheck.snapshot/1", "source": {"kind": "laptop", "ref": "x"}}',
            "snapshot.source.kind: must be one of",
        ),
        (
            '{"schema": "envcheck.snapshot/1", "source": {"kind": "host", "ref": "x"}, "packages": {"python": [{"name": 1}]}}',
            "snapshot.packages.python[0].name: expected a string",
        ),
    ],
)
def test_bad_files_are_one_clear_line(text: str, expected: str) -> None:
    with pytest.raises(SnapshotError) as err:
        Snapshot.from_json(text, path="laptop.json")
    assert expected in str(err.value)
    assert str(err.value).startswith("laptop.json")
    assert "\n" not in str(err.value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300)
@given(
    st.dictionaries(
        st.sampled_from(["schema", "source", "runtimes", "packages", "env", "declared", "image", "notes", "platform"]),
        json_values,
    )
)
def test_arbitrary_json_never_crashes(data: dict[str, Any]) -> None:
    data["schema"] = SCHEMA
    try:
        Snapshot.from_dict(data, path="x.json")
    except EnvcheckError:
        pass


@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes(text: str) -> None:
    try:
        Snapshot.from_json(text, path="x.json")
    except EnvcheckError:
        pass


def test_deeply_nested_json_is_a_clear_error() -> None:
    with pytest.raises(EnvcheckError):
        Snapshot.from_json("[" * 100000 + "]" * 100000, path="deep.json")


def test_json_output_is_deterministic() -> None:
    snap = Snapshot.from_dict(DESIGN_EXAMPLE)
    assert snap.to_json() == Snapshot.from_json(snap.to_json()).to_json()
    assert json.loads(snap.to_json())["schema"] == SCHEMA
