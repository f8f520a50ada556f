"""`envcheck snapshot host`: environment redaction, platform, and failure modes a user meets."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import pytest

from envcheck.commands import snapshot as snapshot_cmd
from envcheck.scanners.host import capture_env, normalise_arch, parse_os_release, scan_host

SECRET = "ghp_Abcdefghijklmnopqrstuvwxyz0123456789AB"


def _cli(argv: list[str]) -> int:
    # Only the snapshot command is wired, so this does not depend on the others.
    parser = argparse.ArgumentParser(prog="envcheck")
    sub = parser.add_subparsers(dest="command", required=True)
    snapshot_cmd.register(sub)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


def test_secret_values_never_reach_the_json(tmp_path: Path) -> None:
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "API_TOKEN": SECRET,
        "DATABASE_URL": "postgres://app:hunter2@db:5432/app",
        "APP_MODE": SECRET,  # on the allow-list, but the value itself looks like a key
        "NODE_ENV": "production",
        "LOG_LEVEL": "debug",
    }
    names = ["API_TOKEN", "DATABASE_URL", "NODE_ENV", "LOG_LEVEL", "UNSET_ONE"]
    snap = scan_host(tmp_path, python=None, node=False, env_names=names, env_allow=["APP_MODE"], environ=environ)
    text = snap.to_json()
    assert SECRET not in text and "hunter2" not in text
    env = json.loads(text)["env"]
    assert env["API_TOKEN"] == {"set": True}
    assert env["DATABASE_URL"] == {"set": True}
    assert env["APP_MODE"] == {"set": True}
    assert env["NODE_ENV"] == {"set": True, "value": "production"}
    assert env["LOG_LEVEL"] == {"set": True, "value": "debug"}
    assert env["UNSET_ONE"] == {"set": False}


def test_allow_list_keeps_plain_values() -> None:
    env = capture_env(["APP_MODE", "OTHER"], {"APP_MODE": "blue", "OTHER": "blue"}, allow=["APP_MODE"])
    assert env["APP_MODE"].value == "blue"
    assert env["OTHER"].set and env["OTHER"].value is None


def test_default_names_include_env_example(tmp_path: Path) -> None:
    (tmp_path / ".env.example").write_text("# config\nexport STRIPE_SECRET=\nNODE_ENV=development\n")
    environ = {"PATH": "/usr/bin:/bin", "STRIPE_SECRET": "sk_live_abcdefghijklmnop1234", "NODE_ENV": "test"}
    snap = scan_host(tmp_path, python=None, node=False, environ=environ)
    assert snap.env["STRIPE_SECRET"].set and snap.env["STRIPE_SECRET"].value is None
    assert snap.env["NODE_ENV"].value == "test"
    assert "sk_live" not in snap.to_json()


def test_missing_interpreter_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A path the user named that does not exist is exit 2 with one line, not a snapshot without python (issue 14)."""
    out = tmp_path / "snap.json"
    missing = str(tmp_path / "nope" / "python")
    from envcheck.cli import main

    code = main(["snapshot", "host", str(tmp_path), "--python", missing, "--no-node", "-o", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and missing in err and "no such interpreter" in err
    assert not out.exists()


def test_hanging_probe_is_killed_after_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = tmp_path / "python"
    # The sleep runs in a grandchild too, which would hold the pipes open if only the script were killed.
    fake.write_text("#!/bin/sh\nsleep 60 &\nsleep 60\n")
    fake.chmod(0o755)
    monkeypatch.setenv("ENVCHECK_PROBE_TIMEOUT", "1")
    start = time.monotonic()
    code = _cli(["snapshot", "host", str(tmp_path), "--python", str(fake), "--no-node"])
    elapsed = time.monotonic() - start
    captured = capsys.readouterr()
    assert code == 0
    assert elapsed < 10
    assert "killed after 1s timeout" in captured.err
    assert "python" not in json.loads(captured.out)["runtimes"]


def test_not_a_python_is_a_clear_note(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho hello\n")
    fake.chmod(0o755)
    snap = scan_host(tmp_path, python=str(fake), node=False, env_names=(), environ={"PATH": "/usr/bin:/bin"})
    assert "python" not in snap.runtimes
    assert any("printed no JSON" in n for n in snap.notes)


def test_project_files_cannot_shadow_the_probe(tmp_path: Path) -> None:
    # A project json.py or an installed-looking folder in the project dir must not affect the probe.
    (tmp_path / "json.py").write_text("raise SystemExit('shadowed')\n")
    fake = tmp_path / "evil-9.9.dist-info"
    fake.mkdir()
    (fake / "METADATA").write_text("Name: evil\nVersion: 9.9\n")
    snap = scan_host(tmp_path, python="python3", node=False, env_names=(), environ={"PATH": os.environ["PATH"]})
    assert "python" in snap.runtimes, snap.notes
    assert all(p.name != "evil" for p in snap.packages["python"])


def test_platform_helpers() -> None:
    assert parse_os_release('ID=debian\nVERSION_ID="12"\n') == "debian 12"
    assert parse_os_release("ID=alpine\nVERSION_ID=3.20.1\n") == "alpine 3.20.1"
    assert parse_os_release("ID=debian\nVERSION_CODENAME=trixie\n") == "debian trixie"
    assert parse_os_release("garbage") is None
    assert normalise_arch("AMD64") == "x86_64" and normalise_arch("arm64") == "aarch64"


def test_host_platform_on_this_machine(tmp_path: Path) -> None:
    snap = scan_host(tmp_path, python=None, node=False, env_names=(), environ={"PATH": "/nonexistent"})
    assert snap.platform is not None
    assert snap.platform.os == "linux" and snap.platform.arch in ("x86_64", "aarch64")
    text = Path("/etc/os-release").read_text()
    assert snap.platform.distro == parse_os_release(text)
    assert snap.platform.libc is not None and snap.platform.libc.split()[0] in ("glibc", "musl")


def test_unparsable_project_file_is_a_note_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project\nname = \n")
    (tmp_path / ".env.example").write_text("APP_ENV=dev\n")
    snap = scan_host(tmp_path, python=None, node=False, environ={"PATH": "/usr/bin:/bin", "APP_ENV": "staging"})
    assert any(n.startswith("env: project files not read") and "pyproject.toml" in n for n in snap.notes), snap.notes
    assert snap.env["APP_ENV"].value == "staging"
