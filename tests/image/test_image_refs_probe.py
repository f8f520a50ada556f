"""Reference parsing, the probe's sandbox, and errors without an engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from envcheck.errors import EngineError, ImageError
from envcheck.scanners.image import scan_image
from envcheck.scanners.image.probe import sandbox_options
from envcheck.scanners.image.refs import ImageRef, parse_ref


def test_transports(tmp_path: Path) -> None:
    assert parse_ref("docker-archive:/x/a.tar") == ImageRef("docker-archive", "/x/a.tar")
    assert parse_ref("oci-archive:a.tar") == ImageRef("oci-archive", "a.tar")
    assert parse_ref("oci-dir:/l") == ImageRef("oci", "/l")
    assert parse_ref("oci:/l") == ImageRef("oci", "/l")
    assert parse_ref("dir:/r") == ImageRef("dir", "/r")
    assert parse_ref("docker:python:3.11-slim") == ImageRef("docker", "python:3.11-slim")
    assert parse_ref("registry:localhost:5000/app@sha256:" + "a" * 64).transport == "registry"


def test_bare_paths_and_names_are_detected(tmp_path: Path) -> None:
    (tmp_path / "layout").mkdir()
    (tmp_path / "layout" / "oci-layout").write_text("{}")
    (tmp_path / "rootfs").mkdir()
    (tmp_path / "a.tar").write_bytes(b"")
    assert parse_ref(str(tmp_path / "layout")).transport == "oci"
    assert parse_ref(str(tmp_path / "rootfs")).transport == "dir"
    assert parse_ref(str(tmp_path / "a.tar")).transport == "docker-archive"
    assert parse_ref("python:3.11.7-slim-bookworm") == ImageRef("docker", "python:3.11.7-slim-bookworm")
    assert parse_ref("ghcr.io/org/app@sha256:" + "0" * 64).transport == "docker"


@pytest.mark.parametrize("bad", ["", "   ", "Not A Name!", "docker:UPPER/case", "dir:"])
def test_bad_references(bad: str) -> None:
    with pytest.raises(ImageError):
        parse_ref(bad)


def test_no_engine_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    host = f"unix://{tmp_path}/no-such.sock"
    monkeypatch.setenv("DOCKER_HOST", host)
    with pytest.raises(EngineError) as err:
        scan_image("docker:python:3.11")
    assert str(err.value).startswith(f"cannot reach the Docker engine at {host}: ")
    assert "\n" not in str(err.value)


def test_probe_without_engine_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from image_testutil import docker_archive, layer_tar

    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    path = tmp_path / "a.tar"
    path.write_bytes(docker_archive([layer_tar({"etc/x": b"y"})], {"os": "linux", "config": {}}))
    assert scan_image(f"docker-archive:{path}").kind == "image"  # static needs no engine
    with pytest.raises(EngineError, match="cannot reach the Docker engine"):
        scan_image(f"docker-archive:{path}", probe=True)


def test_probe_sandbox_is_locked_down() -> None:
    opts = sandbox_options()
    assert opts["network_mode"] == "none"
    assert opts["read_only"] is True
    assert opts["cap_drop"] == ["ALL"]
    assert "no-new-privileges" in opts["security_opt"]
    assert opts["user"] == "65534:65534"
    assert opts["volumes"] == {} and opts["environment"] == {}
    assert opts["pids_limit"] and opts["mem_limit"]
