"""envcheck's snapshots as CycloneDX 1.6 and SPDX 2.3: valid against the official schemas, read back by syft and by envcheck."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from envcheck.cli import main
from envcheck.sbom import FORMATS, render
from envcheck.sbom.read import load_sbom
from envcheck.snapshot import Declared, LockedPackage, Snapshot, Source
from tests.sbom.sbom_testutil import (
    cyclonedx_validator,
    image_snapshot,
    schema_errors,
    spdx_validator,
    syft_packages,
    syft_run,
)

SBOM_FORMATS = ("cyclonedx", "spdx")


def _write(tmp_path: Path, snap: Snapshot, fmt: str) -> Path:
    out = tmp_path / f"snap.{fmt}.json"
    out.write_text(render(snap, fmt), encoding="utf-8")  # type: ignore[arg-type]
    return out


def test_every_snapshot_format_renders() -> None:
    # The registry guard: a format added to FORMATS without a writer fails here.
    snap = image_snapshot()
    for fmt in FORMATS:
        assert json.loads(render(snap, fmt))


def test_cyclonedx_validates_against_the_official_1_6_schema() -> None:
    doc = json.loads(render(image_snapshot(), "cyclonedx"))
    assert doc["bomFormat"] == "CycloneDX" and doc["specVersion"] == "1.6"
    assert schema_errors(cyclonedx_validator(), doc) == []


def test_spdx_validates_against_the_official_2_3_schema_and_spdx_tools() -> None:
    text = render(image_snapshot(), "spdx")
    doc = json.loads(text)
    assert doc["spdxVersion"] == "SPDX-2.3"
    assert schema_errors(spdx_validator(), doc) == []
    from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    parsed = JsonLikeDictParser().parse(doc)
    assert [m.validation_message for m in validate_full_spdx_document(parsed)] == []


def test_project_and_host_snapshots_validate_too() -> None:
    host = Snapshot(source=Source(kind="host", ref="laptop", captured_at="2026-01-02T03:04:05Z"))
    locks = (LockedPackage("python", "flask", "3.0.0", source="poetry.lock"),)
    project = Snapshot(source=Source(kind="project", ref="."), declared=Declared(locks=locks))
    for snap in (host, project):
        assert schema_errors(cyclonedx_validator(), json.loads(render(snap, "cyclonedx"))) == []
        assert schema_errors(spdx_validator(), json.loads(render(snap, "spdx"))) == []


def test_packages_are_components_with_purls_and_interpreters_have_their_own_type() -> None:
    doc = json.loads(render(image_snapshot(), "cyclonedx"))
    by_purl = {c["purl"]: c for c in doc["components"]}
    assert "pkg:pypi/requests@2.28.2" in by_purl
    assert by_purl["pkg:npm/%40types/node@20.1.0"]["name"] == "@types/node"
    assert by_purl["pkg:pypi/requests@2.28.2"]["type"] == "library"
    assert by_purl["pkg:generic/python@3.11.2"]["type"] == "platform"
    assert by_purl["pkg:generic/node@20.20.2"]["type"] == "platform"
    assert by_purl["pkg:generic/npm@11.19.1"]["type"] == "application"
    props = {p["name"]: p["value"] for p in by_purl["pkg:pypi/pip@23.0.1"]["properties"]}
    assert props["envcheck:path"] == "/usr/lib/python3/dist-packages/pip-23.0.1.dist-info"
    assert props["envcheck:active"] == "false"
    assert doc["metadata"]["component"]["type"] == "container"
    meta = {(p["name"], p["value"]) for p in doc["metadata"]["properties"]}
    assert ("envcheck:platform:libc", "glibc 2.36") in meta
    assert ("envcheck:env", "DATABASE_URL") in meta


@pytest.mark.parametrize("fmt", SBOM_FORMATS)
def test_env_var_names_are_written_never_their_values(fmt: str) -> None:
    text = render(image_snapshot(), fmt)  # type: ignore[arg-type]
    assert "APP_ENV" in text and "DATABASE_URL" in text
    assert "production" not in text and "/opt/venv/bin:/usr/bin" not in text


@pytest.mark.parametrize("fmt", SBOM_FORMATS)
def test_output_is_reproducible_from_the_snapshot(fmt: str) -> None:
    # Serial number / namespace and timestamps derive from the snapshot, so two runs diff cleanly.
    a, b = render(image_snapshot(), fmt), render(image_snapshot(), fmt)  # type: ignore[arg-type]
    assert a == b
    assert "2026-01-02T03:04:05" in a


@pytest.mark.parametrize("fmt", SBOM_FORMATS)
def test_envcheck_reads_its_own_sbom_back_whole(fmt: str, tmp_path: Path) -> None:
    snap = image_snapshot()
    back = load_sbom(f"sbom:{_write(tmp_path, snap, fmt)}")
    assert back.source == snap.source
    assert back.platform == snap.platform
    assert back.runtimes == snap.runtimes
    for eco in ("python", "node"):
        assert sorted(back.packages[eco], key=repr) == sorted(snap.packages[eco], key=repr)
    # Names survive, values do not: an SBOM leaves envcheck without secrets.
    assert set(back.env) == set(snap.env) and all(v.set and v.value is None for v in back.env.values())
    assert back.unknown == ()
    assert back.image == snap.image
    assert set(snap.notes) <= set(back.notes)


@pytest.mark.parametrize("fmt", SBOM_FORMATS)
def test_a_project_snapshot_travels_as_its_lock(fmt: str, tmp_path: Path) -> None:
    locks = (
        LockedPackage("python", "flask", "3.0.0", source="poetry.lock"),
        LockedPackage("node", "@scope/x", "1.0.0", source="package-lock.json", dev=True, path="node_modules/@scope/x"),
    )
    snap = Snapshot(source=Source(kind="project", ref="/src/app", captured_at="2026-01-02T03:04:05Z"))
    snap = Snapshot(source=snap.source, declared=Declared(locks=locks))
    back = load_sbom(str(_write(tmp_path, snap, fmt)))
    assert back.kind == "project"
    assert back.declared is not None
    assert sorted(back.declared.locks, key=repr) == sorted(locks, key=repr)


@pytest.mark.parametrize("fmt", SBOM_FORMATS)
def test_syft_reads_envchecks_sbom_with_the_same_package_set(fmt: str, tmp_path: Path, syft_bin: str) -> None:
    snap = image_snapshot()
    out = syft_packages(syft_run(syft_bin, "convert", str(_write(tmp_path, snap, fmt)), "-o", "syft-json"))
    assert out["python"] == {(p.name, p.version) for p in snap.packages["python"]}
    assert out["npm"] == {(p.name, p.version) for p in snap.packages["node"]}


def test_cli_snapshot_format_writes_an_sbom(tmp_path: Path) -> None:
    out = tmp_path / "project.cdx.json"
    fixture = Path(__file__).parents[2] / "fixtures" / "poetry-app"
    assert main(["snapshot", "project", str(fixture), "--format", "cyclonedx", "-o", str(out)]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert schema_errors(cyclonedx_validator(), doc) == []
    assert any(c["purl"].startswith("pkg:pypi/") for c in doc["components"])


def test_without_the_sbom_extra_the_error_says_what_to_install(tmp_path: Path) -> None:
    # A fresh interpreter where the SBOM libraries cannot be imported: one line, exit 2.
    code = (
        "import sys; sys.modules['cyclonedx'] = None; sys.modules['spdx_tools'] = None\n"
        "from envcheck.cli import main; sys.exit(main(['snapshot', 'project', sys.argv[1], '--format', 'cyclonedx']))"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "envcheck[sbom]" in proc.stderr
