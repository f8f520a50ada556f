"""The distribution client against a loopback registry: auth, negotiation, digests, faults."""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from envcheck.distribution import (
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    Credentials,
    RegistryClient,
    load_credentials,
    parse_registry_ref,
)
from envcheck.errors import ImageError
from tests.registry.fake_registry import FakeRegistry, digest_of

CONFIG = json.dumps({"architecture": "amd64", "os": "linux", "config": {}}).encode()
LAYER = b"layer-bytes" * 1000


def _image(reg: FakeRegistry, tag: str = "1.0", media: str = OCI_MANIFEST) -> str:
    cfg = reg.add_blob(CONFIG)
    layer = reg.add_blob(LAYER)
    return reg.add_manifest(
        tag,
        media,
        {
            "schemaVersion": 2,
            "mediaType": media,
            "config": {"digest": cfg, "size": len(CONFIG), "mediaType": "application/vnd.oci.image.config.v1+json"},
            "layers": [
                {"digest": layer, "size": len(LAYER), "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip"}
            ],
        },
    )


@pytest.fixture
def registry() -> Iterator[FakeRegistry]:
    reg = FakeRegistry().start()
    yield reg
    reg.stop()


def client(reg: FakeRegistry, tag: str = "1.0", **kw: object) -> RegistryClient:
    kw.setdefault("use_docker_config", False)
    kw.setdefault("backoff", 0.0)
    return RegistryClient(parse_registry_ref(f"registry:{reg.host}/app:{tag}"), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "host", "name", "ref"),
    [
        ("registry:127.0.0.1:5000/app:1.0", "127.0.0.1:5000", "app", "1.0"),
        ("registry:localhost/team/app", "localhost", "team/app", "latest"),
        (
            "registry:reg.example.invalid:443/a/b@sha256:" + "a" * 64,
            "reg.example.invalid:443",
            "a/b",
            "sha256:" + "a" * 64,
        ),
    ],
)
def test_parse_refs(text: str, host: str, name: str, ref: str) -> None:
    r = parse_registry_ref(text)
    assert (r.host, r.name, r.reference) == (host, name, ref)


@pytest.mark.parametrize(
    "text", ["registry:app", "registry:host/UPPER", "registry:h/a@sha256:zz", "registry:h/a:bad tag"]
)
def test_bad_refs_are_clear(text: str) -> None:
    with pytest.raises(ImageError):
        parse_registry_ref(text)


def test_anonymous_manifest_and_verified_blobs(registry: FakeRegistry) -> None:
    digest = _image(registry)
    c = client(registry)
    got_digest, manifest = c.resolve_image_manifest()
    assert got_digest == digest
    config = c.read_blob(manifest["config"]["digest"], manifest["config"]["size"], "config")
    assert json.loads(config)["os"] == "linux"
    stream = c.open_blob(manifest["layers"][0]["digest"], len(LAYER), "layer 1")
    assert stream.read(5) == b"layer"
    stream.finish()


def test_docker_v2_media_type_and_head_digest(registry: FakeRegistry) -> None:
    digest = _image(registry, media=DOCKER_MANIFEST)
    c = client(registry)
    assert c.resolve_image_manifest()[0] == digest
    assert c.head_digest() == digest


def test_index_resolved_by_platform(registry: FakeRegistry) -> None:
    amd = _image(registry, tag="amd")
    arm_manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"digest": digest_of(CONFIG), "size": len(CONFIG)},
        "layers": [],
    }
    arm = registry.add_manifest("arm", OCI_MANIFEST, arm_manifest)
    registry.add_manifest(
        "multi",
        OCI_INDEX,
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "digest": amd,
                    "mediaType": OCI_MANIFEST,
                    "size": 1,
                    "platform": {"os": "linux", "architecture": "amd64"},
                },
                {
                    "digest": arm,
                    "mediaType": OCI_MANIFEST,
                    "size": 1,
                    "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
                },
            ],
        },
    )
    assert client(registry, "multi").resolve_image_manifest("linux/arm64")[0] == arm
    assert client(registry, "multi").resolve_image_manifest("linux/amd64")[0] == amd
    with pytest.raises(ImageError, match=r"no image for linux/s390x \(available: linux/amd64, linux/arm64\)"):
        client(registry, "multi").resolve_image_manifest("linux/s390x")


def test_basic_auth(registry: FakeRegistry) -> None:
    registry.auth = "basic"
    _image(registry)
    c = client(registry, credentials=Credentials("alice", "s3cret-pass"))
    assert c.resolve_image_manifest()[1]["layers"]


def test_wrong_password_is_one_line_without_the_password(registry: FakeRegistry) -> None:
    registry.auth = "basic"
    _image(registry)
    with pytest.raises(ImageError) as err:
        client(registry, credentials=Credentials("alice", "not-the-password")).resolve_image_manifest()
    assert "wrong username or password" in str(err.value)
    assert "not-the-password" not in str(err.value)


