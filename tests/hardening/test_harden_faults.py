"""Faults: each ends with one clear line, a non-zero exit, and no half-written file.

* the engine disappears in the middle of ``docker save`` (a fake engine on a
  unix socket that answers the API's opening calls, then drops the export);
* a ``--probe`` container hangs (the real engine; the image's interpreter
  sleeps in ``sitecustomize``) and is killed at ``ENVCHECK_PROBE_TIMEOUT``;
* ``-o`` onto a full file system (a real 64 KiB tmpfs, filled);
* ``envcheck dockerfile`` into a read-only project directory (a read-only
  bind mount: root ignores mode bits, not mount flags);
* SIGINT in the middle of reading an image.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from harden_testutil import REPO, cli, leftovers
from image_testutil import docker_archive, layer_tar, metadata

FIXTURES = REPO / "fixtures"
TRACEBACK = "Traceback"


def _one_clear_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("envcheck: warning")]
    assert TRACEBACK not in stderr, stderr
    assert len(lines) == 1, stderr
    return lines[0]


# --------------------------------------------------------------------------- the engine disappears mid-save


def _big_archive() -> bytes:
    files: dict[str, Any] = {f"usr/share/junk/{i}": os.urandom(64 * 1024) for i in range(32)}
    files["usr/local/lib/python3.11/site-packages/a-1.dist-info/METADATA"] = metadata("a", "1")
    return docker_archive([layer_tar(files)], {"architecture": "amd64", "os": "linux", "config": {}})


class _FakeEngine(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    archive = b""
    mode = "chunked"  # or "short": a Content-Length the body never reaches


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _FakeEngine

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def address_string(self) -> str:  # a unix socket has no client address
        return "fake-engine"

    def _json(self, doc: Any) -> None:
        body = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path.endswith("/_ping"):
            body = b"OK"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(body)
        elif path.endswith("/version"):
            self._json({"ApiVersion": "1.43", "Version": "24.0.0", "MinAPIVersion": "1.12", "Os": "linux"})
        elif "/images/" in path and path.endswith("/json"):
            self._json({"Id": "sha256:" + "ab" * 32, "RepoTags": ["fake/app:1"], "Config": {}})
        elif "/images/" in path and path.endswith("/get"):
            self._export()
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def _export(self) -> None:
        data = self.server.archive
        half = data[: len(data) // 2]
        self.send_response(200)
        self.send_header("Content-Type", "application/x-tar")
        if self.server.mode == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(half), 65536):
                chunk = half[i : i + 65536]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"10000\r\n" + data[len(half) : len(half) + 100])  # a chunk cut short
        else:
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(half)
        self.wfile.flush()
        # The engine goes away: the connection drops with no end of stream.
        with contextlib.suppress(OSError):
            self.connection.shutdown(2)
        self.close_connection = True


@contextlib.contextmanager
def _fake_engine(sock: Path, mode: str) -> Iterator[str]:
    sock.unlink(missing_ok=True)  # a stale socket from an aborted run
    server = _FakeEngine(str(sock), _Handler)
    server.archive = _big_archive()
    server.mode = mode
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"unix://{sock}"
    finally:
        server.shutdown()
        server.server_close()
        sock.unlink(missing_ok=True)


@pytest.mark.parametrize("mode", ["chunked", "short"])
@pytest.mark.parametrize("command", ["snapshot", "scan"])
def test_engine_disappearing_mid_save(tmp_path: Path, mode: str, command: str) -> None:
    out = tmp_path / "out" / "report.json"
    out.parent.mkdir()
    with _fake_engine(Path(f"/tmp/ec-fake-{os.getpid()}-{mode}-{command}.sock"), mode) as host:
        env = dict(os.environ, DOCKER_HOST=host)
        if command == "snapshot":
            args = ["snapshot", "image", "docker:fake/app:1", "-o", str(out)]
        else:
            project = tmp_path / "proj"
            shutil.copytree(FIXTURES / "flask-legacy", project)
            args = ["scan", str(project), "--image", "docker:fake/app:1", "--format", "json", "-o", str(out)]
        ran = cli(*args, env=env, timeout=120)
    line = _one_clear_line(ran.stderr)
    assert ran.code == 2, ran
    assert line.startswith("docker:fake/app:1: "), line
    assert "the engine stopped sending the image mid-export" in line or "truncated" in line, line
    assert not out.exists() and leftovers(out.parent) == []


# --------------------------------------------------------------------------- a probe that hangs


def test_probe_that_hangs_is_killed_at_the_timeout(docker_engine: Any, python_venv_image: Any, tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    # python -I still imports sitecustomize from site-packages: the probe's interpreter never answers.
    (ctx / "Dockerfile").write_text(
        f"FROM {python_venv_image.tag}\nUSER root\n"
        "RUN for d in /opt/venv/lib/python3*/site-packages /usr/lib/python3.[0-9]*; do "
        "printf 'import time\\ntime.sleep(600)\\n' > $d/sitecustomize.py; done\nUSER app\n"
    )
    tag = "envcheck-test/hanging-probe:2"
    docker_engine.build(ctx, tag, network_host=False)
    client = docker_engine.client
    before = {c.id for c in client.containers.list(all=True)}
    out = tmp_path / "snap.json"
    env = dict(os.environ, ENVCHECK_PROBE_TIMEOUT="4")
    ran = cli("snapshot", "image", f"docker:{tag}", "--probe", "-o", str(out), env=env, timeout=180)
    line = _one_clear_line(ran.stderr)
    assert ran.code == 2, ran
    assert "did not answer within 4s" in line and "killed" in line, line
    assert ran.seconds < 90, f"the probe ran {ran.seconds:.0f}s despite a 4s limit"
    assert not out.exists() and leftovers(tmp_path) == []
    left = [c for c in client.containers.list(all=True) if c.id not in before]
    assert left == [], f"probe containers left behind: {[c.name for c in left]}"


# --------------------------------------------------------------------------- full disk, read-only dir


@contextlib.contextmanager
def _mounted(args: list[str], target: Path) -> Iterator[Path]:
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", *args, str(target)], check=True, capture_output=True)
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False, capture_output=True)


def _fill(directory: Path) -> None:
    with open(directory / "filler", "wb", buffering=0) as fh, contextlib.suppress(OSError):
        while True:
            fh.write(b"\0" * 4096)
            fh.flush()
            os.fsync(fh.fileno())


@pytest.mark.parametrize(
    "args",
    [
        ["snapshot", "project", "{project}"],
        ["lint", "--format", "sarif", "--fail-on", "never"],
        ["scan", "{project}", "--format", "json", "--fail-on", "never", "--no-node"],
    ],
    ids=["snapshot", "lint-sarif", "scan-json"],
)
def test_output_onto_a_full_disk(tmp_path: Path, args: list[str]) -> None:
    project = tmp_path / "proj"
    shutil.copytree(FIXTURES / "express-app", project)
    with _mounted(["-t", "tmpfs", "-o", "size=64k", "tmpfs"], tmp_path / "full") as full:
        out = full / "report.out"
        out.write_text("previous report\n")
        _fill(full)
        argv = [a.format(project=project) for a in args] + ["-o", str(out)]
        ran = cli(*argv, cwd=project, timeout=180)
        line = _one_clear_line(ran.stderr)
        assert ran.code == 2, ran
        assert line == f"{out}: cannot write: No space left on device", line
        assert out.read_text() == "previous report\n"
        assert leftovers(full) == []


def test_dockerfile_into_a_read_only_project(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(FIXTURES / "flask-legacy", src)
    ro = tmp_path / "ro"
    with _mounted(["--bind", str(src)], ro):
        subprocess.run(["mount", "-o", "remount,bind,ro", str(ro)], check=True, capture_output=True)
        before = sorted(p.name for p in ro.iterdir())
        ran = cli("dockerfile", str(ro), timeout=180)
        line = _one_clear_line(ran.stderr)
        assert ran.code == 2, ran
        assert "Read-only file system" in line and str(ro) in line, line
        assert sorted(p.name for p in ro.iterdir()) == before  # no Dockerfile, no lock, no temp file


# --------------------------------------------------------------------------- SIGINT


def _feed_half(fifo: Path, data: bytes, opened: threading.Event, release: threading.Event) -> None:
    """Writer side of a FIFO: half an archive, then a stall until released (a slow disk or pipe)."""
    with open(fifo, "wb") as fh:  # returns once envcheck has opened the image for reading
        opened.set()
        fh.write(data[: len(data) // 2])
        fh.flush()
        release.wait(60)


@pytest.mark.parametrize("command", ["snapshot", "scan"])
def test_sigint_during_an_image_read(tmp_path: Path, command: str) -> None:
    """The interrupt lands while envcheck is in the middle of an image (fed through a stalled FIFO)."""
    fifo = tmp_path / "image.tar"
    os.mkfifo(fifo)
    outdir = tmp_path / "out"
    outdir.mkdir()
    out = outdir / "result.json"
    out.write_text("previous\n")
    if command == "snapshot":
        args = ["snapshot", "image", f"docker-archive:{fifo}", "-o", str(out)]
    else:
        project = tmp_path / "proj"
        shutil.copytree(FIXTURES / "flask-legacy", project)
        args = ["scan", str(project), "--no-node", "--image", f"docker-archive:{fifo}", "-o", str(out)]
    opened, release = threading.Event(), threading.Event()
    writer = threading.Thread(target=_feed_half, args=(fifo, _big_archive(), opened, release), daemon=True)
    writer.start()
    proc = subprocess.Popen(
        [sys.executable, "-m", "envcheck", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert opened.wait(120), "envcheck never opened the image"
        time.sleep(0.5)  # let it read the first half and block on the rest
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        release.set()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (proc.returncode, stderr)
    assert _one_clear_line(stderr) == "envcheck: interrupted"
    assert stdout == ""
    assert out.read_text() == "previous\n" and leftovers(outdir) == []


def test_sigint_while_writing_leaves_the_previous_file(tmp_path: Path) -> None:
    """The interrupt lands inside atomic_write itself: the temp file goes, the old file stays."""
    target = tmp_path / "o.json"
    target.write_text("old\n")
    code = f"""
import os, signal
from envcheck import _io
real = os.replace
def interrupted(*a, **k):
    os.kill(os.getpid(), signal.SIGINT)
    import time; time.sleep(5)
os.replace = interrupted
try:
    _io.atomic_write({str(target)!r}, "new" * 100000)
except KeyboardInterrupt:
    print("interrupted")
"""
    proc = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "interrupted", proc.stderr
    assert target.read_text() == "old\n"
    assert leftovers(tmp_path) == []


def test_sigint_handler_never_prints_a_traceback_on_a_fast_command(tmp_path: Path) -> None:
    """Interrupting at an arbitrary early moment (during imports) still gives no Python traceback."""
    for delay in (0.1, 0.2, 0.5):
        proc = subprocess.Popen(
            [sys.executable, "-m", "envcheck", "lint", "--format", "json"],
            cwd=FIXTURES / "express-app",
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
        if proc.returncode in (0, 1):
            continue  # finished before the signal arrived
        assert proc.returncode in (130, -signal.SIGINT), (proc.returncode, stderr)
        assert TRACEBACK not in stderr, stderr
