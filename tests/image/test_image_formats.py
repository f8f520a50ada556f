"""Every transport reads the same image to the same snapshot, exactly."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from image_testutil import (
    AWS_KEY,
    SECRET_TOKEN,
    Link,
    docker_archive,
    gz,
    layer_tar,
    metadata,
    standard_config,
    standard_layers,
    tar_directory,
    write_oci_layout,
    write_rootfs,
)

from envcheck.errors import EnvcheckError, ImageError
from envcheck.scanners.image import scan_image
from envcheck.snapshot import Snapshot


@pytest.fixture(scope="module")
def std() -> tuple[list[bytes], dict[str, object]]:
    layers = [layer_tar(layer) for layer in standard_layers()]
    return layers, standard_config(layers)


def _pkgs(snap: Snapshot, eco: str) -> set[tuple[str, str, str | None, bool]]:
    return {(p.name, p.version, p.path, p.active) for p in snap.packages.get(eco, ())}


PYTHON = {
    ("flask", "3.0.0", "/opt/venv/lib/python3.11/site-packages/Flask-3.0.0.dist-info", True),
    ("zope-interface", "6.1", "/opt/venv/lib/python3.11/site-packages/zope.interface-6.1.dist-info", True),
    ("mylib", "0.1", "/opt/venv/lib/python3.11/site-packages/mylib-0.1.dist-info", True),
    # the system site beside the venv is context, not the environment that runs
    ("pip", "23.2.1", "/usr/local/lib/python3.11/site-packages/pip-23.2.1.dist-info", False),
    ("six", "1.17.0", "/usr/local/lib/python3.11/site-packages/six-1.16.0.dist-info", False),
    ("old-thing", "0.1", "/usr/local/lib/python3.11/site-packages/Old_Thing-0.1-py3.11.egg-info", False),
}
NODE = {
    ("express", "4.18.2", "node_modules/express", True),
    ("debug", "2.6.9", "node_modules/express/node_modules/debug", True),
    ("@types/node", "20.1.0", "node_modules/@types/node", True),
    ("npm", "10.2.4", "/usr/local/lib/node_modules/npm", False),
    ("abbrev", "2.0.0", "/usr/local/lib/node_modules/npm/node_modules/abbrev", False),
}


def _assert_standard(snap: Snapshot) -> None:
    assert snap.kind == "image"
    assert _pkgs(snap, "python") == PYTHON
    assert _pkgs(snap, "node") == NODE
    assert [p.name for p in snap.packages["python"] if p.editable] == ["mylib"]
    py, node, npm = snap.runtimes["python"], snap.runtimes["node"], snap.runtimes["npm"]
    assert (py.version, py.implementation, py.path) == ("3.11.7", "cpython", "/usr/local/bin/python3.11")
    assert (node.version, node.path) == ("20.11.1", "/usr/local/bin/node")
    assert npm.version == "10.2.4"
    assert snap.platform is not None
    assert snap.platform.to_dict() == {"os": "linux", "arch": "x86_64", "distro": "debian 12", "libc": "glibc 2.36"}


def _assert_config(snap: Snapshot) -> None:
    assert snap.env["APP_ENV"].value == "production"
    assert snap.env["GITHUB_TOKEN"].set and snap.env["GITHUB_TOKEN"].value is None
    assert snap.env["HARMLESS_NAME"].value is None  # an AWS key under an innocent name
    assert snap.env["DATABASE_URL"].value is None
    image = snap.image or {}
    assert image["user"] == "app"
    assert image["workdir"] == "/app"
    assert image["entrypoint"] == ["/opt/venv/bin/python", "-m", "app"]
    assert image["cmd"][0] == "--token" and "hunter2" not in json.dumps(image["cmd"])
    assert image["labels"]["api_key"] == "<redacted>"
    assert image["secret_env"] == ["DATABASE_URL", "GITHUB_TOKEN", "HARMLESS_NAME"]
    assert image["layers"] == 5
    assert image["digest"].startswith("sha256:")
    text = snap.to_json()
    for secret in (SECRET_TOKEN, AWS_KEY, "p4ssw0rd", "hunter2", "k9Xz7Qw2Lp4Rt8Yv3Nb6"):
        assert secret not in text


def test_legacy_docker_archive(tmp_path: Path, std: tuple[list[bytes], dict[str, object]]) -> None:
    archive = tmp_path / "app.tar"
    archive.write_bytes(docker_archive(*std))
    snap = scan_image(f"docker-archive:{archive}")
    _assert_standard(snap)
    _assert_config(snap)
    assert snap.image is not None and snap.image["tags"] == ["example/app:1"]
    assert snap.source.ref == f"docker-archive:{archive}"


@pytest.mark.parametrize("sizes", [(1, 7, 513), (8191, 2 * 1024 * 1024)], ids=["ragged", "engine-sized"])
def test_engine_stream_in_any_chunking_reads_like_the_file(
    tmp_path: Path, std: tuple[list[bytes], dict[str, object]], sizes: tuple[int, ...]
) -> None:
    """`docker:` streams image.save() chunks straight into the walker; chunk borders must not matter."""
    from itertools import cycle

    from envcheck.scanners.image.sources import ChunkReader, load_archive_stream

    data = docker_archive(*std)
    archive = tmp_path / "app.tar"
    archive.write_bytes(data)

    def chunks() -> Iterator[bytes]:
        pos = 0
        for size in cycle(sizes):
            if pos >= len(data):
                return
            yield data[pos : pos + size]
            pos += size

    streamed = load_archive_stream(ChunkReader(chunks(), "docker:app"), "docker:app", None)
    from_file = load_archive_stream(archive.open("rb"), str(archive), None)
    assert streamed.config_digest == from_file.config_digest
    assert [(x.stored_digest, sorted(x.entries)) for x in streamed.layers] == [
        (x.stored_digest, sorted(x.entries)) for x in from_file.layers
    ]


def test_docker25_oci_layout_in_tar_and_gzip_outer(tmp_path: Path, std: tuple[list[bytes], dict[str, object]]) -> None:
    archive = tmp_path / "app.tar.gz"
    archive.write_bytes(gzip.compress(docker_archive(*std, oci_in_tar=True)))
    snap = scan_image(str(archive))  # a bare path is detected
    _assert_standard(snap)
    _assert_config(snap)


def test_oci_dir_and_oci_archive_with_gzip_layers(tmp_path: Path, std: tuple[list[bytes], dict[str, object]]) -> None:
    layout = write_oci_layout(tmp_path / "layout", {"linux/amd64": std})
    for ref in (f"oci:{layout}", f"oci-dir:{layout}", str(layout)):
        _assert_standard(scan_image(ref))
    archive = tmp_path / "app-oci.tar"
    archive.write_bytes(tar_directory(layout))
    snap = scan_image(f"oci-archive:{archive}")
    _assert_standard(snap)
    _assert_config(snap)


def test_zstd_layers(tmp_path: Path, std: tuple[list[bytes], dict[str, object]]) -> None:
    import zstandard

    layout = tmp_path / "z"
    write_oci_layout(layout, {"linux/amd64": std}, media_type="application/vnd.oci.image.layer.v1.tar")
    # recompress every layer blob with zstd and rewrite the manifest accordingly
    layers, config = std
    z = [zstandard.ZstdCompressor().compress(layer) for layer in layers]
    layout2 = tmp_path / "z2"
    from image_testutil import sha

    (layout2 / "blobs" / "sha256").mkdir(parents=True)
    cfg = json.dumps(config).encode()
    for blob in [*z, cfg]:
        (layout2 / "blobs" / "sha256" / sha(blob)[7:]).write_bytes(blob)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "config": {"digest": sha(cfg), "size": len(cfg)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+zstd", "digest": sha(b)} for b in z],
        }
    ).encode()
    (layout2 / "blobs" / "sha256" / sha(manifest)[7:]).write_bytes(manifest)
    (layout2 / "index.json").write_text(json.dumps({"manifests": [{"digest": sha(manifest)}]}))
    _assert_standard(scan_image(f"oci:{layout2}"))


def test_multi_platform_index_needs_and_honours_platform(tmp_path: Path) -> None:
    def image(arch: str, version: str) -> tuple[list[bytes], dict[str, object]]:
        layer = layer_tar(
            {
                "usr/local/bin/python3.12": b"\x00Python-3.12.1\x00",
                "usr/local/bin/python3": Link("python3.12"),
                "usr/local/lib/python3.12/site-packages/attrs-23.1.0.dist-info/METADATA": metadata("attrs", version),
            }
        )
        return [layer], {"architecture": arch, "os": "linux", "config": {}}

    layout = write_oci_layout(
        tmp_path / "multi", {"linux/amd64": image("amd64", "1.0"), "linux/arm64/v8": image("arm64", "2.0")}
    )
    arm = scan_image(f"oci:{layout}", platform="linux/arm64")
    assert arm.platform is not None and arm.platform.arch == "aarch64"
    assert [(p.name, p.version, p.active) for p in arm.packages["python"]] == [("attrs", "2.0", True)]
    amd = scan_image(f"oci:{layout}", platform="linux/amd64")
    assert [p.version for p in amd.packages["python"]] == ["1.0"]
    with pytest.raises(ImageError, match="no manifest for platform linux/s390x"):
        scan_image(f"oci:{layout}", platform="linux/s390x")


def test_dir_rootfs_matches_layers(tmp_path: Path) -> None:
    root = write_rootfs(tmp_path / "rootfs", standard_layers())
    snap = scan_image(f"dir:{root}")
    # No image config: nothing on a custom PATH, so the default PATH finds the system python.
    assert snap.runtimes["python"].version == "3.11.7"
    pkgs = _pkgs(snap, "python")
    assert ("six", "1.17.0", "/usr/local/lib/python3.11/site-packages/six-1.16.0.dist-info", True) in pkgs
    assert not any(name == "gone" for name, *_ in pkgs)
    assert snap.platform is not None and snap.platform.distro == "debian 12"
    assert snap.platform.arch == "x86_64"  # from the loader's name, there is no config
    assert any("no image config" in n for n in snap.notes)


def test_dir_symlinks_never_leave_the_root(tmp_path: Path) -> None:
    outside = tmp_path / "host-secret"
    outside.mkdir()
    (outside / "os-release").write_text("ID=hostos\nVERSION_ID=99\n")
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "usr/lib").mkdir(parents=True)
    (root / "usr/lib/os-release").write_text("ID=alpine\nVERSION_ID=3.19.1\n")
    # absolute and climbing links both point outside the root on the host
    (root / "etc/os-release").symlink_to(outside / "os-release")
    (root / "escape").symlink_to("../../../../../../../../" + str(outside).lstrip("/"))
    snap = scan_image(f"dir:{root}")
    assert snap.platform is not None and snap.platform.distro == "alpine 3.19.1"


def test_whiteout_of_a_whole_site_and_symlinked_dir(tmp_path: Path) -> None:
    lower = {
        "usr/lib/python3/dist-packages/apt-2.6.0.egg-info": metadata("python-apt", "2.6.0"),
        "usr/lib/python3/dist-packages/chardet-5.1.0.egg-info/PKG-INFO": metadata("chardet", "5.1.0"),
        "usr/bin/python3.11": b"\x003.11.2\x00",
        "usr/bin/python3": Link("python3.11"),
        "var/lib/dpkg/status": b"Package: python3.11-minimal\nStatus: install ok installed\nVersion: 3.11.2-6+deb12u1\n",
    }
    upper = {"usr/lib/python3/dist-packages/chardet-5.1.0.egg-info": Link("/nowhere")}
    layers = [layer_tar(lower), layer_tar(upper)]
    archive = tmp_path / "sys.tar"
    archive.write_bytes(docker_archive(layers, {"architecture": "amd64", "os": "linux", "config": {}}))
    snap = scan_image(f"docker-archive:{archive}")
    assert snap.runtimes["python"].version == "3.11.2"
    assert _pkgs(snap, "python") == {("python-apt", "2.6.0", "/usr/lib/python3/dist-packages/apt-2.6.0.egg-info", True)}


def test_repeated_layer_linked_in_docker_archive(tmp_path: Path) -> None:
    same = layer_tar({"usr/local/lib/python3.11/site-packages/a-1.dist-info/METADATA": metadata("a", "1")})
    other = layer_tar({"etc/x": b"y"})
    layers = [same, other, same]
    archive = tmp_path / "dup.tar"
    archive.write_bytes(
        docker_archive(layers, {"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {"diff_ids": []}})
    )
    with pytest.raises(ImageError, match="config lists 0 layers"):
        scan_image(f"docker-archive:{archive}")
    cfg = {"architecture": "amd64", "os": "linux", "config": {}}
    archive.write_bytes(docker_archive(layers, cfg))
    snap = scan_image(f"docker-archive:{archive}")
    assert [p.name for p in snap.packages["python"]] == ["a"]
    assert snap.image is not None and snap.image["layers"] == 3


def test_version_sources_without_binary_strings(tmp_path: Path) -> None:
    """Alpine: versions from the apk database; node headers absent."""
    layer = {
        "etc/os-release": b"ID=alpine\nVERSION_ID=3.19.1\n",
        "lib/apk/db/installed": b"P:musl\nV:1.2.4_git20230717-r4\n\nP:python3\nV:3.11.8-r0\n\nP:nodejs\nV:20.15.1-r0\n\n"
        b"P:npm\nV:10.2.5-r0\n",
        "lib/ld-musl-x86_64.so.1": b"\x7fELF",
        "usr/bin/python3.11": b"\x7fELF no version here",
        "usr/bin/python3": Link("python3.11"),
        "usr/bin/node": b"\x7fELF",
    }
    archive = tmp_path / "alpine.tar"
    archive.write_bytes(docker_archive([layer_tar(layer)], {"architecture": "arm64", "os": "linux", "config": {}}))
    snap = scan_image(f"docker-archive:{archive}")
    assert snap.runtimes["python"].version == "3.11.8"
    assert snap.runtimes["node"].version == "20.15.1"
    assert snap.runtimes["npm"].version == "10.2.5"
    assert snap.platform is not None
    assert (snap.platform.libc, snap.platform.arch, snap.platform.distro) == (
        "musl 1.2.4_git20230717",
        "aarch64",
        "alpine 3.19.1",
    )


def test_patch_unknown_is_said_not_invented(tmp_path: Path) -> None:
    layer = {"usr/bin/python3.12": b"\x7fELF", "usr/bin/python3": Link("python3.12")}
    archive = tmp_path / "p.tar"
    cfg = {"architecture": "amd64", "os": "linux", "config": {"Env": ["PYTHON_VERSION=3.12.9"]}}
    archive.write_bytes(docker_archive([layer_tar(layer)], cfg))
    snap = scan_image(f"docker-archive:{archive}")
    assert snap.runtimes["python"].version == "3.12"
    assert any("patch level" in n and "--probe" in n for n in snap.notes)


def test_env_allow_keeps_a_named_value(tmp_path: Path, std: tuple[list[bytes], dict[str, object]]) -> None:
    archive = tmp_path / "app.tar"
    archive.write_bytes(docker_archive(*std))
    snap = scan_image(f"docker-archive:{archive}", env_allow=["HARMLESS_NAME", "GITHUB_TOKEN"])
    # allowed by name, still withheld because the value itself is a credential
    assert snap.env["HARMLESS_NAME"].value is None
    assert snap.env["GITHUB_TOKEN"].value is None


def test_unreachable_registry_is_a_clear_error() -> None:
    # Port 9 (discard) has no registry: one line naming it, no traceback.
    with pytest.raises(EnvcheckError, match=r"cannot reach registry 127\.0\.0\.1:9"):
        scan_image("registry:127.0.0.1:9/app:1")


def test_gz_helper_layer_in_legacy_archive(tmp_path: Path) -> None:
    """Some tools write gzip layers into docker-archive; diff_id is the uncompressed digest."""
    plain = layer_tar({"usr/local/lib/python3.11/site-packages/b-2.dist-info/METADATA": metadata("b", "2")})
    from image_testutil import sha

    archive = tmp_path / "g.tar"
    cfg = {"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {"diff_ids": [sha(plain)]}}
    archive.write_bytes(docker_archive([gz(plain)], cfg))
    snap = scan_image(f"docker-archive:{archive}")
    assert [(p.name, p.version) for p in snap.packages["python"]] == [("b", "2")]
