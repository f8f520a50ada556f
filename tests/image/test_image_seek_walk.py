"""Reading an image by its tar headers gives the same snapshot as reading it through (issue 15).

On disk, a layer is walked by seeking past the data of members no detector
needs, with its digest hashed on another thread; a stream (a pipe, an engine
export, a registry download) is read front to back.  Both readings must agree
on every layer — its entries, whiteouts, member count and digests — and on
every error, and the snapshots of the synthetic images must stay byte for
byte what the code before issue 15 produced (``golden/``, generated from the
branch point e3bf0d1 by running the same builders through its scanner).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from image_testutil import (
    docker_archive,
    gz,
    layer_tar,
    metadata,
    sha,
    standard_config,
    standard_layers,
    write_oci_layout,
)

from envcheck.errors import ImageError
from envcheck.scanners.image import scan_image, walker
from envcheck.scanners.image.sources import load_archive_file
from envcheck.scanners.image.walker import LayerIndex, walk_layer

GOLDEN = Path(__file__).parent / "golden"
CFG_MINIMAL = {"architecture": "amd64", "os": "linux", "config": {}}


def _outcome(fn: Any) -> LayerIndex | tuple[str, str]:
    try:
        result: LayerIndex = fn()
    except ImageError as err:
        return ("error", str(err))
    return result


def _both_ways(blob: bytes, *, expected: str | None = None, verify: walker.Verify = "full") -> tuple[Any, Any]:
    """The layer walked as a stream and walked on disk with seeks.

    The stream is read by the fast header reader too, so it is first held
    equal to tarfile's own reading of every header (ENVCHECK_TAR_HEADERS=tarfile),
    plain and gzip-compressed.
    """
    streamed = _outcome(lambda: walk_layer(io.BytesIO(blob), "L", expected=expected, verify=verify))
    streamed_gz = _outcome(lambda: walk_layer(io.BytesIO(gzip.compress(blob, mtime=0)), "L", verify=verify))
    os.environ["ENVCHECK_TAR_HEADERS"] = "tarfile"
    try:
        reference = _outcome(lambda: walk_layer(io.BytesIO(blob), "L", expected=expected, verify=verify))
        reference_gz = _outcome(lambda: walk_layer(io.BytesIO(gzip.compress(blob, mtime=0)), "L", verify=verify))
    finally:
        del os.environ["ENVCHECK_TAR_HEADERS"]
    assert streamed == reference
    assert streamed_gz == reference_gz
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "layer"
        path.write_bytes(blob)
        with path.open("rb") as fh:
            assert walker.FileRange.of(fh) is not None  # the seek path is the one taken
            sought = _outcome(lambda: walk_layer(fh, "L", expected=expected, verify=verify))
    return streamed, sought


# ----------------------------------------------------------------------------- layers

_SITE = "opt/venv/lib/python3.11/site-packages"
_NAMES = st.sampled_from(
    [
        "etc/os-release",
        "usr/lib/os-release",
        "usr/local/bin/python3.11",
        "usr/local/bin/node",
        "var/lib/dpkg/status",
        "lib/apk/db/installed",
        "usr/lib/x86_64-linux-gnu/libc.so.6",
        f"{_SITE}/Flask-3.0.0.dist-info/METADATA",
        f"{_SITE}/Flask-3.0.0.dist-info/direct_url.json",
        "app/node_modules/express/package.json",
        "app/node_modules/@types/node/package.json",
        "app/package.json",
        "app/readme.txt",
        "usr/share/doc/big.bin",
    ]
)
_LONG = st.text(alphabet="abcdefghé_-", min_size=1, max_size=40).map(
    lambda s: f"{_SITE}/{'d' * 90}/{s}-1.0.dist-info/METADATA"
)
_CONTENT = st.one_of(
    st.binary(max_size=3000),
    st.just(metadata("flask", "3.0.0")),
    st.just(b'{"name": "express", "version": "4.18.2"}'),
    st.just(b"\x7fELF\x00Python-3.11.7\x00"),
    st.just(b"Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\n\n"),
)


@st.composite
def _layers(draw: st.DrawFn) -> bytes:
    fmt = draw(st.sampled_from([tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT]))
    glob = draw(st.booleans()) and fmt == tarfile.PAX_FORMAT
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, pax_headers={"comment": "global"} if glob else None) as tf:
        for _ in range(draw(st.integers(0, 12))):
            name = draw(st.one_of(_NAMES, _LONG)) if fmt != tarfile.USTAR_FORMAT else draw(_NAMES)
            kind = draw(st.sampled_from(["file", "file", "file", "dir", "sym", "hard", "whiteout", "opaque"]))
            if kind == "whiteout":
                parent, _, base = name.rpartition("/")
                name = f"{parent}/.wh.{base}"
            elif kind == "opaque":
                name = name.rpartition("/")[0] + "/.wh..wh..opq"
            info = tarfile.TarInfo(name)
            data = b""
            if kind == "dir":
                info.type = tarfile.DIRTYPE
            elif kind == "sym":
                info.type, info.linkname = tarfile.SYMTYPE, draw(st.sampled_from(["../usr/lib/os-release", "/etc"]))
            elif kind == "hard":
                info.type, info.linkname = tarfile.LNKTYPE, draw(_NAMES)
            elif kind == "file":
                data = draw(_CONTENT)
            info.size = len(data)
            try:
                tf.addfile(info, io.BytesIO(data))
            except ValueError:
                continue  # a name USTAR cannot hold
    return buf.getvalue()


@given(layer=_layers())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_seek_walk_indexes_every_layer_as_the_stream_walk_does(layer: bytes) -> None:
    streamed, sought = _both_ways(layer)
    assert sought == streamed


@given(layer=_layers(), patch=st.binary(min_size=1, max_size=16), where=st.floats(0, 1), cut=st.booleans())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_damaged_layer_reads_or_fails_the_same_both_ways(layer: bytes, patch: bytes, where: float, cut: bool) -> None:
    at = int(where * len(layer))
    damaged = layer[:at] if cut else layer[:at] + patch + layer[at + len(patch) :]
    streamed, sought = _both_ways(damaged, expected=sha(layer))
    assert sought == streamed


def test_every_verify_level_agrees_both_ways_and_says_what_it_checked() -> None:
    layer = layer_tar(standard_layers()[0])
    for verify in walker.VERIFY_LEVELS:
        streamed, sought = _both_ways(layer, verify=verify)
        assert sought == streamed
        assert isinstance(sought, LayerIndex)
        assert sought.stored_digest == (sha(layer) if verify != "off" else "")


def test_a_layer_whose_bytes_differ_from_its_name_is_refused_unless_verification_is_off() -> None:
    layer = layer_tar(standard_layers()[0])
    for verify in ("full", "blobs"):
        streamed, sought = _both_ways(layer, expected=sha(b"other"), verify=verify)
        assert sought == streamed
        assert sought[0] == "error" and "digest mismatch" in sought[1]
    assert isinstance(_both_ways(layer, expected=sha(b"other"), verify="off")[1], LayerIndex)


# ----------------------------------------------------------------------------- whole images


def _images(tmp: Path) -> dict[str, Path]:
    layers = [layer_tar(layer) for layer in standard_layers()]
    cfg = standard_config(layers)
    archives = {
        "docker-archive-legacy": docker_archive(layers, cfg),
        "docker-archive-oci": docker_archive(layers, cfg, oci_in_tar=True),
        "docker-archive-gzip-layers": docker_archive([gz(layer) for layer in layers], cfg, oci_in_tar=True),
    }
    out = {}
    for name, data in archives.items():
        out[name] = tmp / f"{name}.tar"
        out[name].write_bytes(data)
    out["oci-gzip"] = write_oci_layout(tmp / "oci", {"linux/amd64": (layers, cfg)})
    return out


def _snapshot(name: str, path: Path) -> str:
    transport = "oci" if path.is_dir() else "docker-archive"
    snap = scan_image(f"{transport}:{path}").to_dict()
    snap["source"].pop("captured_at")
    snap["source"]["ref"] = name
    return json.dumps(snap, indent=2, sort_keys=True) + "\n"


def _as_of_golden(text: str) -> str:
    """The snapshot without the keys issue 18 added after the golden files were made.

    ``native`` and the interpreter's ``abi``/``wheel_platforms`` are compatible
    additions (docs/snapshot.md); everything the old code wrote must still be
    written exactly as it was.
    """
    snap = json.loads(text)
    snap.pop("native", None)
    for runtime in snap.get("runtimes", {}).values():
        runtime.pop("abi", None)
        runtime.pop("wheel_platforms", None)
    return json.dumps(snap, indent=2, sort_keys=True) + "\n"


def test_snapshots_are_byte_for_byte_those_of_the_code_before_the_seek_walk(tmp_path: Path) -> None:
    for name, path in _images(tmp_path).items():
        assert _as_of_golden(_snapshot(name, path)) == (GOLDEN / f"{name}.json").read_text(), name


def test_archive_read_by_headers_loads_exactly_what_the_one_pass_stream_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, path in _images(tmp_path).items():
        if path.is_dir():
            continue
        sought = load_archive_file(str(path), None)
        monkeypatch.setenv("ENVCHECK_IMAGE_WALK", "stream")
        streamed = load_archive_file(str(path), None)
        monkeypatch.delenv("ENVCHECK_IMAGE_WALK")
        assert sought == streamed, name


def test_stdlib_inflate_is_the_automatic_fallback_and_reads_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _images(tmp_path)
    fast = {n: _snapshot(n, p) for n, p in paths.items()}
    # No isal wheel for this platform: the import fails and gzip is what inflates.
    monkeypatch.setitem(sys.modules, "isal", None)
    assert walker.gzip_module() is gzip
    assert {n: _snapshot(n, p) for n, p in paths.items()} == fast
    monkeypatch.delitem(sys.modules, "isal")
    monkeypatch.setenv("ENVCHECK_INFLATE", "stdlib")
    assert walker.gzip_module() is gzip


def test_isal_is_used_where_installed() -> None:
    from isal import igzip  # a core dependency wherever a wheel exists (pyproject.toml)

    assert walker.gzip_module() is igzip


def test_blobs_level_skips_only_the_inflated_digest(tmp_path: Path) -> None:
    layers = [layer_tar(layer) for layer in standard_layers()]
    cfg = standard_config(layers)
    cfg["rootfs"] = {"type": "layers", "diff_ids": [sha(b"not this layer")] * len(layers)}
    path = tmp_path / "a.tar"
    path.write_bytes(docker_archive([gz(layer) for layer in layers], cfg, oci_in_tar=True))
    with pytest.raises(ImageError, match="diff_id"):
        scan_image(f"docker-archive:{path}")
    # The stored (compressed) digests still match the manifest; only the diff_ids are not recomputed.
    assert scan_image(f"docker-archive:{path}", verify="blobs").image["layers"] == len(layers)


def test_registry_pulls_refuse_verification_off() -> None:
    with pytest.raises(ImageError, match="registry pull"):
        scan_image("registry:127.0.0.1:1/x/y:1", verify="off")


def test_members_past_the_end_of_a_layer_on_disk_are_a_truncation(tmp_path: Path) -> None:
    layer = layer_tar({"etc/os-release": b"ID=debian\n", "usr/share/big": b"x" * 5000})
    streamed, sought = _both_ways(layer[:2500])  # inside the data of the second member
    assert sought == streamed
    assert sought[0] == "error" and "truncated" in sought[1]


def test_cfg_minimal_image_with_an_empty_layer(tmp_path: Path) -> None:
    empty = b"\x00" * 1024
    path = tmp_path / "e.tar"
    path.write_bytes(docker_archive([empty], dict(CFG_MINIMAL, rootfs={"type": "layers", "diff_ids": [sha(empty)]})))
    assert scan_image(f"docker-archive:{path}").image["layers"] == 1


def test_a_registry_stream_that_checks_its_own_digest_is_not_hashed_twice_and_still_refuses_tampering() -> None:
    from envcheck.distribution import VerifyingStream

    layer = gz(layer_tar(standard_layers()[0]))

    def stream(data: bytes) -> VerifyingStream:
        return VerifyingStream(iter([data[i : i + 1000] for i in range(0, len(data), 1000)]), sha(layer), None, "L")

    trusted = walk_layer(stream(layer), "L", expected=sha(layer), self_verifying=True)
    assert trusted == walk_layer(io.BytesIO(layer), "L", expected=sha(layer))
    tampered = layer[:-12] + bytes(4) + layer[-8:]  # the gzip CRC: inflates, but is not the promised blob
    with pytest.raises(ImageError, match="digest"):
        walk_layer(stream(tampered), "L", expected=sha(layer), self_verifying=True)


def test_verification_off_never_reports_a_digest_it_did_not_compute() -> None:
    damaged = layer_tar(standard_layers()[0])[:-2000] + b"\xff" * 600
    streamed, sought = _both_ways(damaged, expected=sha(b"x"), verify="off")
    assert sought == streamed
    assert not (isinstance(sought, tuple) and "digest" in sought[1])


def _load_both(data: bytes) -> tuple[Any, Any]:
    """The archive loaded front to back (ENVCHECK_IMAGE_WALK=stream) and by its headers."""

    def load(path: Path, stream: bool) -> Any:
        old = os.environ.pop("ENVCHECK_IMAGE_WALK", None)
        if stream:
            os.environ["ENVCHECK_IMAGE_WALK"] = "stream"
        try:
            return load_archive_file(str(path), None)
        except ImageError as err:
            return ("error", str(err))
        finally:
            os.environ.pop("ENVCHECK_IMAGE_WALK", None)
            if old is not None:
                os.environ["ENVCHECK_IMAGE_WALK"] = old

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.tar"
        path.write_bytes(data)
        return load(path, True), load(path, False)


@given(patch=st.binary(min_size=1, max_size=32), where=st.floats(0, 1), cut=st.booleans(), oci=st.booleans())
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_damaged_archive_loads_or_fails_the_same_both_ways(patch: bytes, where: float, cut: bool, oci: bool) -> None:
    layers = [layer_tar(layer) for layer in standard_layers()]
    data = docker_archive(layers, standard_config(layers), oci_in_tar=oci)
    at = int(where * len(data))
    damaged = data[:at] if cut else data[:at] + patch + data[at + len(patch) :]
    streamed, sought = _load_both(damaged)
    assert sought == streamed


def test_layers_walked_two_at_a_time_come_back_in_manifest_order_with_their_own_errors() -> None:
    import threading
    import time

    seen: set[str] = set()

    def job(n: int) -> Any:
        def walk() -> LayerIndex:
            seen.add(threading.current_thread().name)
            time.sleep(0.02 * (5 - n))  # later jobs finish first
            if n == 2:
                raise ImageError("layer 2 is broken")
            return LayerIndex(members=n)

        return walk

    results = walker.walk_layers([job(n) for n in range(5)])
    assert [r.members if isinstance(r, LayerIndex) else str(r) for r in results] == [0, 1, "layer 2 is broken", 3, 4]
    assert len(seen) == 2  # a bounded pool of two


def test_read_ahead_threads_end_with_the_walk_whether_it_succeeds_or_fails() -> None:
    """A streamed layer is fetched and inflated on threads of their own; none outlives its walk."""
    import threading

    layer = gzip.compress(layer_tar(standard_layers()[0]), mtime=0)
    assert isinstance(walk_layer(io.BytesIO(layer), "L", expected=sha(layer)), LayerIndex)
    truncated = _outcome(lambda: walk_layer(io.BytesIO(layer[: len(layer) // 2]), "L"))
    assert truncated[0] == "error" and "truncated" in truncated[1]  # type: ignore[index]
    tampered = _outcome(lambda: walk_layer(io.BytesIO(layer), "L", expected=sha(b"other")))
    assert tampered[0] == "error" and "digest mismatch" in tampered[1]  # type: ignore[index]
    assert not [t for t in threading.enumerate() if t.name.startswith("envcheck-read-ahead")]


@given(
    data=st.binary(min_size=0, max_size=5000),
    asks=st.lists(st.tuples(st.integers(0, 6000), st.integers(0, 600)), max_size=8),
    keep=st.integers(0, 2000),
)
@settings(max_examples=200, deadline=None)
def test_an_elf_reader_on_disk_skips_ahead_yet_reads_what_a_stream_reads(
    data: bytes, asks: list[tuple[int, int]], keep: int
) -> None:
    """Past its kept head, ForwardReader moves a FileRange forward instead of reading through it."""
    from envcheck.elf import ForwardReader

    with tempfile.TemporaryFile() as fh:
        fh.write(b"pad" + data)
        fh.flush()
        window = walker.FileRange(fh.fileno(), 3, len(data))
        on_disk = ForwardReader(window, cap=4000, keep_head=keep)
        streamed = ForwardReader(io.BytesIO(data), cap=4000, keep_head=keep)
        assert [on_disk(o, n) for o, n in asks] == [streamed(o, n) for o, n in asks]


def _naive_merge(layers: list[LayerIndex]) -> dict[str, str]:
    """The changeset rules applied by scanning every merged path for every layer (the code before issue 15)."""
    merged: dict[str, walker.Entry] = {}
    for layer in layers:
        hidden = set(layer.opaque) | layer.whiteouts
        for path, entry in layer.entries.items():
            if entry.kind != "dir":
                hidden.add(path)
            parent = path if entry.kind == "dir" else path.rpartition("/")[0]
            while parent:
                lower = merged.get(parent)
                if lower is not None and lower.kind != "dir":
                    del merged[parent]
                parent = parent.rpartition("/")[0]
        for w in layer.whiteouts:
            merged.pop(w, None)
        for p in [p for p in merged if walker._under(p, hidden)]:
            del merged[p]
        merged.update(layer.entries)
    return {p: e.kind for p, e in merged.items() if e.kind != "dir"}


_TREE = st.sampled_from(["a", "a/b", "a/b/c", "a/b/d", "a/e", "f", "f/g", "f/g/h", "x"])


@st.composite
def _layer_indexes(draw: st.DrawFn) -> LayerIndex:
    index = LayerIndex()
    for _ in range(draw(st.integers(0, 6))):
        path, kind = draw(_TREE), draw(st.sampled_from(["file", "dir", "symlink", "whiteout", "opaque"]))
        if kind == "whiteout":
            index.whiteouts.add(path)
        elif kind == "opaque":
            index.opaque.add(draw(st.one_of(_TREE, st.just(""))))
        else:
            index.entries[path] = walker.Entry(kind)
    return index


@given(layers=st.lists(_layer_indexes(), min_size=1, max_size=5))
@settings(max_examples=300, deadline=None)
def test_merging_layers_hides_exactly_what_scanning_every_merged_path_hides(layers: list[LayerIndex]) -> None:
    view = walker.MergedView(layers)
    assert {p: e.kind for p, e in view.entries.items()} == _naive_merge(layers)
