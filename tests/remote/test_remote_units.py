"""The parsers and pure pieces behind ssh://, --pid/--unit and the collector (issue 16).

Property tests (hypothesis) for every parser: ``ssh://`` URLs, env files,
``/proc/PID/environ``, ``systemctl show``; the collector's node_modules walk
held equal to the local walker; the collector run as another user for a real
"permission denied".
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envcheck.scanners import _remote_probe as collector
from envcheck.scanners.node_modules import walk_node_modules
from envcheck.scanners.remote import _mirror_path, collector_program, parse_collector_output
from envcheck.scanners.ssh import SshError, SshTarget, classify, parse_ssh_url

sys.path.insert(0, str(Path(__file__).parent))

from remote_testutil import (
    SYSTEM_PATH,
    envcheck_env,
    one_line_error,
    run_envcheck,
    snapshot_json,
    write_fake_systemctl,
)

# --------------------------------------------------------------------------- ssh:// URLs

hosts = st.from_regex(r"[a-z0-9][a-z0-9.-]{0,20}", fullmatch=True)
users = st.none() | st.from_regex(r"[a-z_][a-z0-9_.-]{0,10}", fullmatch=True)
ports = st.none() | st.integers(1, 65535)
segment = st.from_regex(r"[A-Za-z0-9._-]{1,8}", fullmatch=True)
paths = (
    st.none()
    | st.lists(segment, min_size=1, max_size=4).map(lambda s: "/" + "/".join(s))
    | st.lists(segment, max_size=3).map(lambda s: "~" + "".join("/" + x for x in s))
)


@given(hosts, users, ports, paths)
def test_ssh_url_round_trips(host: str, user: str | None, port: int | None, path: str | None) -> None:
    target = SshTarget(host=host, user=user, port=port, path=path)
    assert parse_ssh_url(str(target)) == target


@given(st.text(max_size=60))
def test_ssh_url_parser_never_crashes(text: str) -> None:
    try:
        target = parse_ssh_url("ssh://" + text)
    except SshError as exc:
        assert "\n" not in str(exc)
    else:
        assert not target.host.startswith("-")  # never an option to ssh


@pytest.mark.parametrize(
    "url, part",
    [
        ("ssh://deploy:hunter2@server/srv/app", "password"),
        ("ssh://server:99999/x", "port"),
        ("ssh://server/x?y=1", "query"),
        ("ssh:///srv/app", "no host"),
        ("ssh://-oProxyCommand=x/srv", "not a host name"),
    ],
)
def test_ssh_url_rejections_name_the_problem(url: str, part: str) -> None:
    with pytest.raises(SshError, match=part):
        parse_ssh_url(url)


def test_ssh_url_parts() -> None:
    assert parse_ssh_url("ssh://deploy@server/srv/app") == SshTarget("server", "deploy", None, "/srv/app")
    assert parse_ssh_url("ssh://[::1]:2222/~/app") == SshTarget("::1", None, 2222, "~/app")
    assert parse_ssh_url("ssh://prod-web") == SshTarget("prod-web")
    assert parse_ssh_url("ssh://h/srv/my%20app").path == "/srv/my app"


@pytest.mark.parametrize(
    "stderr, words",
    [
        ("Host key verification failed.", "host key"),
        ("@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@\nHost key verification failed.", "host key"),
        ("deploy@server: Permission denied (publickey).", "authentication failed"),
        ("ssh: connect to host 10.0.0.9 port 22: Connection refused", "unreachable"),
        ("ssh: connect to host 10.0.0.9 port 22: Connection timed out", "unreachable"),
        ("ssh: Could not resolve hostname nowhere: Name or service not known", "unknown host"),
        ("kex_exchange_identification: read: Connection reset by peer", "ssh failed"),
    ],
)
def test_ssh_failures_become_one_actionable_line(stderr: str, words: str) -> None:
    error = classify(SshTarget("server", "deploy"), 255, stderr)
    assert words in str(error) and "\n" not in str(error)
    assert str(error).startswith("ssh://deploy@server: ")


def test_the_collector_is_python_36_source() -> None:
    """It runs in whatever python3 the server has; 3.6 is the oldest the host probe supports too."""
    import ast

    for name in ("_remote_probe.py", "_host_probe.py"):
        ast.parse((Path(collector.__file__).parent / name).read_text(), feature_version=(3, 6))


# --------------------------------------------------------------------------- environment sources

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,15}", fullmatch=True)
values = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)


def _quoted(value: str) -> str:
    escaped = "".join("\\" + c if c in '\\"$`' else c for c in value)
    return f'"{escaped}"'


@given(st.dictionaries(names, values, max_size=8))
def test_env_file_round_trips_double_quoted_values(env: dict[str, str]) -> None:
    text = "# written by a test\n\n" + "".join(f"{k}={_quoted(v)}\n" for k, v in env.items())
    assert collector.parse_env_file(text) == {k: v.rstrip() for k, v in env.items()}


@given(st.dictionaries(names, st.from_regex(r"[A-Za-z0-9_./:-]{0,20}", fullmatch=True), max_size=8))
def test_env_file_plain_and_exported_values(env: dict[str, str]) -> None:
    text = "".join(f"export {k}={v}\n; a comment\n" for k, v in env.items())
    assert collector.parse_env_file(text) == env


def test_env_file_forms() -> None:
    text = "A='single $x'\nB=two words  # comment\nC=\"multi\\\nline\"\n  # skipped\nnot a line\nD=\n"
    assert collector.parse_env_file(text) == {"A": "single $x", "B": "two words", "C": "multiline", "D": ""}


@given(st.text(max_size=200))
def test_env_file_parser_never_crashes(text: str) -> None:
    parsed = collector.parse_env_file(text)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in parsed.items())


@given(st.dictionaries(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True), st.text(max_size=20)))
def test_proc_environ_round_trips(env: dict[str, str]) -> None:
    data = b"\0".join(f"{k}={v}".encode() for k, v in env.items() if "\0" not in v) + b"\0"
    assert collector.parse_environ(data) == {k: v for k, v in env.items() if "\0" not in v}


@given(st.dictionaries(names, st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20), max_size=6))
def test_systemctl_show_environment_round_trips(env: dict[str, str]) -> None:
    line = "Environment=" + " ".join(shlex.quote(f"{k}={v}") for k, v in env.items())
    text = f"LoadState=loaded\n{line}\nEnvironmentFiles=/etc/app.env (ignore_errors=no)\n"
    text += "EnvironmentFiles=/etc/default/app (ignore_errors=yes)\n"
    shown = collector.parse_systemctl_show(text)
    assert shown["environment"] == env
    assert shown["files"] == [("/etc/app.env", False), ("/etc/default/app", True)]
    assert shown["load_state"] == "loaded"


def test_values_leave_the_collector_only_for_names_envcheck_allows() -> None:
    env = {"APP_ENV": "prod", "API_TOKEN": "x" * 30, "OTHER": "1"}
    assert collector.select_env(env, ["APP_ENV", "API_TOKEN", "MISSING"], ["APP_ENV"]) == {
        "APP_ENV": "prod",
        "API_TOKEN": None,
    }


def test_permission_denied_on_a_process_is_an_error_not_an_empty_set() -> None:
    """The collector, run as nobody, asked for a root process's environment."""
    if os.geteuid() != 0:
        pytest.fail("this test switches to the nobody user and must run as root", pytrace=False)
    params = {"want": ["env"], "env": {"pid": os.getpid()}, "root": "/", "timeout": 5}
    proc = subprocess.run(
        ["/usr/bin/python3", "-I", "-B", "-"],
        input=collector_program(params),
        capture_output=True,
        text=True,
        user=65534,
        group=65534,
        cwd="/",
        timeout=60,
        check=False,
    )
    with pytest.raises(SshError, match="permission denied") as info:
        parse_collector_output(SshTarget("server"), proc.stdout, proc.stderr)
    assert f"--pid {os.getpid()}" in str(info.value)


