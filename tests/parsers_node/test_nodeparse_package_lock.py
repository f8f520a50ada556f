"""package-lock.json v1/v2/v3: nested copies, dev/optional flags, workspaces, speed."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envcheck.errors import EnvcheckError, ParseError
from envcheck.npm_semver import lock_satisfies
from envcheck.parsers import package_lock
from envcheck.snapshot import Declared, LockedPackage

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"


def synthetic_v3_lock(n: int) -> str:
    """A lockfileVersion 3 text with ``n`` packages (every fifth nested), shaped like npm's output."""
    packages: dict[str, object] = {
        "": {"name": "big", "version": "1.0.0", "dependencies": {f"pkg-{i}": f"^{i % 50}.0.0" for i in range(1, n, 10)}}
    }
    for i in range(n):
        key = f"node_modules/pkg-{i}" if i % 5 else f"node_modules/pkg-{i + 1}/node_modules/pkg-{i}"
        packages[key] = {
            "version": f"{i % 50}.{i % 7}.{i % 3}",
            "resolved": f"https://npm-registry.invalid/pkg-{i}/-/pkg-{i}-{i % 50}.{i % 7}.{i % 3}.tgz",
            "integrity": "sha512-" + "A" * 86 + "==",
            "dev": bool(i % 2),
            "license": "MIT",
            "dependencies": {f"pkg-{(i * 7) % n}": "^1.0.0", f"pkg-{(i * 13) % n}": "~2.1.0"},
            "engines": {"node": ">=14"},
        }
    doc = {"name": "big", "version": "1.0.0", "lockfileVersion": 3, "requires": True, "packages": packages}
    return json.dumps(doc, indent=2) + "\n"


def _at(d: Declared, path: str) -> LockedPackage:
    return next(p for p in d.locks if p.path == path)


def test_warehouse_v3_counts_nested_copies_and_flags() -> None:
    d = package_lock.parse(CORPUS / "pypi__warehouse" / "package-lock.json", CORPUS / "pypi__warehouse")
    assert len(d.locks) == 1064  # 1065 "packages" keys minus the root
    assert sum(p.dev for p in d.locks) == 895
    nested = [p for p in d.locks if (p.path or "").count("node_modules/") > 1]
    assert len(nested) == 139
    lru = {p.path: p.version for p in d.locks if p.name == "lru-cache"}
    assert lru == {
        "node_modules/lru-cache": "5.1.1",
        "node_modules/@asamuzakjp/css-color/node_modules/lru-cache": "10.4.3",
        "node_modules/path-scurry/node_modules/lru-cache": "10.4.3",
    }
    jquery = _at(d, "node_modules/jquery")
    assert (jquery.name, jquery.version, jquery.source) == ("jquery", "3.7.1", "package-lock.json:9750")
    assert jquery.specifiers == ("^3.7.0",) and not jquery.dev
    assert jquery.hashes[0].startswith("sha512-")
    # npm alias: the folder (and package.json) name, not the real name "string-width".
    alias = _at(d, "node_modules/string-width-cjs")
    assert (alias.name, alias.version, alias.source) == ("string-width-cjs", "4.2.3", "package-lock.json:12964")
    fsevents = _at(d, "node_modules/fsevents")
    assert fsevents.marker == "optional" and fsevents.dev
    assert d.files == ("package-lock.json",)


def test_mdn_v3_and_manifest_agreement() -> None:
    d = package_lock.parse(CORPUS / "mdn__express-locallibrary-tutorial" / "package-lock.json", CORPUS)
    assert len(d.locks) == 217 and sum(p.dev for p in d.locks) == 75
    assert _at(d, "node_modules/express").version == "5.1.0"
    assert {p.name for p in d.locks if p.marker == "optional"} == {"bare-events", "fsevents"}
    assert lock_satisfies(d.locks, "express", "^5.1.0") is True
    assert lock_satisfies(d.locks, "express", "^4.17.1") is False
    assert lock_satisfies(d.locks, "left-pad", "^1.0.0") is False


def test_wagtail_v3_all_dev() -> None:
    d = package_lock.parse(CORPUS / "wagtail__bakerydemo" / "package-lock.json", CORPUS)
    assert len(d.locks) == 203 and all(p.dev for p in d.locks)
    assert _at(d, "node_modules/eslint").version == "9.39.2"
    assert _at(d, "node_modules/@cacheable/memory/node_modules/@keyv/bigmap").name == "@keyv/bigmap"
    assert sum(1 for p in d.locks if p.specifiers) == 6


