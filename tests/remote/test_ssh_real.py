"""``ssh://`` hosts against a real OpenSSH server on 127.0.0.1 (issue 16).

The server is this machine, so the remote snapshot of a tree can be compared
with the local snapshot of the very same tree: same interpreter, packages,
node_modules, declarations and platform.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from remote_testutil import (
    SYSTEM_PATH,
    SshServer,
    envcheck_env,
    listing,
    one_line_error,
    run_envcheck,
    snapshot_json,
    write_fake_systemctl,
)

SECRET = "s3rv1ce-T0ken-value-9f8e7d6c5b4a"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with its own venv (pip, setuptools from ensurepip), node_modules and env references."""
    root = tmp_path_factory.mktemp("remote-project") / "app"
    root.mkdir()
    env = envcheck_env()
    subprocess.run(["/usr/bin/python3", "-m", "venv", str(root / ".venv")], check=True, env=env)
    # A real install into the venv, offline: a local distribution built with the venv's own setuptools.
    demo = root.parent / "demo-src"
    (demo / "demo_pkg").mkdir(parents=True)
    (demo / "demo_pkg" / "__init__.py").write_text("")
    (demo / "setup.py").write_text(
        "from setuptools import setup\nsetup(name='demo-pkg', version='0.1.0', packages=['demo_pkg'])\n"
    )
    pip = [str(root / ".venv" / "bin" / "python"), "-m", "pip", "-q", "--disable-pip-version-check", "install"]
    subprocess.run([*pip, "--no-index", "--no-build-isolation", str(demo)], check=True, env=env, capture_output=True)
    (root / "app.py").write_text(
        'import os\nTOKEN = os.environ["SERVICE_TOKEN"]\nMODE = os.environ.get("APP_MODE", "dev")\n'
    )
    (root / ".env.example").write_text("LOG_LEVEL=info\n")
    (root / "requirements.txt").write_text("demo-pkg==0.1.0\n")
    (root / "package.json").write_text(
        json.dumps({"name": "app", "version": "1.0.0", "dependencies": {"left-pad": "1.3.0", "@scope/util": "2.0.0"}})
    )
    for rel, version in (
        ("node_modules/left-pad", "1.3.0"),
        ("node_modules/@scope/util", "2.0.0"),
        ("node_modules/@scope/util/node_modules/left-pad", "1.1.0"),
    ):
        (root / rel).mkdir(parents=True)
        (root / rel / "package.json").write_text(
            json.dumps({"name": rel.rsplit("node_modules/", 1)[1], "version": version})
        )
    return root


def _ssh_env(server: SshServer, *extra: str, config: Path | None = None, **env: str) -> dict[str, str]:
    return envcheck_env(ENVCHECK_SSH_COMMAND=server.ssh_command(*extra, config=config), **env)


def _without_source(doc: dict[str, object]) -> dict[str, object]:
    # `native` (issue 18) is read from the local file system only; an ssh host
    # does not record it (absent = not recorded, so EC108 stays silent).
    return {k: v for k, v in doc.items() if k not in ("source", "notes", "native")}


def test_remote_snapshot_equals_the_local_snapshot_of_the_same_tree(sshd: SshServer, project: Path) -> None:
    watched = (sshd.home, sshd.tmp, project)
    before = listing(*watched)
    local = snapshot_json(run_envcheck("snapshot", "host", str(project), env=envcheck_env()))
    remote = snapshot_json(run_envcheck("snapshot", "host", sshd.url(project), env=_ssh_env(sshd)))

    assert remote["source"]["kind"] == "host"
    assert remote["source"]["ref"] == sshd.url(project)
    assert _without_source(remote) == _without_source(local)
    # The comparison is about something: the project's venv, its packages and node_modules.
    assert remote["runtimes"]["python"]["path"] == str(project / ".venv" / "bin" / "python")
    assert {p["name"] for p in remote["packages"]["python"]} >= {"pip", "demo-pkg"}
    assert {(p["name"], p["version"]) for p in remote["packages"]["node"]} == {
        ("left-pad", "1.3.0"),
        ("@scope/util", "2.0.0"),
        ("left-pad", "1.1.0"),
    }
    assert {r["name"] for r in remote["declared"]["env_refs"]} == {"SERVICE_TOKEN", "APP_MODE", "LOG_LEVEL"}
    # Nothing was installed or written on the remote: its home, its temp dir and the project are unchanged.
    assert listing(*watched) == before


