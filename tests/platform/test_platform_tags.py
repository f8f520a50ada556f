"""Wheel tags computed from platform facts match what pip itself would accept."""

from __future__ import annotations

import os
import platform
import struct

from hypothesis import given
from hypothesis import strategies as st
from packaging.tags import Tag, sys_tags

from envcheck.platform_tags import (
    WheelTags,
    cpython_abi,
    elf_machine,
    interpreter_arch,
    libc_of,
    normalise_arch,
    platform_tags,
    snapshot_wheel_tags,
)
from envcheck.snapshot import Platform, Runtime, Snapshot, Source


def test_the_tags_computed_for_this_machine_are_exactly_pips() -> None:
    # envcheck computes the tags from facts; packaging.sys_tags() asks the running interpreter.
    import sys

    glibc = os.confstr("CS_GNU_LIBC_VERSION")
    assert glibc, "the test machine is a glibc Linux"
    tags = WheelTags(
        sys.version_info[:2],
        "cpython",
        cpython_abi(platform.python_version(), sys.abiflags),
        platform_tags("linux", platform.machine(), glibc),
    )
    assert tags.tags() == frozenset(sys_tags())


def test_arm64_and_amd64_are_the_names_wheels_use() -> None:
    assert normalise_arch("arm64") == normalise_arch("aarch64") == "aarch64"
    assert normalise_arch("amd64") == normalise_arch("X86_64") == "x86_64"
    assert normalise_arch("") is None


def test_glibc_gives_manylinux_down_to_the_oldest_for_the_arch() -> None:
    x86 = platform_tags("linux", "amd64", "glibc 2.36")
    assert x86[0] == "manylinux_2_36_x86_64"
    assert {"manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"} <= set(x86)
    assert x86[-1] == "linux_x86_64"
    arm = platform_tags("linux", "arm64", "glibc 2.31")
    assert arm[0] == "manylinux_2_31_aarch64"
    assert "manylinux2014_aarch64" in arm and "manylinux_2_16_aarch64" not in arm  # PEP 599: arm starts at 2.17
    assert not any("musllinux" in p for p in x86 + arm)


def test_musl_gives_musllinux_only() -> None:
    tags = platform_tags("linux", "x86_64", "musl 1.2.4")
    assert tags == ("musllinux_1_2_x86_64", "musllinux_1_1_x86_64", "musllinux_1_0_x86_64", "linux_x86_64")


def test_without_a_libc_version_nothing_is_guessed() -> None:
    assert platform_tags("linux", "x86_64", "musl") == ()
    assert platform_tags("linux", "x86_64", None) == ()
    assert platform_tags("linux", None, "glibc 2.36") == ()
    assert platform_tags("darwin", "arm64", None) == ()  # macOS needs its version


def test_macos_and_windows() -> None:
    mac = platform_tags("darwin", "arm64", None, os_version="14.2")
    assert mac[0] == "macosx_14_0_arm64" and "macosx_11_0_universal2" in mac
    assert platform_tags("windows", "amd64", None) == ("win_amd64",)


def test_the_cpython_abi_follows_the_version() -> None:
    assert cpython_abi("2.7.18") == "cp27mu"
    assert cpython_abi("3.7.17") == "cp37m"
    assert cpython_abi("3.11.7") == "cp311"
    assert cpython_abi("3.13.1", "t") == "cp313t"
    assert cpython_abi("x") is None


def test_a_32_bit_interpreter_on_a_64_bit_machine_takes_32_bit_wheels() -> None:
    assert interpreter_arch("linux-i686") == "i686"
    assert interpreter_arch("linux-aarch64") == "aarch64"
    assert interpreter_arch("macosx-11.0-universal2") is None
    assert interpreter_arch("win-amd64") == "x86_64"


def _elf(machine: int, little: bool = True) -> bytes:
    order = "<" if little else ">"
    return b"\x7fELF" + bytes([2, 1 if little else 2, 1]) + b"\x00" * 9 + struct.pack(order + "HH", 2, machine)


def test_elf_machine() -> None:
    assert elf_machine(_elf(183)) == "aarch64"
    assert elf_machine(_elf(62)) == "x86_64"
    assert elf_machine(_elf(21, little=True)) == "ppc64le"
    assert elf_machine(_elf(22, little=False)) == "s390x"
    assert elf_machine(b"#!/bin/sh\n" + b"\x00" * 20) is None


@given(st.binary(max_size=64))
def test_elf_machine_reads_any_bytes_without_raising(data: bytes) -> None:
    assert elf_machine(data) in {
        None,
        "i686",
        "mips",
        "ppc",
        "ppc64",
        "ppc64le",
        "s390x",
        "armv7l",
        "x86_64",
        "aarch64",
        "riscv64",
    }


@given(st.text(max_size=40))
def test_libc_of_any_text_is_a_family_or_none(text: str) -> None:
    got = libc_of(text)
    assert got is None or (isinstance(got[0], str) and (got[1] is None or len(got[1]) == 2))


def test_a_stored_snapshot_without_the_new_fields_still_has_tags() -> None:
    # Snapshots saved before issue 18 carry the platform but no wheel_platforms.
    snap = Snapshot(
        Source("image", "old.json"),
        platform=Platform(os="linux", arch="arm64", libc="glibc 2.36"),
        runtimes={"python": Runtime("3.11.7", "cpython")},
    )
    tags = snapshot_wheel_tags(snap)
    assert tags is not None and tags.label == "cp311 manylinux_2_36_aarch64"
    assert Tag("cp311", "cp311", "manylinux2014_aarch64") in tags.tags()
    assert Tag("cp311", "cp311", "manylinux2014_x86_64") not in tags.tags()


def test_the_new_runtime_fields_round_trip_through_json() -> None:
    rt = Runtime("3.11.7", "cpython", "/usr/bin/python3", abi="cp311", wheel_platforms=("musllinux_1_2_x86_64",))
    snap = Snapshot(Source("image", "x"), runtimes={"python": rt})
    back = Snapshot.from_json(snap.to_json())
    assert back.runtimes["python"] == rt
    assert '"wheel_platforms"' in snap.to_json()


@given(
    st.sampled_from(["x86_64", "aarch64", "armv7l", "ppc64le", "s390x", "i686"]),
    st.sampled_from(["glibc", "musl"]),
    st.integers(min_value=0, max_value=60),
)
def test_newer_libc_accepts_every_tag_an_older_one_does(arch: str, family: str, minor: int) -> None:
    major = 2 if family == "glibc" else 1
    older = platform_tags("linux", arch, f"{family} {major}.{minor}")
    newer = platform_tags("linux", arch, f"{family} {major}.{minor + 1}")
    assert set(older) <= set(newer)
    assert older[-1] == f"linux_{arch}"
    a = WheelTags((3, 12), "cpython", "cp312", older)
    b = WheelTags((3, 12), "cpython", "cp312", newer)
    assert b.accepts_all_of(a) and (a.accepts_all_of(b) == (set(older) == set(newer)))
