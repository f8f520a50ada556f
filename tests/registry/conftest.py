"""Fixtures shared by the registry client tests: an HTTPS stand-in, a trusted CA, a name that is not loopback."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from envcheck import _http
from tests.registry.tls_bed import TEST_NAME, TlsServer, ca_and_leaf


@pytest.fixture(params=["close"])
def tls_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    ca, cert, key = ca_and_leaf(tmp_path, "server")
    other_ca, _, _ = ca_and_leaf(tmp_path, "other")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = TlsServer(context, request.param)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/v2/", ca, other_ca
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def trusted(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], None]:
    """Make ``bundle`` the system CA bundle (and nothing from the environment replace it)."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)

    def trust(bundle: Path) -> None:
        monkeypatch.setattr(_http, "SYSTEM_CA_BUNDLE", str(bundle))

    return trust


@pytest.fixture
def name_resolves(monkeypatch: pytest.MonkeyPatch) -> None:
    """``registry.test`` (a name, not a loopback address) reaches this machine's loopback."""
    real = socket.create_connection

    def connect(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        host, port = address
        return real(("127.0.0.1" if host == TEST_NAME else host, port), *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", connect)
