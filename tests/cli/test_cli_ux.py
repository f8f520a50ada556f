"""What a person at a terminal notices: help with examples, --quiet/--verbose, --explain, completion, progress, colour."""

from __future__ import annotations

import argparse
import io
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from envcheck.cli import COMMANDS, build_parser
from envcheck.progress import status

REPO = Path(__file__).resolve().parents[2]
ENVCHECK = str(Path(sys.executable).parent / "envcheck")


def run(*args: str, cwd: Path = REPO, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "FORCE_COLOR"}
    full_env.update({"NO_COLOR": "1", **(env or {})})
    return subprocess.run([ENVCHECK, *args], cwd=cwd, env=full_env, capture_output=True, text=True, check=False)


def run_in_pty(*args: str, cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run with stdout and stderr on a pseudo-terminal, as in an interactive shell."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([ENVCHECK, *args], cwd=cwd, env=env, stdout=follower, stderr=follower, close_fds=True)
    os.close(follower)
    chunks: list[bytes] = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(timeout=120), b"".join(chunks).decode("utf-8", "replace")


# --------------------------------------------------------------------------- --help


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_shows_runnable_examples(command: str) -> None:
    proc = run(command, "--help")
    assert proc.returncode == 0
    assert "examples:" in proc.stdout
    examples = proc.stdout.split("examples:", 1)[1]
    assert sum(line.strip().startswith("envcheck ") for line in examples.splitlines()) >= 2, proc.stdout


def test_top_level_help_lists_every_command() -> None:
    proc = run("--help")
    assert proc.returncode == 0
    for command in COMMANDS:
        assert command in proc.stdout


@pytest.mark.parametrize("columns", ["50", "120"])
def test_help_wraps_to_the_terminal_as_argparse_does(columns: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The help text is argparse's own for that width (envcheck only spares argparse importing shutil to find it)."""
    proc = run("snapshot", "host", "--help", env={"COLUMNS": columns})
    assert proc.returncode == 0
    monkeypatch.setenv("COLUMNS", columns)
    top = build_parser("snapshot")
    snapshot = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction)).choices["snapshot"]
    host = next(a for a in snapshot._actions if isinstance(a, argparse._SubParsersAction)).choices["host"]
    host.formatter_class = host.formatter_class.func  # type: ignore[attr-defined]  # argparse's, width from shutil
    assert proc.stdout == host.format_help()
    assert proc.stdout != run("snapshot", "host", "--help", env={"COLUMNS": "80"}).stdout  # the width is honoured


# --------------------------------------------------------------------------- --quiet / --verbose


def test_quiet_prints_only_the_findings(tmp_path: Path) -> None:
    loud = run("lint", "fixtures/django-runtime")
    quiet = run("lint", "-q", "fixtures/django-runtime")
    assert loud.returncode == quiet.returncode == 1
    assert "Found 1 error" in loud.stdout and "fix:" in loud.stdout
    assert "Found" not in quiet.stdout and "fix:" not in quiet.stdout
    assert quiet.stdout.count("EC4") == loud.stdout.count("EC4") > 0
    assert run("lint", "-q", "fixtures/clean-pinned").stdout == ""


def test_verbose_says_what_was_skipped_on_stderr_only(tmp_path: Path) -> None:
    root = tmp_path / "p"
    shutil.copytree(REPO / "fixtures" / "clean-pinned", root)
    deep = root
    for i in range(14):
        deep = deep / f"d{i}"
    deep.mkdir(parents=True)
    quiet, verbose = run("lint", str(root)), run("lint", "-v", str(root))
    assert quiet.stdout == verbose.stdout
    assert quiet.stderr == ""
    assert "not descending deeper" in verbose.stderr


# --------------------------------------------------------------------------- --explain


