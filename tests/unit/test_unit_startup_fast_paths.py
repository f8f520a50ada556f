"""Start-up fast paths (issue 15) answer exactly what the libraries they spare would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from envcheck import npm_semver
from envcheck.scanners.host import _canonical, _normalise_version

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

_num = st.one_of(st.integers(0, 30).map(str), st.sampled_from(["00", "01", "007", "999999999", "1000000000"]))
_release = st.lists(_num, min_size=1, max_size=4).map(".".join)
_pep440 = st.builds(
    lambda epoch, rel, pre, post, dev, local: f"{epoch}{rel}{pre}{post}{dev}{local}",
    st.sampled_from(["", "1!", "0!"]),
    _release,
    st.sampled_from(["", "a1", "b0", "rc2", "c1", "alpha3", "-rc.1", "a01", "RC1", "pre4"]),
    st.sampled_from(["", ".post1", "-1", ".post01", "post2", ".rev3", "_post4"]),
    st.sampled_from(["", ".dev0", "dev1", ".dev01", "-dev2"]),
    st.sampled_from(["", "+abc", "+ubuntu.1", "+1.01", "+Local-Part_2", "+a.b.0", "+00", "+"]),
)


def _reference_version(raw: str) -> str:
    try:
        return str(Version(raw))
    except InvalidVersion:
        return raw


@given(st.one_of(_pep440, st.text(max_size=20)))
@settings(max_examples=600)
def test_version_normalisation_equals_packaging(raw: str) -> None:
    assert _normalise_version(raw) == _reference_version(raw)


@given(st.text(alphabet=st.sampled_from("aZ09-_.İ ß"), max_size=15))
def test_name_canonicalisation_equals_packaging(name: str) -> None:
    assert _canonical(name) == canonicalize_name(name)


_op = st.sampled_from(["", "=", ">", ">=", "<", "<="])
_partial = st.lists(st.integers(0, 4).map(str), min_size=1, max_size=3).map(".".join)
_range = st.lists(st.builds(lambda o, v: o + v, _op, _partial), min_size=1, max_size=3).map(" ".join)
_npm_version = st.one_of(
    st.lists(st.integers(0, 4).map(str), min_size=3, max_size=3).map(".".join),
    st.sampled_from(["1.2.3-beta.1", "v2.0.0", "=1.0.0", "01.2.3", "1.2", "2.0.0+build"]),
)


@given(_npm_version, _range)
@settings(max_examples=800)
def test_plain_npm_ranges_agree_with_semantic_version(version: str, range_: str) -> None:
    quick = npm_semver._plain_match(version, range_)
    if quick is None:
        return
    spec, parsed = npm_semver._spec(range_), npm_semver._version(version)
    assert spec is not None and parsed is not None
    assert quick == bool(spec.match(parsed)), (version, range_)


def test_the_fast_path_covers_what_projects_write() -> None:
    assert npm_semver._plain_match("20.11.1", ">=20.11.1 <21") is True
    assert npm_semver._plain_match("21.0.0", ">=20.11.1 <21") is False
    assert npm_semver._plain_match("5.3.3", "5.3.3") is True
    assert npm_semver._plain_match("5.3.3", "^5.3.0") is None  # semantic_version decides


# Modules `envcheck lint` has no use for on a project: the image, registry,
# host and report machinery of other commands, and the big third-party
# libraries behind them.  Asserted on what is imported, not on a time, so it
# holds on a loaded CI machine too.
HEAVY_FOR_LINT = (
    "docker",
    "requests",
    "rich",
    "yaml",
    "cyclonedx",
    "spdx_tools",
    "urllib3",
    "hashlib",
    "http.client",
    "importlib.metadata",
    "importlib.resources",
    "zipfile",
    "tempfile",
    "semantic_version",
    "packaging",  # every requirement of the fixture is a plain pin
    "typing",  # annotations are strings; typing names are imported only for type checkers
    "dockerfile_parse",  # the Dockerfile's parse is remembered under its text
    "logging",  # which dockerfile-parse imports
    "envcheck.scanners.host",
    "envcheck.scanners.image",
    "envcheck.commands.scan",
    "envcheck.commands.snapshot",
    "envcheck.commands.dockerfile",
    "envcheck.commands.rules",
    "envcheck.generate",
    # the lazy check registry: lint imports only the kinds that run in `static`
    "envcheck.checks.runtime_version",
    "envcheck.checks.platform",
    "envcheck.checks.wheel_availability",
    "envcheck.checks.package_drift",
    "envcheck.checks.package_set",
    "envcheck.checks.requirement_satisfied",
    "envcheck.checks.runtime_requires",
    "envcheck.checks.declared_runtime",
    "envcheck.checks.env_presence",
    "envcheck.checks.env_value",
    "envcheck.checks.package_policy",
    "envcheck.checks.env_policy",
)


def _modules_after(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> set[str]:
    code = (
        "import contextlib, io, json, sys\n"
        "from envcheck.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main({argv!r})\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_lint_imports_nothing_heavy(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    env.pop("ENVCHECK_NO_CACHE", None)
    _modules_after(["lint"], FIXTURES / "clean-pinned", env)  # the first run parses the rule files and caches them
    loaded = _modules_after(["lint"], FIXTURES / "clean-pinned", env)
    heavy = sorted(m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY_FOR_LINT))
    assert heavy == []
    assert "envcheck.engine" in loaded  # and it did lint
    # The cached rules: no TOML parsed for them, and only the static kinds imported.
    assert "envcheck.checks.unpinned_requirement" in loaded


def test_a_cached_host_snapshot_starts_no_interpreter_and_imports_no_packaging(tmp_path: Path) -> None:
    venv = tmp_path / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    cold = (
        "import os, sys\n"
        "os.environ['XDG_CACHE_HOME'] = sys.argv[1]\n"
        "from envcheck.scanners import host\n"
        "host.scan_host('.', node=False, env_names=())\n"  # probes and caches
    )
    # A second process, as a second `envcheck snapshot host` is: what it imports is its own.
    warm = (
        "import json, os, subprocess, sys\n"
        "os.environ['XDG_CACHE_HOME'] = sys.argv[1]\n"
        "started = []\n"
        "real = subprocess.Popen.__init__\n"
        "subprocess.Popen.__init__ = lambda self, *a, **k: started.append(a) or real(self, *a, **k)\n"
        "from envcheck.scanners import host\n"
        "host.scan_host('.', node=False, env_names=())\n"
        "print(json.dumps({'started': len(started), 'packaging': sorted(m for m in sys.modules if m.startswith('packaging')),"
        " 'typing': 'typing' in sys.modules}))\n"
    )
    import os
    import time

    old = time.time() - 60
    for p in [venv, *venv.rglob("*")]:
        os.utime(p, (old, old), follow_symlinks=False)
    for code in (cold, warm):
        out = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / "cache")],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
    # typing too: annotations are strings and typing names are imported only for type checkers.
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"started": 0, "packaging": [], "typing": False}


_name = st.one_of(
    st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,8}[A-Za-z0-9])?", fullmatch=True),
    st.sampled_from(["Flask", "zope.interface", "-bad", "bad-", "ünicode", "a b", ""]),
)
_ws = st.sampled_from(["", " ", "\t", "  ", "\x0b", "\n"])
_requirement = st.builds(
    lambda a, n, b, op, c, v, d: f"{a}{n}{b}{op}{c}{v}{d}",
    _ws,
    _name,
    _ws,
    st.sampled_from(["==", "===", ">=", "= =", "=="]),
    _ws,
    st.one_of(_pep440, st.sampled_from(["1.0.*", "1.0; python_version<'3'", "1.0[x]", ""])),
    _ws,
)


def _outcome(parse: object, text: str) -> object:
    from envcheck.errors import ParseError

    try:
        return parse(text, rel="requirements.txt", line=3, group="dev", hashes=("sha256:ab",))  # type: ignore[operator]
    except ParseError as exc:
        return ("ParseError", exc.path, exc.line)


@given(_requirement)
@settings(max_examples=800)
def test_simple_pins_parse_as_packaging_parses_them(text: str) -> None:
    from envcheck.parsers import requirements

    assert _outcome(requirements.parse_pep508, text) == _outcome(requirements._parse_with_packaging, text)


_glob_alphabet = st.sampled_from([*"ab.*-_/", "Docker", "file", "txt", "?", "[a]"])


@given(
    st.text(alphabet=st.sampled_from(list("ab.-_/x")), max_size=12), st.lists(_glob_alphabet, max_size=6).map("".join)
)
@settings(max_examples=1500)
def test_glob_match_equals_fnmatchcase(name: str, pattern: str) -> None:
    import fnmatch

    from envcheck.parsers import glob_match

    assert glob_match(name, pattern) == fnmatch.fnmatchcase(name, pattern), (name, pattern)


def test_glob_match_on_the_registry_patterns() -> None:
    import fnmatch

    from envcheck.parsers import BY_PATTERN, glob_match

    names = [
        "Dockerfile.dev",
        "api.Dockerfile",
        "requirements-dev.txt",
        "dev-requirements.txt",
        "app.py",
        "x.dockerignore",
    ]
    names += [".env.production.example", "compose.yaml", "docker-compose.override.yml", "requirements.txt.bak", ""]
    for pattern, _ in BY_PATTERN:
        assert "?" not in pattern and "[" not in pattern  # the fast path covers every registry pattern
        for name in names:
            assert glob_match(name, pattern) == fnmatch.fnmatchcase(name, pattern), (name, pattern)


@given(st.text(alphabet=st.sampled_from(list(" \t\r\n\x0b\x0c\x1c\x85\xa0-=./'\"\\#abc01")), max_size=30))
@settings(max_examples=800)
def test_requirement_options_split_as_shlex_does(text: str) -> None:
    import shlex

    from envcheck.errors import ParseError
    from envcheck.parsers.requirements import _shell_words

    try:
        want: object = shlex.split(text, comments=False, posix=True)
    except ValueError:
        want = ParseError
    try:
        got: object = _shell_words(text, "requirements.txt", 1)
    except ParseError:
        got = ParseError
    assert got == want


_GLOB_NAMES = ["a.conf", "b.conf", ".hidden.conf", "x86_64-linux-gnu.conf", "notes.txt", "[x].conf", "c.CONF"]


@given(
    present=st.lists(st.sampled_from(_GLOB_NAMES), unique=True),
    pattern=st.sampled_from(["*.conf", "*", ".*", "?.conf", "[ab].conf", "a.conf", "missing", "*.CONF", "sub/*.conf"]),
)
@settings(max_examples=200, deadline=None)
def test_the_ld_conf_glob_equals_glob(
    present: list[str], pattern: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    import glob
    import os

    from envcheck.scanners.native_host import _glob

    root = tmp_path_factory.mktemp("g")
    (root / "sub").mkdir()
    for name in present:
        (root / name).write_text("")
        (root / "sub" / name).write_text("")
    full = os.path.join(str(root), pattern)
    assert sorted(_glob(full)) == sorted(glob.glob(full))
    assert sorted(_glob(os.path.join(str(root), "s*", "*.conf"))) == sorted(
        glob.glob(os.path.join(str(root), "s*", "*.conf"))
    )


# What a warm `envcheck snapshot host` never needs, though the standard library would load it:
# the bodies of modules pathlib imports for Windows paths and URLs, gettext's locale tables,
# and the C helpers the code used to reach for (issue 15).
NOT_LOADED_BY_A_HOST_SNAPSHOT = ("ipaddress", "ntpath", "locale", "contextvars", "math", "array", "typing")


def test_the_program_loads_nothing_a_warm_host_snapshot_does_not_use(tmp_path: Path) -> None:
    import os

    venv = tmp_path / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (tmp_path / "requirements.txt").write_text("requests==2.31.0\n")
    # The program ends inside entry() (no interpreter shutdown); an atexit function reports first.
    code = (
        "import atexit, json, os, sys\n"
        "def report():\n"
        "    loaded = {n: type(m).__name__ for n, m in sys.modules.items()}\n"
        "    with open(os.environ['REPORT'], 'w') as fh:\n"
        "        json.dump(loaded, fh)\n"
        "atexit.register(report)\n"
        "from envcheck import cli\n"
        "sys.argv = ['envcheck', 'snapshot', 'host', '--no-node', '.']\n"
        "sys.exit(cli.entry())\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "REPORT": str(tmp_path / "loaded.json")}
    env.pop("ENVCHECK_NO_CACHE", None)
    old = __import__("time").time() - 60
    for p in [venv, *venv.rglob("*")]:
        os.utime(p, (old, old), follow_symlinks=False)
    outputs = []
    for _ in range(2):  # the first run probes and caches; the second is the everyday one
        out = subprocess.run(
            [sys.executable, "-c", code], check=False, cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        outputs.append(json.loads(out.stdout))
    loaded = json.loads((tmp_path / "loaded.json").read_text())
    ran = sorted(n for n in NOT_LOADED_BY_A_HOST_SNAPSHOT if loaded.get(n, "DeferredModule") != "DeferredModule")
    assert ran == []
    for doc in outputs:
        doc["source"].pop("captured_at")
    assert outputs[0] == outputs[1]


_final = st.one_of(
    st.lists(st.integers(0, 12).map(str), min_size=1, max_size=4).map(".".join),
    st.sampled_from(["1.0", "1.0.0", "2", "01", "1.0a1", "1.0.post1", "1.0+local", "1.*", "v1", "1.0.dev0", ""]),
)
_spec_clause = st.builds(
    lambda a, op, b, v, c: f"{a}{op}{b}{v}{c}",
    st.sampled_from(["", " ", "\t"]),
    st.sampled_from(["==", "!=", ">=", "<=", ">", "<", "~=", "===", "=", "=>"]),
    st.sampled_from(["", " ", "\t"]),
    _final,
    st.sampled_from(["", " ", "\n"]),
)


@given(_final, st.lists(_spec_clause, min_size=1, max_size=3).map(",".join))
@settings(max_examples=1500)
def test_final_release_specifiers_answer_as_packaging(version: str, specifier: str) -> None:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    from envcheck._pep440 import final_satisfies

    fast = final_satisfies(version, specifier)
    if fast is None:
        return  # packaging's to answer
    try:
        expected = SpecifierSet(specifier).contains(Version(version), prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        expected = None
    assert fast == expected


@given(_final, _final)
def test_final_release_equality_is_packagings(a: str, b: str) -> None:
    from packaging.version import InvalidVersion, Version

    from envcheck._pep440 import release_key

    ka, kb = release_key(a), release_key(b)
    if ka is None or kb is None:
        return
    try:
        expected = Version(a) == Version(b)
    except InvalidVersion:  # pragma: no cover - release_key accepts only valid versions
        expected = None
    assert (ka == kb) == expected


@given(
    st.one_of(_requirement, st.sampled_from(["flask", "psycopg[binary]", "gunicorn>=22", "a==1.*", "b===1", "c~=1.2"]))
)
@settings(max_examples=800)
def test_dockerfile_pip_arguments_are_judged_as_packaging_judges_them(arg: str) -> None:
    from packaging.requirements import InvalidRequirement, Requirement

    from envcheck.checks.dockerfile_install import pip_unpinned

    try:
        req = Requirement(arg)
    except InvalidRequirement:
        expected = None
    else:
        specs = list(req.specifier)
        pinned = len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version
        expected = None if req.url or pinned else req.name
    if arg.startswith((".", "/", "~", "$", "-")):
        return  # a local path or an option: never judged
    assert pip_unpinned(arg) == expected


def _parser_for_reference(relpath: str) -> str | None:
    """The registry lookup as written with PurePosixPath and fnmatch (before issue 15's string version)."""
    import fnmatch
    from pathlib import PurePosixPath

    from envcheck.parsers import _REQUIREMENTS_DIRS, BY_NAME, BY_PATTERN

    p = PurePosixPath(relpath)
    if p.name in BY_NAME:
        return BY_NAME[p.name]
    if p.parent.name in _REQUIREMENTS_DIRS and p.suffix == ".txt":
        return "requirements"
    for pattern, module in BY_PATTERN:
        if fnmatch.fnmatchcase(p.name, pattern):
            return module or None
    return None


_component = st.one_of(
    st.sampled_from(
        [
            "requirements",
            "reqs",
            "requirements.txt",
            "base.txt",
            ".txt",
            "..txt",
            "a.txt.bak",
            "Dockerfile.dev",
            "docker-compose.override.yml",
            ".env.production.example",
            "app.py",
            "x.min.js",
            "poetry.lock",
            ".",
            "..",
            "",
            "setup.cfg",
            "requirements-dev.txt",
            "Containerfile",
            "web.Dockerfile",
            "a\\b.txt",
            "package.json",
        ]
    ),
    st.text(alphabet=st.sampled_from("aR.-_txyp*"), max_size=8),
)


@given(st.lists(_component, min_size=1, max_size=4).map("/".join))
@settings(max_examples=1500)
def test_parser_for_equals_the_path_library_reading(relpath: str) -> None:
    from envcheck.parsers import parser_for

    assert parser_for(relpath) == _parser_for_reference(relpath)


def _relpath_reference(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        pass
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return path.as_posix()


_part = st.sampled_from(["a", "b", "ab", "a.txt", "..", ".", "", "x y", "requirements"])


@given(
    st.booleans(),
    st.lists(_part, max_size=4).map("/".join),
    st.booleans(),
    st.lists(_part, max_size=3).map("/".join),
)
@settings(max_examples=1500)
def test_relpath_equals_relative_to(path_absolute: bool, path: str, root_absolute: bool, root: str) -> None:
    from envcheck.parsers import relpath

    p = Path(("/" if path_absolute else "") + path)
    r = Path(("/" if root_absolute else "") + root)
    assert relpath(p, r) == _relpath_reference(p, r)
