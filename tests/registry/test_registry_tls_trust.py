"""Registry TLS: the system CA bundle is trusted, loaded once per session, and an unknown CA still fails.

A real TLS server on loopback (the standard library's, with a certificate
from a CA made here) stands in for a registry; the client is the
``requests`` session envcheck's registry client uses.
"""

from __future__ import annotations

import datetime as dt
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Address
from pathlib import Path

import pytest
import requests

from envcheck import distribution


def _ca_and_leaf(tmp: Path, name: str) -> tuple[Path, Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = tmp / f"{name}-ca.pem", tmp / f"{name}-leaf.pem", tmp / f"{name}-leaf.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca_file, cert_file, key_file


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")  # every request on a new connection
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    ca, cert, key = _ca_and_leaf(tmp_path, "server")
    other_ca, _, _ = _ca_and_leaf(tmp_path, "other")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/v2/", ca, other_ca
    finally:
        server.shutdown()
        server.server_close()


def _session(bundle: Path, monkeypatch: pytest.MonkeyPatch) -> requests.Session:
    monkeypatch.setattr(distribution, "SYSTEM_CA_BUNDLE", str(bundle))
    session = requests.Session()
    distribution._trust_system_bundle(session)
    return session


def test_the_system_bundle_is_trusted_and_read_once_for_many_connections(
    tls_server: tuple[str, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ca, _ = tls_server
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    loads: list[object] = []
    real = ssl.SSLContext.load_verify_locations

    def counting(self: ssl.SSLContext, *args: object, **kwargs: object) -> None:
        loads.append(args or kwargs)
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting)
    session = _session(ca, monkeypatch)
    for _ in range(4):
        assert session.get(url, timeout=10).json() == {"ok": True}
    assert len(loads) == 1  # the CA file, once: not once per connection


def test_a_server_from_another_ca_is_refused(
    tls_server: tuple[str, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _, other_ca = tls_server
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with pytest.raises(requests.exceptions.SSLError):
        _session(other_ca, monkeypatch).get(url, timeout=10)


def test_requests_ca_bundle_still_replaces_the_system_bundle(
    tls_server: tuple[str, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ca, other_ca = tls_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca))
    assert _session(other_ca, monkeypatch).get(url, timeout=10).json() == {"ok": True}
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other_ca))
    with pytest.raises(requests.exceptions.SSLError):
        _session(ca, monkeypatch).get(url, timeout=10)
