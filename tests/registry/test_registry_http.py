"""The registry client's HTTP: redirects to blob storage, proxies from the environment, kept-alive connections.

What users of a registry behind a proxy or with blobs on object storage rely
on: a proxy named in ``HTTP_PROXY``/``HTTPS_PROXY`` is used (``NO_PROXY``
honoured), a redirected blob is fetched from where it was sent without the
registry's credentials, and the several requests of a pull share connections.
"""

from __future__ import annotations

import base64
import json
import select
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from envcheck import _http
from envcheck.distribution import OCI_MANIFEST, RegistryClient, parse_registry_ref
from tests.registry.fake_registry import FakeRegistry
from tests.registry.tls_bed import TEST_NAME

LAYER = b"layer-bytes" * 10000
CONFIG = json.dumps({"architecture": "amd64", "os": "linux", "config": {}}).encode()


def _image(reg: FakeRegistry) -> str:
    cfg, layer = reg.add_blob(CONFIG), reg.add_blob(LAYER)
    reg.add_manifest(
        "1.0",
        OCI_MANIFEST,
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"digest": cfg, "size": len(CONFIG), "mediaType": "application/vnd.oci.image.config.v1+json"},
            "layers": [{"digest": layer, "size": len(LAYER), "mediaType": "application/vnd.oci.image.layer.v1.tar"}],
        },
    )
    return layer


def _client(reg: FakeRegistry, **kw: Any) -> RegistryClient:
    kw.setdefault("use_docker_config", False)
    kw.setdefault("backoff", 0.0)
    return RegistryClient(parse_registry_ref(f"registry:{reg.host}/app:1.0"), **kw)


@pytest.fixture
def registry() -> Iterator[FakeRegistry]:
    reg = FakeRegistry(auth="basic", keep_alive=True).start()
    yield reg
    reg.stop()


class _Storage:
    """Blob storage a registry redirects to: serves any blob of ``reg`` and records the headers it got."""

    def __init__(self, reg: FakeRegistry) -> None:
        seen: list[dict[str, str]] = []
        self.seen = seen

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                seen.append(dict(self.headers))
                data = reg.blobs[self.path.split("?")[0].rsplit("/", 1)[1]]
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://localhost:{self.server.server_address[1]}"  # another origin than the registry's

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_redirected_blob_is_fetched_without_the_registry_credentials(registry: FakeRegistry) -> None:
    layer = _image(registry)
    storage = _Storage(registry)
    registry.redirect_blobs = storage.url
    try:
        client = _client(registry, credentials=_creds(registry))
        client.resolve_image_manifest()
        stream = client.open_blob(layer, len(LAYER), "layer 1")
        assert stream.read(-1) == LAYER
        stream.finish()
    finally:
        storage.stop()
    assert storage.seen and all("Authorization" not in headers for headers in storage.seen)


def _creds(reg: FakeRegistry) -> Any:
    from envcheck.distribution import Credentials

    return Credentials(username=reg.user, password=reg.password)


class _Proxy:
    """A forward proxy: absolute-URL requests for plain HTTP, CONNECT tunnels for HTTPS; records what it was asked."""

    def __init__(self, password: str | None = None) -> None:
        asked: list[str] = []
        self.asked = asked
        want = None if password is None else "Basic " + base64.b64encode(f"proxy-user:{password}".encode()).decode()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _allowed(self) -> bool:
                if want is not None and self.headers.get("Proxy-Authorization") != want:
                    self.send_response(407)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return False
                return True

            def do_GET(self) -> None:
                asked.append(f"GET {self.path}")
                if not self._allowed():
                    return
                from urllib.parse import urlsplit

                target = urlsplit(self.path)
                upstream = socket.create_connection((target.hostname or "", target.port or 80))
                path = target.path + (f"?{target.query}" if target.query else "")
                lines = [f"GET {path} HTTP/1.0"] + [
                    f"{k}: {v}"
                    for k, v in self.headers.items()
                    if k.lower() not in ("proxy-authorization", "connection")
                ]
                upstream.sendall(("\r\n".join(lines) + "\r\nConnection: close\r\n\r\n").encode())
                self.close_connection = True
                while chunk := upstream.recv(65536):
                    self.wfile.write(chunk)
                upstream.close()

            def do_CONNECT(self) -> None:
                asked.append(f"CONNECT {self.path}")
                if not self._allowed():
                    return
                host, port = self.path.rsplit(":", 1)
                upstream = socket.create_connection((host, int(port)))
                self.send_response(200)
                self.end_headers()
                self.close_connection = True
                conns = [self.connection, upstream]
                while True:
                    ready, _, _ = select.select(conns, [], [], 10)
                    if not ready:
                        break
                    for sock in ready:
                        data = sock.recv(65536)
                        if not data:
                            upstream.close()
                            return
                        (upstream if sock is self.connection else self.connection).sendall(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def test_http_proxy_from_the_environment_is_used(
    registry: FakeRegistry, no_proxy_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    layer = _image(registry)
    proxy = _Proxy(password="p@ss")
    monkeypatch.setenv("HTTP_PROXY", proxy.url.replace("http://", "http://proxy-user:p%40ss@"))
    try:
        client = _client(registry, credentials=_creds(registry))
        client.resolve_image_manifest()
        assert client.read_blob(layer, len(LAYER), "layer") == LAYER
    finally:
        proxy.stop()
    assert f"GET http://{registry.host}/v2/" in proxy.asked
    assert all(line.startswith(f"GET http://{registry.host}/") for line in proxy.asked)


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "example.invalid, 127.0.0.0/8"])
def test_no_proxy_is_honoured(
    registry: FakeRegistry, no_proxy_env: None, monkeypatch: pytest.MonkeyPatch, no_proxy: str
) -> None:
    _image(registry)
    proxy = _Proxy()
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", no_proxy)
    try:
        _client(registry, credentials=_creds(registry)).resolve_image_manifest()
    finally:
        proxy.stop()
    assert proxy.asked == []


def test_https_goes_through_a_connect_tunnel(
    tls_server: tuple[str, Path, Path],
    trusted: Callable[[Path], None],
    name_resolves: None,
    no_proxy_env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, ca, _ = tls_server
    trusted(ca)
    port = url.split("/")[2].rsplit(":", 1)[1]
    proxy = _Proxy(password="pw")
    monkeypatch.setenv("https_proxy", proxy.url.replace("http://", "http://proxy-user:pw@"))
    try:
        client = RegistryClient(parse_registry_ref(f"registry:{TEST_NAME}:{port}/app:1"), use_docker_config=False)
        client.ping()  # TLS verified end to end through the tunnel, for the registry's name
    finally:
        proxy.stop()
    assert proxy.asked == [f"CONNECT {TEST_NAME}:{port}"]


def test_a_pull_reuses_its_connections(registry: FakeRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    layer = _image(registry)
    opened: list[object] = []
    real = _http.Transport._connect

    def counting(self: _http.Transport, *args: Any) -> Any:
        opened.append(args)
        return real(self, *args)

    monkeypatch.setattr(_http.Transport, "_connect", counting)
    client = _client(registry, credentials=_creds(registry))
    client.resolve_image_manifest()
    for _ in range(3):
        assert client.read_blob(layer, len(LAYER), "layer") == LAYER
    assert len(opened) == 1  # ping, manifest, three blobs: one connection
