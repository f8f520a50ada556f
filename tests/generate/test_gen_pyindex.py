"""The package index client against a real local PEP 691 server, offline, and pip's config."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from envcheck.pyindex import (
    JSON_ACCEPT,
    IndexClient,
    IndexConfig,
    ProjectPage,
    Target,
    Unchecked,
    index_config,
    installable,
    parse_page,
    read_pip_config,
)

PAGES: dict[str, dict[str, Any]] = {
    "cffi": {
        "meta": {"api-version": "1.0"},
        "name": "cffi",
        "files": [
            {"filename": "cffi-1.11.5.tar.gz", "url": "x", "hashes": {}},
            {"filename": "cffi-1.11.5-cp36-cp36m-manylinux1_x86_64.whl", "url": "x", "hashes": {}},
            {"filename": "cffi-1.15.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "url": "x"},
            {"filename": "cffi-1.15.1-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl", "url": "x"},
            {"filename": "cffi-1.15.1.tar.gz", "url": "x"},
        ],
    },
    "onlywheels": {
        "meta": {"api-version": "1.0"},
        "name": "onlywheels",
        "files": [
            {"filename": "onlywheels-2.0-cp36-cp36m-manylinux1_x86_64.whl", "url": "x"},
            {"filename": "onlywheels-2.0-cp37-cp37m-manylinux1_x86_64.whl", "url": "x"},
        ],
    },
    "modern": {
        "meta": {"api-version": "1.0"},
        "name": "modern",
        "files": [
            {"filename": "modern-3.0-py3-none-any.whl", "url": "x", "requires-python": ">=3.9"},
            {"filename": "modern-3.0.tar.gz", "url": "x", "requires-python": ">=3.9"},
        ],
    },
}


class _Index(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        name = self.path.strip("/").split("/")[-1]
        page = PAGES.get(name)
        if page is None or JSON_ACCEPT not in (self.headers.get("Accept") or ""):
            self.send_response(404)
            self.end_headers()
            return
        body = json.dumps(page).encode()
        self.send_response(200)
        self.send_header("Content-Type", JSON_ACCEPT)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def index() -> Iterator[str]:
    _Index.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Index)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    finally:
        server.shutdown()
        server.server_close()


def test_a_page_is_read_from_the_json_api_and_cached(index: str, tmp_path: Path) -> None:
    client = IndexClient(IndexConfig((index,)), cache=tmp_path)
    page = client.page("CFFI")
    assert isinstance(page, ProjectPage)
    assert {f.filename for f in page.files} >= {"cffi-1.11.5.tar.gz"}
    # A second client (a second run) answers from the disk cache: no new request.
    again = IndexClient(IndexConfig((index,)), cache=tmp_path).page("cffi")
    assert again == page
    assert len(_Index.hits) == 1


def test_an_unreachable_index_gives_could_not_check_never_an_empty_page(tmp_path: Path) -> None:
    client = IndexClient(IndexConfig(("http://127.0.0.1:9/simple/",)), cache=tmp_path, timeout=2)
    page = client.page("cffi")
    assert isinstance(page, Unchecked)
    assert "127.0.0.1:9" in page.reason


def test_offline_uses_a_stale_cache_rather_than_saying_nothing(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Index)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/simple/"
    assert isinstance(IndexClient(IndexConfig((url,)), cache=tmp_path).page("cffi"), ProjectPage)
    server.shutdown()
    server.server_close()
    # Now unreachable, and the cached answer is past its time to live: it still stands.
    got = IndexClient(IndexConfig((url,)), cache=tmp_path, ttl=-1, timeout=2).page("cffi")
    assert isinstance(got, ProjectPage)


def test_a_project_no_index_lists_is_unchecked_not_uninstallable(index: str, tmp_path: Path) -> None:
    got = IndexClient(IndexConfig((index,)), cache=tmp_path).page("private-thing")
    assert isinstance(got, Unchecked)
    assert "no index lists private-thing" in got.reason


def test_installability_follows_wheel_tags_and_requires_python(index: str, tmp_path: Path) -> None:
    client = IndexClient(IndexConfig((index,)), cache=tmp_path)
    cffi = client.page("cffi")
    only = client.page("onlywheels")
    modern = client.page("modern")
    assert isinstance(cffi, ProjectPage) and isinstance(only, ProjectPage) and isinstance(modern, ProjectPage)
    # cffi 1.11.5 on 3.6: a manylinux1 wheel for amd64, the sdist for arm64.
    v = installable(cffi, "1.11.5", Target("3.6.15"))
    assert v.installs and v.wheel_arches == ("x86_64",) and v.builds_from_source == ("aarch64",)
    # On 3.11 only the sdist fits, although binary wheels exist for other interpreters.
    v = installable(cffi, "1.11.5", Target("3.11.7"))
    assert v.installs and v.builds_from_source == ("x86_64", "aarch64") and v.wheels_elsewhere
    # Wheels only, none for 3.11: pip finds nothing.
    assert not installable(only, "2.0", Target("3.11.7")).installs
    assert installable(only, "2.0", Target("3.7.16")).installs
    # Requires-Python excludes 3.8 from every file.
    v = installable(modern, "3.0", Target("3.8.18"))
    assert not v.installs and v.excluded_by_requires_python
    assert installable(modern, "3.0", Target("3.12.1")).installs
    # A version the index does not have at all.
    assert not installable(cffi, "9.9", Target("3.11.7")).installs


def test_manylinux_tags_follow_the_glibc_of_the_debian_release() -> None:
    page = ProjectPage(
        "x", (parse_page("x", b'<a href="x-1.0-cp312-cp312-manylinux_2_34_x86_64.whl">', "text/html").files)
    )
    assert installable(page, "1.0", Target("3.12.1", "bookworm")).installs  # glibc 2.36
    assert not installable(page, "1.0", Target("3.12.1", "bullseye")).installs  # glibc 2.31


def test_html_pages_are_read_too() -> None:
    body = b'<html><a href="../../f/six-1.16.0.tar.gz#sha256=ab" data-requires-python="&gt;=2.7">six</a></html>'
    page = parse_page("six", body, "text/html")
    assert page.files[0].filename == "six-1.16.0.tar.gz"
    assert page.files[0].requires_python == ">=2.7"


def test_pip_config_files_are_read_in_pips_order(tmp_path: Path) -> None:
    low = tmp_path / "etc.conf"
    high = tmp_path / "user.conf"
    low.write_text("[global]\nindex-url = http://low/simple\nextra-index-url = http://extra/simple\n")
    high.write_text("[install]\nindex-url = http://high/simple\n[global]\ncert = /ca.pem\n")
    conf = read_pip_config([low, high, tmp_path / "missing.conf"])
    assert conf["index-url"] == "http://high/simple"
    assert conf["extra-index-url"] == "http://extra/simple"
    assert conf["cert"] == "/ca.pem"


def test_the_projects_own_index_comes_first_and_env_beats_files(tmp_path: Path) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\nindex-url = http://files/simple\n")
    env = {"PIP_INDEX_URL": "https://mirror.example/simple", "PIP_EXTRA_INDEX_URL": "https://b.example/s"}
    got = index_config(["https://private.example/simple/"], env, [conf], default=lambda: None)
    assert got.urls == ("https://private.example/simple/", "https://mirror.example/simple/", "https://b.example/s/")
    # file:// indexes and find-links folders are local to this machine: not asked.
    assert index_config(["file:///opt/x"], {}, [], default=lambda: None).urls == ()
    assert index_config([], {"PIP_NO_INDEX": "1"}, [], default=lambda: None).disabled


def test_credentials_in_an_index_url_are_sent_and_never_shown(index: str, tmp_path: Path) -> None:
    secret_url = index.replace("http://", "http://user:hunter2@")
    client = IndexClient(IndexConfig((secret_url,)), cache=tmp_path)
    assert isinstance(client.page("cffi"), ProjectPage)
    down = IndexClient(IndexConfig(("http://user:hunter2@127.0.0.1:9/simple/",)), cache=tmp_path, timeout=2)
    got = down.page("cffi")
    assert isinstance(got, Unchecked) and "hunter2" not in got.reason