# --------------------------------------------------------------------------- --unit (systemctl stand-in)


@pytest.fixture
def fake_systemctl(tmp_path: Path) -> Path:
    return write_fake_systemctl(tmp_path)


@pytest.fixture
def unit_project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "app.py").write_text(
        'import os\nos.environ["SERVICE_TOKEN"]\nos.environ["APP_MODE"]\nos.getenv("LOG_LEVEL")\n'
    )
    return root


def test_unit_environment_locally(fake_systemctl: Path, unit_project: Path) -> None:
    env = envcheck_env(PATH=f"{fake_systemctl}:{SYSTEM_PATH}")
    proc = run_envcheck("snapshot", "host", str(unit_project), "--unit", "app.service", "--no-node", env=env)
    doc = snapshot_json(proc)
    assert doc["env"]["SERVICE_TOKEN"] == {"set": True}
    assert doc["env"]["APP_MODE"] == {"set": True}
    assert doc["env"]["LOG_LEVEL"] == {"set": True, "value": "debug"}
    assert "s3cr3t" not in proc.stdout + proc.stderr
    assert any("systemd unit app.service" in n for n in doc["notes"])


def test_unknown_unit_is_one_line(fake_systemctl: Path, unit_project: Path) -> None:
    env = envcheck_env(PATH=f"{fake_systemctl}:{SYSTEM_PATH}")
    proc = run_envcheck("snapshot", "host", str(unit_project), "--unit", "nope.service", "--no-node", env=env)
    assert "no such unit" in one_line_error(proc)


