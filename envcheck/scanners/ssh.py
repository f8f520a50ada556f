"""``ssh://[user@]host[:port][/path]``: one multiplexed connection through the system ``ssh`` (issue 16).

envcheck drives the user's own OpenSSH client, so ``~/.ssh/config``, agents,
``ProxyJump`` and ``known_hosts`` work exactly as they do for ``ssh`` itself.
It adds only what makes the capture safe and quick:

* ``BatchMode=yes`` — never a password or host-key prompt that would hang a
  CI job; host key checking itself is left as the user configured it (never
  ``StrictHostKeyChecking=no``);
* no agent, X11 or port forwarding, no configured ``RemoteCommand``/TTY;
* one master connection (``ControlMaster``) with a ``ControlPath`` in a
  private temporary directory, which every command of the capture reuses and
  which is closed and removed at the end;
* programs go to ``python3 -I -B -`` on **stdin**: nothing is written on the
  remote host, not even bytecode.

``ENVCHECK_SSH_COMMAND`` replaces ``ssh`` (like ``GIT_SSH_COMMAND``): for
example ``ssh -F ./ci-ssh-config``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from types import TracebackType
from urllib.parse import unquote

from envcheck import _regex
from envcheck.errors import EnvcheckError
from envcheck.record import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO


SCHEME = "ssh://"
COMMAND_ENV = "ENVCHECK_SSH_COMMAND"
# Exit status of the remote launcher when no interpreter is on the remote PATH.
_NO_PYTHON = 97
# The collector's answer is a few MiB; a project's files at most 256 MiB, base64-encoded.
MAX_OUTPUT = 400 * 1024 * 1024
_HOST = _regex.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.%-]*$")
_USER = _regex.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")
# Run by the remote login shell; POSIX sh so bash, dash, zsh and fish users alike get the same.
_LAUNCHER = (
    "cd / || exit 1; for p in python3 python; do "
    'if command -v "$p" >/dev/null 2>&1; then exec "$p" -I -B -; fi; done; '
    f"echo 'envcheck: no python3 or python on PATH' >&2; exit {_NO_PYTHON}"
)


class SshError(EnvcheckError):
    """The remote host cannot be reached, refused us, or did not answer."""


def is_ssh_url(text: str | None) -> bool:
    return bool(text) and str(text).startswith(SCHEME)


@record
class SshTarget:
    host: str
    user: str | None = None
    port: int | None = None
    path: str | None = None  # the remote project directory as given; None: the login directory

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        where = f"{self.user}@{host}" if self.user else host
        if self.port is not None:
            where += f":{self.port}"
        path = ""
        if self.path:
            path = self.path if self.path.startswith("/") else "/" + self.path
        return SCHEME + where + path

    def destination(self) -> list[str]:
        args: list[str] = []
        if self.user:
            args += ["-l", self.user]
        if self.port is not None:
            args += ["-p", str(self.port)]
        return [*args, self.host]


def parse_ssh_url(text: str) -> SshTarget:
    """``ssh://deploy@server:2222/srv/app`` → its parts; ``/~/app`` is relative to the remote home."""
    if not text.startswith(SCHEME):
        raise SshError(f"{text}: not an ssh:// URL")
    rest = text[len(SCHEME) :]
    authority, slash, path = rest.partition("/")
    if "?" in rest or "#" in rest:
        raise SshError(f"{text}: an ssh:// URL takes no query or fragment")
    user: str | None = None
    if "@" in authority:
        user, _, authority = authority.rpartition("@")
        if ":" in user:
            raise SshError(f"{text}: ssh:// URLs carry no password; use a key or an agent")
        user = unquote(user)
        if not _USER.match(user):
            raise SshError(f"{text}: {user!r} is not a user name")
    port: int | None = None
    if authority.startswith("["):
        host, bracket, tail = authority[1:].partition("]")
        if not bracket or (tail and not tail.startswith(":")):
            raise SshError(f"{text}: malformed [IPv6] host")
        port_text = tail[1:] if tail else ""
        if not re.fullmatch(r"[0-9A-Fa-f:.]+", host):
            raise SshError(f"{text}: {host!r} is not an IPv6 address")
    else:
        host, _, port_text = authority.partition(":")
        if not _HOST.match(host):
            raise SshError(f"{text}: {host!r} is not a host name" if host else f"{text}: no host")
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise SshError(f"{text}: port {port_text!r} is not a number from 1 to 65535")
        port = int(port_text)
    remote_path: str | None = None
    if slash:
        remote_path = "/" + unquote(path)
        if remote_path == "/~" or remote_path.startswith("/~/"):
            remote_path = remote_path[1:]
        if "\0" in remote_path:
            raise SshError(f"{text}: the path holds a NUL byte")
    return SshTarget(host=host, user=user, port=port, path=remote_path)


