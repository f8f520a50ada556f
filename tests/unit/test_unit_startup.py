"""The program entry's start-up preparation (issue 15) changes when modules load, never what they do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def _run(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # A fresh interpreter each time: the preparation acts on the whole process.
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def test_pathlib_imports_without_running_ipaddress_or_ntpath() -> None:
    out = _run(
        """
        import sys, json
        from envcheck import _startup
        _startup.prepare()
        import pathlib, urllib.parse
        print(json.dumps({n: type(sys.modules[n]).__name__ for n in ("ipaddress", "ntpath")}))
        """
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"ipaddress": "DeferredModule", "ntpath": "DeferredModule"}


def test_a_deferred_module_is_the_same_module_once_used() -> None:
    out = _run(
        """
        import sys, json
        from envcheck import _startup
        _startup.prepare()
        import urllib.parse, pathlib
        bound = urllib.parse.ipaddress  # what urllib.parse holds from its `import ipaddress`
        # urlsplit validates a bracketed host with ipaddress: the first use loads it.
        host = urllib.parse.urlsplit("http://[::1]:8080/x").hostname
        try:
            urllib.parse.urlsplit("http://[::zz]/")
            bad = "accepted"
        except ValueError:
            bad = "rejected"
        import ipaddress, ntpath
        print(json.dumps({
            "host": host,
            "bad": bad,
            "one_object": sys.modules["ipaddress"] is bound is ipaddress,
            "plain_module": type(ipaddress) is type(sys),
            "classes": ipaddress.ip_address("10.0.0.1").__class__ is bound.IPv4Address,
            "file": ipaddress.__file__.endswith("ipaddress.py"),
            "ntpath": ntpath.join("C:\\\\a", "b"),
            "windows_path": str(pathlib.PureWindowsPath("C:/a/b").parent),
        }))
        """
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {
        "host": "::1",
        "bad": "rejected",
        "one_object": True,
        "plain_module": True,
        "classes": True,
        "file": True,
        "ntpath": "C:\\a\\b",
        "windows_path": "C:\\a",
    }


def test_a_module_that_cannot_be_found_fails_as_an_import_would() -> None:
    out = _run(
        """
        import sys
        from envcheck import _startup
        assert _startup.defer("envcheck_no_such_module_here")
        import envcheck_no_such_module_here as m
        try:
            m.anything
        except ModuleNotFoundError as exc:
            print(exc.name, "envcheck_no_such_module_here" in sys.modules)
        """
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["envcheck_no_such_module_here", "False"]


def test_an_imported_module_is_left_alone() -> None:
    out = _run(
        """
        import ipaddress
        from envcheck import _startup
        print(_startup.defer("ipaddress"), _startup.defer("os.path"), type(ipaddress).__name__)
        """
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False", "module"]


def test_argparse_words_are_as_written() -> None:
    out = _run(
        """
        import argparse
        from envcheck import _startup
        _startup.english_argparse()
        print(argparse._("usage: "), argparse.ngettext("an argument", "arguments", 1), argparse.ngettext("an argument", "arguments", 2), sep="|")
        """
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "usage: |an argument|arguments"


@pytest.mark.parametrize(
    "argv",
    [
        ["snapshot", "host", "--python"],
        ["snapshot"],
        ["lint", "--no-such-option"],
        ["--help"],
        ["snapshot", "host", "--help"],
    ],
)
def test_the_program_says_what_main_says(argv: list[str], tmp_path: Path) -> None:
    # entry() prepares the process; main() (what a library or test calls) does not.
    env = {**os.environ, "LANGUAGE": "de:fr", "COLUMNS": "100"}
    code = "import sys; from envcheck import cli; sys.exit(cli.{}())"
    through_entry = subprocess.run(
        [sys.executable, "-c", code.format("entry"), *argv],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    through_main = subprocess.run(
        [sys.executable, "-c", code.format("main"), *argv],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert (through_entry.returncode, through_entry.stdout, through_entry.stderr) == (
        through_main.returncode,
        through_main.stdout,
        through_main.stderr,
    )