def test_v1_nested_dependencies(tmp_path: Path) -> None:
    doc = {
        "name": "old",
        "lockfileVersion": 1,
        "requires": True,
        "dependencies": {
            "a": {
                "version": "1.0.0",
                "integrity": "sha512-aaa sha1-bbb",
                "dependencies": {"b": {"version": "2.0.0", "dev": True}},
            },
            "b": {"version": "3.0.0"},
            "c": {"version": "npm:real-c@4.1.0"},
            "d": {"version": "github:user/d#abcdef", "optional": True},
        },
    }
    p = tmp_path / "package-lock.json"
    p.write_text(json.dumps(doc, indent=2))
    d = package_lock.parse(p, tmp_path)
    got = {x.path: (x.name, x.version, x.dev, x.source) for x in d.locks}
    assert got == {
        "node_modules/a": ("a", "1.0.0", False, "package-lock.json:6"),
        "node_modules/a/node_modules/b": ("b", "2.0.0", True, "package-lock.json"),
        "node_modules/b": ("b", "3.0.0", False, "package-lock.json:16"),
        "node_modules/c": ("c", "4.1.0", False, "package-lock.json:19"),
        "node_modules/d": ("d", "github:user/d#abcdef", False, "package-lock.json:22"),
    }
    assert _at(d, "node_modules/a").hashes == ("sha512-aaa", "sha1-bbb")
    assert _at(d, "node_modules/d").marker == "optional"


def test_v2_workspaces_and_links(tmp_path: Path) -> None:
    doc = {
        "lockfileVersion": 2,
        "packages": {
            "": {"name": "root", "workspaces": ["packages/*"], "dependencies": {"lodash": "^4.17.0"}},
            "packages/app": {"name": "app", "version": "0.1.0", "dependencies": {"react": "^18.2.0", "ms": "^2"}},
            "packages/app/node_modules/react": {"version": "18.2.0", "devOptional": True},
            "node_modules/app": {"resolved": "packages/app", "link": True},
            "node_modules/lodash": {"version": "4.17.21"},
            "node_modules/ms": {"version": "2.1.3"},
            "node_modules/ghost": {"extraneous": True},
        },
        "dependencies": {"lodash": {"version": "4.17.21"}},
    }
    p = tmp_path / "package-lock.json"
    p.write_text(json.dumps(doc, indent=2))
    d = package_lock.parse(p, tmp_path)
    assert {x.path for x in d.locks} == {"packages/app/node_modules/react", "node_modules/lodash", "node_modules/ms"}
    react = _at(d, "packages/app/node_modules/react")
    assert react.name == "react" and not react.dev and react.marker == "optional"
    assert react.specifiers == ("^18.2.0",)
    assert _at(d, "node_modules/ms").specifiers == ("^2",)  # hoisted for the workspace
    assert _at(d, "node_modules/lodash").specifiers == ("^4.17.0",)


def test_errors_name_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "package-lock.json"
    p.write_text('{\n  "lockfileVersion": 3,\n  "packages": {\n')
    with pytest.raises(ParseError) as err:
        package_lock.parse(p, tmp_path)
    assert err.value.path == "package-lock.json" and err.value.line == 4
    p.write_text('{\n  "lockfileVersion": 3,\n  "packages": {\n    "node_modules/a": {"version": 1}\n  }\n}\n')
    with pytest.raises(ParseError) as err:
        package_lock.parse(p, tmp_path)
    assert err.value.line == 4
    p.write_text('{"lockfileVersion": 3}')
    with pytest.raises(ParseError, match="without a 'packages'"):
        package_lock.parse(p, tmp_path)


def test_twenty_thousand_packages_parse_fast(tmp_path: Path) -> None:
    p = tmp_path / "package-lock.json"
    p.write_text(synthetic_v3_lock(20_000))
    start = time.perf_counter()
    d = package_lock.parse(p, tmp_path)
    elapsed = time.perf_counter() - start
    assert len(d.locks) == 20_000
    assert sum(1 for x in d.locks if x.path and x.path.count("node_modules/") == 2) == 4_000
    assert all(x.source.startswith("package-lock.json:") for x in d.locks)
    # Measured ~0.15 s CPU on the dev machine; the bound only catches a quadratic regression.
    assert elapsed < 2.0


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_only_raises_envcheck_error(text: str) -> None:
    try:
        package_lock.parse_text(text, "package-lock.json")
    except EnvcheckError:
        pass


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([1, 2, 3, "3", None]),
    st.dictionaries(st.sampled_from(["", "node_modules/a", "x/node_modules/b", "ws", "node_modules/"]), _json),
    _json,
)
def test_arbitrary_lock_shapes_only_raise_envcheck_error(version: object, packages: object, deps: object) -> None:
    for doc in ({"lockfileVersion": version, "packages": packages}, {"lockfileVersion": version, "dependencies": deps}):
        try:
            package_lock.parse_text(json.dumps(doc, indent=2), "package-lock.json")
        except EnvcheckError:
            pass
