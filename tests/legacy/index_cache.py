"""A caching mirror of the configured package index, for image builds on the test bed.

Generated Dockerfiles declare ``ARG PIP_INDEX_URL`` so a team behind a mirror
can build them; the legacy run uses exactly that: it serves the configured
index through 127.0.0.1 (``--network host`` builds reach it) and keeps every
distribution file it passes under ``~/.cache/envcheck-test/index-cache``.  A
second build of the same pins downloads nothing, and the Dockerfile is built
as it was generated (only a build argument it declares is set).

Index pages are fetched afresh once per process (they change); files are
cached forever (an index never changes a file's content under its name, and
the page's ``#sha256=`` fragments are passed through for pip to check).
"""

from __future__ import annotations

import contextlib
import http.server
import os
import re
import shutil
import ssl
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

import testbed

CACHE = testbed.CACHE_DIR / "index-cache"
_HREF = re.compile(r'href="([^"]+)"')


def _context() -> ssl.SSLContext:
    cafile = os.environ.get("PIP_CERT") or (str(testbed.CA_BUNDLE) if testbed.CA_BUNDLE.exists() else None)
    return ssl.create_default_context(cafile=cafile)


class _Handler(http.server.BaseHTTPRequestHandler):
    upstream: str = ""
    pages: dict[str, bytes]
    lock: threading.Lock
    stats: dict[str, int]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _fetch(self, url: str) -> bytes:
        req = urllib.request.Request(url, headers={"Accept": "text/html", "User-Agent": "envcheck-test-index-cache"})
        with urllib.request.urlopen(req, timeout=120, context=_context()) as resp:
            data: bytes = resp.read()
            return data

    def do_GET(self) -> None:
        try:
            if self.path.startswith("/simple/"):
                self._page(self.path[len("/simple/") :])
            elif self.path.startswith("/files/"):
                self._file(self.path[len("/files/") :])
            else:
                self._send(404, b"not found", "text/plain")
        except urllib.error.HTTPError as err:
            self._send(err.code, str(err).encode(), "text/plain")
        except (OSError, ValueError) as err:
            self._send(502, str(err).encode(), "text/plain")

    def _page(self, rest: str) -> None:
        key = rest.split("?", 1)[0]
        with self.lock:
            cached = self.pages.get(key)
        if cached is None:
            page_url = urljoin(self.upstream, key)
            html = self._fetch(page_url).decode("utf-8", errors="replace")
            host = f"http://{self.headers.get('Host', '127.0.0.1')}"

            def rewrite(m: re.Match[str]) -> str:
                absolute = urljoin(page_url, m.group(1).replace("&amp;", "&"))
                url, _, frag = absolute.partition("#")
                parts = urlsplit(url)
                if parts.scheme not in ("http", "https"):
                    return m.group(0)
                local = f"{host}/files/{parts.scheme}/{parts.netloc}{quote(parts.path)}"
                return f'href="{local}{"#" + frag if frag else ""}"'

            cached = _HREF.sub(rewrite, html).encode()
            with self.lock:
                self.pages[key] = cached
        self._send(200, cached, "text/html")

    def _file(self, rest: str) -> None:
        scheme, _, rest = rest.partition("/")
        netloc, _, path = rest.partition("/")
        if scheme not in ("http", "https") or ".." in path.split("/"):
            self._send(400, b"bad path", "text/plain")
            return
        dest = CACHE / "files" / netloc / unquote(path)
        if dest.exists():
            self.stats["hit"] += 1
        else:
            self.stats["miss"] += 1
            dest.parent.mkdir(parents=True, exist_ok=True)
            data = self._fetch(f"{scheme}://{netloc}/{path}")
            fd, tmp = tempfile.mkstemp(dir=dest.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, dest)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(dest.stat().st_size))
        self.end_headers()
        with dest.open("rb") as fh:
            shutil.copyfileobj(fh, self.wfile)

    def _send(self, code: int, body: bytes, ctype: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def serving(upstream: str) -> Iterator[tuple[str, dict[str, int]]]:
    """Serve a caching mirror of ``upstream`` (a simple-index URL); yields (index URL, hit/miss counts)."""
    stats = {"hit": 0, "miss": 0}
    handler = type(
        "IndexCacheHandler",
        (_Handler,),
        {"upstream": upstream.rstrip("/") + "/", "pages": {}, "lock": threading.Lock(), "stats": stats},
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/", stats
    finally:
        server.shutdown()
        server.server_close()
