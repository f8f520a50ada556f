"""pnpm-lock.yaml 5.x, 6.0 and 9.0: importers, packages, dev flags."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envcheck.errors import EnvcheckError, ParseError
from envcheck.npm_semver import lock_satisfies
from envcheck.parsers import package_json, pnpm_lock
from envcheck.snapshot import Declared, LockedPackage

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"

V5 = """\
lockfileVersion: 5.4

importers:

  .:
    specifiers:
      left-pad: ^1.3.0
      '@types/react': ^18.0.0
      app: workspace:*
    dependencies:
      left-pad: 1.3.0
      app: link:packages/app
    devDependencies:
      '@types/react': 18.0.28_react@18.2.0

packages:

  /left-pad/1.3.0:
    resolution: {integrity: sha512-left}
    dev: false

  /@types/react/18.0.28_react@18.2.0:
    resolution: {integrity: sha512-types}
    dev: true

  /react/18.2.0:
    resolution: {integrity: sha512-react}
    dev: true
    optional: true
"""

V9_WORKSPACE = """\
lockfileVersion: '9.0'

importers:

  .:
    devDependencies:
      typescript:
        specifier: ^5.4.0
        version: 5.4.5

  packages/web:
    dependencies:
      react-dom:
        specifier: ^18.2.0
        version: 18.2.0(react@18.2.0)
      shared:
        specifier: workspace:*
        version: link:../shared
      str:
        specifier: npm:string-width@^4.2.0
        version: string-width@4.2.3

packages:

  react-dom@18.2.0:
    resolution: {integrity: sha512-dom}

  react@18.2.0:
    resolution: {integrity: sha512-react}

  loose-envify@1.4.0:
    resolution: {integrity: sha512-loose}

  string-width@4.2.3:
    resolution: {integrity: sha512-sw}

  typescript@5.4.5:
    resolution: {integrity: sha512-ts}

snapshots:

  react-dom@18.2.0(react@18.2.0):
    dependencies:
      loose-envify: 1.4.0
      react: 18.2.0

  react@18.2.0:
    dependencies:
      loose-envify: 1.4.0

  loose-envify@1.4.0: {}

  string-width@4.2.3: {}

  typescript@5.4.5: {}
