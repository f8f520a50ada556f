"""ELF dynamic sections and the native facts built from them (envcheck.elf, envcheck.native, the scanners' use).

The two objects in tests/data/elf were built with gcc on Debian bookworm
(x86_64), as tests/data/elf/README.md records: ``libfoo.so.1.2.3`` (soname
``libfoo.so.1``) and a CPython-named extension that needs it, with RUNPATH
``$ORIGIN/../foo.libs``.
"""

from __future__ import annotations

import io
import os
import shutil
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envcheck.elf import ElfDynamic, ForwardReader, read_dynamic, read_dynamic_file
from envcheck.native import file_version, major_minor, soname_base, soname_version, upstream
from envcheck.scanners.image import scan_image
from envcheck.scanners.native_host import ElfCache, scan_host_native
from envcheck.snapshot import Package, Snapshot

DATA = Path(__file__).resolve().parents[1] / "data" / "elf"
EXT = DATA / "_ext.cpython-311-x86_64-linux-gnu.so"
LIB = DATA / "libfoo.so.1.2.3"


def _reader(data: bytes):  # type: ignore[no-untyped-def]
    return lambda offset, n: data[offset : offset + n]


def test_needed_runpath_and_soname_come_from_the_dynamic_segment() -> None:
    ext = read_dynamic_file(EXT)
    assert ext == ElfDynamic(needed=("libfoo.so.1",), runpath=("$ORIGIN/../foo.libs",), machine="EM_X86_64")
    lib = read_dynamic_file(LIB)
    assert lib is not None and lib.soname == "libfoo.so.1" and lib.needed == ()


def test_a_streamed_member_is_read_forwards_only() -> None:
    data = EXT.read_bytes()
    assert read_dynamic(ForwardReader(io.BytesIO(data), 1 << 20), len(data)) == read_dynamic_file(EXT)


def test_not_elf_and_budget_exhaustion_give_none(tmp_path: Path) -> None:
    text = tmp_path / "x.so"
    text.write_text("INPUT(-lfoo)\n")  # a linker script named like a library
    assert read_dynamic_file(text) is None
    data = EXT.read_bytes()
    assert read_dynamic(_reader(data), len(data), budget=4096) is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_random_bytes_never_raise(data: bytes) -> None:
    result = read_dynamic(_reader(b"\x7fELF" + data), len(data) + 4)
    assert result is None or isinstance(result, ElfDynamic)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=14008), st.lists(st.tuples(st.integers(0, 14007), st.integers(0, 255))))
def test_truncated_or_corrupted_objects_never_raise(cut: int, flips: list[tuple[int, int]]) -> None:
    data = bytearray(EXT.read_bytes()[:cut])
    for at, value in flips:
        if at < len(data):
            data[at] = value
    # The claimed size may exceed what is there: a truncated member.
    result = read_dynamic(_reader(bytes(data)), 14008)
    assert result is None or isinstance(result, ElfDynamic)


@pytest.mark.parametrize(
    ("soname", "base", "version"),
    [
        ("libssl.so.1.1", "libssl", "1.1"),
        ("libssl.so.3", "libssl", "3"),
        ("libpq-ce5f9a6a.so.5.16", "libpq", "5.16"),
        ("libgfortran-040039e1-0352e75f.so.5.0.0", "libgfortran", "5.0.0"),
        ("liblua5.3.so.0", "liblua", "5.3.0"),
        ("libz.so.1", "libz", "1"),
    ],
)
def test_soname_names_the_library_whatever_its_version(soname: str, base: str, version: str) -> None:
    assert soname_base(soname) == base
    assert soname_version(soname) == version


def test_versions_from_package_databases_and_file_names() -> None:
    assert upstream("1:3.0.15-1~deb12u1") == "3.0.15"
    assert upstream("3.1.4-r5") == "3.1.4"
    assert upstream("15.5-0+deb12u1") == "15.5"
    assert file_version("libpq.so.5", "/usr/lib/libpq.so.5.15") == "5.15"
    assert file_version("libssl.so.3", "/usr/lib/libssl.so.3") is None
    assert major_minor("3.0.15") == "3.0"


# --------------------------------------------------------------------------- scanners


def _site(root: Path, site: str) -> Path:
    """A distribution ``foo`` whose extension needs libfoo.so.1, as pip installs it (RECORD lists the files)."""
    sp = root / site
    (sp / "foo").mkdir(parents=True)
    shutil.copy(EXT, sp / "foo" / EXT.name)
    info = sp / "foo-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n")
    (info / "RECORD").write_text(
        f"foo/{EXT.name},sha256=x,14008\nfoo-1.0.dist-info/METADATA,,\nfoo-1.0.dist-info/RECORD,,\n"
    )
    return sp


