"""Malformed, truncated, huge and hostile SBOMs: exit 2 with one line naming the file; property tests for the readers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envcheck.cli import main
from envcheck.errors import EnvcheckError
from envcheck.sbom import render
from envcheck.sbom.read import MAX_BYTES, load_sbom, to_snapshot
from envcheck.snapshot import Package, Snapshot, Source
from tests.sbom.sbom_testutil import image_snapshot

GOOD_CDX = json.loads(render(image_snapshot(), "cyclonedx"))
GOOD_SPDX = json.loads(render(image_snapshot(), "spdx"))
GOOD_SYFT: dict[str, Any] = {
    "artifacts": [
        {
            "type": "python",
            "name": "idna",
            "version": "3.4",
            "purl": "pkg:pypi/idna@3.4",
            "locations": [{"path": "/a/METADATA"}],
        },
        {
            "type": "npm",
            "name": "ms",
            "version": "2.1.3",
            "purl": "pkg:npm/ms@2.1.3",
            "locations": [{"path": "/n/ms/package.json"}],
        },
    ],
    "source": {
        "type": "image",
        "name": "x",
        "metadata": {
            "tags": ["x:1"],
            "architecture": "amd64",
            "imageID": "sha256:" + "0" * 64,
            # base64 of {"config": {"Env": ["APP_ENV=production"], "WorkingDir": "/app"}}
            "config": "eyJjb25maWciOiB7IkVudiI6IFsiQVBQX0VOVj1wcm9kdWN0aW9uIl0sICJXb3JraW5nRGlyIjogIi9hcHAifX0=",
        },
    },
    "distro": {"id": "debian", "versionID": "12"},
    "descriptor": {"name": "syft", "version": "1.18.1"},
    "schema": {"version": "16.0.18"},
}
GOOD = {"cyclonedx": GOOD_CDX, "spdx": GOOD_SPDX, "syft": GOOD_SYFT}


def _one_line_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str], names: str) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert names in err
    return err


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "malformed JSON"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [', "malformed JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[" * 200_000, "nested too deeply"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": ' + b"9" * 50_000 + b"}", "malformed JSON"),
        (b"[1, 2, 3]", "not an SBOM"),
        (b'"CycloneDX"', "not an SBOM"),
    ],
)
def test_unreadable_sbom_exits_2_with_one_line(
    content: bytes, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.cdx.json"
    bad.write_bytes(content)
    good = tmp_path / "good.cdx.json"
    good.write_text(json.dumps(GOOD_CDX), encoding="utf-8")
    err = _one_line_exit_2(["diff", f"sbom:{bad}", f"sbom:{good}"], capsys, str(bad))
    assert says in err


@pytest.mark.parametrize("fmt", sorted(GOOD))
def test_truncated_sbom_exits_2_with_one_line(fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = json.dumps(GOOD[fmt], indent=2)
    bad = tmp_path / f"cut.{fmt}.json"
    bad.write_text(text[: len(text) * 2 // 3], encoding="utf-8")
    _one_line_exit_2(["diff", f"sbom:{bad}", f"sbom:{bad}"], capsys, str(bad))


def test_huge_sbom_is_refused_before_it_is_parsed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    huge = tmp_path / "huge.spdx.json"
    with huge.open("wb") as fh:  # sparse: no disk is spent on the test
        fh.truncate(MAX_BYTES + 1)
    err = _one_line_exit_2(["diff", f"sbom:{huge}", f"sbom:{huge}"], capsys, str(huge))
    assert "larger than" in err


def test_components_nested_without_end_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    comp: dict[str, Any] = {"type": "library", "name": "leaf", "version": "1", "purl": "pkg:pypi/leaf@1"}
    for i in range(200):
        comp = {"type": "library", "name": f"n{i}", "components": [comp]}
    bad = tmp_path / "deep.cdx.json"
    bad.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [comp]}), encoding="utf-8")
    err = _one_line_exit_2(["diff", f"sbom:{bad}", f"sbom:{bad}"], capsys, str(bad))
    assert "nested" in err


def test_missing_file_and_directory_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _one_line_exit_2(["diff", f"sbom:{tmp_path / 'nope.json'}", f"sbom:{tmp_path}"], capsys, "nope.json")
    _one_line_exit_2(["diff", f"sbom:{tmp_path}", f"sbom:{tmp_path}"], capsys, str(tmp_path))
    _one_line_exit_2(["diff", "sbom:", "sbom:"], capsys, "sbom:")


def test_scan_against_a_broken_sbom_exits_2_before_scanning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "image.syft.json"
    bad.write_text(json.dumps({**GOOD_SYFT, "artifacts": [{"type": "npm"}]}), encoding="utf-8")
    err = _one_line_exit_2(["scan", str(tmp_path), "--against", f"sbom:{bad}"], capsys, str(bad))
    assert "artifacts[0].name" in err


# --------------------------------------------------------------------------- properties

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:6]):
            out += _paths(v, (*prefix, i))
    return out


def _replace(doc: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(doc) if isinstance(doc, dict) else list(doc)
    copy[path[0]] = _replace(doc[path[0]], path[1:], new)
    return copy


def _reads_or_refuses(doc: Any) -> None:
    try:
        snap = to_snapshot(doc, "sbom.json")
    except EnvcheckError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("sbom.json")
    else:
        assert isinstance(snap, Snapshot)
        snap.to_json()  # whatever was read serialises


@pytest.mark.parametrize("fmt", sorted(GOOD))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_subtree_replaced_by_any_json_reads_or_refuses(fmt: str, data: st.DataObject) -> None:
    doc = GOOD[fmt]
    path = data.draw(st.sampled_from(_paths(doc)))
    _reads_or_refuses(_replace(doc, path, data.draw(JSON)))


@given(extra=st.dictionaries(st.text(max_size=12), JSON, max_size=6), marker=st.sampled_from(sorted(GOOD)))
@settings(max_examples=120, deadline=None)
def test_any_document_with_a_format_marker_reads_or_refuses(extra: dict[str, Any], marker: str) -> None:
    heads = {
        "cyclonedx": {"bomFormat": "CycloneDX", "specVersion": "1.6"},
        "spdx": {"spdxVersion": "SPDX-2.3"},
        "syft": {"descriptor": {"name": "syft"}, "artifacts": []},
    }
    _reads_or_refuses({**extra, **heads[marker]})


@pytest.mark.parametrize("fmt", sorted(GOOD))
@given(cut=st.floats(min_value=0.0, max_value=1.0))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_file_cut_anywhere_reads_or_refuses(fmt: str, cut: float, tmp_path_factory: pytest.TempPathFactory) -> None:
    text = json.dumps(GOOD[fmt])
    path = tmp_path_factory.mktemp("cut") / "sbom.json"
    path.write_text(text[: int(len(text) * cut)], encoding="utf-8")
    try:
        load_sbom(str(path))
    except EnvcheckError as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc)


PY_NAME = st.from_regex(r"[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,5}){0,2}", fullmatch=True)
NPM_NAME = st.from_regex(r"(@[a-z][a-z0-9-]{0,6}/)?[a-z][a-z0-9._-]{0,10}", fullmatch=True)
VERSION = st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){0,3}([a-z+~-][a-z0-9.]{0,5})?", fullmatch=True)
PATH = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF, exclude_characters="\\"), min_size=1, max_size=30)


@st.composite
def snapshots(draw: st.DrawFn) -> Snapshot:
    def pkgs(names: st.SearchStrategy[str]) -> tuple[Package, ...]:
        return tuple(
            Package(draw(names), draw(VERSION), draw(st.none() | PATH), active=draw(st.booleans()))
            for _ in range(draw(st.integers(0, 5)))
        )

    return Snapshot(
        source=Source(
            kind=draw(st.sampled_from(["host", "image"])), ref=draw(PATH), captured_at="2026-01-02T03:04:05Z"
        ),
        packages={"python": pkgs(PY_NAME), "node": pkgs(NPM_NAME)},
    )


@pytest.mark.parametrize("fmt", ["cyclonedx", "spdx"])
@given(snap=snapshots())
@settings(max_examples=40, deadline=None)
def test_any_snapshot_written_and_read_back_keeps_its_packages(fmt: str, snap: Snapshot) -> None:
    back = to_snapshot(json.loads(render(snap, fmt)), "sbom.json")  # type: ignore[arg-type]
    for eco in ("python", "node"):
        want = sorted((p.name, p.version, p.path or "", p.active) for p in snap.packages[eco])
        assert sorted((p.name, p.version, p.path or "", p.active) for p in back.packages.get(eco, ())) == want
        assert sum(p.path is None for p in back.packages.get(eco, ())) == sum(
            p.path is None for p in snap.packages[eco]
        )


def test_the_size_cap_is_sane() -> None:
    # Large enough for syft's JSON of a big image, small enough to refuse a runaway file.
    assert 64 * 1024 * 1024 <= MAX_BYTES <= 1024 * 1024 * 1024