"""


def _pkg(d: Declared, name: str) -> LockedPackage:
    return next(p for p in d.locks if p.name == name)


def test_antfu_ni_v6() -> None:
    root = CORPUS / "antfu__ni"
    d = pnpm_lock.parse(root / "pnpm-lock.yaml", root)
    assert len(d.locks) == 556
    assert all(p.dev for p in d.locks)  # every direct dependency is a devDependency
    vitest = _pkg(d, "vitest")
    assert (vitest.version, vitest.source, vitest.specifiers) == ("0.34.6", "pnpm-lock.yaml:4316", ("^0.34.6",))
    # The peer-qualified key "/@antfu/eslint-config@2.1.1(eslint@8.54.0)(...)" is release 2.1.1.
    cfg = _pkg(d, "@antfu/eslint-config")
    assert cfg.version == "2.1.1" and cfg.source == "pnpm-lock.yaml:90"
    fsevents = _pkg(d, "fsevents")
    assert fsevents.version == "2.3.3" and fsevents.marker == "optional"
    deps = pnpm_lock.importer_dependencies(root / "pnpm-lock.yaml")
    assert len(deps) == 22 and {x.importer for x in deps} == {"."}
    manifest = package_json.parse(root / "package.json", root)
    for req in manifest.requirements:
        assert lock_satisfies(d.locks, req.name, req.specifier) is True, req.name


def test_unjs_ofetch_v9() -> None:
    root = CORPUS / "unjs__ofetch"
    d = pnpm_lock.parse(root / "pnpm-lock.yaml", root)
    assert len(d.locks) == 414
    assert all(p.dev for p in d.locks)  # no production dependency reaches anything
    cov = _pkg(d, "@vitest/coverage-v8")
    assert cov.version == "4.0.5" and cov.specifiers == ("^4.0.5",)
    h3 = _pkg(d, "h3")
    assert h3.version == "2.0.1-rc.5" and lock_satisfies(d.locks, "h3", "^2.0.1-rc.5") is True
    deps = {x.name: x for x in pnpm_lock.importer_dependencies(root / "pnpm-lock.yaml")}
    assert len(deps) == 12
    assert deps["eslint"].version == "9.38.0" and deps["eslint"].package == ("eslint", "9.38.0")
    assert deps["eslint"].group == "dev" and deps["eslint"].specifier == "^9.38.0"


def test_v9_workspace_dev_by_reachability(tmp_path: Path) -> None:
    p = tmp_path / "pnpm-lock.yaml"
    p.write_text(V9_WORKSPACE)
    d = pnpm_lock.parse(p, tmp_path)
    dev = {x.name: x.dev for x in d.locks}
    assert dev == {"react-dom": False, "react": False, "loose-envify": False, "string-width": False, "typescript": True}
    assert _pkg(d, "react-dom").specifiers == ("^18.2.0",)
    assert _pkg(d, "string-width").specifiers == ("npm:string-width@^4.2.0",)
    deps = pnpm_lock.importer_dependencies(p)
    assert {(x.importer, x.name, x.version) for x in deps} == {
        (".", "typescript", "5.4.5"),
        ("packages/web", "react-dom", "18.2.0"),
        ("packages/web", "shared", "link:../shared"),
        ("packages/web", "str", "string-width@4.2.3"),
    }
    assert next(x for x in deps if x.name == "shared").package is None


def test_v5_keys_and_separate_specifiers(tmp_path: Path) -> None:
    p = tmp_path / "pnpm-lock.yaml"
    p.write_text(V5)
    d = pnpm_lock.parse(p, tmp_path)
    got = {(x.name, x.version): (x.dev, x.marker, x.specifiers, x.source) for x in d.locks}
    assert got == {
        ("left-pad", "1.3.0"): (False, None, ("^1.3.0",), "pnpm-lock.yaml:18"),
        ("@types/react", "18.0.28"): (True, None, ("^18.0.0",), "pnpm-lock.yaml:22"),
        ("react", "18.2.0"): (True, "optional", (), "pnpm-lock.yaml:26"),
    }


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("/left-pad/1.3.0", ("left-pad", "1.3.0")),
        ("/@types/react/18.0.28_react@18.2.0", ("@types/react", "18.0.28")),
        ("/@babel/core@7.22.10", ("@babel/core", "7.22.10")),
        ("/a@1.0.0(b@2.0.0)(c@3.0.0)", ("a", "1.0.0")),
        ("@x/y@2.0.0-rc.1(z@1.0.0(w@1))", ("@x/y", "2.0.0-rc.1")),
        (
            "foo@https://codeload.example.invalid/x/y/tar.gz/abc",
            ("foo", "https://codeload.example.invalid/x/y/tar.gz/abc"),
        ),
        ("github.com/user/repo/abc123", None),
        ("/@scope", None),
        ("", None),
    ],
)
def test_split_key(key: str, expected: tuple[str, str] | None) -> None:
    assert pnpm_lock.split_key(key) == expected


def test_errors(tmp_path: Path) -> None:
    p = tmp_path / "pnpm-lock.yaml"
    p.write_text("lockfileVersion: '9.0'\npackages:\n  a@1.0.0: [unclosed\n")
    with pytest.raises(ParseError) as err:
        pnpm_lock.parse(p, tmp_path)
    assert err.value.path == "pnpm-lock.yaml" and err.value.line is not None
    p.write_text("just: yaml\n")
    with pytest.raises(ParseError, match="lockfileVersion"):
        pnpm_lock.parse(p, tmp_path)
    p.write_text("lockfileVersion: '6.0'\npackages:\n  /a@1.0.0: 3\n")
    with pytest.raises(ParseError) as err:
        pnpm_lock.parse(p, tmp_path)
    assert err.value.line == 3


_yaml_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10))
_yaml = st.recursive(
    _yaml_scalar,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10) | st.integers(), inner, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_only_raises_envcheck_error(text: str) -> None:
    for t in (text, "lockfileVersion: '9.0'\n" + text):
        try:
            pnpm_lock.parse_text(t, "pnpm-lock.yaml")
        except EnvcheckError:
            pass


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["5.4", "'6.0'", "'9.0'", "x"]),
    st.dictionaries(st.sampled_from(["importers", "packages", "snapshots", "dependencies", "specifiers"]), _yaml),
)
def test_arbitrary_lock_shapes_only_raise_envcheck_error(version: str, body: dict[object, object]) -> None:
    import yaml

    text = f"lockfileVersion: {version}\n" + yaml.safe_dump(body)
    try:
        pnpm_lock.parse_text(text, "pnpm-lock.yaml")
    except EnvcheckError:
        pass