def test_image_resolves_the_library_and_names_its_debian_package(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    _site(root, "usr/local/lib/python3.11/site-packages")
    libdir = root / "usr/lib/x86_64-linux-gnu"
    libdir.mkdir(parents=True)
    shutil.copy(LIB, libdir / LIB.name)
    (libdir / "libfoo.so.1").symlink_to(LIB.name)
    dpkg = root / "var/lib/dpkg"
    (dpkg / "info").mkdir(parents=True)
    (dpkg / "status").write_text(
        "Package: libfoo1\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.2.3-4\n\n"
    )
    (dpkg / "info" / "libfoo1:amd64.list").write_text(
        "/.\n/usr/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu/libfoo.so.1.2.3\n/usr/lib/x86_64-linux-gnu/libfoo.so.1\n"
    )
    snap = scan_image(f"dir:{root}")
    assert snap.native is not None
    [pkg] = snap.native.packages
    assert pkg.name == "foo" and pkg.extensions[0].needed == ("libfoo.so.1",)
    lib = snap.native.libraries["libfoo.so.1"]
    assert (lib.path, lib.package, lib.version, lib.version_from) == (
        "/usr/lib/x86_64-linux-gnu/libfoo.so.1.2.3",
        "libfoo1",
        "1.2.3",
        "package",
    )
    assert Snapshot.from_json(snap.to_json()).native == snap.native


def test_image_without_a_package_database_takes_the_version_from_the_file_name(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    _site(root, "usr/lib/python3/dist-packages")
    (root / "usr/lib").mkdir(parents=True, exist_ok=True)
    shutil.copy(LIB, root / "usr/lib" / LIB.name)
    (root / "usr/lib/libfoo.so.1").symlink_to(LIB.name)
    snap = scan_image(f"dir:{root}")
    assert snap.native is not None
    lib = snap.native.libraries["libfoo.so.1"]
    assert (lib.version, lib.version_from, lib.package) == ("1.2.3", "file", None)


def test_host_scan_finds_vendored_copies_and_caches_by_stat(tmp_path: Path) -> None:
    sp = _site(tmp_path, "venv/lib/python3.11/site-packages")
    (sp / "foo.libs").mkdir()
    shutil.copy(LIB, sp / "foo.libs" / "libfoo.so.1")
    record = sp / "foo-1.0.dist-info" / "RECORD"
    record.write_text(record.read_text() + "foo.libs/libfoo.so.1,sha256=y,13928\n")
    then = time.time() - 60  # installed a while ago: a file changed within the racy window is not cached
    for path in sp.rglob("*"):
        os.utime(path, (then, then))
    pkg = Package("foo", "1.0", path=str(sp / "foo-1.0.dist-info"))
    cache_file = tmp_path / "cache" / "native.json"
    native, notes = scan_host_native(tmp_path, {"python": (pkg,)}, [], environ={}, timeout=10, cache_path=cache_file)
    assert notes == []
    [found] = native.packages
    assert found.vendored == ("libfoo.so.1",)
    assert "libfoo.so.1" not in native.libraries  # vendored, not a system library
    assert cache_file.is_file()
    cache = ElfCache(cache_file)
    assert str(sp / "foo" / EXT.name) in cache.entries
    again, _ = scan_host_native(tmp_path, {"python": (pkg,)}, [], environ={}, timeout=10, cache_path=cache_file)
    assert again == native


def test_unreadable_extension_is_a_note_not_a_traceback(tmp_path: Path) -> None:
    sp = _site(tmp_path, "venv/lib/python3.11/site-packages")
    (sp / "foo" / EXT.name).write_bytes(b"\x7fELF\x02\x01\x01" + b"\xff" * 57)
    pkg = Package("foo", "1.0", path=str(sp / "foo-1.0.dist-info"))
    native, notes = scan_host_native(tmp_path, {"python": (pkg,)}, [], environ={}, timeout=10, cache_path=None)
    assert native.packages == ()
    assert len(notes) == 1 and "not readable as ELF" in notes[0]


def _node_addon(root: Path) -> None:
    pkg = root / "node_modules" / "@acme" / "addon"
    (pkg / "build" / "Release").mkdir(parents=True)
    (pkg / "package.json").write_text('{"name": "@acme/addon", "version": "2.0.0"}')
    shutil.copy(EXT, pkg / "build" / "Release" / "addon.node")


def test_node_addons_belong_to_their_package_in_images_and_on_hosts(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    _node_addon(root)
    snap = scan_image(f"dir:{root}")
    assert snap.native is not None
    [pkg] = snap.native.packages
    assert (pkg.ecosystem, pkg.name) == ("node", "@acme/addon")
    assert pkg.extensions[0].file == "/node_modules/@acme/addon/build/Release/addon.node"

    proj = tmp_path / "proj"
    _node_addon(proj)
    node_pkg = Package("@acme/addon", "2.0.0", path="node_modules/@acme/addon")
    native, _ = scan_host_native(proj, {"node": (node_pkg,)}, [], environ={}, timeout=10, cache_path=None)
    [found] = native.packages
    assert (found.name, found.path, found.extensions[0].needed) == (
        "@acme/addon",
        "node_modules/@acme/addon",
        ("libfoo.so.1",),
    )


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=14008), st.sampled_from([4096, 8192, 1 << 20]))
def test_forward_reading_agrees_with_random_access_or_gives_up(cut: int, head: int) -> None:
    data = EXT.read_bytes()[:cut]
    direct = read_dynamic(_reader(data), len(data))
    streamed = read_dynamic(ForwardReader(io.BytesIO(data), 1 << 20, keep_head=head), len(data))
    assert streamed == direct or streamed is None


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_record_and_dpkg_list_readers_never_raise(data: bytes) -> None:
    from envcheck.scanners.image.native import read_fact

    for kind in ("pyrecord", "dpkglist"):
        fact = read_fact(kind, io.BytesIO(data), len(data))
        assert isinstance(fact, tuple) and all(isinstance(x, str) and not x.startswith("/") for x in fact)
