"""The program pauses the garbage collector for start-up only; `main()` as a library call leaves it alone."""

from __future__ import annotations

import contextlib
import gc
import io
import json
import subprocess
import sys

from envcheck.cli import main


def test_the_program_resumes_the_collector_once_the_command_is_parsed() -> None:
    code = (
        "import gc, json, sys\n"
        "from envcheck import cli\n"
        "seen = {}\n"
        "real = cli.main\n"
        "def spy(argv=None):\n"
        "    seen['during_startup'] = gc.isenabled()\n"
        "    return real(argv)\n"
        "cli.main = spy\n"
        "from envcheck import _process\n"
        "_process.end = lambda code: code  # report after the command instead of ending the process\n"
        "sys.argv = ['envcheck', 'rules']\n"
        "code = cli.entry()\n"
        "print(json.dumps({'code': code, 'startup': seen['during_startup'], 'after': gc.isenabled(),"
        " 'frozen': gc.get_freeze_count() > 0}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {
        "code": 0,
        "startup": False,
        "after": True,
        "frozen": True,
    }


def test_main_as_a_library_call_leaves_the_collector_as_it_was() -> None:
    frozen = gc.get_freeze_count()
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["rules"]) == 0
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen
