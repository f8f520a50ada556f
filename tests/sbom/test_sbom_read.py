"""Foreign SBOMs as snapshots: CycloneDX 1.4–1.6, SPDX 2.2/2.3 and syft JSON, by purl."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from envcheck.errors import EnvcheckError
from envcheck.sbom.read import load_sbom
from envcheck.snapshot import UNKNOWN_ACTIVE, UNKNOWN_ENV, Snapshot, load_snapshot


def _file(tmp_path: Path, doc: Any, name: str = "sbom.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def _cdx(version: str, components: list[dict[str, Any]], **metadata: Any) -> dict[str, Any]:
    return {
        "bomFormat": "CycloneDX",
        "specVersion": version,
        "version": 1,
        "metadata": metadata,
        "components": components,
    }


def _pkgs(snap: Snapshot, eco: str) -> set[tuple[str, str, str | None]]:
    return {(p.name, p.version, p.path) for p in snap.packages.get(eco, ())}


CDX_COMPONENTS = [
    {"type": "library", "name": "Charset_Normalizer", "version": "3.1.0", "purl": "pkg:pypi/charset-normalizer@3.1.0"},
    {
        "type": "library",
        "name": "node",
        "version": "20.1.0",
        "purl": "pkg:npm/%40types/node@20.1.0",
        "properties": [{"name": "syft:location:0:path", "value": "/app/node_modules/@types/node/package.json"}],
    },
    {
        "type": "library",
        "name": "libc6",
        "version": "2.36-9+deb12u4",
        "purl": "pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12",
    },
    {
        "type": "library",
        "name": "python3.11",
        "version": "3.11.2-6",
        "purl": "pkg:deb/debian/python3.11@3.11.2-6?arch=amd64&distro=debian-12",
    },
    {"type": "library", "name": "left-pad", "purl": "pkg:maven/org.x/left-pad@1.0"},
]


@pytest.mark.parametrize("version", ["1.3", "1.4", "1.5", "1.6"])
def test_cyclonedx_versions_map_packages_runtimes_and_platform(version: str, tmp_path: Path) -> None:
    tools: Any = [{"vendor": "anchore", "name": "syft", "version": "1.0"}]
    if version in ("1.5", "1.6"):
        tools = {"components": [{"type": "application", "name": "syft", "version": "1.0"}]}
    doc = _cdx(
        version,
        CDX_COMPONENTS,
        timestamp="2026-01-02T03:04:05+00:00",
        tools=tools,
        component={"type": "container", "name": "shop/api:1.4"},
    )
    snap = load_sbom(f"sbom:{_file(tmp_path, doc)}")
    assert snap.kind == "image" and snap.source.ref == "shop/api:1.4"
    assert snap.source.captured_at == "2026-01-02T03:04:05Z"
    assert _pkgs(snap, "python") == {("charset-normalizer", "3.1.0", None)}
    assert _pkgs(snap, "node") == {("@types/node", "20.1.0", "/app/node_modules/@types/node")}
    assert snap.runtimes["python"].version == "3.11.2"
    assert snap.platform is not None
    assert (snap.platform.os, snap.platform.arch, snap.platform.distro, snap.platform.libc) == (
        "linux",
        "x86_64",
        "debian 12",
        "glibc 2.36",
    )
    assert snap.unknown == (UNKNOWN_ENV, UNKNOWN_ACTIVE)
    assert any("syft 1.0" in n for n in snap.notes)


def test_cyclonedx_nested_components_are_read(tmp_path: Path) -> None:
    inner = {"type": "library", "name": "idna", "version": "3.4", "purl": "pkg:pypi/idna@3.4"}
    outer = {
        "type": "library",
        "name": "requests",
        "version": "2.28.2",
        "purl": "pkg:pypi/requests@2.28.2",
        "components": [inner],
    }
    snap = load_sbom(_file(tmp_path, _cdx("1.6", [outer])))
    assert {p.name for p in snap.packages["python"]} == {"requests", "idna"}


def test_cyclonedx_operating_system_component_is_the_distro(tmp_path: Path) -> None:
    os_comp = {"type": "operating-system", "name": "alpine", "version": "3.19.1"}
    musl = {
        "type": "library",
        "name": "musl",
        "version": "1.2.4_git20230717-r4",
        "purl": "pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=aarch64",
    }
    snap = load_sbom(_file(tmp_path, _cdx("1.5", [os_comp, musl])))
    assert snap.platform is not None
    assert (snap.platform.distro, snap.platform.libc, snap.platform.arch) == ("alpine 3.19.1", "musl 1.2", "aarch64")


def _spdx(version: str, packages: list[dict[str, Any]], category: str = "PACKAGE-MANAGER") -> dict[str, Any]:
    for p in packages:
        if "purl" in p:
            p["externalRefs"] = [
                {"referenceCategory": category, "referenceType": "purl", "referenceLocator": p.pop("purl")}
            ]
    root = {"SPDXID": "SPDXRef-Root", "name": "shop/api:1.4", "primaryPackagePurpose": "CONTAINER"}
    return {
        "spdxVersion": version,
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "shop",
        "creationInfo": {"created": "2026-01-02T03:04:05Z", "creators": ["Tool: syft-1.18.1"]},
        "documentDescribes": ["SPDXRef-Root"] if version == "SPDX-2.2" else [],
        "packages": [root, *packages],
        "relationships": [
            {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-Root"}
        ],
    }


@pytest.mark.parametrize(("version", "category"), [("SPDX-2.2", "PACKAGE_MANAGER"), ("SPDX-2.3", "PACKAGE-MANAGER")])
def test_spdx_versions_map_packages_by_purl(version: str, category: str, tmp_path: Path) -> None:
    packages = [
        {
            "SPDXID": "SPDXRef-1",
            "name": "requests",
            "versionInfo": "2.28.2",
            "purl": "pkg:pypi/requests@2.28.2",
            "sourceInfo": "acquired package info from installed python package manifest file: "
            "/opt/venv/lib/python3.11/site-packages/requests-2.28.2.dist-info/METADATA, /x/RECORD",
        },
        {"SPDXID": "SPDXRef-2", "name": "ms", "versionInfo": "2.1.3", "purl": "pkg:npm/ms@2.1.3"},
        {"SPDXID": "SPDXRef-3", "name": "node", "versionInfo": "20.20.2", "purl": "pkg:generic/node@20.20.2"},
    ]
    snap = load_sbom(_file(tmp_path, _spdx(version, packages, category)))
    assert snap.kind == "image" and snap.source.ref == "shop/api:1.4"
    assert _pkgs(snap, "python") == {
        ("requests", "2.28.2", "/opt/venv/lib/python3.11/site-packages/requests-2.28.2.dist-info")
    }
    assert _pkgs(snap, "node") == {("ms", "2.1.3", None)}
    assert snap.runtimes["node"].version == "20.20.2"


def _syft(artifacts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "artifacts": artifacts,
        "source": {"type": "image", "name": "x", "metadata": {"tags": ["shop/api:1.4"], "architecture": "arm64"}},
        "distro": {"id": "debian", "versionID": "12"},
        "descriptor": {"name": "syft", "version": "1.18.1"},
        "schema": {"version": "16.0.18"},
    }


def test_syft_json_maps_artifacts_locations_and_the_app_manifest(tmp_path: Path) -> None:
    def npm(name: str, version: str, where: str) -> dict[str, Any]:
        return {
            "type": "npm",
            "name": name,
            "version": version,
            "purl": f"pkg:npm/{name}@{version}",
            "locations": [{"path": where}],
        }

    artifacts = [
        npm("shop-api", "1.0.0", "/app/package.json"),  # the project itself: it has a node_modules of its own
        npm("ms", "2.1.3", "/app/node_modules/ms/package.json"),
        npm("ms", "2.0.0", "/app/node_modules/debug/node_modules/ms/package.json"),
        npm("npm", "10.2.0", "/usr/local/lib/node_modules/npm/package.json"),
        {
            "type": "python",
            "name": "PyYAML",
            "version": "6.0",
            "locations": [{"path": "/usr/lib/python3/dist-packages/PyYAML-6.0.egg-info/PKG-INFO"}],
        },
        {
            "type": "binary",
            "name": "python",
            "version": "3.12.1",
            "purl": "pkg:generic/python@3.12.1",
            "locations": [{"path": "/usr/local/bin/python3.12"}],
        },
    ]
    snap = load_sbom(_file(tmp_path, _syft(artifacts)))
    assert snap.source.ref == "shop/api:1.4"
    assert _pkgs(snap, "node") == {
        ("ms", "2.1.3", "/app/node_modules/ms"),
        ("ms", "2.0.0", "/app/node_modules/debug/node_modules/ms"),
        ("npm", "10.2.0", "/usr/local/lib/node_modules/npm"),
    }
    assert _pkgs(snap, "python") == {("pyyaml", "6.0", "/usr/lib/python3/dist-packages/PyYAML-6.0.egg-info")}
    assert snap.runtimes["python"].version == "3.12.1" and snap.runtimes["python"].path == "/usr/local/bin/python3.12"
    assert snap.runtimes["npm"].version == "10.2.0"
    assert snap.platform is not None and snap.platform.arch == "aarch64"
    assert any("/app" in n and "package.json" in n for n in snap.notes)


def test_two_interpreters_at_one_rank_leave_the_runtime_unknown(tmp_path: Path) -> None:
    artifacts = [
        {
            "type": "binary",
            "name": "python",
            "version": v,
            "purl": f"pkg:generic/python@{v}",
            "locations": [{"path": f"/opt/py{v}"}],
        }
        for v in ("3.11.7", "3.12.1")
    ]
    snap = load_sbom(_file(tmp_path, _syft(artifacts)))
    assert "python" not in snap.runtimes
    assert any("3.11.7, 3.12.1" in n for n in snap.notes)


def test_an_interpreter_binary_outranks_the_distributions_package(tmp_path: Path) -> None:
    comps = [
        {"type": "library", "name": "python3.11", "version": "3.11.2-6", "purl": "pkg:deb/debian/python3.11@3.11.2-6"},
        {"type": "application", "name": "python", "version": "3.12.1", "purl": "pkg:generic/python@3.12.1"},
    ]
    assert load_sbom(_file(tmp_path, _cdx("1.6", comps))).runtimes["python"].version == "3.12.1"


def test_a_json_file_that_is_an_sbom_is_detected_where_a_snapshot_is_expected(tmp_path: Path) -> None:
    path = _file(tmp_path, _cdx("1.6", CDX_COMPONENTS), name="prod.json")
    snap = load_snapshot(path)
    assert _pkgs(snap, "python") == {("charset-normalizer", "3.1.0", None)}


@pytest.mark.parametrize(
    ("doc", "says"),
    [
        (_cdx("1.1", []), "specVersion '1.1' is not supported"),
        (_cdx("2.0", []), "is not supported"),
        ({"spdxVersion": "SPDX-2.1", "packages": []}, "SPDX version 'SPDX-2.1' is not supported"),
        ({"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}, "SPDX 3"),
        ({"hello": "world"}, "not an SBOM"),
        (_cdx("1.6", [{"type": "library", "version": "1"}]), "components[0].name: expected a string"),
        (_cdx("1.6", [{"type": "library", "name": "x", "purl": "pkg:pypi"}]), "not a valid package URL"),
        (_cdx("1.6", "many"), "components: expected a list"),
        ({**_syft([]), "artifacts": {"a": 1}}, "artifacts: expected a list"),
    ],
)
def test_documents_envcheck_cannot_read_say_why_in_one_line(doc: Any, says: str, tmp_path: Path) -> None:
    path = _file(tmp_path, doc)
    with pytest.raises(EnvcheckError) as err:
        load_sbom(path)
    assert says in str(err.value) and str(err.value).startswith(path) and "\n" not in str(err.value)


def test_an_unparseable_purl_of_another_ecosystem_is_skipped_not_fatal(tmp_path: Path) -> None:
    comps = [
        {"type": "library", "name": "weird", "version": "1", "purl": "pkg:golang/"},
        {"type": "library", "name": "idna", "version": "3.4", "purl": "pkg:pypi/idna@3.4"},
    ]
    snap = load_sbom(_file(tmp_path, _cdx("1.6", comps)))
    assert {p.name for p in snap.packages["python"]} == {"idna"}


def test_the_runtime_knowledge_file_loads_and_covers_each_runtime() -> None:
    from envcheck.sbom.mapping import knowledge

    known = knowledge()
    assert {r.what for r in known.runtimes} == {"python", "node", "libc"}
    assert {t.what for t in known.tools} == {"npm", "yarn", "pnpm"}


def _config(env: list[str]) -> str:
    import base64

    cfg = {"architecture": "amd64", "os": "linux", "config": {"Env": env, "User": "app", "WorkingDir": "/srv"}}
    return base64.b64encode(json.dumps(cfg).encode()).decode()


def test_syft_json_of_an_image_carries_its_config_env_names_and_safe_values_only(tmp_path: Path) -> None:
    doc = _syft([])
    doc["source"]["metadata"]["config"] = _config(["APP_ENV=production", "API_TOKEN=ghp_" + "a1B2c3D4e5" * 4, "TZ=UTC"])
    snap = load_sbom(_file(tmp_path, doc))
    assert snap.knows(UNKNOWN_ENV) and not snap.knows(UNKNOWN_ACTIVE)
    assert {k: v.value for k, v in snap.env.items()} == {"APP_ENV": "production", "API_TOKEN": None, "TZ": "UTC"}
    assert snap.image is not None
    assert snap.image["secret_env"] == ["API_TOKEN"] and snap.image["user"] == "app" and snap.image["workdir"] == "/srv"
    assert "ghp_" not in snap.to_json()


@pytest.mark.parametrize("config", ["not base64!", "W10=", "e30" * 10])
def test_a_broken_image_config_in_syft_json_is_refused(config: str, tmp_path: Path) -> None:
    doc = _syft([])
    doc["source"]["metadata"]["config"] = config
    with pytest.raises(EnvcheckError, match=r"source\.metadata\.config"):
        load_sbom(_file(tmp_path, doc))