def _ssh_base() -> list[str]:
    configured = os.environ.get(COMMAND_ENV, "").strip()
    try:
        argv = shlex.split(configured) if configured else ["ssh"]
    except ValueError as exc:
        raise SshError(f"{COMMAND_ENV}: cannot split {configured!r}: {exc}") from None
    if not argv:
        argv = ["ssh"]
    if shutil.which(argv[0]) is None:
        raise SshError(f"{argv[0]}: not found; envcheck connects through the system OpenSSH client")
    return argv


def classify(target: SshTarget, returncode: int | None, stderr: str) -> SshError:
    """One line a user can act on, from ssh's exit status and its last words."""
    text = " ".join(stderr.split())
    low = text.lower()
    where = str(target)
    if returncode is None:
        return SshError(f"{where}: no answer within the timeout (raise it with ENVCHECK_PROBE_TIMEOUT=SECONDS)")
    if "host key verification failed" in low or "remote host identification has changed" in low:
        return SshError(
            f"{where}: host key not trusted (unknown, or changed since it was recorded); envcheck never "
            "skips host key checking: verify the key and add it to known_hosts"
        )
    if "permission denied" in low or "too many authentication failures" in low:
        return SshError(
            f"{where}: authentication failed; load a key into ssh-agent or name one in ~/.ssh/config "
            "(envcheck runs ssh in batch mode: it never asks for a password)"
        )
    if "could not resolve hostname" in low or "name or service not known" in low:
        return SshError(f"{where}: unknown host (the name does not resolve)")
    for reason in ("connection refused", "connection timed out", "no route to host", "network is unreachable"):
        if reason in low:
            return SshError(f"{where}: host unreachable ({reason})")
    last = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
    detail = last[-1][:200] if last else "no message"
    return SshError(f"{where}: ssh failed (exit {returncode}): {detail}")


