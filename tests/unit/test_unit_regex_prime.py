"""The program entry primes re's own cache with the standard library's start-up patterns (envcheck._regex.prime).

Each run here is a fresh interpreter with ``re``'s compiler wrapped, so a
test sees every pattern the process really compiled, who asked for it, and
whether it was during start-up (``entry()`` up to the end of argument
parsing) or later.
"""

from __future__ import annotations

import json
import marshal
import os
import re
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest

from envcheck import _regex, cli

if sys.version_info >= (3, 11):
    from re import _compiler
else:  # pragma: no cover - Python 3.10
    import sre_compile as _compiler

MARKER = "zq7user"  # stands for anything of a user's: it must never reach the cache file

# Runs `envcheck ARGS...` as the console script does, recording each compile re's compiler does.
DRIVER = r"""
import os, re, sys  # json only at the end: its import compiles patterns this is here to count
if sys.version_info >= (3, 11):
    from re import _compiler
else:
    import sre_compile as _compiler
compiled = []
phase = ["before entry"]
real_compile = _compiler.compile

def counting(p, flags=0):
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") in ("re", "re._compiler", "sre_compile"):
        frame = frame.f_back
    who = frame.f_globals.get("__name__", "?") if frame is not None else "?"
    text = p if isinstance(p, str) else p.decode("latin-1")
    compiled.append({"phase": phase[0], "module": who, "pattern": text, "flags": int(flags)})
    return real_compile(p, flags)

_compiler.compile = counting
from envcheck import cli
real_started = cli._started

def started():
    real_started()
    phase[0] = "run"
    if os.environ.get("DRIVER_USER_PATTERNS"):
        # what a run may compile from a user's input: re.compile, fnmatch, a module global of no library
        import fnmatch, types
        kept = re.compile("(?:MARKER-[0-9]+)+")
        fnmatch.fnmatch("a", "*MARKER*.conf")
        sys.modules["__main__"].USER_PATTERN = kept
        sys.modules["user_module_MARKER"] = module = types.ModuleType("user_module_MARKER")
        module.PATTERN = re.compile("MARKER-in-a-module")

cli._started = started

def report():
    import json
    with open(os.environ["DRIVER_REPORT"], "w") as fh:
        json.dump({"compiled": compiled}, fh)

# The program ends in entry() (envcheck._process.end), after the atexit functions:
# registered first, this one runs last, after the regex cache is written.
import atexit
atexit.register(report)
phase[0] = "start-up"
sys.argv = ["envcheck", *sys.argv[1:]]
sys.exit(cli.entry())
""".replace("MARKER", MARKER)

