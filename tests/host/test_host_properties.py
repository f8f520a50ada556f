"""Whatever bytes a package.json, METADATA or os-release holds, the readers never raise."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from hypothesis import given
from hypothesis import strategies as st

from envcheck.scanners.host import parse_os_release, python_from_probe
from envcheck.scanners.node_modules import parse_package_json


def _probe() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "envcheck" / "scanners" / "_host_probe.py"
    spec = importlib.util.spec_from_file_location("envcheck_host_probe_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PROBE = _probe()


@given(st.binary(max_size=2000))
def test_package_json_bytes_never_raise(data: bytes) -> None:
    name, version = parse_package_json(data)
    assert name is None or isinstance(name, str)
    assert version is None or isinstance(version, str)


@given(st.text(max_size=2000))
def test_os_release_text_never_raises(text: str) -> None:
    result = parse_os_release(text)
    assert result is None or isinstance(result, str)


@given(st.binary(max_size=4000))
def test_metadata_headers_never_raise(data: bytes) -> None:
    name, _version = PROBE._parse_headers(data)
    assert name is None or isinstance(name, str)


def test_metadata_headers_stop_at_body() -> None:
    head = b"Metadata-Version: 2.1\nName: Foo.Bar\nVersion: 1.0-rc1\n\nName: not-this\n"
    assert PROBE._parse_headers(head) == ("Foo.Bar", "1.0-rc1")
    assert PROBE._canon("Foo._.Bar") == "foo-bar"


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=10), c, max_size=4),
        max_leaves=30,
    )
)
def test_probe_json_of_any_shape_never_raises(doc: object) -> None:
    if isinstance(doc, dict):
        python_from_probe(doc)
        python_from_probe({"distributions": [doc], "version": "3.11.7"})


def test_probe_versions_are_normalised_like_pip() -> None:
    runtime, pkgs, _notes, _libc = python_from_probe(
        {
            "version": "3.11.7",
            "distributions": [{"name": "Foo_Bar", "version": "1.0-RC1", "path": "/x", "active": True}],
        }
    )
    assert runtime.version == "3.11.7"
    assert [(p.name, p.version) for p in pkgs] == [("foo-bar", "1.0rc1")]
