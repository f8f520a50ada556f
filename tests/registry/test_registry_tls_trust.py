"""Registry TLS: the system CA bundle is trusted, loaded once per client, and an unknown CA still fails.

A real TLS server (the standard library's, with a certificate from a CA made
here) stands in for a registry; the client is envcheck's HTTP transport and
its registry client.  Which scheme a registry is spoken to in: loopback over
plain HTTP first (no TLS attempt), anything else over verified HTTPS with no
fallback unless the user names it insecure.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from envcheck import _http, distribution
from envcheck.errors import ImageError
from tests.registry.fake_registry import FakeRegistry
from tests.registry.tls_bed import TEST_NAME, ca_and_leaf


def _get_json(transport: _http.Transport, url: str) -> Any:
    resp = transport.request("GET", url)
    try:
        return json.loads(resp.read())
    finally:
        resp.close()


def _client(host: str, **kw: Any) -> distribution.RegistryClient:
    kw.setdefault("use_docker_config", False)
    kw.setdefault("backoff", 0.0)
    return distribution.RegistryClient(distribution.parse_registry_ref(f"registry:{host}/app:1"), **kw)


def test_the_system_bundle_is_trusted_and_read_once_for_many_connections(
    tls_server: tuple[str, Path, Path], trusted: Callable[[Path], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ca, _ = tls_server
    loads: list[object] = []
    real = ssl.SSLContext.load_verify_locations

    def counting(self: ssl.SSLContext, *args: object, **kwargs: object) -> None:
        loads.append(args or kwargs)
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting)
    trusted(ca)
    transport = _http.Transport(timeout=10)
    for _ in range(4):  # the server closes each connection: four handshakes
        assert _get_json(transport, url) == {"ok": True}
    assert len(loads) == 1  # the CA file, once: not once per connection


def test_a_server_from_another_ca_is_refused(
    tls_server: tuple[str, Path, Path], trusted: Callable[[Path], None]
) -> None:
    url, _, other_ca = tls_server
    trusted(other_ca)
    with pytest.raises(_http.TlsError):
        _http.Transport(timeout=10).request("GET", url)


def test_requests_ca_bundle_still_replaces_the_system_bundle(
    tls_server: tuple[str, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ca, other_ca = tls_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca))
    monkeypatch.setattr(_http, "SYSTEM_CA_BUNDLE", str(other_ca))
    assert _get_json(_http.Transport(timeout=10), url) == {"ok": True}
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other_ca))
    monkeypatch.setattr(_http, "SYSTEM_CA_BUNDLE", str(ca))
    with pytest.raises(_http.TlsError):
        _http.Transport(timeout=10).request("GET", url)


def test_a_loopback_registry_is_spoken_to_over_http_without_a_tls_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_tls(self: _http.Transport) -> ssl.SSLContext:
        raise AssertionError("a TLS connection was attempted")

    monkeypatch.setattr(_http.Transport, "tls_context", no_tls)
    reg = FakeRegistry().start()
    try:
        _client(reg.host).ping()
        _client(reg.host.replace("127.0.0.1", "localhost")).ping()
    finally:
        reg.stop()
    assert reg.requests == ["/v2/", "/v2/"]


@pytest.mark.parametrize("tls_server", ["close", "400"], indirect=True)
def test_a_loopback_registry_that_speaks_only_tls_is_still_reached_over_https(
    tls_server: tuple[str, Path, Path], trusted: Callable[[Path], None]
) -> None:
    url, ca, _ = tls_server
    trusted(ca)
    host = url.split("/")[2]
    client = _client(host)
    client.ping()  # plain HTTP first; the port's TLS-only answer turns the client to HTTPS
    assert client.head_digest() is None  # and it stays there: the stand-in sends no digest header


def test_a_named_registry_is_spoken_to_over_verified_https(
    tls_server: tuple[str, Path, Path], trusted: Callable[[Path], None], name_resolves: None
) -> None:
    url, ca, _ = tls_server
    trusted(ca)
    port = url.split("/")[2].rsplit(":", 1)[1]
    _client(f"{TEST_NAME}:{port}").ping()


def test_a_named_registry_never_falls_back_to_plain_http_unless_named_insecure(
    trusted: Callable[[Path], None], tmp_path: Path, name_resolves: None
) -> None:
    ca, _, _ = ca_and_leaf(tmp_path, "server")
    trusted(ca)
    reg = FakeRegistry().start()  # plain HTTP only
    try:
        host = f"{TEST_NAME}:{reg.host.rsplit(':', 1)[1]}"
        with pytest.raises(ImageError, match="TLS verification failed"):
            _client(host, retries=0).ping()
        assert reg.requests == []  # nothing was asked over plain HTTP
        _client(host, insecure_registries=(host,)).ping()  # --insecure-registry: HTTPS failed, then HTTP
        assert reg.requests == ["/v2/"]
    finally:
        reg.stop()
