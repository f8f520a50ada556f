"""Hostile archives are refused or contained with a one-line ImageError, never a traceback."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from image_testutil import Link, docker_archive, gz, layer_tar, metadata, sha, write_oci_layout

from envcheck.errors import EnvcheckError, ImageError
from envcheck.scanners.image import scan_image
from envcheck.scanners.image.walker import MergedView, walk_layer

CFG = {"architecture": "amd64", "os": "linux", "config": {}}


def _archive(tmp_path: Path, layers: list[bytes], name: str = "a.tar") -> Path:
    path = tmp_path / name
    path.write_bytes(docker_archive(layers, CFG))
    return path


def test_dotdot_and_absolute_member_names_stay_inside_the_root(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in (
            ("../../../../etc/os-release", b"ID=evil\nVERSION_ID=1\n"),
            ("/usr/local/lib/python3.11/site-packages/x-1.dist-info/METADATA", metadata("x", "1")),
            ("./a/../../../usr/local/bin/python3.11", b"\x003.11.4\x00"),
        ):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    snap = scan_image(f"docker-archive:{_archive(tmp_path, [buf.getvalue()])}")
    # "../../etc/os-release" is the image's /etc/os-release, never a host path
    assert snap.platform is not None and snap.platform.distro == "evil 1"
    assert snap.runtimes["python"].version == "3.11.4"
    assert [p.path for p in snap.packages["python"]] == ["/usr/local/lib/python3.11/site-packages/x-1.dist-info"]
    assert not (tmp_path / "etc").exists()


def test_escaping_and_looping_symlinks_resolve_inside_the_image(tmp_path: Path) -> None:
    layer = layer_tar(
        {
            "usr/lib/os-release": b"ID=debian\nVERSION_ID=12\n",
            "etc/os-release": Link("../../../../../../usr/lib/os-release"),
            "usr/local/bin/python3": Link("/../../../../usr/local/bin/python3"),
            "usr/local/bin/python": Link("python"),
        }
    )
    snap = scan_image(f"docker-archive:{_archive(tmp_path, [layer])}")
    assert snap.platform is not None and snap.platform.distro == "debian 12"
    assert "python" not in snap.runtimes  # loops are not followed forever, nor onto the host


def test_symlink_hops_are_capped() -> None:
    entries = {f"l{i}": Link(f"l{i + 1}") for i in range(100)}
    view = MergedView([walk_layer(io.BytesIO(layer_tar(entries)), "chain")])
    assert view.resolve("l0") is None
    assert view.resolve("l60") == "l100"


def test_layer_that_is_not_a_tar(tmp_path: Path) -> None:
    good = layer_tar({"etc/x": b"y"})
    with pytest.raises(ImageError, match=r"layer .*layer\.tar: not a tar archive"):
        scan_image(f"docker-archive:{_archive(tmp_path, [good, b'this is not a tar at all' * 40])}")


def test_truncated_gzip_layer(tmp_path: Path) -> None:
    layer = gz(layer_tar({f"f{i}": bytes(range(256)) * 64 for i in range(20)}))
    layout = write_oci_layout(tmp_path / "t", {"linux/amd64": ([b""], CFG)}, media_type="x")
    # hand-write a layout whose only layer is a truncated gzip (digest of the truncated bytes)
    cut = layer[: len(layer) // 2]
    (layout / "blobs" / "sha256" / sha(cut)[7:]).write_bytes(cut)
    cfg = json.dumps(CFG).encode()
    (layout / "blobs" / "sha256" / sha(cfg)[7:]).write_bytes(cfg)
    manifest = json.dumps({"config": {"digest": sha(cfg)}, "layers": [{"digest": sha(cut)}]}).encode()
    (layout / "blobs" / "sha256" / sha(manifest)[7:]).write_bytes(manifest)
    (layout / "index.json").write_text(json.dumps({"manifests": [{"digest": sha(manifest)}]}))
    with pytest.raises(ImageError, match=rf"layer {sha(cut)}: truncated"):
        scan_image(f"oci:{layout}")


def test_truncated_outer_archive(tmp_path: Path) -> None:
    data = docker_archive([layer_tar({"etc/x": b"y" * 5000})], CFG)
    path = tmp_path / "cut.tar"
    path.write_bytes(data[:3000])
    with pytest.raises(ImageError, match=r"truncated|no manifest\.json|not an image archive"):
        scan_image(f"docker-archive:{path}")
    path.write_bytes(gzip.compress(data)[:-40])
    with pytest.raises(ImageError):
        scan_image(f"docker-archive:{path}")


def test_huge_declared_member_is_never_read_whole(tmp_path: Path) -> None:
    """A 10 GB METADATA header over a few bytes of data: refused as truncated, nothing allocated."""
    ti = tarfile.TarInfo("usr/local/lib/python3.11/site-packages/big-1.dist-info/METADATA")
    ti.size = 10 * 1024**3
    header = ti.tobuf(format=tarfile.GNU_FORMAT)
    layer = header + metadata("big", "1") + b"\0" * 1024
    with pytest.raises(ImageError, match="truncated"):
        scan_image(f"docker-archive:{_archive(tmp_path, [layer])}")


def test_sparse_member_declaring_10gb_is_bounded(tmp_path: Path) -> None:
    """A GNU sparse (PAX 0.0) member claiming 10 GB: only the capped prefix is read."""
    ti = tarfile.TarInfo("usr/local/lib/python3.11/site-packages/sparse-1.dist-info/METADATA")
    data = metadata("sparse", "1")
    ti.size = len(data)
    ti.pax_headers = {
        "GNU.sparse.size": str(10 * 1024**3),
        "GNU.sparse.numblocks": "1",
        "GNU.sparse.offset": "0",
        "GNU.sparse.numbytes": str(len(data)),
    }
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        tf.addfile(ti, io.BytesIO(data))
    try:
        snap = scan_image(f"docker-archive:{_archive(tmp_path, [buf.getvalue()])}")
    except ImageError:
        return  # refusing is fine too
    assert [(p.name, p.version) for p in snap.packages.get("python", ())] in ([("sparse", "1")], [])


def test_digest_mismatch_names_the_layer(tmp_path: Path) -> None:
    layers = [layer_tar({"etc/x": b"y"})]
    cfg = dict(CFG, rootfs={"diff_ids": [sha(b"something else")]})
    path = tmp_path / "m.tar"
    path.write_bytes(docker_archive(layers, cfg))
    with pytest.raises(ImageError, match=r"layer .*layer\.tar: content does not match"):
        scan_image(f"docker-archive:{path}")


def test_tampered_oci_blob_is_refused(tmp_path: Path) -> None:
    layout = write_oci_layout(tmp_path / "o", {"linux/amd64": ([layer_tar({"etc/x": b"y"})], CFG)})
    blob = max((layout / "blobs" / "sha256").iterdir(), key=lambda p: p.stat().st_size)
    blob.write_bytes(gz(layer_tar({"etc/x": b"tampered"})))
    with pytest.raises(ImageError, match="digest mismatch"):
        scan_image(f"oci:{layout}")


def test_not_an_archive_at_all(tmp_path: Path) -> None:
    path = tmp_path / "x.tar"
    path.write_bytes(b"hello")
    with pytest.raises(ImageError, match="not a tar archive"):
        scan_image(f"docker-archive:{path}")
    with pytest.raises(ImageError, match=r"no such file|cannot read"):
        scan_image(f"docker-archive:{tmp_path / 'missing.tar'}")
    with pytest.raises(ImageError, match="not an OCI image layout"):
        scan_image(f"oci:{tmp_path}")


def test_json_bomb_in_archive(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        data = b"[" * 100000 + b"]" * 100000
        ti = tarfile.TarInfo("manifest.json")
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    path = tmp_path / "bomb.tar"
    path.write_bytes(buf.getvalue())
    with pytest.raises(ImageError):
        scan_image(f"docker-archive:{path}")


def test_gzip_bomb_member_is_skipped_without_memory(tmp_path: Path) -> None:
    """A 256 MiB irrelevant member compresses to ~256 KiB; it streams past, nothing is kept."""
    import tracemalloc

    ti = tarfile.TarInfo("var/cache/zeros")
    ti.size = 256 * 1024 * 1024
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb") as gzf:
        gzf.write(ti.tobuf(format=tarfile.GNU_FORMAT))
        zeros = bytes(1 << 20)
        for _ in range(256):
            gzf.write(zeros)
        gzf.write(bytes(1024))
    blob = out.getvalue()
    tracemalloc.start()
    index = walk_layer(io.BytesIO(blob), "bomb")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert index.members == 1 and not index.entries
    assert peak < 32 * 1024 * 1024


# --------------------------------------------------------------------------- properties


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096))
def test_random_bytes_as_a_layer_only_raise_image_error(data: bytes) -> None:
    try:
        walk_layer(io.BytesIO(data), "fuzz")
    except ImageError:
        pass


@settings(max_examples=150, deadline=None)
@given(st.binary(min_size=1, max_size=2048), st.integers(min_value=0, max_value=10**6))
def test_corrupted_valid_layers_only_raise_image_error(patch: bytes, where: int) -> None:
    good = gz(layer_tar({"usr/lib/python3/dist-packages/a-1.dist-info/METADATA": metadata("a", "1"), "x": b"y" * 3000}))
    for blob in (good, layer_tar({"etc/os-release": b"ID=x\n", "l": Link("/etc")})):
        pos = where % len(blob)
        bad = blob[:pos] + patch + blob[pos + len(patch) :]
        try:
            walk_layer(io.BytesIO(bad), "fuzz")
        except ImageError:
            pass


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=4096), gzip_it=st.booleans())
def test_random_bytes_as_an_archive_only_raise_envcheck_error(tmp_path: Path, data: bytes, gzip_it: bool) -> None:
    path = tmp_path / "fuzz.tar"
    path.write_bytes(gzip.compress(data) if gzip_it else data)
    try:
        scan_image(f"docker-archive:{path}")
    except EnvcheckError:
        pass


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(patch=st.binary(min_size=1, max_size=512), where=st.integers(min_value=0, max_value=10**6))
def test_corrupted_archives_only_raise_envcheck_error(tmp_path: Path, patch: bytes, where: int) -> None:
    good = docker_archive([layer_tar({"usr/local/bin/python3.11": b"\x003.11.1\x00"})], CFG)
    pos = where % len(good)
    path = tmp_path / "c.tar"
    path.write_bytes(good[:pos] + patch + good[pos + len(patch) :])
    try:
        scan_image(f"docker-archive:{path}")
    except EnvcheckError:
        pass


def test_a_damaged_layer_is_named_by_its_digest_wherever_the_damage_falls() -> None:
    """A flipped byte may break the gzip stream, a tar header or only file data:
    whichever the walker meets first, a layer whose manifest names its digest is
    reported as not matching it (the cause), not as whatever broke (a symptom)."""
    import gzip
    import hashlib
    import io
    import random
    import tarfile as _tarfile

    from envcheck.errors import ImageError
    from envcheck.scanners.image.walker import walk_layer

    rng = random.Random(7)
    raw = io.BytesIO()
    with _tarfile.open(fileobj=raw, mode="w") as tf:
        for i in range(40):
            body = rng.randbytes(rng.randrange(100, 20_000))
            info = _tarfile.TarInfo(f"usr/lib/python3/dist-packages/f{i}.py")
            info.size = len(body)
            tf.addfile(info, io.BytesIO(body))
    blob = gzip.compress(raw.getvalue(), mtime=0)
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    for position in range(20, len(blob) - 20, len(blob) // 25):
        damaged = bytearray(blob)
        damaged[position] ^= 0xFF
        with pytest.raises(ImageError, match="digest mismatch"):
            walk_layer(io.BytesIO(bytes(damaged)), "layer0", expected=digest)
