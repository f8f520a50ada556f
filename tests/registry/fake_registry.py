"""An in-process OCI distribution server on loopback, for client unit tests.

It serves manifests and blobs from memory and can demand basic or bearer
auth, throttle, tamper with a blob or drop the connection mid-blob — the
faults a real registry and network produce.  Integration tests use Debian's
real registry instead (tests/integration).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class FakeRegistry:
    auth: str = "none"  # none | basic | bearer
    user: str = "alice"
    password: str = "s3cret-pass"
    manifests: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # ref -> (media type, body)
    blobs: dict[str, bytes] = field(default_factory=dict)
    tamper: set[str] = field(default_factory=set)
    drop_midway: set[str] = field(default_factory=set)
    throttle_first: int = 0
    keep_alive: bool = False  # HTTP/1.1 with kept-alive connections (else HTTP/1.0, one request each)
    redirect_blobs: str | None = None  # "http://host:port": blobs answered with a 307 there, as to blob storage
    requests: list[str] = field(default_factory=list)
    token: str = "tok-123"
    server: ThreadingHTTPServer | None = None

    @property
    def host(self) -> str:
        assert self.server is not None
        return f"127.0.0.1:{self.server.server_address[1]}"

    def add_blob(self, data: bytes) -> str:
        d = digest_of(data)
        self.blobs[d] = data
        return d

    def add_manifest(self, tag: str, media: str, doc: dict[str, Any]) -> str:
        body = json.dumps(doc).encode()
        d = digest_of(body)
        self.manifests[tag] = (media, body)
        self.manifests[d] = (media, body)
        return d

    def start(self) -> FakeRegistry:
        reg = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if reg.keep_alive else "HTTP/1.0"

            def log_message(self, *args: object) -> None:
                pass

            def end_headers(self) -> None:
                # Kept alive, a reply must say where it ends: an empty one says so.
                sent = b"".join(getattr(self, "_headers_buffer", [])).lower()
                if reg.keep_alive and b"\r\ncontent-length:" not in sent:
                    self.send_header("Content-Length", "0")
                super().end_headers()

            def _authorized(self) -> bool:
                header = self.headers.get("Authorization", "")
                if reg.auth == "none":
                    return True
                if reg.auth == "basic":
                    good = base64.b64encode(f"{reg.user}:{reg.password}".encode()).decode()
                    if header == f"Basic {good}":
                        return True
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="fake"')
                    self.end_headers()
                    return False
                if header == f"Bearer {reg.token}":
                    return True
                self.send_response(401)
                self.send_header(
                    "WWW-Authenticate",
                    f'Bearer realm="http://{reg.host}/token",service="fake-registry",scope="repository:app:pull"',
                )
                self.end_headers()
                return False

            def do_HEAD(self) -> None:
                self.do_GET(head=True)

            def do_GET(self, head: bool = False) -> None:
                reg.requests.append(self.path)
                if self.path.startswith("/token"):
                    good = base64.b64encode(f"{reg.user}:{reg.password}".encode()).decode()
                    if self.headers.get("Authorization") != f"Basic {good}":
                        self.send_response(401)
                        self.end_headers()
                        return
                    body = json.dumps({"token": reg.token}).encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if reg.throttle_first > 0:
                    reg.throttle_first -= 1
                    self.send_response(429)
                    self.send_header("Retry-After", "0")
                    self.end_headers()
                    return
                if not self._authorized():
                    return
                if self.path == "/v2/":
                    self.send_response(200)
                    self.end_headers()
                    return
                parts = self.path.split("/")
                if len(parts) >= 5 and parts[-2] == "manifests":
                    found = reg.manifests.get(parts[-1])
                    if found is None:
                        self.send_response(404)
                        self.end_headers()
                        return
                    media, body = found
                    self.send_response(200)
                    self.send_header("Content-Type", media)
                    self.send_header("Docker-Content-Digest", digest_of(body))
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if not head:
                        self.wfile.write(body)
                    return
                if len(parts) >= 5 and parts[-2] == "blobs":
                    d = parts[-1]
                    data = reg.blobs.get(d)
                    if data is None:
                        self.send_response(404)
                        self.end_headers()
                        return
                    if reg.redirect_blobs is not None:
                        self.send_response(307)
                        self.send_header("Location", f"{reg.redirect_blobs}/storage/{d}?signature=abc")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    if d in reg.tamper:
                        data = data[:-1] + bytes([data[-1] ^ 1])
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if d in reg.drop_midway:
                        self.wfile.write(data[: len(data) // 2])
                        self.wfile.flush()
                        self.connection.shutdown(2)
                        return
                    self.wfile.write(data)
                    return
                self.send_response(404)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
