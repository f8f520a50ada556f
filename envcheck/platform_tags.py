"""Which wheels an interpreter accepts, computed from platform facts (issue 18).

pip decides which wheel to install by the interpreter's *tags*
(``cp311-cp311-manylinux_2_36_x86_64``, PEP 425 / PEP 600 / PEP 656).
``packaging.tags.sys_tags()`` answers that for the interpreter running it;
envcheck never runs a scanned image's interpreter, and a host's may be
Python 2.7 without ``packaging``, so the tags are computed here, in envcheck's
own process, from facts a snapshot records: the Python version and ABI, the
CPU architecture and the libc (glibc X.Y → ``manylinux_X_Y``, musl 1.Y →
``musllinux_1_Y``), with ``packaging.tags`` functions given explicit
arguments.

Everything here is pure: facts in, tags out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from envcheck import _regex
from envcheck.record import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from packaging.tags import Tag

    from envcheck.snapshot import Platform, Runtime, Snapshot

# uname, OCI/Go and npm name the same machines differently; wheels use uname's.
_ARCH = {
    "amd64": "x86_64",
    "x64": "x86_64",
    "x86-64": "x86_64",
    "arm64": "aarch64",
    "armv8": "aarch64",
    "arm64/v8": "aarch64",
    "i386": "i686",
    "386": "i686",
    "x86": "i686",
    "ia32": "i686",
    "armhf": "armv7l",
    "arm": "armv7l",
    "armv7": "armv7l",
    "ppc64el": "ppc64le",
}

# PEP 599/571/513: the legacy manylinux names are aliases of these glibc versions.
_MAJOR_MINOR = _regex.LazyPattern(r"(\d+)\.(\d+)")
_LEGACY = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
_LEGACY_ARCHES = {
    17: ("x86_64", "i686", "aarch64", "armv7l", "ppc64", "ppc64le", "s390x"),
    12: ("x86_64", "i686"),
    5: ("x86_64", "i686"),
}
# PEP 600: manylinux_2_5 is the oldest for x86; every other arch starts at 2_17.
_OLDEST_GLIBC_MINOR = {"x86_64": 5, "i686": 5}

# ELF e_machine values (System V ABI, "Machine Information") → uname names.
_E_MACHINE = {
    3: "i686",
    8: "mips",
    20: "ppc",
    21: "ppc64",
    22: "s390x",
    40: "armv7l",
    62: "x86_64",
    183: "aarch64",
    243: "riscv64",
}


def normalise_arch(arch: str | None) -> str | None:
    """``arm64`` → ``aarch64``, ``amd64`` → ``x86_64``: one name per machine, as wheels spell it."""
    if not arch:
        return None
    a = arch.strip().lower()
    return _ARCH.get(a, a) or None


def libc_of(libc: str | None) -> tuple[str, tuple[int, int] | None] | None:
    """``"glibc 2.36"`` → ``("glibc", (2, 36))``; ``"musl"`` → ``("musl", None)``."""
    if not libc:
        return None
    family, _, rest = libc.strip().partition(" ")
    family = family.lower()
    m = re.match(r"(\d+)\.(\d+)", rest.strip())
    return family, ((int(m.group(1)), int(m.group(2))) if m else None)


def elf_machine(header: bytes) -> str | None:
    """The architecture an ELF file was built for (its ``e_machine``), or None if not ELF."""
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    little = header[5] == 1
    machine = _E_MACHINE.get(int.from_bytes(header[18:20], "little" if little else "big"))
    if machine == "ppc64" and little:
        return "ppc64le"
    return machine


def manylinux_platforms(glibc: tuple[int, int], arch: str) -> list[str]:
    """PEP 600 platform tags a glibc ``glibc`` system of ``arch`` accepts, newest first."""
    major, newest = glibc
    if major != 2:
        return []
    out: list[str] = []
    for minor in range(newest, _OLDEST_GLIBC_MINOR.get(arch, 17) - 1, -1):
        out.append(f"manylinux_2_{minor}_{arch}")
        if minor in _LEGACY and arch in _LEGACY_ARCHES[minor]:
            out.append(f"{_LEGACY[minor]}_{arch}")
    return out


def musllinux_platforms(musl: tuple[int, int], arch: str) -> list[str]:
    """PEP 656 platform tags a musl ``1.Y`` system accepts, newest first."""
    major, newest = musl
    return [f"musllinux_{major}_{minor}_{arch}" for minor in range(newest, -1, -1)]


def platform_tags(
    os: str | None, arch: str | None, libc: str | None, *, os_version: str | None = None
) -> tuple[str, ...]:
    """The platform part of every wheel tag a system accepts, most preferred first.

    Empty when the facts cannot say (no architecture; Linux without a libc
    version; macOS without its version): "cannot say", never a guess.
    """
    a = normalise_arch(arch)
    system = (os or "").lower()
    if a is None:
        return ()
    if system == "linux":
        parsed = libc_of(libc)
        version = parsed[1] if parsed is not None else None
        if parsed is None or version is None:
            return ()
        family = parsed[0]
        if family == "glibc":
            out = manylinux_platforms(version, a)
        elif family == "musl":
            out = musllinux_platforms(version, a)
        else:
            return ()
        return (*out, f"linux_{a}")
    if system in ("darwin", "macos"):
        m = re.match(r"(\d+)(?:\.(\d+))?", os_version or "")
        if not m:
            return ()
        from packaging.tags import mac_platforms

        mac_arch = "arm64" if a == "aarch64" else a
        return tuple(mac_platforms((int(m.group(1)), int(m.group(2) or 0)), mac_arch))
    if system in ("windows", "win32"):
        return ({"x86_64": "win_amd64", "aarch64": "win_arm64", "i686": "win32"}.get(a, f"win_{a}"),)
    return ()


def cpython_abi(version: str, abiflags: str | None = None) -> str | None:
    """``cp311``, ``cp37m`` (pymalloc before 3.8), ``cp27mu`` (UCS-4 builds), ``cp313t`` (free-threaded)."""
    m = _MAJOR_MINOR.match(version)
    if not m:
        return None
    major, minor = int(m.group(1)), int(m.group(2))
    if abiflags is None:
        # Every Linux distribution and the official images build 2.7 with UCS-4
        # and 3.x < 3.8 with pymalloc; a probe's sys.abiflags overrides this.
        abiflags = "mu" if major == 2 else "m" if (major, minor) < (3, 8) else ""
    return f"cp{major}{minor}{abiflags}"


@record
class WheelTags:
    """An interpreter's accepted tags, kept as the three lists they are the product of."""

    python: tuple[int, int]
    implementation: str  # "cpython", "pypy", …
    abi: str | None  # "cp311"; None when unknown (only pure and abi3-free wheels then)
    platforms: tuple[str, ...]

    @property
    def label(self) -> str:
        """How a user reads the target: ``cp311 manylinux_2_36_x86_64``."""
        head = self.abi or f"py{self.python[0]}{self.python[1]}"
        return f"{head} {self.platforms[0]}" if self.platforms else head

    def tags(self) -> frozenset[Tag]:
        return _expand(self)

    def accepts_all_of(self, other: WheelTags) -> bool:
        """Every wheel ``other`` could install, this one can too (nothing to lose)."""
        same_interpreter = (self.python, self.implementation, self.abi) == (
            other.python,
            other.implementation,
            other.abi,
        )
        if same_interpreter and set(other.platforms) <= set(self.platforms):
            return True  # the common case (same base image): no tag expansion, no packaging.tags import
        return other.tags() <= self.tags()


