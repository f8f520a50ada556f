"""The image scanner on real images built by a real engine, checked two ways.

1. Against what the images were built to hold (``testbed.*``; the images'
   contents are themselves verified by running them, in
   ``test_testbed_images.py``): exact runtime versions and package sets, under
   every transport a user can name — ``docker-archive:`` (``docker save``),
   ``docker:`` (the engine), ``oci:`` / ``oci-archive:`` (an OCI layout of the
   same layers, gzip-compressed) and ``dir:`` (the exported root file system).
2. Against syft, an independent scanner: the Python and npm inventories
   (name, version, location) must be equal.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import testbed
from packaging.utils import canonicalize_name

from envcheck.scanners.image import scan_image
from envcheck.snapshot import Snapshot

pytestmark = pytest.mark.engine

TRANSPORTS = ("docker-archive", "docker", "oci", "oci-archive", "dir")
IMAGES = ("python_venv_image", "node_app_image", "multi_layer_image", "system_python_image")

_SCANS: dict[str, Snapshot] = {}


def _scan(ref: str) -> Snapshot:
    if ref not in _SCANS:
        _SCANS[ref] = scan_image(ref)
    return _SCANS[ref]


def _abs(path: str | None, workdir: str) -> str:
    """Node paths of the project under WORKDIR are relative; make every path absolute."""
    assert path is not None
    return path if path.startswith("/") else f"{workdir.rstrip('/')}/{path}"


def _inventory(snap: Snapshot, eco: str, workdir: str = "/app") -> set[tuple[str, str, str]]:
    return {(p.name, p.version, _abs(p.path, workdir)) for p in snap.packages.get(eco, ())}


def _active(snap: Snapshot, eco: str) -> dict[str, str]:
    pkgs = [p for p in snap.packages.get(eco, ()) if p.active]
    by_name = {p.name: p.version for p in pkgs}
    assert len(by_name) == len(pkgs) or eco == "node", f"one active environment expected: {pkgs}"
    return by_name


# --------------------------------------------------------------------------- expectations per image


def _check_python_venv(snap: Snapshot, transport: str) -> None:
    assert snap.runtimes["python"].version == testbed.python_version() == "3.11.2"
    assert "node" not in snap.runtimes
    venv = "/opt/venv/lib/python3.11/site-packages"
    debian = "/usr/lib/python3/dist-packages"
    found = {(p.name, p.version, str(Path(p.path or "").parent)) for p in snap.packages["python"]}
    expected = {(n, v, venv) for n, v in testbed.PYTHON_VENV_PACKAGES.items()}
    expected |= {(n, v, debian) for n, v in testbed.DEBIAN_DIST_PACKAGES.items()}
    assert found == expected
    if transport != "dir":
        # The image's PATH selects the venv: it is what runs; Debian's site is context.
        assert _active(snap, "python") == dict(testbed.PYTHON_VENV_PACKAGES)
        assert snap.env["APP_ENV"].value == "production"
        assert snap.env["DATABASE_URL"].set and snap.env["DATABASE_URL"].value is None
        assert snap.image is not None
        assert snap.image["user"] == "app" and snap.image["workdir"] == "/app"
    assert "hunter2" not in snap.to_json()


def _check_node_app(snap: Snapshot, transport: str) -> None:
    assert snap.runtimes["node"].version == testbed.node_version() == "20.20.2"
    assert snap.runtimes["npm"].version == testbed.npm_version()
    # Yarn 1 as the official image ships it: /usr/local/bin/yarn -> /opt/yarn-v…/bin/yarn.
    assert snap.runtimes["yarn"].version == testbed.YARN1_VERSION
    assert "python" not in snap.runtimes
    # /app/package.json: a node project; dir: has no config, so no WORKDIR to ask about.
    assert snap.image is not None and snap.image.get("node_project") is (None if transport == "dir" else True)
    app = {(n, v, f"/app/{path}") for path, n, v in testbed.NODE_APP_INSTALLED}
    inventory = _inventory(snap, "node")
    assert app <= inventory
    # Everything else is npm's (and corepack's) own bundled dependencies, and Yarn 1's release.
    others = inventory - app
    assert others, "npm's bundled packages belong in the inventory as context"
    yarn = ("yarn", testbed.YARN1_VERSION, f"/opt/yarn-v{testbed.YARN1_VERSION}")
    assert yarn in others
    assert all(p.startswith("/usr/local/lib/node_modules/") for _, _, p in others - {yarn})
    if transport != "dir":
        active = {(p.name, p.version, _abs(p.path, "/app")) for p in snap.packages["node"] if p.active}
        assert active == app
        assert snap.env["NODE_ENV"].value == "production"
        assert snap.image is not None and snap.image["user"] == "node"


def _check_multi_layer(snap: Snapshot, transport: str) -> None:
    assert snap.runtimes["python"].version == "3.11.2"
    venv = {p.name: p.version for p in snap.packages["python"] if (p.path or "").startswith("/opt/venv/")}
    # six was deleted by a whiteout; certifi, pip and setuptools by the opaque
    # site-packages that replaced idna 3.4 with 3.3.
    assert venv == dict(testbed.MULTI_LAYER_PACKAGES)
    if transport != "dir":
        assert _active(snap, "python") == dict(testbed.MULTI_LAYER_PACKAGES)


def _check_system_python(snap: Snapshot, transport: str) -> None:
    assert snap.runtimes["python"].version == "3.11.2"
    found = {(p.name, p.version, str(Path(p.path or "").parent)) for p in snap.packages["python"]}
    expected = {(n, v, "/usr/local/lib/python3.11/dist-packages") for n, v in testbed.SYSTEM_SITE_PACKAGES.items()}
    expected |= {(n, v, "/usr/lib/python3/dist-packages") for n, v in testbed.DEBIAN_DIST_PACKAGES.items()}
    assert found == expected
    if transport != "dir":
        # No venv: the system interpreter and both of its site dirs are what runs.
        assert _active(snap, "python") == {**testbed.DEBIAN_DIST_PACKAGES, **testbed.SYSTEM_SITE_PACKAGES}


CHECKS = {
    "python_venv_image": _check_python_venv,
    "node_app_image": _check_node_app,
    "multi_layer_image": _check_multi_layer,
    "system_python_image": _check_system_python,
}


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("image", IMAGES)
def test_scanner_reads_the_real_image(image: str, transport: str, request: pytest.FixtureRequest) -> None:
    built = request.getfixturevalue(image)
    snap = _scan(built.refs.refs()[transport])
    assert snap.source.kind == "image"
    assert snap.platform is not None
    assert (snap.platform.os, snap.platform.arch, snap.platform.distro, snap.platform.libc) == (
        "linux",
        "x86_64",
        "debian 12",
        "glibc 2.36",
    )
    CHECKS[image](snap, transport)


@pytest.mark.parametrize("transport", [t for t in TRANSPORTS if t != "docker-archive"])
@pytest.mark.parametrize("image", IMAGES)
def test_every_transport_reads_the_same_image(image: str, transport: str, request: pytest.FixtureRequest) -> None:
    built = request.getfixturevalue(image)
    refs = built.refs.refs()
    base = _scan(refs["docker-archive"])
    other = _scan(refs[transport])
    assert other.runtimes == base.runtimes
    assert other.platform == base.platform
    for eco in ("python", "node"):
        assert _inventory(other, eco) == _inventory(base, eco)
    if transport != "dir":  # dir: carries no image config
        assert other.env == base.env
        assert [
            (p.name, p.version, p.path, p.active) for eco in ("python", "node") for p in other.packages.get(eco, ())
        ] == [(p.name, p.version, p.path, p.active) for eco in ("python", "node") for p in base.packages.get(eco, ())]
        assert other.image is not None and base.image is not None
        assert other.image["digest"] == base.image["digest"]


# --------------------------------------------------------------------------- syft as an oracle

_SYFT: dict[Path, list[dict[str, Any]]] = {}


def _syft(syft_bin: str, archive: Path) -> list[dict[str, Any]]:
    if archive not in _SYFT:
        proc = subprocess.run(
            [syft_bin, "scan", f"docker-archive:{archive}", "-o", "json", "-q"],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            env={"SYFT_CHECK_FOR_APP_UPDATE": "false", "PATH": "/usr/bin:/bin"},
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        _SYFT[archive] = json.loads(proc.stdout)["artifacts"]
    return _SYFT[archive]


def _syft_inventory(artifacts: Iterable[dict[str, Any]], kind: str) -> set[tuple[str, str, str]]:
    out = set()
    for a in artifacts:
        if a["type"] != kind:
            continue
        # syft locates a package by the metadata file it read (METADATA,
        # PKG-INFO, package.json); the package lives in that file's directory.
        where = str(Path(a["locations"][0]["path"]).parent)
        if kind == "npm" and where == "/app":
            # The project's own manifest at the image's working directory
            # ("envcheck-node-app"), which syft lists as a package; envcheck
            # reads it as the project, not as an installed dependency.
            continue
        name = str(canonicalize_name(a["name"])) if kind == "python" else a["name"]
        out.add((name, a["version"], where))
    return out


@pytest.mark.parametrize("image", IMAGES)
def test_package_inventory_equals_syfts(image: str, request: pytest.FixtureRequest, syft_bin: str) -> None:
    built = request.getfixturevalue(image)
    archive = built.refs.docker_archive
    snap = _scan(f"docker-archive:{archive}")
    artifacts = _syft(syft_bin, archive)
    assert _inventory(snap, "python") == _syft_inventory(artifacts, "python")
    assert _inventory(snap, "node") == _syft_inventory(artifacts, "npm")


def test_project_manifest_is_the_only_npm_entry_syft_has_beyond_ours(node_app_image: Any, syft_bin: str) -> None:
    # Pins down the one exclusion the comparison above makes, so it cannot
    # silently grow: syft's extra npm entries are exactly the app's package.json.
    artifacts = _syft(syft_bin, node_app_image.refs.docker_archive)
    outside = [(a["name"], a["locations"][0]["path"]) for a in artifacts if a["type"] == "npm"]
    outside = [(n, p) for n, p in outside if "/node_modules/" not in p]
    # Yarn 1's release under /opt is in both inventories; the app's manifest only in syft's.
    assert sorted(outside) == [
        ("envcheck-node-app", "/app/package.json"),
        ("yarn", f"/opt/yarn-v{testbed.YARN1_VERSION}/package.json"),
    ]
