"""Build synthetic images in memory: layers, docker-archive, OCI layouts, rootfs dirs.

Everything is made with tarfile + json + hashlib, so the image scanner's tests
need no engine.  A layer is a dict ``{path: content}`` where content is bytes
(a file), ``Link(target)`` (symlink), ``Hard(target)``, ``DIR`` or ``WHITEOUT``
/ ``OPAQUE`` markers; the helpers turn it into a tar.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Link:
    target: str


@dataclass(frozen=True)
class Hard:
    target: str


DIR = object()
WHITEOUT = object()  # ".wh.<name>" for this path
OPAQUE = object()  # ".wh..wh..opq" inside this directory

Layer = dict[str, Any]


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_tar(files: Layer) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for path, content in files.items():
            parent, _, base = path.rpartition("/")
            if content is WHITEOUT:
                name = f"{parent}/.wh.{base}" if parent else f".wh.{base}"
                tf.addfile(tarfile.TarInfo(name), io.BytesIO(b""))
                continue
            if content is OPAQUE:
                tf.addfile(tarfile.TarInfo(f"{path}/.wh..wh..opq"), io.BytesIO(b""))
                continue
            ti = tarfile.TarInfo(path)
            if content is DIR:
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                tf.addfile(ti)
            elif isinstance(content, Link):
                ti.type = tarfile.SYMTYPE
                ti.linkname = content.target
                tf.addfile(ti)
            elif isinstance(content, Hard):
                ti.type = tarfile.LNKTYPE
                ti.linkname = content.target
                tf.addfile(ti)
            else:
                ti.size = len(content)
                ti.mode = 0o755
                tf.addfile(ti, io.BytesIO(content))
    return buf.getvalue()


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def metadata(name: str, version: str) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: x\n\nlong description\nName: wrong\n".encode()


def package_json(name: str, version: str) -> bytes:
    return json.dumps({"name": name, "version": version, "description": "x"}).encode()


# --------------------------------------------------------------------------- a realistic image

SECRET_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
AWS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"


def standard_layers() -> list[Layer]:
    """A python + node image in five layers, with deletions across layers."""
    base: Layer = {
        "etc": DIR,
        "etc/os-release": Link("../usr/lib/os-release"),
        "usr/lib/os-release": b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n',
        "var/lib/dpkg/status": (
            b"Package: libc6\nStatus: install ok installed\nVersion: 2.36-9+deb12u4\n\n"
            b"Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\n\n"
        ),
        "bin": Link("usr/bin"),
        "lib": Link("usr/lib"),
        "usr/lib/x86_64-linux-gnu/libc.so.6": b"\x7fELF junk GNU C Library (Debian GLIBC 2.36-9) stable release version 2.36.\x00",
        "lib64/ld-linux-x86-64.so.2": b"\x7fELF",
        "usr/bin/bash": b"\x7fELF",
    }
    python: Layer = {
        "usr/local/bin/python3.11": b"\x7fELF....\x00Python-3.11.7\x00more",
        "usr/local/bin/python3": Link("python3.11"),
        "usr/local/bin/python": Link("python3"),
        "usr/local/include/python3.11/patchlevel.h": b'#define PY_VERSION "3.11.7"\n',
        "usr/local/lib/python3.11/site-packages/pip-23.2.1.dist-info/METADATA": metadata("pip", "23.2.1"),
        "usr/local/lib/python3.11/site-packages/six-1.16.0.dist-info/METADATA": metadata("six", "1.16.0"),
        "usr/local/lib/python3.11/site-packages/Old_Thing-0.1-py3.11.egg-info/PKG-INFO": metadata("Old_Thing", "0.1"),
        "usr/local/lib/python3.11/site-packages/gone/x.py": b"",
        "usr/local/lib/python3.11/site-packages/gone-1.0.dist-info/METADATA": metadata("gone", "1.0"),
        "usr/local/lib/python3.11/site-packages/setuptools/_vendor/packaging-24.0.dist-info/METADATA": metadata(
            "packaging", "24.0"
        ),
    }
    venv: Layer = {
        "opt/venv/pyvenv.cfg": b"home = /usr/local/bin\ninclude-system-site-packages = false\nversion = 3.11.7\n",
        "opt/venv/bin/python3": Link("/usr/local/bin/python3"),
        "opt/venv/bin/python": Link("python3"),
        "opt/venv/lib/python3.11/site-packages/Flask-3.0.0.dist-info/METADATA": metadata("Flask", "3.0.0"),
        "opt/venv/lib/python3.11/site-packages/zope.interface-6.1.dist-info/METADATA": metadata(
            "zope.interface", "6.1"
        ),
        "opt/venv/lib/python3.11/site-packages/mylib-0.1.dist-info/METADATA": metadata("mylib", "0.1"),
        "opt/venv/lib/python3.11/site-packages/mylib-0.1.dist-info/direct_url.json": json.dumps(
            {"url": "file:///src", "dir_info": {"editable": True}}
        ).encode(),
        "opt/venv/lib64": Link("lib"),
    }
    node: Layer = {
        "usr/local/bin/node": b"\x7fELF https://nodejs.org/download/release/v20.11.1/node-v20.11.1-headers.tar.gz\x00",
        "usr/local/include/node/node_version.h": b"#define NODE_MAJOR_VERSION 20\n#define NODE_MINOR_VERSION 11\n"
        b"#define NODE_PATCH_VERSION 1\n",
        "usr/local/lib/node_modules/npm/package.json": package_json("npm", "10.2.4"),
        "usr/local/lib/node_modules/npm/node_modules/abbrev/package.json": package_json("abbrev", "2.0.0"),
        "usr/local/bin/npm": Link("../lib/node_modules/npm/bin/npm-cli.js"),
        "usr/local/lib/node_modules/npm/bin/npm-cli.js": b"#!/usr/bin/env node\n",
        "app/package.json": package_json("myapp", "1.0.0"),
        "app/node_modules/express/package.json": package_json("express", "4.18.2"),
        "app/node_modules/express/lib/package.json": b'{"name": "not-a-package", "version": "0"}',
        "app/node_modules/express/node_modules/debug/package.json": package_json("debug", "2.6.9"),
        "app/node_modules/@types/node/package.json": package_json("@types/node", "20.1.0"),
        "app/node_modules/removed/package.json": package_json("removed", "1.0.0"),
        "app/node_modules/.cache/x/package.json": b"{}",
    }
    deletes: Layer = {
        # a file whiteout for one site package, an opaque directory for a cache
        "usr/local/lib/python3.11/site-packages/gone-1.0.dist-info": WHITEOUT,
        "usr/local/lib/python3.11/site-packages/gone": WHITEOUT,
        "app/node_modules/removed": WHITEOUT,
        "app/node_modules/.cache": OPAQUE,
        "usr/local/lib/python3.11/site-packages/six-1.16.0.dist-info/METADATA": metadata("six", "1.17.0"),
    }
    return [base, python, venv, node, deletes]


def standard_config(layers: list[bytes]) -> dict[str, Any]:
    return {
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Env": [
                "PATH=/opt/venv/bin:/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
                "PYTHON_VERSION=3.11.7",
                "NODE_VERSION=20.11.1",
                "APP_ENV=production",
                f"GITHUB_TOKEN={SECRET_TOKEN}",
                f"HARMLESS_NAME={AWS_KEY}",
                "DATABASE_URL=postgres://u:p4ssw0rd@db/app",
            ],
            "User": "app",
            "WorkingDir": "/app",
            "Entrypoint": ["/opt/venv/bin/python", "-m", "app"],
            "Cmd": ["--token", SECRET_TOKEN, "--password=hunter2-s3cret-Value"],
            "Labels": {
                "org.opencontainers.image.source": "https://example.invalid/app",
                "api_key": "k9Xz7Qw2Lp4Rt8Yv3Nb6",
            },
        },
        "rootfs": {"type": "layers", "diff_ids": [sha(layer) for layer in layers]},
        "history": [],
    }


def _add(tf: tarfile.TarFile, name: str, data: bytes) -> None:
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    tf.addfile(ti, io.BytesIO(data))


def docker_archive(
    layers: list[bytes],
    config: dict[str, Any],
    *,
    oci_in_tar: bool = False,
    tags: tuple[str, ...] = ("example/app:1",),
    manifest_last: bool = True,
) -> bytes:
    """``docker save`` output: legacy (``<id>/layer.tar``) or Docker 25+ (OCI blobs + manifest.json)."""
    config_bytes = json.dumps(config).encode()
    config_hex = hashlib.sha256(config_bytes).hexdigest()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        names = []
        if oci_in_tar:
            _add(tf, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
            layer_descs = []
            for layer in layers:
                hexd = hashlib.sha256(layer).hexdigest()
                _add(tf, f"blobs/sha256/{hexd}", layer)
                names.append(f"blobs/sha256/{hexd}")
                layer_descs.append(
                    {
                        "mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": f"sha256:{hexd}",
                        "size": len(layer),
                    }
                )
            _add(tf, f"blobs/sha256/{config_hex}", config_bytes)
            manifest = json.dumps(
                {
                    "schemaVersion": 2,
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {
                        "mediaType": "application/vnd.oci.image.config.v1+json",
                        "digest": f"sha256:{config_hex}",
                        "size": len(config_bytes),
                    },
                    "layers": layer_descs,
                }
            ).encode()
            _add(tf, f"blobs/sha256/{hashlib.sha256(manifest).hexdigest()}", manifest)
            index = {
                "schemaVersion": 2,
                "manifests": [
                    {
                        "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "digest": sha(manifest),
                        "size": len(manifest),
                    }
                ],
            }
            _add(tf, "index.json", json.dumps(index).encode())
            config_name = f"blobs/sha256/{config_hex}"
        else:
            seen: dict[str, str] = {}
            for i, layer in enumerate(layers):
                layer_id = hashlib.sha256(layer + bytes([i])).hexdigest()
                name = f"{layer_id}/layer.tar"
                digest = sha(layer)
                if digest in seen:
                    # docker save links a repeated layer to its first copy
                    ti = tarfile.TarInfo(name)
                    ti.type = tarfile.SYMTYPE
                    ti.linkname = f"../{seen[digest]}"
                    tf.addfile(ti)
                else:
                    _add(tf, f"{layer_id}/VERSION", b"1.0")
                    _add(tf, name, layer)
                    seen[digest] = name
                names.append(name)
            config_name = f"{config_hex}.json"
            _add(tf, config_name, config_bytes)
        manifest_json = json.dumps([{"Config": config_name, "RepoTags": list(tags), "Layers": names}]).encode()
        if manifest_last:
            _add(tf, "manifest.json", manifest_json)
    out = buf.getvalue()
    if not manifest_last:
        raise NotImplementedError
    return out


def write_oci_layout(
    root: Path,
    images: dict[str, tuple[list[bytes], dict[str, Any]]],
    *,
    media_type: str = "application/vnd.oci.image.layer.v1.tar+gzip",
) -> Path:
    """An OCI layout whose index lists one manifest per platform (``linux/amd64`` …)."""
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)

    def put(data: bytes) -> str:
        digest = sha(data)
        (blobs / digest.split(":")[1]).write_bytes(data)
        return digest

    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    entries = []
    for plat, (layers, config) in images.items():
        stored = [gz(layer) if media_type.endswith("gzip") else layer for layer in layers]
        config_bytes = json.dumps(config).encode()
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": put(config_bytes),
                    "size": len(config_bytes),
                },
                "layers": [{"mediaType": media_type, "digest": put(s), "size": len(s)} for s in stored],
            }
        ).encode()
        os_, arch, *variant = plat.split("/")
        platform = {"os": os_, "architecture": arch}
        if variant:
            platform["variant"] = variant[0]
        entries.append(
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": put(manifest),
                "size": len(manifest),
                "platform": platform,
            }
        )
    if len(entries) > 1:
        inner = json.dumps(
            {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries}
        ).encode()
        top = [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": put(inner), "size": len(inner)}]
    else:
        top = entries
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": top}))
    return root


def tar_directory(root: Path, *, gzip_it: bool = False) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for dirpath, _dirs, files in sorted(os.walk(root)):
            for f in sorted(files):
                full = Path(dirpath) / f
                tf.add(full, arcname=str(full.relative_to(root)))
    return gz(buf.getvalue()) if gzip_it else buf.getvalue()


def write_rootfs(root: Path, layers: list[Layer]) -> Path:
    """Unpack layers into a directory the way an engine would (whiteouts applied)."""
    import shutil

    for layer in layers:
        for path, content in layer.items():
            target = root / path
            if content is WHITEOUT:
                if target.is_symlink() or target.is_file():
                    target.unlink()
                elif target.is_dir():
                    shutil.rmtree(target)
                continue
            if content is OPAQUE:
                if target.is_dir():
                    shutil.rmtree(target)
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if content is DIR:
                target.mkdir(exist_ok=True)
            elif isinstance(content, Link):
                if target.is_symlink() or target.exists():
                    target.unlink()
                target.symlink_to(content.target)
            elif isinstance(content, Hard):
                continue
            else:
                if target.is_symlink():
                    target.unlink()
                target.write_bytes(content)
    return root
