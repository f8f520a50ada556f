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
        from envcheck import _process
        _process.prepare()
        import pathlib, urllib.parse
        print(json.dumps({n: type(sys.modules[n]).__name__ for n in ("ipaddress", "ntpath")}))
        """
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"ipaddress": "DeferredModule", "ntpath": "DeferredModule"}


_USES = """
import sys, json
PREPARE
import urllib.parse, pathlib
bound = urllib.parse.ipaddress if hasattr(urllib.parse, "ipaddress") else None
# urlsplit validates a bracketed host with ipaddress (3.11.4+): the first use loads it.
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
    "one_object": bound is None or sys.modules["ipaddress"] is bound is ipaddress,
    "plain_module": type(ipaddress) is type(sys),
    "classes": bound is None or ipaddress.ip_address("10.0.0.1").__class__ is bound.IPv4Address,
    "file": ipaddress.__file__.endswith("ipaddress.py"),
    "ntpath": ntpath.join("C:\\\\a", "b"),
    "windows_path": str(pathlib.PureWindowsPath("C:/a/b").parent),
    "uri": pathlib.Path("/tmp/a b").as_uri(),
}))
"""


def test_a_deferred_module_does_what_it_does_when_imported_at_once() -> None:
    prepared = _run(_USES.replace("PREPARE", "from envcheck import _process; _process.prepare()"))
    stock = _run(_USES.replace("PREPARE", ""))
    assert prepared.returncode == stock.returncode == 0, prepared.stderr + stock.stderr
    assert json.loads(prepared.stdout) == json.loads(stock.stdout)
    assert json.loads(prepared.stdout)["one_object"] is True


def test_a_module_that_cannot_be_found_fails_as_an_import_would() -> None:
    out = _run(
        """
        import sys
        from envcheck import _process
        assert _process.defer("envcheck_no_such_module_here")
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
        from envcheck import _process
        print(_process.defer("ipaddress"), _process.defer("os.path"), type(ipaddress).__name__)
        """
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False", "module"]


def test_argparse_words_are_as_written() -> None:
    out = _run(
        """
        import argparse
        from envcheck import _process
        _process.english_argparse()
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

    def run(through: str) -> tuple[int, str, str]:
        out = subprocess.run(
            [sys.executable, "-c", f"import sys; from envcheck import cli; sys.exit(cli.{through}())", *argv],
            check=False,
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        return out.returncode, out.stdout, out.stderr

    assert run("entry") == run("main")


def _end_program(body: str, tmp_path: Path, stdout: int | None = None) -> subprocess.CompletedProcess[str]:
    """A program that does ``body`` and then ends as envcheck's entry does."""
    code = textwrap.dedent(body) + "\nfrom envcheck import _process\nsys.exit(_process.end(0))\n"
    return subprocess.run(
        [sys.executable, "-c", "import sys\n" + code],
        stdout=subprocess.PIPE if stdout is None else stdout,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        cwd=tmp_path,
    )


def test_the_end_runs_atexit_functions_once_and_keeps_all_output(tmp_path: Path) -> None:
    out = _end_program(
        """
        import atexit
        atexit.register(lambda: open("ran", "a").write("x"))
        sys.stdout.write("y" * 1_000_000)  # more than any buffer: all of it must arrive
        """,
        tmp_path,
    )
    assert (out.returncode, len(out.stdout), out.stderr) == (0, 1_000_000, "")
    assert (tmp_path / "ran").read_text() == "x"


def test_the_end_waits_for_a_running_thread(tmp_path: Path) -> None:
    out = _end_program(
        """
        import threading, time
        def late():
            time.sleep(0.3)
            open("written", "w").write("done")
        threading.Thread(target=late).start()
        """,
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "written").read_text() == "done"


def test_a_closed_stdout_ends_as_it_does_through_main(tmp_path: Path) -> None:
    # `envcheck … | head -0`: the reader is gone before anything is written.
    def run(through: str) -> tuple[int, str]:
        read_end, write_end = os.pipe()
        os.close(read_end)
        try:
            out = subprocess.run(
                [sys.executable, "-c", f"import sys; from envcheck import cli; sys.exit(cli.{through}())", "rules"],
                stdout=write_end,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
                cwd=tmp_path,
            )
        finally:
            os.close(write_end)
        return out.returncode, out.stderr

    assert run("entry") == run("main") == (2, "")


def test_threads_that_first_use_a_deferred_module_together_all_see_it_whole() -> None:
    out = _run(
        """
        import sys, threading
        from envcheck import _process
        assert _process.defer("ipaddress")
        import ipaddress
        start = threading.Barrier(8)
        seen = []
        def use():
            start.wait()
            seen.append(str(ipaddress.ip_address("::1")))
        threads = [threading.Thread(target=use) for _ in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(len(seen), set(seen), type(sys.modules["ipaddress"]) is type(sys), sys.modules["ipaddress"] is ipaddress)
        """
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["8", "{'::1'}", "True", "True"]