@pytest.mark.parametrize("command", ["scan", "lint", "diff"])
def test_explain_prints_the_rule_and_scans_nothing(command: str, tmp_path: Path) -> None:
    extra = ["a.json", "b.json"] if command == "diff" else []  # diff's positionals are never read
    proc = run(command, *extra, "--explain", "EC201", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("# EC201 python-package-version-drift")
    assert "## How to fix" in proc.stdout
    assert proc.stdout == run("rules", "EC201", cwd=tmp_path).stdout


def test_explain_unknown_rule_is_one_line_and_exit_2() -> None:
    proc = run("scan", "--explain", "EC999")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "EC999" in proc.stderr


# --------------------------------------------------------------------------- completion


def _bash_complete(words: list[str]) -> list[str]:
    script = run("completion", "bash").stdout
    line = " ".join(f"'{w}'" for w in words)
    proc = subprocess.run(
        [
            "bash",
            "--norc",
            "-c",
            f'eval "$1"; complete -p envcheck; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; _envcheck; '
            'printf "%s\\n" "${COMPREPLY[@]}"',
            "_",
            script,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("complete ") and lines[0].endswith(" envcheck")
    return [x for x in lines[1:] if x]


def test_bash_completion_registers_and_completes_commands_options_and_values() -> None:
    assert _bash_complete(["envcheck", "sc"]) == ["scan"]
    assert set(_bash_complete(["envcheck", ""])) >= set(COMMANDS)
    assert _bash_complete(["envcheck", "lint", "--fa"]) == ["--fail-on"]
    assert _bash_complete(["envcheck", "lint", "--format", "s"]) == ["sarif"]
    assert set(_bash_complete(["envcheck", "snapshot", ""])) >= {"host", "project", "image"}
    assert _bash_complete(["envcheck", "scan", "--exp"]) == ["--explain"]


def test_zsh_and_fish_scripts_name_every_command() -> None:
    zsh, fish = run("completion", "zsh"), run("completion", "fish")
    assert zsh.returncode == fish.returncode == 0
    assert zsh.stdout.startswith("#compdef envcheck") and "bashcompinit" in zsh.stdout
    for command in COMMANDS:
        assert f"-a {command} " in fish.stdout
    assert "-l format -xa 'text json sarif github gitlab'" in fish.stdout
    for shell, out in (("zsh", zsh.stdout), ("fish", fish.stdout)):
        exe = shutil.which(shell)
        if exe:  # syntax-check where the shell exists; the generator is shared with bash either way
            subprocess.run([exe, "-n"], input=out, text=True, check=True)


def test_completion_covers_every_option_of_the_parser() -> None:
    script = run("completion", "bash").stdout
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in sub.choices.items():
        for action in command._actions:
            for opt in action.option_strings:
                assert opt in script, f"{name} {opt}"


# --------------------------------------------------------------------------- progress and colour


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_only_on_a_terminal_and_never_when_quiet() -> None:
    tty, pipe, quiet = _Tty(), io.StringIO(), _Tty()
    for stream, q in ((tty, False), (pipe, False), (quiet, True)):
        with status("reading layers", stream=stream, quiet=q) as p:
            p.update("layer 2/7 [bold]x[/]")
    assert "reading layers" in tty.getvalue() or "layer 2/7" in tty.getvalue()
    assert pipe.getvalue() == "" and quiet.getvalue() == ""


def test_scan_progress_goes_to_a_terminal_stderr_and_never_into_a_pipe(tmp_path: Path) -> None:
    root = tmp_path / "p"
    shutil.copytree(REPO / "fixtures" / "flask-legacy", root)
    env = {**os.environ, "NO_COLOR": "1", "TERM": "xterm"}
    piped = subprocess.run(
        [ENVCHECK, "scan", "--no-node", "--fail-on", "never", str(root)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert piped.returncode == 0, piped.stderr
    assert "probing" not in piped.stderr and "\x1b" not in piped.stderr + piped.stdout
    code, seen = run_in_pty("scan", "--no-node", "--fail-on", "never", str(root), cwd=tmp_path, env=env)
    assert code == 0
    assert "probing this machine" in seen or "reading the project" in seen
    code, seen = run_in_pty("scan", "-q", "--no-node", "--fail-on", "never", str(root), cwd=tmp_path, env=env)
    assert "probing this machine" not in seen and "reading the project" not in seen


def test_colour_follows_the_terminal_and_no_color(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")} | {"TERM": "xterm"}
    target = str(REPO / "fixtures" / "django-runtime")
    _, coloured = run_in_pty("lint", target, cwd=tmp_path, env=env)
    _, plain = run_in_pty("lint", target, cwd=tmp_path, env=env | {"NO_COLOR": "1"})
    assert "\x1b[" in coloured
    assert "\x1b[" not in plain and "EC503" in plain
    piped = run("lint", target, env={"NO_COLOR": ""})
    assert "\x1b[" not in piped.stdout  # not a terminal: plain text for logs and files
    forced = run("lint", target, env={"NO_COLOR": "", "FORCE_COLOR": "1"})
    assert "\x1b[" in forced.stdout


def test_layer_progress_reaches_the_status_line_from_inside_the_walk() -> None:
    """Sources report each layer through the active status line; outside one, report() is a no-op."""
    from envcheck.progress import report

    report("nobody is listening")  # no status line: nothing happens, nothing raised
    tty = _Tty()
    seen: list[str] = []
    with status("reading the image's layers", stream=tty) as p:
        original = p.update
        p.update = lambda m: (seen.append(m), original(m))  # type: ignore[method-assign]
        report("docker-archive:x.tar: layer 2/7 (0a1b2c3d4e5f)")
    assert seen == ["docker-archive:x.tar: layer 2/7 (0a1b2c3d4e5f)"]
    report("after the status line closed")
    assert len(seen) == 1
