"""A local PEP 691 index (http.server in a thread) with releases whose wheels are known.

The files mirror what real projects publish, under invented names so no test
depends on today's releases:

* ``fastlib 1.0``  — CPython 3.11 manylinux x86_64 wheel + sdist (builds from source elsewhere)
* ``binonly 2.0``  — CPython 3.11 manylinux x86_64 wheel only (cannot install elsewhere)
* ``purelib 1.0``  — one ``py3-none-any`` wheel (installs everywhere)
* ``bothlib 1.0``  — manylinux x86_64 + aarch64 and musllinux x86_64 + aarch64 wheels
* ``srconly 1.0``  — an sdist only (builds from source everywhere: no platform drift)
* ``newpy 1.0``    — abi3 manylinux wheel and sdist, both ``Requires-Python >=3.12``
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

JSON = "application/vnd.pypi.simple.v1+json"

FILES: dict[str, list[dict[str, Any]]] = {
    "fastlib": [
        {"filename": "fastlib-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"},
        {"filename": "fastlib-1.0.tar.gz"},
    ],
    "binonly": [{"filename": "binonly-2.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"}],
    "purelib": [{"filename": "purelib-1.0-py3-none-any.whl"}],
    "bothlib": [
        {"filename": "bothlib-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"},
        {"filename": "bothlib-1.0-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"},
        {"filename": "bothlib-1.0-cp311-cp311-musllinux_1_1_x86_64.whl"},
        {"filename": "bothlib-1.0-cp311-cp311-musllinux_1_1_aarch64.whl"},
        {"filename": "bothlib-1.0.tar.gz"},
    ],
    "srconly": [{"filename": "srconly-1.0.tar.gz"}],
    "newpy": [
        {
            "filename": "newpy-1.0-cp312-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "requires-python": ">=3.12",
        },
        {"filename": "newpy-1.0.tar.gz", "requires-python": ">=3.12"},
    ],
}
LOCKED = {"fastlib": "1.0", "binonly": "2.0", "purelib": "1.0", "bothlib": "1.0", "srconly": "1.0"}


@dataclass
class FakeIndex:
    url: str
    hits: list[str] = field(default_factory=list)


def _handler(index: FakeIndex) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            index.hits.append(self.path)
            name = self.path.strip("/").split("/")[-1]
            files = FILES.get(name)
            if files is None:
                self.send_response(404)
                self.end_headers()
                return
            page = {
                "meta": {"api-version": "1.0"},
                "name": name,
                "files": [{"url": f"../../files/{f['filename']}", "hashes": {}, **f} for f in files],
            }
            body = json.dumps(page).encode()
            self.send_response(200)
            self.send_header("Content-Type", JSON)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextlib.contextmanager
def serve() -> Iterator[FakeIndex]:
    index = FakeIndex("")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(index))
    index.url = f"http://127.0.0.1:{server.server_address[1]}/simple/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield index
    finally:
        server.shutdown()
        server.server_close()