def test_without_a_path_the_login_directory_is_the_project(sshd: SshServer) -> None:
    doc = snapshot_json(run_envcheck("snapshot", "host", sshd.url(), "--no-node", env=_ssh_env(sshd)))
    assert doc["source"]["ref"] == sshd.url(sshd.home)
    assert doc["runtimes"]["python"]["path"] == "/usr/bin/python3"  # no venv there: python3 on the PATH


def test_scan_against_the_same_tree_over_ssh_finds_no_drift(sshd: SshServer, project: Path) -> None:
    proc = run_envcheck(
        "scan", str(project), "--against", sshd.url(project), "--format", "json", "--fail-on", "never",
        env=_ssh_env(sshd),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    across = [f for f in findings if "ssh://" in json.dumps([f.get("left"), f.get("right")])]
    assert across == []


def test_scan_against_ssh_reports_what_differs_on_the_server(sshd: SshServer, project: Path) -> None:
    """The server's python is another interpreter (no venv there): the drift names the ssh host."""
    bare = project.parent / "bare"
    bare.mkdir(exist_ok=True)
    (bare / "app.py").write_text((project / "app.py").read_text())
    proc = run_envcheck(
        "scan", str(project), "--against", sshd.url(bare), "--format", "json", "--fail-on", "never",
        "--select", "EC2", env=_ssh_env(sshd),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    assert any(sshd.url(bare) in json.dumps(f) for f in findings), findings


@pytest.fixture
def service(project: Path) -> Iterator[int]:
    """A long-running process started with variables the login shell lacks."""
    env = envcheck_env(SERVICE_TOKEN=SECRET, APP_MODE="prod")
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"], env=env, cwd=project, stdin=subprocess.DEVNULL
    )
    try:
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def test_pid_over_ssh_shows_the_services_variables(sshd: SshServer, project: Path, service: int) -> None:
    config = project.parent / "envcheck.toml"
    config.write_text('env-allow = ["APP_MODE"]\n')
    shell = snapshot_json(run_envcheck("snapshot", "host", sshd.url(project), env=_ssh_env(sshd)))
    assert shell["env"]["SERVICE_TOKEN"] == {"set": False}

    proc = run_envcheck(
        "snapshot", "host", sshd.url(project), "--pid", str(service), "--config", str(config), env=_ssh_env(sshd)
    )
    doc = snapshot_json(proc)
    assert doc["env"]["SERVICE_TOKEN"] == {"set": True}
    assert doc["env"]["APP_MODE"] == {"set": True, "value": "prod"}
    assert SECRET not in proc.stdout + proc.stderr
    assert any(f"/proc/{service}/environ" in n for n in doc["notes"])


def test_pid_locally_shows_the_services_variables(project: Path, service: int) -> None:
    proc = run_envcheck("snapshot", "host", str(project), "--pid", str(service), env=envcheck_env())
    doc = snapshot_json(proc)
    assert doc["env"]["SERVICE_TOKEN"] == {"set": True}
    assert SECRET not in proc.stdout + proc.stderr


def test_scan_against_ssh_with_pid_fires_env_missing(sshd: SshServer, project: Path, service: int) -> None:
    proc = run_envcheck(
        "scan", str(project), "--against", sshd.url(project), "--pid", str(service), "--format", "json",
        "--select", "EC501", env=_ssh_env(sshd),
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    assert {f["subject"] for f in findings} >= {"SERVICE_TOKEN", "APP_MODE"}
    assert SECRET not in proc.stdout + proc.stderr


def test_unit_over_ssh_reads_the_units_environment(sshd: SshServer, project: Path, tmp_path: Path) -> None:
    fake = write_fake_systemctl(tmp_path)
    env = _ssh_env(sshd, "-o", f"SetEnv=ENVCHECK_TEST_PATH={fake}:{SYSTEM_PATH}")
    proc = run_envcheck("snapshot", "host", sshd.url(project), "--unit", "app.service", "--no-node", env=env)
    doc = snapshot_json(proc)
    assert doc["env"]["SERVICE_TOKEN"] == {"set": True}
    assert doc["env"]["APP_MODE"] == {"set": True}
    assert doc["env"]["LOG_LEVEL"] == {"set": True, "value": "debug"}
    assert "s3cr3t" not in proc.stdout + proc.stderr


# --------------------------------------------------------------------------- failures: exit 2, one line


def test_a_wrong_host_key_is_refused(sshd: SshServer, project: Path) -> None:
    before = listing(sshd.home, sshd.tmp, project)
    proc = run_envcheck("snapshot", "host", sshd.url(project), env=_ssh_env(sshd, config=sshd.wrong_config))
    line = one_line_error(proc)
    assert line.startswith(sshd.url(project))
    assert "host key" in line
    assert proc.stdout == ""
    assert listing(sshd.home, sshd.tmp, project) == before


def test_an_unknown_host_key_is_refused_not_accepted(sshd: SshServer, project: Path, tmp_path: Path) -> None:
    config = tmp_path / "ssh_config"
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    config.write_text(sshd.config.read_text().replace(str(sshd.dir / "known_hosts"), str(empty)))
    proc = run_envcheck("snapshot", "host", sshd.url(project), env=_ssh_env(sshd, config=config))
    assert "host key" in one_line_error(proc)
    assert empty.read_text() == ""  # envcheck never records a key on the user's behalf


def test_authentication_failure(sshd: SshServer, project: Path, tmp_path: Path) -> None:
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    config = tmp_path / "ssh_config"
    config.write_text(sshd.config.read_text().replace(str(sshd.user_key), str(stranger)))
    proc = run_envcheck("snapshot", "host", sshd.url(project), env=_ssh_env(sshd, config=config))
    assert "authentication failed" in one_line_error(proc)


def test_unreachable_host(sshd: SshServer, project: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = int(sock.getsockname()[1])  # nothing listens once the socket closes
    url = f"ssh://{sshd.user}@127.0.0.1:{closed}{project}"
    proc = run_envcheck("snapshot", "host", url, env=_ssh_env(sshd))
    line = one_line_error(proc)
    assert line.startswith(url) and "unreachable" in line


def test_no_python_on_the_remote(sshd: SshServer, project: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    proc = run_envcheck(
        "snapshot", "host", sshd.url(project), env=_ssh_env(sshd, "-o", f"SetEnv=ENVCHECK_TEST_PATH={empty}")
    )
    assert "no python3 or python" in one_line_error(proc)


def test_a_probe_that_hangs_is_killed_with_one_line(sshd: SshServer, project: Path, tmp_path: Path) -> None:
    slow = tmp_path / "slow-bin"
    slow.mkdir()
    (slow / "python3").write_text("#!/bin/sh\nexec sleep 60\n")
    (slow / "python3").chmod(0o755)
    env = _ssh_env(sshd, "-o", f"SetEnv=ENVCHECK_TEST_PATH={slow}:/usr/bin:/bin", ENVCHECK_PROBE_TIMEOUT="1")
    started = time.monotonic()
    proc = run_envcheck("snapshot", "host", sshd.url(project), env=env)
    assert "did not finish within" in one_line_error(proc)
    assert time.monotonic() - started < 30


def test_a_missing_remote_directory(sshd: SshServer, project: Path) -> None:
    proc = run_envcheck("snapshot", "host", sshd.url(project / "nope"), env=_ssh_env(sshd))
    assert "no such directory" in one_line_error(proc)


def test_a_missing_pid_over_ssh(sshd: SshServer, project: Path) -> None:
    proc = run_envcheck("snapshot", "host", sshd.url(project), "--pid", str(2**22 + 7), env=_ssh_env(sshd))
    assert "no such process" in one_line_error(proc)


def test_a_malformed_url(project: Path) -> None:
    proc = run_envcheck("snapshot", "host", "ssh://user:pw@host/x", env=envcheck_env())
    assert "password" in one_line_error(proc)


def test_the_master_connection_is_gone_afterwards(sshd: SshServer, project: Path) -> None:
    """One connection for the capture, closed at the end: no envcheck-ssh-* directory is left behind."""
    tmp = project.parent / "local-tmp"
    tmp.mkdir(exist_ok=True)
    logins = (sshd.dir / "sshd.log").read_text().count("Accepted publickey")
    # Three requests (facts, project files, environment) ride on one authenticated connection.
    proc = run_envcheck("snapshot", "host", sshd.url(project), env=_ssh_env(sshd, TMPDIR=str(tmp)))
    snapshot_json(proc)
    assert os.listdir(tmp) == []
    assert (sshd.dir / "sshd.log").read_text().count("Accepted publickey") == logins + 1


def test_a_users_remote_command_and_forwardings_do_not_get_in_the_way(
    sshd: SshServer, project: Path, tmp_path: Path
) -> None:
    config = tmp_path / "ssh_config"
    config.write_text(
        sshd.config.read_text()
        + "  RemoteCommand echo hijacked\n  RequestTTY yes\n  LocalForward 127.0.0.1:1 127.0.0.1:1\n"
    )
    doc = snapshot_json(
        run_envcheck("snapshot", "host", sshd.url(project), "--no-node", env=_ssh_env(sshd, config=config))
    )
    assert doc["runtimes"]["python"]["path"] == str(project / ".venv" / "bin" / "python")


def test_a_jump_host_from_the_users_config(sshd: SshServer, project: Path, tmp_path: Path) -> None:
    """`ssh://behind/…` reaches the server through `ProxyJump jump`, both named only in the ssh config."""
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host behind\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User {sshd.user}\n  ProxyJump jump\n"
        f"Host jump\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User {sshd.user}\n" + sshd.config.read_text()
    )
    logins = (sshd.dir / "sshd.log").read_text().count("Accepted publickey")
    doc = snapshot_json(run_envcheck("snapshot", "host", f"ssh://behind{project}", env=_ssh_env(sshd, config=config)))
    assert doc["source"]["ref"] == f"ssh://behind{project}"
    assert doc["runtimes"]["python"]["path"] == str(project / ".venv" / "bin" / "python")
    assert (sshd.dir / "sshd.log").read_text().count("Accepted publickey") == logins + 2  # the jump, then the server


def test_the_readme_demo_shape(sshd: SshServer, tmp_path: Path) -> None:
    """README's `scan --against ssh://…`: the server's side is labelled with its URL, secrets only by name."""
    import shutil

    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "flask-legacy"
    server_copy = tmp_path / "srv" / "app"
    shutil.copytree(fixture, server_copy)
    url = sshd.url(server_copy)
    env = _ssh_env(sshd, DATABASE_URL="postgres://app:pw-value-123@db/app")
    proc = run_envcheck("scan", str(fixture), "--against", url, "--select", "EC501", env=env)
    assert proc.returncode == 1, proc.stderr
    assert (
        f"EC501 [env-var-missing] DATABASE_URL is set on this host but not on host ({url}) (read at .env.example:3)"
        in proc.stdout
    )
    assert "pw-value-123" not in proc.stdout + proc.stderr


def test_a_server_that_never_stops_talking_is_cut_off(
    sshd: SshServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from envcheck.scanners.ssh import SshError, SshSession, parse_ssh_url

    chatty = tmp_path / "chatty-bin"
    chatty.mkdir()
    (chatty / "python3").write_text("#!/bin/sh\nexec yes envcheck\n")
    (chatty / "python3").chmod(0o755)
    monkeypatch.setenv(
        "ENVCHECK_SSH_COMMAND", sshd.ssh_command("-o", f"SetEnv=ENVCHECK_TEST_PATH={chatty}:/usr/bin:/bin")
    )
    started = time.monotonic()
    with (
        SshSession(parse_ssh_url(sshd.url()), timeout=20) as session,
        pytest.raises(SshError, match="more than 1048576 bytes"),
    ):
        session.run_python("print(1)", timeout=20, limit=1 << 20)
    assert time.monotonic() - started < 15


def test_a_deep_tmpdir_does_not_break_the_master_socket(sshd: SshServer, project: Path, tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    proc = run_envcheck("snapshot", "host", sshd.url(project), "--no-node", env=_ssh_env(sshd, TMPDIR=str(deep)))
    assert snapshot_json(proc)["runtimes"]["python"]["path"] == str(project / ".venv" / "bin" / "python")
    assert os.listdir(deep) == []
