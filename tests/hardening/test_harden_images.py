"""Hostile images not covered by tests/image/test_image_hostile.py.

Each case is generated here and ends in one of two ways a user can rely on:
a one-line :class:`ImageError`, or a snapshot that holds only what is inside
the image (never a byte of the host's file system).
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from collections.abc import Mapping
from pathlib import Path

import pytest
from image_testutil import DIR, OPAQUE, Hard, Link, docker_archive, layer_tar, metadata, sha, write_oci_layout

from envcheck.errors import ImageError
from envcheck.scanners.image import scan_image
from envcheck.scanners.image.walker import MergedView, walk_layer

CFG = {"architecture": "amd64", "os": "linux", "config": {}}
SITE = "usr/local/lib/python3.11/site-packages"


def _archive(tmp_path: Path, layers: list[bytes], cfg: Mapping[str, object] | None = None) -> str:
    path = tmp_path / "img.tar"
    path.write_bytes(docker_archive(layers, dict(cfg or CFG)))
    return f"docker-archive:{path}"


def _raw_tar(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


# --------------------------------------------------------------------------- hard links


def test_hard_links_to_outside_the_root_point_inside_the_image(tmp_path: Path) -> None:
    layer = layer_tar(
        {
            "usr/lib/os-release": b"ID=inside\nVERSION_ID=7\n",
            # Both climb out of the root; both must land on the image's own files.
            "etc/os-release": Hard("../../../../../../usr/lib/os-release"),
            f"{SITE}/x-1.dist-info/METADATA": Hard("/../../etc/shadow"),
        }
    )
    snap = scan_image(_archive(tmp_path, [layer]))
    assert snap.platform is not None and snap.platform.distro == "inside 7"
    # /etc/shadow does not exist in the image: the link reads as nothing, not the host's file.
    assert not snap.packages.get("python")


def test_hard_link_to_a_member_that_never_appears(tmp_path: Path) -> None:
    layer = layer_tar({"etc/os-release": Hard("etc/not-here")})
    snap = scan_image(_archive(tmp_path, [layer]))
    assert snap.platform is None or snap.platform.distro in (None, "")


# --------------------------------------------------------------------------- duplicates


def test_duplicate_members_in_one_layer_last_one_wins_as_tar_extraction_does(tmp_path: Path) -> None:
    layer = _raw_tar(
        [
            ("etc/os-release", b"ID=first\nVERSION_ID=1\n"),
            ("etc/os-release", b"ID=second\nVERSION_ID=2\n"),
            (f"{SITE}/a-1.dist-info/METADATA", metadata("a", "1")),
            (f"{SITE}/a-1.dist-info/METADATA", metadata("a", "9")),
        ]
    )
    snap = scan_image(_archive(tmp_path, [layer]))
    assert snap.platform is not None and snap.platform.distro == "second 2"
    assert [(p.name, p.version) for p in snap.packages["python"]] == [("a", "9")]


def test_duplicate_manifest_members_in_an_archive_are_read_deterministically(tmp_path: Path) -> None:
    good = docker_archive([layer_tar({"etc/os-release": b"ID=good\nVERSION_ID=1\n"})], CFG)
    # Append a second manifest.json naming a layer that is not there: the later one wins, and says so.
    bogus = json.dumps([{"Config": "nope.json", "Layers": ["missing/layer.tar"]}]).encode()
    src = tarfile.open(fileobj=io.BytesIO(good))  # noqa: SIM115
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tf:
        for m in src.getmembers():
            tf.addfile(m, src.extractfile(m) if m.isreg() else None)
        ti = tarfile.TarInfo("manifest.json")
        ti.size = len(bogus)
        tf.addfile(ti, io.BytesIO(bogus))
    path = tmp_path / "dup.tar"
    path.write_bytes(out.getvalue())
    for _ in range(2):
        with pytest.raises(ImageError, match=r"archive has no nope\.json"):
            scan_image(f"docker-archive:{path}")


def test_the_same_layer_listed_twice_is_harmless(tmp_path: Path) -> None:
    layer = layer_tar({"etc/os-release": b"ID=twice\nVERSION_ID=2\n"})
    snap = scan_image(_archive(tmp_path, [layer, layer]))
    assert snap.platform is not None and snap.platform.distro == "twice 2"
    assert snap.image is not None and snap.image["layers"] == 2


# --------------------------------------------------------------------------- whiteouts


def test_opaque_whiteout_of_the_root_hides_every_lower_layer(tmp_path: Path) -> None:
    lower = layer_tar(
        {
            "usr/lib/os-release": b"ID=lower\nVERSION_ID=1\n",
            "etc/os-release": Link("../usr/lib/os-release"),
            f"{SITE}/gone-1.dist-info/METADATA": metadata("gone", "1"),
        }
    )
    upper = _raw_tar([(".wh..wh..opq", b""), ("etc/os-release", b"ID=upper\nVERSION_ID=2\n")])
    snap = scan_image(_archive(tmp_path, [lower, upper]))
    assert snap.platform is not None and snap.platform.distro == "upper 2"
    assert not snap.packages.get("python")


@pytest.mark.parametrize("name", [".wh.", ".wh..", "./.wh..", "../.wh.", "/.wh.", ".wh../", ".wh.."])
def test_whiteouts_naming_the_root_itself_are_ignored_not_crashes(tmp_path: Path, name: str) -> None:
    lower = layer_tar({"etc/os-release": b"ID=kept\nVERSION_ID=3\n"})
    upper = _raw_tar([(name, b"")])
    snap = scan_image(_archive(tmp_path, [lower, upper]))
    assert snap.platform is not None and snap.platform.distro == "kept 3"


def test_whiteout_climbing_out_of_the_root_only_removes_inside(tmp_path: Path) -> None:
    lower = layer_tar(
        {"etc/os-release": b"ID=kept\nVERSION_ID=3\n", f"{SITE}/a-1.dist-info/METADATA": metadata("a", "1")}
    )
    upper = _raw_tar([("../../../../usr/local/lib/python3.11/site-packages/.wh.a-1.dist-info", b"")])
    snap = scan_image(_archive(tmp_path, [lower, upper]))
    assert not snap.packages.get("python")
    assert snap.platform is not None and snap.platform.distro == "kept 3"


# --------------------------------------------------------------------------- manifests


def test_manifest_naming_a_layer_the_archive_lacks(tmp_path: Path) -> None:
    data = docker_archive([layer_tar({"etc/x": b"y"})], CFG)
    src = tarfile.open(fileobj=io.BytesIO(data))  # noqa: SIM115
    manifest = json.loads(src.extractfile("manifest.json").read())  # type: ignore[union-attr]
    manifest[0]["Layers"].append("ffff/layer.tar")
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tf:
        for m in src.getmembers():
            if m.name == "manifest.json":
                body = json.dumps(manifest).encode()
                m.size = len(body)
                tf.addfile(m, io.BytesIO(body))
            else:
                tf.addfile(m, src.extractfile(m) if m.isreg() else None)
    path = tmp_path / "missing.tar"
    path.write_bytes(out.getvalue())
    with pytest.raises(ImageError, match=r"layer ffff/layer\.tar: missing from the archive"):
        scan_image(f"docker-archive:{path}")


def test_extra_layers_in_an_archive_are_ignored_even_when_broken(tmp_path: Path) -> None:
    data = docker_archive([layer_tar({"etc/os-release": b"ID=real\nVERSION_ID=1\n"})], CFG)
    src = tarfile.open(fileobj=io.BytesIO(data))  # noqa: SIM115
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tf:
        for m in src.getmembers():
            tf.addfile(m, src.extractfile(m) if m.isreg() else None)
        for name, body in (("extra/layer.tar", b"garbage" * 100), ("blobs/sha256/" + "0" * 64, layer_tar({"a": b"b"}))):
            ti = tarfile.TarInfo(name)
            ti.size = len(body)
            tf.addfile(ti, io.BytesIO(body))
    path = tmp_path / "extra.tar"
    path.write_bytes(out.getvalue())
    snap = scan_image(f"docker-archive:{path}")
    assert snap.platform is not None and snap.platform.distro == "real 1"


def test_config_listing_more_layers_than_the_manifest(tmp_path: Path) -> None:
    layer = layer_tar({"etc/x": b"y"})
    cfg = dict(CFG, rootfs={"type": "layers", "diff_ids": [sha(layer), sha(layer + b"x")]})
    with pytest.raises(ImageError, match=r"config lists 2 layers but the manifest has 1"):
        scan_image(_archive(tmp_path, [layer], cfg))


def test_oci_manifest_naming_a_missing_blob(tmp_path: Path) -> None:
    layout = write_oci_layout(tmp_path / "o", {"linux/amd64": ([layer_tar({"etc/x": b"y"})], CFG)})
    blobs = sorted((layout / "blobs" / "sha256").iterdir(), key=lambda p: p.stat().st_size)
    layer_blob = next(p for p in blobs if p.read_bytes()[:2] == b"\x1f\x8b" or b"ustar" in p.read_bytes()[:600])
    layer_blob.unlink()
    with pytest.raises(ImageError, match=rf"layer sha256:{layer_blob.name}: cannot read"):
        scan_image(f"oci:{layout}")


def test_oci_config_whose_content_does_not_match_its_digest(tmp_path: Path) -> None:
    layout = write_oci_layout(tmp_path / "o", {"linux/amd64": ([layer_tar({"etc/x": b"y"})], CFG)})
    for blob in (layout / "blobs" / "sha256").iterdir():
        text = blob.read_bytes()
        if text.startswith(b"{") and b'"architecture"' in text:
            blob.write_bytes(text.replace(b'"amd64"', b'"arm64"'))
            break
    else:
        raise AssertionError("no config blob found")
    with pytest.raises(ImageError, match=r"blob sha256:[0-9a-f]{64}: digest mismatch"):
        scan_image(f"oci:{layout}")


def test_docker_archive_config_whose_content_does_not_match_its_name(tmp_path: Path) -> None:
    data = docker_archive([layer_tar({"etc/x": b"y"})], CFG)
    src = tarfile.open(fileobj=io.BytesIO(data))  # noqa: SIM115
    manifest = json.loads(src.extractfile("manifest.json").read())  # type: ignore[union-attr]
    config_name = manifest[0]["Config"]
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tf:
        for m in src.getmembers():
            if m.name == config_name:
                body = json.dumps(dict(CFG, os="plan9")).encode()
                m.size = len(body)
                tf.addfile(m, io.BytesIO(body))
            else:
                tf.addfile(m, src.extractfile(m) if m.isreg() else None)
    path = tmp_path / "cfg.tar"
    path.write_bytes(out.getvalue())
    with pytest.raises(ImageError, match=r"config digest mismatch"):
        scan_image(f"docker-archive:{path}")


# --------------------------------------------------------------------------- dir: rootfs vs the host


def _host_has(path: str) -> bool:
    return os.path.exists(path)


def test_dir_rootfs_absolute_symlinks_never_reach_the_host(tmp_path: Path) -> None:
    """Every link below points at a real host path; the snapshot must not show any of it."""
    assert _host_has("/etc/os-release") and _host_has("/usr/lib/python3/dist-packages")
    root = tmp_path / "rootfs"
    site = root / SITE
    site.mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "usr/local/bin").mkdir(parents=True)
    (root / "etc/os-release").symlink_to("/etc/os-release")
    (root / "etc/shadow").symlink_to("/etc/shadow")
    (site / "evil-1.dist-info").mkdir()
    (site / "evil-1.dist-info/METADATA").symlink_to("/etc/shadow")
    (site / "host-site").symlink_to("/usr/lib/python3/dist-packages")
    (root / "usr/local/bin/python3").symlink_to("/usr/bin/python3")
    (root / "usr/local/bin/python3.11").symlink_to("/root/.pyenv/versions/3.11.7/bin/python3.11")
    (root / "usr/local/bin/node").symlink_to("/usr/bin/node")
    (root / "var").symlink_to("/var")  # the host's dpkg database
    (root / "lib").symlink_to("/lib")  # the host's libc
    snap = scan_image(f"dir:{root}")
    dumped = snap.to_json()
    assert snap.platform is None or not snap.platform.distro
    assert "python" not in snap.runtimes and "node" not in snap.runtimes
    assert not snap.packages.get("python")
    assert "debian" not in dumped.lower() and "glibc" not in dumped.lower()


def test_dir_rootfs_relative_symlinks_climbing_out_stop_at_its_root(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    (root / "usr/lib").mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "usr/lib/os-release").write_text("ID=inside\nVERSION_ID=5\n")
    # ../../.. from etc/ would be / on the host; inside the image it is still the image's root.
    (root / "etc/os-release").symlink_to("../../../../../../../usr/lib/os-release")
    snap = scan_image(f"dir:{root}")
    assert snap.platform is not None and snap.platform.distro == "inside 5"


def test_dir_rootfs_fifo_and_symlink_loop_neither_hang_nor_crash(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    os.mkfifo(root / "etc/os-release")  # opening it for reading would block forever without O_NONBLOCK
    (root / "usr").mkdir()
    (root / "usr/lib").symlink_to("../usr/lib")
    (root / "usr/bin").symlink_to("/usr/bin")
    snap = scan_image(f"dir:{root}")
    assert "python" not in snap.runtimes


def test_symlink_loops_and_chains_in_a_layer_resolve_to_nothing() -> None:
    layer = layer_tar(
        {
            "a": Link("b"),
            "b": Link("/a"),
            "usr": DIR,
            "usr/bin": Link("../usr/bin"),
            "etc": OPAQUE,
            "deep": Link("/" + "/".join(["x"] * 2000)),
        }
    )
    view = MergedView([walk_layer(io.BytesIO(layer), "loops")])
    assert view.resolve("a") is None
    assert view.resolve("usr/bin/python3") is None
    assert view.lookup("deep") is None
