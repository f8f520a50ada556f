"""HTTP(S) for the registry client, on the standard library's ``http.client``.

The distribution API needs little of an HTTP library: GET/HEAD/POST, a few
headers, redirects (blob storage), proxies from the environment, TLS with the
system's CA bundle, and kept-alive connections for the several requests of a
pull.  ``requests`` brings all that but costs ~0.1 s to import (urllib3,
charset detection, logging, cookie jars) and a few Python layers per 64 KiB
chunk of a layer; a ``registry:`` scan is a one-shot CLI run where both
show (issue 15).  ``http.client`` reads a body straight off the socket.

What is kept from ``requests``' behaviour, because users rely on it:

* TLS verified against the system bundle (``SYSTEM_CA_BUNDLE``), loaded once
  per transport however many connections it opens; ``REQUESTS_CA_BUNDLE`` /
  ``CURL_CA_BUNDLE`` (a file or a directory) replace it; without a system
  bundle, certifi's when installed, else OpenSSL's default paths.
* ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``/``NO_PROXY`` (any case), as
  ``urllib.request.getproxies`` reads them; HTTPS goes through a CONNECT
  tunnel, credentials in the proxy URL become ``Proxy-Authorization``.
* Redirects followed (at most ``MAX_REDIRECTS``); ``Authorization`` is dropped
  when one leaves the origin (a registry sending a blob to storage signs the
  URL itself), as ``requests`` does.
"""

from __future__ import annotations

import base64
import http.client
import os
import ssl
import threading
from collections.abc import Iterator, Mapping
from urllib.parse import SplitResult, unquote, urljoin, urlsplit

SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
MAX_REDIRECTS = 10
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORT = {"http": 80, "https": 443}
# A reply body this small is read to its end so its connection can be reused.
_DRAIN_LIMIT = 64 * 1024


class HttpError(Exception):
    """A request that got no HTTP answer; ``str()`` is the underlying reason."""


class TlsError(HttpError):
    """The TLS handshake failed: an unverifiable certificate, or no TLS at all on the other end."""


class ConnectError(HttpError):
    """No connection, or the connection was lost before an answer."""


Key = tuple[str, str, int]


class Response:
    """One answer: ``status``, ``headers`` (case-insensitive), the body read in pieces."""

    def __init__(self, raw: http.client.HTTPResponse, conn: http.client.HTTPConnection, key: Key, owner: Transport):
        self.status = raw.status
        self.headers = raw.msg
        self._raw = raw
        self._conn: http.client.HTTPConnection | None = conn
        self._key = key
        self._owner = owner

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes of the body (all of it for -1); b"" at its end. Raises on a cut-off body."""
        return self._raw.read(None if n < 0 else n)

    def iter_content(self, chunk_size: int) -> Iterator[bytes]:
        while chunk := self._raw.read(chunk_size):
            yield chunk

    def close(self) -> None:
        """Give the connection back for the next request when the body was read (or is small), else close it."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        raw = self._raw
        try:
            if not raw.isclosed() and not raw.will_close and raw.length is not None and raw.length <= _DRAIN_LIMIT:
                raw.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            return
        if raw.isclosed() and not raw.will_close:
            self._owner._give_back(self._key, conn)
        else:
            raw.close()
            conn.close()


