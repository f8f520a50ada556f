"""Root file systems of another platform, made from Debian's own packages without running them.

* an **arm64** Debian root: ``libc6``, ``python3.11-minimal`` and
  ``libpython3.11-minimal`` for arm64, downloaded with an apt of its own (its
  own lists and cache under the test cache, ``APT::Architecture=arm64``) so the
  machine's apt configuration is never touched, and unpacked with
  ``dpkg-deb -x`` — nothing of it is executed; a ``FROM scratch`` Dockerfile of
  COPY steps built with ``--platform linux/arm64`` needs no emulation;
* an **Alpine-style musl** root: the real musl loader from Debian's ``musl``
  package (``/lib/ld-musl-x86_64.so.1``), an apk database naming musl and
  python3 at the versions that package and the host carry, and the interpreter
  where Alpine puts it.

The mirror is the one this machine's apt uses (``testbed.debian_mirror``).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import testbed

KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
ARM64_PACKAGES = ("libc6", "python3.11-minimal", "libpython3.11-minimal")


def _apt_options(arch: str, root: Path) -> list[str]:
    return [
        f"-oDir::State={root / 'state'}",
        f"-oDir::State::status={root / 'status'}",
        f"-oDir::Cache={root / 'cache'}",
        f"-oDir::Etc::sourcelist={root / 'sources.list'}",
        "-oDir::Etc::sourceparts=-",
        f"-oDir::Etc::preferencesparts={root / 'preferences.d'}",
        f"-oAPT::Architecture={arch}",
        f"-oAPT::Architectures={arch}",
        "-oAPT::Sandbox::User=root",
    ]


def debs(arch: str, packages: tuple[str, ...]) -> list[Path]:
    """``packages`` for ``arch`` as .deb files, downloaded once into the test cache."""
    root = testbed.CACHE_DIR / f"apt-{arch}"
    out = root / "debs"
    with testbed._locked(f"apt-{arch}"):
        have = {p.name.split("_")[0]: p for p in out.glob("*.deb")} if out.is_dir() else {}
        if all(name in have for name in packages):
            return [have[name] for name in packages]
        for d in ("state/lists/partial", "cache/archives/partial", "preferences.d", "debs"):
            (root / d).mkdir(parents=True, exist_ok=True)
        (root / "status").write_text("")
        (root / "sources.list").write_text(
            f"deb [arch={arch} signed-by={KEYRING}] {testbed.debian_mirror()} bookworm main\n"
        )
        opts = _apt_options(arch, root)
        testbed._run(["apt-get", *opts, "-q", "update"], timeout=600)
        testbed._run(["apt-get", *opts, "-q", "download", *packages], cwd=out, timeout=600)
        have = {p.name.split("_")[0]: p for p in out.glob("*.deb")}
    return [have[name] for name in packages]


def deb_version(deb: Path) -> str:
    return subprocess.run(
        ["dpkg-deb", "-f", str(deb), "Version"], capture_output=True, text=True, check=True
    ).stdout.strip()


def unpack(deb: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    testbed._run(["dpkg-deb", "-x", str(deb), str(dest)])


def dist_info(site: Path, name: str, version: str) -> None:
    d = site / f"{name}-{version}.dist-info"
    d.mkdir(parents=True, exist_ok=True)
    (d / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


def arm64_context(dest: Path) -> tuple[Path, str]:
    """A build context whose Dockerfile COPYs a real arm64 Debian python root; returns (context, python version)."""
    rootfs = dest / "rootfs"
    files = debs("arm64", ARM64_PACKAGES)
    for deb in files:
        unpack(deb, rootfs)
    python = deb_version(files[1]).split("-")[0]  # "3.11.2-6+deb12u8" → "3.11.2"
    dist_info(rootfs / "usr/local/lib/python3.11/dist-packages", "fastlib", "1.0")
    (dest / "Dockerfile").write_text("FROM scratch\nCOPY rootfs/ /\nENV PATH=/usr/local/bin:/usr/bin:/bin\n")
    return dest, python


def musl_rootfs(dest: Path, python: str) -> Path:
    """An Alpine-style root: the real musl loader, an apk database, python ``python`` on PATH."""
    [musl] = debs("amd64", ("musl",))
    tmp = dest.with_name(dest.name + "-musl-deb")
    unpack(musl, tmp)
    loaders = sorted(tmp.rglob("ld-musl-*.so.1"))
    libc = next(p for p in sorted(tmp.rglob("libc.so")) if p.is_file() and not p.is_symlink())
    (dest / "lib").mkdir(parents=True)
    # Alpine's layout: the loader *is* libc, at /lib/ld-musl-<arch>.so.1.
    shutil.copyfile(libc, dest / "lib" / loaders[0].name)
    musl_version = deb_version(musl).split("-")[0]
    db = dest / "lib/apk/db"
    db.mkdir(parents=True)
    minor = ".".join(python.split(".")[:2])
    (db / "installed").write_text(
        f"C:Q1musl\nP:musl\nV:{musl_version}-r0\nA:x86_64\n\nC:Q1py\nP:python3\nV:{python}-r0\nA:x86_64\n\n"
    )
    (dest / "etc").mkdir()
    (dest / "etc/os-release").write_text('ID=alpine\nVERSION_ID=3.18.4\nPRETTY_NAME="Alpine Linux v3.18"\n')
    bindir = dest / "usr/bin"
    bindir.mkdir(parents=True)
    # The interpreter's bytes are never run; the apk database says its version.
    (bindir / f"python{minor}").write_bytes(b"\x7fELF" + b"\x00" * 60)
    (bindir / "python3").symlink_to(f"python{minor}")
    dist_info(dest / f"usr/lib/python{minor}/site-packages", "fastlib", "1.0")
    shutil.rmtree(tmp)
    return dest