class SshSession:
    """A master connection for the whole capture; ``run_python`` reuses it."""

    def __init__(self, target: SshTarget, *, timeout: float) -> None:
        self.target = target
        self.timeout = timeout
        self._dir: str | None = None
        self._master: subprocess.Popen[bytes] | None = None
        self._base = _ssh_base()

    # -- lifecycle

    def __enter__(self) -> SshSession:
        self._dir = tempfile.mkdtemp(prefix="envcheck-ssh-")
        if len(self._socket) > 100:
            # A unix socket path holds ~104 bytes; a deep $TMPDIR would leave ssh no room.
            os.rmdir(self._dir)
            self._dir = tempfile.mkdtemp(prefix="envcheck-ssh-", dir="/tmp")
        try:
            self._start_master()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def _socket(self) -> str:
        assert self._dir is not None
        return os.path.join(self._dir, "master")

    def _options(self) -> list[str]:
        connect = max(1, int(min(self.timeout, 30)))
        options = [
            "BatchMode=yes",
            f"ConnectTimeout={connect}",
            f"ControlPath={self._socket}",
            # A capture needs one exec channel: no forwarded agent, X11 or ports from the user's
            # config reach the server, and a configured RemoteCommand/RequestTTY cannot clash with ours.
            "ForwardAgent=no",
            "ForwardX11=no",
            "ClearAllForwardings=yes",
            "RemoteCommand=none",
            "RequestTTY=no",
        ]
        return [arg for option in options for arg in ("-o", option)]

    def _command(self, *mux: str) -> list[str]:
        # ssh keeps the *first* value it sees for an option: envcheck's come before the
        # user's ENVCHECK_SSH_COMMAND arguments, so no setting there can make ssh prompt
        # or move the master's socket. Host key checking is not among them.
        return [self._base[0], *self._options(), *mux, *self._base[1:]]

    def _start_master(self) -> None:
        assert self._dir is not None
        log_path = os.path.join(self._dir, "master.log")
        argv = [*self._command("-o", "ControlMaster=yes", "-o", "ControlPersist=no"), "-N"]
        with open(log_path, "wb") as log:
            # stderr to a file, not a pipe: the master lives on and nobody would drain the pipe.
            self._master = subprocess.Popen(
                [*argv, *self.target.destination()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + max(self.timeout, 5.0) + 5.0
        while True:
            code = self._master.poll()
            if code is not None:
                self._master = None
                raise classify(self.target, code, _read(log_path))
            if os.path.exists(self._socket):
                return  # the master creates its socket only after authentication succeeded
            if time.monotonic() > deadline:
                raise classify(self.target, None, "")
            time.sleep(0.02)

    def _stop_master(self, sig: signal.Signals = signal.SIGTERM) -> None:
        master, self._master = self._master, None
        if master is None:
            return
        try:
            os.killpg(master.pid, sig)
        except (ProcessLookupError, PermissionError):
            master.send_signal(sig)
        try:
            master.wait(timeout=5)
        except subprocess.TimeoutExpired:
            master.kill()
            master.wait()

    def close(self) -> None:
        self._stop_master()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    # -- commands

    def run_python(self, program: str, *, timeout: float, limit: int = MAX_OUTPUT) -> tuple[str, str]:
        """Pipe ``program`` to the remote ``python3 -I -B -``; its stdout and stderr.

        A server is not trusted to stop talking: past ``limit`` bytes, or after
        ``timeout`` seconds, the request is ended and reported as an error.
        """
        argv = [
            *self._command("-o", "ControlMaster=no"),
            *self.target.destination(),
            f"/bin/sh -c {shlex.quote(_LAUNCHER)}",
        ]
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        overflow = threading.Event()
        out: list[bytes] = []
        err: list[bytes] = []
        readers = [
            threading.Thread(target=_drain, args=(proc.stdout, out, limit, overflow), daemon=True),
            threading.Thread(target=_drain, args=(proc.stderr, err, 64 * 1024, None), daemon=True),
            threading.Thread(target=_feed, args=(proc.stdin, program.encode("utf-8")), daemon=True),
        ]
        for thread in readers:
            thread.start()
        deadline = time.monotonic() + timeout
        while proc.poll() is None and not overflow.is_set() and time.monotonic() < deadline:
            time.sleep(0.01)
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()
            # The mux client handed its pipes to the master: only ending the master closes them.
            self._stop_master(signal.SIGKILL)
            proc.wait()
            if overflow.is_set():
                raise SshError(f"{self.target}: the remote side sent more than {limit} bytes; stopped reading")
            raise SshError(
                f"{self.target}: the probe did not finish within {timeout:g}s "
                "(raise the limit with ENVCHECK_PROBE_TIMEOUT=SECONDS)"
            )
        for thread in readers:
            thread.join(5)
        stderr = b"".join(err).decode("utf-8", "replace")
        if proc.returncode == _NO_PYTHON:
            raise SshError(
                f"{self.target}: no python3 or python on the remote PATH; envcheck's probe needs Python 3.6+ there "
                "(nothing is installed by envcheck)"
            )
        if proc.returncode == 255:
            raise classify(self.target, 255, stderr)
        if overflow.is_set():
            raise SshError(f"{self.target}: the remote side sent more than {limit} bytes; stopped reading")
        return b"".join(out).decode("utf-8", "replace"), stderr


def _drain(stream: IO[bytes], sink: list[bytes], limit: int, overflow: threading.Event | None) -> None:
    """Read ``stream`` to its end, keeping at most ``limit`` bytes (then flag it, or just drop the rest)."""
    kept = 0
    while True:
        chunk = stream.read1(1 << 16) if hasattr(stream, "read1") else stream.read(1 << 16)
        if not chunk:
            return
        if kept + len(chunk) > limit:
            if overflow is not None:
                overflow.set()
                return
            continue
        kept += len(chunk)
        sink.append(chunk)


def _feed(stream: IO[bytes], data: bytes) -> None:
    try:
        stream.write(data)
        stream.close()
    except (BrokenPipeError, OSError):
        pass  # the remote side stopped reading; its exit status says why


def _read(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            return fh.read(64 * 1024).decode("utf-8", "replace")
    except OSError:
        return ""