class Transport:
    """Kept-alive connections per origin, shared by the threads of one pull."""

    def __init__(self, *, timeout: float, user_agent: str = "envcheck") -> None:
        self._timeout = timeout
        self._user_agent = user_agent
        self._idle: dict[Key, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._context: ssl.SSLContext | None = None

    # -- connections ----------------------------------------------------------

    def tls_context(self) -> ssl.SSLContext:
        """The one verifying context of this transport: the CA bundle is read once, not per connection."""
        with self._lock:
            if self._context is None:
                self._context = _verifying_context()
            return self._context

    def _take(self, key: Key) -> http.client.HTTPConnection | None:
        with self._lock:
            idle = self._idle.get(key)
            return idle.pop() if idle else None

    def _give_back(self, key: Key, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            self._idle.setdefault(key, []).append(conn)

    def _connect(self, key: Key, proxy: SplitResult | None) -> http.client.HTTPConnection:
        scheme, host, port = key
        if scheme == "https":
            if proxy is None:
                return http.client.HTTPSConnection(host, port, timeout=self._timeout, context=self.tls_context())
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                proxy.hostname or "", proxy.port or 80, timeout=self._timeout, context=self.tls_context()
            )
            conn.set_tunnel(host, port, headers=_proxy_auth(proxy))
            return conn
        if proxy is None:
            return http.client.HTTPConnection(host, port, timeout=self._timeout)
        return http.client.HTTPConnection(proxy.hostname or "", proxy.port or 80, timeout=self._timeout)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()

    # -- requests -------------------------------------------------------------

    def request(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None, body: bytes | None = None
    ) -> Response:
        """Send one request, following redirects; the caller closes the response."""
        hdrs = dict(headers or {})
        for _ in range(MAX_REDIRECTS + 1):
            resp = self._once(method, url, hdrs, body)
            location = resp.headers.get("Location")
            if resp.status not in _REDIRECTS or not location:
                return resp
            resp.close()
            target = urljoin(url, location)
            if not _same_origin(url, target):
                hdrs = {k: v for k, v in hdrs.items() if k.lower() != "authorization"}
            if resp.status == 303 or (resp.status in (301, 302) and method == "POST"):
                method, body = "GET", None
                hdrs = {k: v for k, v in hdrs.items() if k.lower() != "content-type"}
            url = target
        raise HttpError(f"more than {MAX_REDIRECTS} redirects")

    def _once(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Response:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORT or not parts.hostname:
            raise HttpError(f"unsupported URL {url!r}")
        try:
            port = parts.port or _DEFAULT_PORT[scheme]
        except ValueError:
            raise HttpError(f"invalid port in {url!r}") from None
        key: Key = (scheme, parts.hostname, port)
        proxy = _proxy_for(scheme, parts)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        hdrs = {"User-Agent": self._user_agent, **headers}
        if proxy is not None and scheme == "http":
            target = url  # a plain-HTTP proxy takes the absolute URL
            hdrs.update(_proxy_auth(proxy))
        while True:
            conn = self._take(key)
            reused = conn is not None
            if conn is None:
                conn = self._connect(key, proxy)
            try:
                conn.request(method, target, body=body, headers=hdrs)
                raw = conn.getresponse()
            except ssl.SSLError as exc:  # before OSError: SSLError is one
                conn.close()
                raise TlsError(_reason(exc)) from None
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                if reused:
                    continue  # a kept-alive connection the server had closed meanwhile: a fresh one
                raise ConnectError(_reason(exc)) from None
            return Response(raw, conn, key, self)


def _verifying_context() -> ssl.SSLContext:
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        if os.path.isdir(bundle):
            return ssl.create_default_context(capath=bundle)
        return ssl.create_default_context(cafile=bundle)
    if os.path.exists(SYSTEM_CA_BUNDLE):
        return ssl.create_default_context(cafile=SYSTEM_CA_BUNDLE)
    try:
        import certifi
    except ImportError:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


def _proxy_for(scheme: str, parts: SplitResult) -> SplitResult | None:
    # Most runs have no proxy variable at all: urllib.request (and the email
    # and mimetypes modules behind it) is imported only when one is set.
    if not any(name.lower().endswith("_proxy") for name in os.environ):
        return None
    import urllib.request

    host = parts.netloc.rpartition("@")[2]
    if urllib.request.proxy_bypass(host) or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    if _in_no_proxy_network(parts.hostname or ""):
        return None
    proxies = urllib.request.getproxies()
    url = proxies.get(scheme) or proxies.get("all")
    if not url:
        return None
    if "://" not in url:
        url = f"http://{url}"
    proxy = urlsplit(url)
    return proxy if proxy.hostname else None


def _in_no_proxy_network(host: str) -> bool:
    """``NO_PROXY=10.0.0.0/8``: an address inside a listed network bypasses the proxy, as in requests."""
    import ipaddress

    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    listed = os.environ.get("no_proxy") or os.environ.get("NO_PROXY") or ""
    for entry in listed.replace(" ", "").split(","):
        if "/" not in entry:
            continue
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def _proxy_auth(proxy: SplitResult) -> dict[str, str]:
    if proxy.username is None:
        return {}
    token = base64.b64encode(f"{unquote(proxy.username)}:{unquote(proxy.password or '')}".encode()).decode()
    return {"Proxy-Authorization": f"Basic {token}"}


def _same_origin(old: str, new: str) -> bool:
    a, b = urlsplit(old), urlsplit(new)
    if a.hostname != b.hostname:
        return False
    if a.scheme == b.scheme:
        return (a.port or _DEFAULT_PORT.get(a.scheme)) == (b.port or _DEFAULT_PORT.get(b.scheme))
    # http -> https on the default ports is an upgrade, as requests counts it; a downgrade is not.
    return a.scheme == "http" and b.scheme == "https" and a.port in (None, 80) and b.port in (None, 443)


def _reason(exc: BaseException) -> str:
    return str(exc).strip() or type(exc).__name__
