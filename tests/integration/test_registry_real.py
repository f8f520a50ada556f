"""The registry: source against Debian's real distribution registry, fed by ``docker push``.

The snapshot read from the registry must equal the one read from the same
image's ``docker save`` archive; wrong passwords, missing tags, tampered
blobs and dropped connections must each be one clear line with exit 2.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from envcheck.cli import main
from envcheck.scanners.image import scan_image
from envcheck.snapshot import Snapshot
from tests import registry_bed as bed

pytestmark = pytest.mark.registry


@pytest.fixture(scope="module")
def basic_registry(
    tmp_path_factory: pytest.TempPathFactory, docker_engine: Any, python_venv_image: Any
) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("registry-basic")
    with bed.start_registry(root, bed.htpasswd_auth(root)) as reg:
        bed.push(docker_engine.client, python_venv_image.tag, reg, "envcheck/python-venv", "1")
        yield reg


@pytest.fixture
def docker_login(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, basic_registry: Any) -> Path:
    config = bed.docker_config(tmp_path / "docker-config", basic_registry.host)
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    return config


def _essentials(snap: Snapshot) -> dict[str, Any]:
    return {
        "runtimes": {k: v.to_dict() for k, v in snap.runtimes.items()},
        "packages": {eco: sorted(p.to_dict().items() for p in pkgs) for eco, pkgs in snap.packages.items()},
        "env": {k: v.to_dict() for k, v in snap.env.items()},
        "platform": snap.platform.to_dict() if snap.platform else None,
        "config_digest": (snap.image or {}).get("digest"),
    }


def test_registry_snapshot_equals_archive_snapshot(
    basic_registry: Any, docker_login: Path, python_venv_image: Any
) -> None:
    from_registry = scan_image(f"registry:{basic_registry.host}/envcheck/python-venv:1")
    from_archive = scan_image(f"docker-archive:{python_venv_image.refs.docker_archive}")
    assert _essentials(from_registry) == _essentials(from_archive)
    assert from_registry.runtime("python") is not None
    assert {p.name for p in from_registry.active_packages("python")} >= {"requests", "urllib3"}


def test_registry_ref_by_digest(basic_registry: Any, docker_login: Path) -> None:
    from envcheck.distribution import RegistryClient, parse_registry_ref

    client = RegistryClient(parse_registry_ref(f"registry:{basic_registry.host}/envcheck/python-venv:1"))
    digest = client.head_digest()
    assert digest is not None and digest.startswith("sha256:")
    by_digest = scan_image(f"registry:{basic_registry.host}/envcheck/python-venv@{digest}")
    assert by_digest.active_packages("python")


def _one_line_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(args) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert captured.out == ""
    assert err and "\n" not in err and "Traceback" not in err
    return err


def test_wrong_password(
    basic_registry: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(
        "DOCKER_CONFIG", str(bed.docker_config(tmp_path / "cfg", basic_registry.host, "wrong-password-123"))
    )
    err = _one_line_exit_2(["snapshot", "image", f"registry:{basic_registry.host}/envcheck/python-venv:1"], capsys)
    assert "wrong username or password" in err
    assert "wrong-password-123" not in err


def test_missing_tag(basic_registry: Any, docker_login: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _one_line_exit_2(
        ["snapshot", "image", f"registry:{basic_registry.host}/envcheck/python-venv:no-such-tag"], capsys
    )
    assert "envcheck/python-venv:no-such-tag not found" in err


def test_tampered_blob(
    tmp_path_factory: pytest.TempPathFactory,
    docker_engine: Any,
    python_venv_image: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from envcheck.distribution import RegistryClient, parse_registry_ref

    # Blobs are shared by content across repositories: tamper in a registry of its own.
    root = tmp_path_factory.mktemp("registry-tamper")
    with bed.start_registry(root, bed.htpasswd_auth(root)) as reg:
        bed.push(docker_engine.client, python_venv_image.tag, reg, "envcheck/tamper", "1")
        monkeypatch.setenv("DOCKER_CONFIG", str(bed.docker_config(root / "cfg", reg.host)))
        client = RegistryClient(parse_registry_ref(f"registry:{reg.host}/envcheck/tamper:1"))
        _, manifest = client.resolve_image_manifest()
        layer = max(manifest["layers"], key=lambda d: d["size"])["digest"]
        blob = reg.blob_file(layer)
        data = bytearray(blob.read_bytes())
        data[len(data) // 2] ^= 0xFF  # same size, different content: only a digest check can tell
        blob.write_bytes(bytes(data))
        err = _one_line_exit_2(["snapshot", "image", f"registry:{reg.host}/envcheck/tamper:1"], capsys)
        assert layer[:19] in err and "does not match its digest" in err


def test_connection_dropped_mid_blob(
    basic_registry: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    proxy = bed.DroppingProxy(basic_registry.host, limit=256 * 1024)
    try:
        monkeypatch.setenv("DOCKER_CONFIG", str(bed.docker_config(tmp_path / "cfg", proxy.host)))
        err = _one_line_exit_2(["snapshot", "image", f"registry:{proxy.host}/envcheck/python-venv:1"], capsys)
        assert "registry" in err or "layer" in err
    finally:
        proxy.close()


def test_bearer_token_flow_against_real_registry(
    tmp_path_factory: pytest.TempPathFactory,
    docker_engine: Any,
    python_venv_image: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path_factory.mktemp("registry-token")
    tokens = bed.TokenServer(root, service="envcheck-test-registry", issuer="envcheck-test-issuer").start()
    try:
        with bed.start_registry(root, bed.token_auth(tokens)) as reg:
            bed.push(docker_engine.client, python_venv_image.tag, reg, "envcheck/token", "1")
            monkeypatch.setenv("DOCKER_CONFIG", str(bed.docker_config(root / "cfg", reg.host)))
            before = len(tokens.issued)
            snap = scan_image(f"registry:{reg.host}/envcheck/token:1")
            assert snap.active_packages("python")
            # envcheck asked the token endpoint for a pull scope on this repository.
            assert any("repository:envcheck/token:pull" in s for s in tokens.issued[before:])
    finally:
        tokens.stop()


def test_snapshot_json_has_no_credentials(
    basic_registry: Any, docker_login: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["snapshot", "image", f"registry:{basic_registry.host}/envcheck/python-venv:1"]) == 0
    out = capsys.readouterr().out
    assert bed.PASSWORD not in out
    json.loads(out)
    assert os.environ["DOCKER_CONFIG"] == str(docker_login)
