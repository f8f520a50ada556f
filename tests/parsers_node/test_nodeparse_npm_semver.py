"""npm ranges as package.json writes them, judged the way npm judges them."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from envcheck.npm_semver import is_exact, is_semver_range, lock_satisfies, major, satisfies, split_alias
from envcheck.snapshot import LockedPackage


@pytest.mark.parametrize(
    ("version", "range_", "expected"),
    [
        ("1.5.0", "^1.2.3", True),
        ("2.0.0", "^1.2.3", False),
        ("0.0.2", "^0.0.1", False),
        ("1.3.0-beta.1", "^1.2.3", False),  # prereleases only match their own tuple
        ("2.0.1", "^2.0.1-rc.5", True),
        ("9.9.9", "x", True),
        ("0.1.0", "*", True),
        ("3.0.0", "", True),
        ("1.9.0", "1.x", True),
        ("2.0.0", "1.x", False),
        ("3.4.0", ">=1 <2 || 3", True),
        ("2.1.0", ">=1 <2 || 3", False),
        ("1.2.3", "v1.2.3", True),
        ("1.2.3", "=1.2.3", True),
        ("1.3.0", ">= 1.2.3", True),
        ("1.2.9", "~>1.2", True),
        ("v1.5.0", "^1.2.3", True),
        ("1.4.0", "npm:other@^1", True),
        ("2.0.0", "npm:@scope/other@^1", False),
        ("22.1.0", ">=22.0.0", True),
        ("20.20.2", ">=22.0.0", False),
        ("20.20.2", "^18 || ^20", True),
        ("2.5.0", "1.2.3 - 2", True),
        ("5.0.0", "1 || ", True),
    ],
)
def test_satisfies(version: str, range_: str, expected: bool) -> None:
    assert satisfies(version, range_) is expected


@pytest.mark.parametrize(
    "range_",
    [
        "latest",
        "next",
        "git+https://example.invalid/x.git#v1",
        "https://example.invalid/x.tgz",
        "file:../x",
        "link:../x",
        "workspace:^1.0.0",
        "workspace:*",
        "user/repo#abc",
        "github:user/repo",
        "npm:other@latest",
    ],
)
def test_not_semver_is_none(range_: str) -> None:
    assert satisfies("1.0.0", range_) is None
    assert not is_semver_range(range_)


def test_unparsable_versions_are_none() -> None:
    assert satisfies("garbage", "^1") is None
    assert satisfies("github:user/d#abcdef", "^1") is None
    assert satisfies("1.0.0", ">=>=1") is None


def test_is_exact() -> None:
    for spec in ("1.2.3", "=1.2.3", "v1.2.3", "2.0.0-alpha.3", "1.0.0+build.5", "npm:x@1.2.3", " 1.2.3 "):
        assert is_exact(spec), spec
    for spec in ("^1.2.3", "~1.2.3", "1.2", "1.x", "*", "", "latest", ">=1.2.3", "1.2.3 || 1.2.4", "file:x"):
        assert not is_exact(spec), spec


def test_major() -> None:
    assert [major(v) for v in ("20.1.0", "v18", " 22 ", "=16.0.0", "lts/*", "", "node")] == [
        20,
        18,
        22,
        16,
        None,
        None,
        None,
    ]


def test_split_alias() -> None:
    assert split_alias("npm:string-width@^4.2.0") == ("string-width", "^4.2.0")
    assert split_alias("npm:@scope/pkg@1.0.0") == ("@scope/pkg", "1.0.0")
    assert split_alias("npm:pkg") == ("pkg", "")
    assert split_alias("^1") == (None, "^1")


def test_lock_satisfies_uses_recorded_ranges_then_versions() -> None:
    locks = (
        LockedPackage("node", "a", "1.4.0", path="node_modules/a"),
        LockedPackage("node", "a", "2.0.0", path="node_modules/b/node_modules/a"),
        LockedPackage("node", "g", "1.0.0", specifiers=("github:u/g",)),
        LockedPackage("python", "p", "1.0.0"),
    )
    assert lock_satisfies(locks, "a", "^1.2.0") is True  # the top-level copy decides
    assert lock_satisfies(locks, "a", "^2") is False
    assert lock_satisfies(locks, "g", "github:u/g") is True
    assert lock_satisfies(locks, "g", "github:u/other") is None
    assert lock_satisfies(locks, "p", "^1") is False  # python entries are not node packages


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40))
@example("", "0\r- :")  # NpmSpec itself raised AttributeError on this hyphen range
def test_never_raises(version: str, range_: str) -> None:
    assert satisfies(version, range_) in (True, False, None)
    assert is_exact(range_) in (True, False)
    m = major(version)
    assert m is None or m >= 0


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 30), st.integers(0, 30), st.integers(0, 30))
def test_exact_range_matches_only_itself(a: int, b: int, c: int) -> None:
    v = f"{a}.{b}.{c}"
    assert satisfies(v, v) is True and is_exact(v)
    assert satisfies(f"{a}.{b}.{c + 1}", v) is False
    assert satisfies(f"{a}.{b}.{c + 1}", f"^{v}") is (a > 0 or b > 0)
