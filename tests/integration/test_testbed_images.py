"""The standard test images really hold what the scanner tests expect.

These are checked by *running* each image in the engine (pip / npm / ls inside
the container), independently of envcheck's static scanner, so a scanner test
that compares against ``testbed.*_PACKAGES`` compares against the truth.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
import testbed

pytestmark = pytest.mark.engine


def _pip_list(docker_engine: Any, tag: str, python: str) -> dict[str, str]:
    out = docker_engine.run(tag, [python, "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"])
    return {d["name"].lower(): d["version"] for d in json.loads(out)}


def test_python_venv_image(docker_engine: Any, python_venv_image: Any) -> None:
    tag = python_venv_image.tag
    assert _pip_list(docker_engine, tag, "/opt/venv/bin/python") == dict(testbed.PYTHON_VENV_PACKAGES)
    out = docker_engine.run(tag, ["sh", "-c", "id -un; pwd; command -v python; echo $APP_ENV; python app.py"])
    assert out.splitlines() == ["app", "/app", "/opt/venv/bin/python", "production", "2.28.2 production"]


def test_system_site_of_the_python_standin(docker_engine: Any, system_python_image: Any) -> None:
    tag = system_python_image.tag
    out = docker_engine.run(
        tag, ["sh", "-c", "ls /usr/local/lib/python3*/dist-packages /usr/lib/python3/dist-packages"]
    )
    names = set(out.split())
    assert {"six-1.16.0.dist-info", "idna-3.4.dist-info"} <= names
    assert {"pip-23.0.1.dist-info", "setuptools-66.1.1.egg-info", "wheel-0.38.4.egg-info"} <= names
    installed = _pip_list(docker_engine, tag, "python3")
    expected = {**testbed.DEBIAN_DIST_PACKAGES, **testbed.SYSTEM_SITE_PACKAGES}
    assert {k: installed.get(k) for k in expected} == expected


def test_node_app_image(docker_engine: Any, node_app_image: Any) -> None:
    tag = node_app_image.tag
    out = docker_engine.run(tag, ["sh", "-c", "id -un; pwd; npm ls --all --json --offline"])
    user, cwd, tree_json = out.split("\n", 2)
    assert (user, cwd) == ("node", "/app")
    tree = json.loads(tree_json)

    def walk(deps: dict[str, Any], prefix: str) -> set[tuple[str, str, str]]:
        found = set()
        for name, dep in deps.items():
            path = f"{prefix}node_modules/{name}"
            found.add((path, name, dep["version"]))
            found |= walk(dep.get("dependencies", {}), path + "/")
        return found

    installed = walk(tree["dependencies"], "")
    # npm ls shows a deduplicated dependency once more under its dependant.
    assert set(testbed.NODE_APP_INSTALLED) <= installed
    run = docker_engine.run(tag, ["node", "server.js"])
    assert run.strip() == "1m"


def _layers(archive: Path) -> list[list[str]]:
    with tarfile.open(archive) as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        names = json.load(member)[0]["Layers"]
        out = []
        for name in names:
            layer = tar.extractfile(name)
            assert layer is not None
            with tarfile.open(fileobj=layer, mode="r|") as lt:
                out.append([m.name for m in lt])
    return out


def test_multi_layer_delete_image_has_whiteouts_and_an_opaque_dir(docker_engine: Any, multi_layer_image: Any) -> None:
    layers = _layers(multi_layer_image.refs.docker_archive)
    members = [m for layer in layers for m in layer]
    site = "opt/venv/lib/python3.11/site-packages"
    assert f"{site}/.wh.six.py" in members
    assert f"{site}/.wh.six-1.16.0.dist-info" in members
    if docker_engine.bed.storage_driver == "overlay2":
        # vfs computes diffs file by file and writes plain whiteouts instead.
        assert f"{site}/.wh..wh..opq" in members
    # six and certifi were installed by an earlier layer: the file is in the archive…
    assert any(m.startswith(f"{site}/certifi-2022.12.7.dist-info") for m in members)
    # …but the running image sees only what the last layers left.
    out = docker_engine.run(multi_layer_image.tag, ["ls", f"/{site}"])
    assert set(out.split()) == {"idna", "idna-3.3.dist-info"}


def test_oci_layout_matches_its_digests(docker_engine: Any, python_venv_image: Any) -> None:
    oci: Path = python_venv_image.refs.oci_dir
    index = json.loads((oci / "index.json").read_text())
    assert json.loads((oci / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    (desc,) = index["manifests"]
    assert desc["annotations"]["org.opencontainers.image.ref.name"] == python_venv_image.tag

    def blob(digest: str) -> bytes:
        data = (oci / "blobs" / "sha256" / digest.split(":", 1)[1]).read_bytes()
        assert "sha256:" + hashlib.sha256(data).hexdigest() == digest
        return data

    manifest = json.loads(blob(desc["digest"]))
    config = json.loads(blob(manifest["config"]["digest"]))
    assert len(config["rootfs"]["diff_ids"]) == len(manifest["layers"])
    for layer in manifest["layers"]:
        assert layer["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"
        assert len(blob(layer["digest"])) == layer["size"]
    # The same image id the engine has: the config blob is the engine's config.
    assert manifest["config"]["digest"] == docker_engine.client.images.get(python_venv_image.tag).id


def test_exported_rootfs_is_the_flattened_image(python_venv_image: Any) -> None:
    root = python_venv_image.refs.rootfs
    assert (root / "opt/venv/lib/python3.11/site-packages/requests-2.28.2.dist-info/METADATA").is_file()
    assert (root / "usr/local/bin/python3").is_symlink()
    assert not (root / "tmp/wheels").exists()