# Compiled at start-up by the standard library on every Python this supports
# (gettext at import, argparse for its parser and the parsed arguments).
STARTUP_MODULES = {"gettext", "argparse"}
# json compiles its patterns at import, which comes later in the run: learned as module globals.
RUN_MODULES = {"json.decoder", "json.scanner", "json.encoder"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / f"proj-{MARKER}"
    root.mkdir()
    (root / "requirements.txt").write_text("requests==2.31.0\n")
    (root / "Dockerfile").write_text("FROM python:3.11-slim\nRUN pip install requests\n")
    return root


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ENVCHECK_NO_CACHE", "XDG_CACHE_HOME")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env["DRIVER_REPORT"] = str(tmp_path / "report.json")
    env.update(extra)
    return env


def _run(
    tmp_path: Path, project: Path, command: str = "snapshot", **extra: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One `envcheck snapshot project` (or `envcheck lint`) process: what it compiled, and the JSON it printed."""
    args = (
        ["snapshot", "project", str(project)] if command == "snapshot" else ["lint", "--format", "json", str(project)]
    )
    out = subprocess.run(
        [sys.executable, "-c", DRIVER, *args],
        capture_output=True,
        text=True,
        env=_env(tmp_path, **extra),
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    printed = json.loads(out.stdout)
    if command == "snapshot":
        printed["source"].pop("captured_at")
    return report["compiled"], printed


def _by(compiled: list[dict[str, Any]], modules: set[str]) -> list[dict[str, Any]]:
    return [c for c in compiled if c["module"] in modules]


def _cache_file(tmp_path: Path) -> Path:
    [path] = (tmp_path / "cache" / "envcheck" / "regex").glob("*.marshal")
    return path


def _primes(tmp_path: Path) -> dict[Any, Any]:
    build, entries = marshal.loads(_cache_file(tmp_path).read_bytes())
    assert build == _regex._build_key()
    primes: dict[Any, Any] = entries[_regex.PRIMES_KEY]
    return primes


@pytest.mark.parametrize("command", ["snapshot", "lint"])
def test_a_second_run_compiles_none_of_the_standard_librarys_patterns(
    tmp_path: Path, project: Path, command: str
) -> None:
    first, first_output = _run(tmp_path, project, command)
    assert _by(first, STARTUP_MODULES)  # what there is to save: compiled on a first run
    assert _by(first, RUN_MODULES)
    second, second_output = _run(tmp_path, project, command)
    assert [c for c in second if c["phase"] == "start-up"] == []
    assert _by(second, STARTUP_MODULES | RUN_MODULES | {"locale", "urllib.parse"}) == []
    assert second_output == first_output


def test_what_a_user_gives_and_what_is_compiled_after_start_up_is_never_kept(tmp_path: Path, project: Path) -> None:
    _run(tmp_path, project, DRIVER_USER_PATTERNS="1")
    second, _ = _run(tmp_path, project, DRIVER_USER_PATTERNS="1")
    assert [c["pattern"] for c in second if MARKER in c["pattern"]]  # compiled afresh: not primed
    assert _primes(tmp_path)  # the standard library's patterns are kept...
    assert MARKER not in repr(
        marshal.loads(_cache_file(tmp_path).read_bytes())
    )  # ...and nothing of the user's: not the patterns, not the path in argv


def test_a_damaged_or_foreign_cache_falls_back_to_compiling(tmp_path: Path, project: Path) -> None:
    _, want = _run(tmp_path, project)
    path = _cache_file(tmp_path)
    build, entries = marshal.loads(path.read_bytes())
    primes = entries[_regex.PRIMES_KEY]
    damaged: dict[Any, Any] = {spec: (entry[0], b"\xff" * 16, *entry[2:]) for spec, entry in primes.items()}
    damaged[("(", 0)] = primes[next(iter(primes))]  # not even a pattern
    damaged["not a key"] = "nonsense"
    for doc in (
        marshal.dumps((build, {**entries, _regex.PRIMES_KEY: damaged})),
        marshal.dumps((build, {**entries, _regex.PRIMES_KEY: "not a dict"})),
        marshal.dumps(("cpython-399 another build", entries)),
        b"\x00not marshal at all",
    ):
        path.write_bytes(doc)
        compiled, got = _run(tmp_path, project)
        assert got == want
        assert _by(compiled, STARTUP_MODULES)  # compiled as before, not primed
        path = _cache_file(tmp_path)
        assert _primes(tmp_path)  # and learned again for the next run
    again, got = _run(tmp_path, project)
    assert got == want
    assert [c for c in again if c["phase"] == "start-up"] == []


def test_a_file_from_before_priming_keeps_its_entries_and_gains_the_primes(tmp_path: Path, project: Path) -> None:
    _run(tmp_path, project)
    path = _cache_file(tmp_path)
    build, entries = marshal.loads(path.read_bytes())
    del entries[_regex.PRIMES_KEY]  # as an envcheck without priming wrote it
    path.write_bytes(marshal.dumps((build, entries)))
    compiled, _ = _run(tmp_path, project)
    assert _by(compiled, STARTUP_MODULES)
    assert not [c for c in compiled if c["module"].startswith("envcheck")]  # its own patterns: still hits
    _build, now = marshal.loads(path.read_bytes())
    assert {k: v for k, v in now.items() if k != _regex.PRIMES_KEY} == entries
    assert now[_regex.PRIMES_KEY]


def test_no_cache_primes_nothing_and_writes_nothing(tmp_path: Path, project: Path) -> None:
    for _ in range(2):
        compiled, _snapshot = _run(tmp_path, project, ENVCHECK_NO_CACHE="1")
        assert _by(compiled, STARTUP_MODULES)
    assert not (tmp_path / "cache" / "envcheck").exists()


def test_primed_patterns_are_the_patterns_re_compiles(tmp_path: Path, project: Path) -> None:
    _run(tmp_path, project)
    primes = _primes(tmp_path)
    assert len(primes) >= len(STARTUP_MODULES | RUN_MODULES)
    samples = ["", " ", "a b\n\n\nc", "-1", "-2.5", "AAO", "OA-A", '"x\\y"\x01', "1.5e-3,", "%(key)s %5.2f", "ü\u20ac"]
    for (pattern, flags), entry in primes.items():
        made = _regex._from_entry(pattern, entry)
        want = _compiler.compile(pattern, flags)  # re's compiler, bypassing every cache
        assert made is not None
        assert made == want  # equal patterns: the same flags, text and compiled code
        assert (made.flags, made.groups, made.groupindex) == (want.flags, want.groups, want.groupindex)
        for text in samples:
            subject: Any = text if isinstance(pattern, str) else text.encode("utf-8")
            got, expected = made.search(subject), want.search(subject)
            assert (got and (got.span(), got.groups())) == (expected and (expected.span(), expected.groups()))
            assert made.findall(subject) == want.findall(subject)


def test_main_as_a_library_call_primes_nothing(
    tmp_path: Path, project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(tmp_path, project)  # a cache file with patterns to prime
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("ENVCHECK_NO_CACHE", raising=False)
    monkeypatch.setattr(_regex, "_STORE", _regex._Store())
    monkeypatch.setattr(_regex, "_PRIMER", _regex._Primer())
    calls: list[str] = []
    monkeypatch.setattr(_regex, "prime", lambda: calls.append("prime"))
    assert cli.main(["snapshot", "project", str(project)]) == 0
    capsys.readouterr()
    assert calls == []
    assert _regex._PRIMER.active is False and _regex._PRIMER.startup is None  # nothing noted, nothing to learn


def _as_a_new_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process's regex cache state as a new process would find it, over the cache ``_run`` filled."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("ENVCHECK_NO_CACHE", raising=False)
    monkeypatch.setattr(_regex, "_STORE", _regex._Store())
    monkeypatch.setattr(_regex, "_PRIMER", _regex._Primer())


def test_prime_leaves_re_alone_when_its_cache_is_not_what_it_knows(
    tmp_path: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(tmp_path, project)
    _as_a_new_process(tmp_path, monkeypatch)
    foreign: OrderedDict[Any, Any] = OrderedDict()
    monkeypatch.setattr(re, "_cache", foreign)
    _regex.prime()
    assert not foreign and not _regex._PRIMER.active  # not a dict: another re than the one known

    _as_a_new_process(tmp_path, monkeypatch)
    own: dict[Any, Any] = {}
    monkeypatch.setattr(re, "_cache", own)
    monkeypatch.setattr(_regex, "_build_key", lambda: None)  # another implementation than CPython
    _regex.prime()
    assert not own and not _regex._PRIMER.active


def test_prime_never_replaces_what_re_already_holds(
    tmp_path: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(tmp_path, project)
    _as_a_new_process(tmp_path, monkeypatch)
    primes = _primes(tmp_path)
    (pattern, flags), *rest = primes
    held = _compiler.compile(pattern, flags)
    cache: dict[Any, Any] = {(type(pattern), pattern, flags): held}
    monkeypatch.setattr(re, "_cache", cache)
    _regex.prime()
    assert cache[(type(pattern), pattern, flags)] is held
    assert len(cache) == len(primes)
    for p, f in rest:
        assert cache[(type(p), p, f)] == _compiler.compile(p, f)