@lru_cache(maxsize=64)
def _expand(w: WheelTags) -> frozenset[Tag]:
    from packaging.tags import compatible_tags, cpython_tags, generic_tags

    interpreter = {"cpython": "cp", "pypy": "pp"}.get(w.implementation, "py") + f"{w.python[0]}{w.python[1]}"
    tags: set[Tag] = set()
    if w.implementation == "cpython" and w.abi:
        tags.update(cpython_tags(w.python, [w.abi], w.platforms))
    elif w.abi:
        tags.update(generic_tags(interpreter, [w.abi, "none"], w.platforms))
    tags.update(compatible_tags(w.python, interpreter, w.platforms))
    return frozenset(tags)


def wheel_tags(runtime: Runtime | None, platform: Platform | None) -> WheelTags | None:
    """The tags a snapshot's Python accepts: what the scanner recorded, else derived from its facts."""
    if runtime is None or platform is None:
        return None
    m = re.match(r"(\d+)\.(\d+)", runtime.version)
    if not m:
        return None
    impl = (runtime.implementation or "cpython").lower()
    platforms = runtime.wheel_platforms or platform_tags(platform.os, platform.arch, platform.libc)
    if not platforms:
        return None
    abi = runtime.abi or (cpython_abi(runtime.version) if impl == "cpython" else None)
    return WheelTags((int(m.group(1)), int(m.group(2))), impl, abi, tuple(platforms))


def snapshot_wheel_tags(snapshot: Snapshot | None) -> WheelTags | None:
    if snapshot is None:
        return None
    return wheel_tags(snapshot.runtime("python"), snapshot.platform)


def with_wheel_facts(
    runtime: Runtime, platform: Platform, *, abiflags: str | None = None, os_version: str | None = None
) -> Runtime:
    """``runtime`` with its ABI and accepted wheel platforms recorded (scanners call this)."""
    from envcheck.record import replace

    impl = (runtime.implementation or "cpython").lower()
    abi = runtime.abi or (cpython_abi(runtime.version, abiflags) if impl == "cpython" else None)
    platforms = runtime.wheel_platforms or platform_tags(
        platform.os, platform.arch, platform.libc, os_version=os_version
    )
    return replace(runtime, abi=abi, wheel_platforms=tuple(platforms))


def interpreter_arch(sysconfig_platform: str | None) -> str | None:
    """The architecture an interpreter was built for, from ``sysconfig.get_platform()``.

    A 32-bit Python on a 64-bit kernel (``linux-i686`` on ``x86_64``) or an
    x86_64 Python under Rosetta installs wheels for its own build, not the machine's.
    """
    if not sysconfig_platform:
        return None
    last = sysconfig_platform.rsplit("-", 1)[-1]
    if sysconfig_platform.startswith("macosx-") and last in ("universal2", "universal", "intel", "fat"):
        return None  # a fat build runs as the machine's arch
    if sysconfig_platform in ("win32",):
        return "i686"
    return normalise_arch(last) if "-" in sysconfig_platform else None


def from_probe(
    runtime: Runtime, platform: Platform, doc: Mapping[str, object], *, os_version: str | None = None
) -> Runtime:
    """Host scanners: the probe's ``abiflags`` and build platform, then :func:`with_wheel_facts`."""
    from envcheck.record import replace

    flags = doc.get("abiflags")
    built = doc.get("platform")
    arch = interpreter_arch(built if isinstance(built, str) else None)
    seen_as = replace(platform, arch=arch) if arch and arch != normalise_arch(platform.arch) else platform
    return with_wheel_facts(runtime, seen_as, abiflags=flags if isinstance(flags, str) else None, os_version=os_version)