def test_missing_credentials(registry: FakeRegistry) -> None:
    registry.auth = "basic"
    with pytest.raises(ImageError, match="requires credentials"):
        client(registry).ping()


def test_bearer_token_flow(registry: FakeRegistry) -> None:
    registry.auth = "bearer"
    _image(registry)
    c = client(registry, credentials=Credentials("alice", "s3cret-pass"))
    assert c.resolve_image_manifest()[1]["layers"]
    assert any(p.startswith("/token?") and "scope=repository" in p for p in registry.requests)


def test_bearer_with_wrong_password(registry: FakeRegistry) -> None:
    registry.auth = "bearer"
    with pytest.raises(ImageError, match="access denied"):
        client(registry, credentials=Credentials("alice", "nope")).ping()


def test_missing_tag(registry: FakeRegistry) -> None:
    with pytest.raises(ImageError, match=r"app:9.9 not found"):
        client(registry, "9.9").resolve_image_manifest()


def test_tampered_blob_is_refused(registry: FakeRegistry) -> None:
    _image(registry)
    registry.tamper.add(digest_of(LAYER))
    c = client(registry)
    _, manifest = c.resolve_image_manifest()
    stream = c.open_blob(manifest["layers"][0]["digest"], len(LAYER), "layer 1")
    with pytest.raises(ImageError, match="does not match its digest"):
        stream.finish()


def test_connection_dropped_mid_blob(registry: FakeRegistry) -> None:
    _image(registry)
    registry.drop_midway.add(digest_of(LAYER))
    c = client(registry)
    _, manifest = c.resolve_image_manifest()
    with pytest.raises(ImageError):
        c.open_blob(manifest["layers"][0]["digest"], len(LAYER), "layer 1").finish()


def test_retries_on_429(registry: FakeRegistry) -> None:
    _image(registry)
    registry.throttle_first = 2
    assert client(registry).resolve_image_manifest()[1]["layers"]


def test_unreachable_registry() -> None:
    c = RegistryClient(
        parse_registry_ref("registry:127.0.0.1:9/app:1"), use_docker_config=False, retries=1, backoff=0.0
    )
    with pytest.raises(ImageError, match=r"cannot reach registry 127\.0\.0\.1:9"):
        c.ping()


def test_docker_config_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    auth = base64.b64encode(b"bob:pw:with:colons").decode()
    (tmp_path / "config.json").write_text(json.dumps({"auths": {"reg.invalid:5000": {"auth": auth}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    creds = load_credentials("reg.invalid:5000")
    assert creds == Credentials("bob", "pw:with:colons")
    assert load_credentials("other.invalid") is None
    assert "pw:with" not in repr(creds)


def test_credential_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    helper = tmp_path / "docker-credential-fake"
    helper.write_text(
        '#!/bin/sh\nread host\necho "{\\"Username\\": \\"carol\\", \\"Secret\\": \\"from-helper-$host\\"}"\n'
    )
    helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    (tmp_path / "config.json").write_text(json.dumps({"credHelpers": {"reg.invalid": "fake"}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert load_credentials("reg.invalid") == Credentials("carol", "from-helper-reg.invalid")


def test_malformed_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config.json").write_text("{nope")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    with pytest.raises(ImageError, match=r"config\.json: cannot read docker client config"):
        load_credentials("x")


def test_resolve_digest_for_a_from_line(registry: FakeRegistry) -> None:
    from envcheck.distribution import registry_ref_for, resolve_digest

    digest = _image(registry)
    assert resolve_digest(f"{registry.host}/app:1.0") == (digest, "")
    assert resolve_digest(f"{registry.host}/app:9.9") == (
        None,
        f"image {registry.host}/app:9.9 not found in the registry",
    )
    assert str(registry_ref_for("python:3.11-slim")).endswith("/library/python:3.11-slim")
    assert str(registry_ref_for("localhost:5000/team/app:2")) == "localhost:5000/team/app:2"


def test_base_digest_falls_back_and_says_why(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from envcheck.commands import dockerfile as cmd

    monkeypatch.setattr(cmd, "_engine_digests", lambda refs: {})
    assert cmd._base_digests(["127.0.0.1:9/nothing:1"]) == {}
    err = capsys.readouterr().err
    assert "--base-digest: 127.0.0.1:9/nothing:1: registry: cannot reach registry" in err
    assert "local engine knows no digest either" in err
    monkeypatch.setattr(cmd, "_engine_digests", lambda refs: dict.fromkeys(refs, "sha256:" + "b" * 64))
    assert cmd._base_digests(["127.0.0.1:9/nothing:1"]) == {"127.0.0.1:9/nothing:1": "sha256:" + "b" * 64}
