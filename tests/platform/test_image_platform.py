"""Platform facts read statically off a root file system: arch, libc family and version, wheel tags."""

from __future__ import annotations

from pathlib import Path

from envcheck.scanners.image import scan_image


def _file(root: Path, rel: str, data: bytes = b"\x7fELF") -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_the_multiarch_directory_names_the_arch_when_the_loader_does_not(tmp_path: Path) -> None:
    _file(tmp_path, "lib/ld-linux.so.2")  # i386's loader name carries no arch
    _file(tmp_path, "lib/i386-linux-gnu/libc.so.6", b"\x7fELF GNU C Library release version 2.36.\x00")
    snap = scan_image(f"dir:{tmp_path}")
    assert snap.platform is not None
    assert (snap.platform.arch, snap.platform.libc) == ("i686", "glibc 2.36")


def test_an_alpine_root_gives_musl_and_musllinux_tags(tmp_path: Path) -> None:
    _file(tmp_path, "lib/ld-musl-aarch64.so.1")
    _file(tmp_path, "lib/apk/db/installed", b"P:musl\nV:1.2.4-r2\n\nP:python3\nV:3.11.6-r0\n\n")
    _file(tmp_path, "usr/bin/python3.11")
    snap = scan_image(f"dir:{tmp_path}")
    assert snap.platform is not None and snap.platform.libc == "musl 1.2.4" and snap.platform.arch == "aarch64"
    py = snap.runtime("python")
    assert py is not None and py.version == "3.11.6" and py.abi == "cp311"
    assert py.wheel_platforms == (
        "musllinux_1_2_aarch64",
        "musllinux_1_1_aarch64",
        "musllinux_1_0_aarch64",
        "linux_aarch64",
    )


def test_a_root_with_a_musl_loader_but_no_version_records_no_tags(tmp_path: Path) -> None:
    # The family is known, the version is not: no musllinux_1_Y is guessed.
    _file(tmp_path, "lib/ld-musl-x86_64.so.1")
    _file(tmp_path, "usr/local/bin/python3.12")
    _file(tmp_path, "usr/local/include/python3.12/patchlevel.h", b'#define PY_VERSION "3.12.1"\n')
    snap = scan_image(f"dir:{tmp_path}")
    assert snap.platform is not None and snap.platform.libc == "musl"
    py = snap.runtime("python")
    assert py is not None and py.version == "3.12.1" and py.wheel_platforms == ()


def _elf_header(machine: int) -> bytes:
    import struct

    return b"\x7fELF" + bytes([2, 1, 1]) + b"\x00" * 9 + struct.pack("<HH", 2, machine) + b"\x00" * 44


def test_with_no_config_and_no_loader_the_interpreters_elf_header_names_the_arch(tmp_path: Path) -> None:
    # A static interpreter in a scratch-like root: no loader, no multiarch directory.
    _file(tmp_path, "usr/local/bin/python3.12", _elf_header(183) + b"\x003.12.1\x00")
    snap = scan_image(f"dir:{tmp_path}")
    assert snap.platform is not None and snap.platform.arch == "aarch64"
    assert snap.runtime("python") is not None and snap.runtimes["python"].version == "3.12.1"
