"""`envcheck snapshot image registry:…` end to end against a loopback registry."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from envcheck.cli import main
from tests.registry.fake_registry import FakeRegistry, digest_of

FILES = {
    "etc/os-release": b'ID=debian\nVERSION_ID="12"\n',
    "opt/venv/lib/python3.11/site-packages/requests-2.28.2.dist-info/METADATA": b"Metadata-Version: 2.1\nName: requests\nVersion: 2.28.2\n",
}


def _layer() -> tuple[bytes, bytes]:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in FILES.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    return raw, gzip.compress(raw, mtime=0)


@pytest.fixture
def pushed() -> Iterator[tuple[FakeRegistry, str]]:
    reg = FakeRegistry().start()
    raw, gz = _layer()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {
                "Env": [
                    "PATH=/opt/venv/bin:/usr/bin",
                    "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
                ]
            },
            "rootfs": {"type": "layers", "diff_ids": [digest_of(raw)]},
        }
    ).encode()
    cfg = reg.add_blob(config)
    layer = reg.add_blob(gz)
    reg.add_manifest(
        "1.0",
        "application/vnd.docker.distribution.manifest.v2+json",
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "digest": cfg,
                "size": len(config),
                "mediaType": "application/vnd.docker.container.image.v1+json",
            },
            "layers": [
                {"digest": layer, "size": len(gz), "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip"}
            ],
        },
    )
    yield reg, layer
    reg.stop()


def test_registry_snapshot(pushed: tuple[FakeRegistry, str], capsys: pytest.CaptureFixture[str]) -> None:
    reg, _ = pushed
    assert main(["snapshot", "image", f"registry:{reg.host}/app:1.0"]) == 0
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert doc["source"]["kind"] == "image"
    assert [(p["name"], p["version"]) for p in doc["packages"]["python"]] == [("requests", "2.28.2")]
    assert doc["image"]["secret_env"] == ["AWS_SECRET_ACCESS_KEY"]
    assert "wJalrXUtnFEMI" not in out


@pytest.mark.parametrize(
    ("fault", "message"),
    [("tamper", "does not match its digest"), ("drop", "registry:"), ("missing", "not found in the registry")],
)
def test_registry_faults_exit_2_with_one_line(
    pushed: tuple[FakeRegistry, str], fault: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    reg, layer = pushed
    tag = "1.0"
    if fault == "tamper":
        reg.tamper.add(layer)
    elif fault == "drop":
        reg.drop_midway.add(layer)
    else:
        tag = "9.9"
    assert main(["snapshot", "image", f"registry:{reg.host}/app:{tag}"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert message in err


def test_scan_reads_a_registry_image(
    pushed: tuple[FakeRegistry, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`envcheck scan --image registry:…` compares the project with what the registry serves."""
    reg, _ = pushed
    (tmp_path / "requirements.txt").write_text("requests==2.31.0\n")
    code = main(
        [
            "scan",
            str(tmp_path),
            "--no-node",
            "--image",
            f"registry:{reg.host}/app:1.0",
            "--format",
            "json",
            "--insecure-registry",
            reg.host,
        ]
    )
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    assert any(f["rule"] == "EC301" and f["subject"] == "requests" for f in doc["findings"])
