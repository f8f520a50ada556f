"""A TLS server on loopback with a certificate from a CA made here, standing in for an HTTPS registry."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

TEST_NAME = "registry.test"  # RFC 6761: never a real host; tests map it to loopback


def ca_and_leaf(tmp: Path, name: str) -> tuple[Path, Path, Path]:
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
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1")), x509.DNSName(TEST_NAME)]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = tmp / f"{name}-ca.pem", tmp / f"{name}-leaf.pem", tmp / f"{name}-leaf.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca_file, cert_file, key_file


class Handler(BaseHTTPRequestHandler):
    """Any GET: 200 with a small JSON body, and the connection closed."""

    def do_GET(self) -> None:
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")  # every request on a new connection
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class TlsServer(ThreadingHTTPServer):
    """HTTPS on one port; what a plain-HTTP request gets depends on ``plain``.

    ``"400"`` answers it as Go's TLS servers (the distribution registry among
    them) do; ``"close"`` drops the connection after the failed handshake, as
    the standard library's does.
    """

    def __init__(self, context: ssl.SSLContext, plain: str) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.context, self.plain, self.plain_seen = context, plain, 0

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = self.socket.accept()
        if sock.recv(1, socket.MSG_PEEK) != b"\x16":  # not a TLS handshake record
            self.plain_seen += 1
            if self.plain == "400":
                sock.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
            sock.close()
            raise OSError("plain HTTP on the TLS port")
        return self.context.wrap_socket(sock, server_side=True), addr
