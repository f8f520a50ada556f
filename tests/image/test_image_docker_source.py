"""``docker:NAME`` against a real engine (the test bed's private dockerd).

The engine comes from ``tests/testbed.py`` (reusing the bed ``DOCKER_HOST`` or
``scripts/testbed start`` names); without root or dockerd these tests fail —
they are never skipped, so CI cannot pass without the engine.
"""

from __future__ import annotations

import io
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from image_testutil import Link, docker_archive, layer_tar, metadata

from envcheck.errors import ImageError
from envcheck.scanners.image import scan_image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import testbed

pytestmark = pytest.mark.engine

SYNTHETIC_TAG = "envcheck-test/image-scanner-synthetic:1"


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    bed = testbed.start(reuse=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DOCKER_HOST", bed.host)
        yield bed.client()


@pytest.fixture(scope="module")
def synthetic(engine: Any) -> str:
    """A rootfs with a site-packages, node_modules and os-release, imported with its config."""
    rootfs = layer_tar(
        {
            "etc/os-release": b"ID=debian\nVERSION_ID=12\n",
            "var/lib/dpkg/status": b"Package: libc6\nStatus: install ok installed\nVersion: 2.36-9+deb12u7\n",
            "usr/local/bin/python3.12": b"\x7fELF\x00Python-3.12.4\x00",
            "usr/local/bin/python3": Link("python3.12"),
            "usr/local/lib/python3.12/site-packages/attrs-23.2.0.dist-info/METADATA": metadata("attrs", "23.2.0"),
            "srv/node_modules/left-pad/package.json": b'{"name": "left-pad", "version": "1.3.0"}',
        }
    )
    engine.api.import_image_from_data(
        rootfs,
        repository=SYNTHETIC_TAG.rsplit(":", 1)[0],
        tag="1",
        changes=[
            "WORKDIR /srv",
            "ENV APP_ENV=test",
            "ENV API_TOKEN=ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
            "USER 1000",
        ],
    )
    return SYNTHETIC_TAG


def test_docker_source_streams_the_engine_image(engine: Any, synthetic: str, tmp_path: Path) -> None:
    snap = scan_image(f"docker:{synthetic}")
    assert snap.source.ref == f"docker:{synthetic}"
    assert snap.runtimes["python"].version == "3.12.4"
    assert [(p.name, p.version, p.active) for p in snap.packages["python"]] == [("attrs", "23.2.0", True)]
    assert [(p.name, p.path, p.active) for p in snap.packages["node"]] == [("left-pad", "node_modules/left-pad", True)]
    assert snap.platform is not None and snap.platform.libc == "glibc 2.36"
    assert snap.env["APP_ENV"].value == "test" and snap.env["API_TOKEN"].value is None
    assert snap.image is not None
    assert snap.image["secret_env"] == ["API_TOKEN"]
    assert snap.image["user"] == "1000" and snap.image["workdir"] == "/srv"
    assert snap.image["digest"] == engine.images.get(synthetic).id
    assert "ghp_" not in snap.to_json()
    # a bare name means docker:, and the saved archive reads the same
    bare = scan_image(synthetic)
    archive = testbed.save(engine, synthetic, tmp_path / "s.tar")
    saved = scan_image(f"docker-archive:{archive}")
    for other in (bare, saved):
        assert other.packages == snap.packages and other.runtimes == snap.runtimes and other.platform == snap.platform


def test_missing_image_is_a_clear_error(engine: Any) -> None:
    with pytest.raises(ImageError, match="no such image in the engine"):
        scan_image("docker:envcheck-test/does-not-exist:0")


def test_probe_asks_the_interpreter_in_a_sandbox(engine: Any) -> None:
    testbed.ensure_base_images(engine)
    static = scan_image(f"docker:{testbed.PYBASE_TAG}")
    probed = scan_image(f"docker:{testbed.PYBASE_TAG}", probe=True)
    assert probed.image is not None
    facts = probed.image["probe"]["python"]
    assert facts["version"] == probed.runtimes["python"].version == static.runtimes["python"].version
    assert facts["sys_version"].startswith(facts["version"] + " ")
    # the probe container is gone afterwards
    assert not [c for c in engine.containers.list(all=True) if c.image.tags == [testbed.PYBASE_TAG]]


def test_probe_refuses_an_archive_the_engine_does_not_have(engine: Any, tmp_path: Path) -> None:
    from envcheck.errors import EngineError

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w"):
        pass
    path = tmp_path / "unknown.tar"
    path.write_bytes(docker_archive([layer_tar({"etc/hostname": b"x"})], {"os": "linux", "config": {"Env": ["X=1"]}}))
    with pytest.raises(EngineError, match="load it first"):
        scan_image(f"docker-archive:{path}", probe=True)