def test_missing_required_env_file_is_one_line(fake_systemctl: Path, unit_project: Path, tmp_path: Path) -> None:
    (tmp_path / "app.env").unlink()
    env = envcheck_env(PATH=f"{fake_systemctl}:{SYSTEM_PATH}")
    proc = run_envcheck("snapshot", "host", str(unit_project), "--unit", "app.service", "--no-node", env=env)
    assert "does not exist" in one_line_error(proc)


def test_pid_and_unit_are_exclusive(unit_project: Path) -> None:
    proc = run_envcheck("snapshot", "host", str(unit_project), "--pid", "1", "--unit", "x", env=envcheck_env())
    one_line_error(proc)


# --------------------------------------------------------------------------- node_modules: one walk, two places


def _tree(root: Path) -> None:
    def pkg(rel: str, version: str | None, raw: str | None = None) -> None:
        (root / rel).mkdir(parents=True, exist_ok=True)
        body = raw if raw is not None else json.dumps({"name": rel.rsplit("/", 1)[-1], "version": version})
        (root / rel / "package.json").write_text(body)

    nm = root / "node_modules"
    pkg("node_modules/a", "1.0.0")
    pkg("node_modules/a/node_modules/b", "2.0.0")
    pkg("node_modules/@scope/c", "3.0.0")
    pkg("node_modules/broken-manifest", None, raw="{not json")
    pkg("node_modules/no-version", None, raw='{"name": "no-version"}')
    (nm / "empty-folder").mkdir()
    pkg("packages/ws", "0.1.0")
    (nm / "ws").symlink_to(root / "packages" / "ws")
    (nm / "dangling").symlink_to(root / "nowhere")
    store = nm / ".pnpm"
    pkg("node_modules/.pnpm/ms@2.0.0/node_modules/ms", "2.0.0")
    pkg("node_modules/.pnpm/express@4.21.2/node_modules/express", "4.21.2")
    (store / "express@4.21.2" / "node_modules" / "ms").symlink_to(store / "ms@2.0.0" / "node_modules" / "ms")
    (nm / "express").symlink_to(store / "express@4.21.2" / "node_modules" / "express")
    (nm / "a" / "node_modules" / "loop").symlink_to(nm / "a")


def test_the_collectors_node_walk_equals_the_local_walker(tmp_path: Path) -> None:
    _tree(tmp_path)
    local = walk_node_modules(tmp_path)
    remote = collector.walk_node_modules(str(tmp_path))
    assert [(p.name, p.version, p.path, p.link) for p in local.packages] == [tuple(p) for p in remote["packages"]]
    assert list(local.notes) == remote["notes"]
    assert len(local.packages) >= 6


# --------------------------------------------------------------------------- what comes back from the server


@pytest.mark.parametrize("rel", ["../x", "/etc/passwd", "a/../../b", "a\\b", "", ".", "a//b", "a/./b"])
def test_a_remote_file_name_never_lands_outside_the_private_copy(tmp_path: Path, rel: str) -> None:
    assert _mirror_path(tmp_path, rel) is None


def test_a_remote_file_name_inside_the_copy(tmp_path: Path) -> None:
    assert _mirror_path(tmp_path, "app/requirements.txt") == tmp_path / "app" / "requirements.txt"


@given(st.text(max_size=300), st.text(max_size=100))
def test_collector_output_is_a_result_or_one_line_error(stdout: str, stderr: str) -> None:
    try:
        doc = parse_collector_output(SshTarget("server"), stdout, stderr)
    except SshError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(doc, dict)


def test_collector_output_skips_banners_around_the_result() -> None:
    out = "Welcome to server!\n" + collector.MARKER + json.dumps({"ok": {"root": "/srv"}}) + "\nbye\n"
    assert parse_collector_output(SshTarget("server"), out, "") == {"root": "/srv"}
