"""EC108 on real images: the same package, compiled against two major versions of a library.

``luaext 1.0`` is a C extension built on this machine with gcc against the
real ``liblua5.3.so.0`` and ``liblua5.4.so.0`` (Debian bookworm ships both:
``liblua5.3-0`` and ``liblua5.4-0``, fetched with ``apt-get download``).  Each
image is the python stand-in plus one of the two Debian packages
(``dpkg -i``, so the image's package database records it) and the matching
build of ``luaext`` installed by pip from a wheel.  Scanned statically and
diffed, EC108 names the package, the library and both versions; an image
diffed against itself, or the python-venv test image against itself, is
silent.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
import testbed

from envcheck.cli import main

pytestmark = [pytest.mark.engine, pytest.mark.network]

LUA = {"5.3": "liblua5.3-0", "5.4": "liblua5.4-0"}
EXT_C = """\
/* Enough of the Lua C API to make the linker record the library; never run here. */
typedef struct lua_State lua_State;
lua_State *luaL_newstate(void);
void lua_close(lua_State *L);
int luaext_roundtrip(void) { lua_State *L = luaL_newstate(); if (!L) return 0; lua_close(L); return 1; }
"""


def _run(argv: list[str], cwd: Path) -> None:
    res = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    if res.returncode != 0:
        pytest.fail(f"{' '.join(argv)} failed: {res.stderr.strip()[-800:]}", pytrace=False)


def _debs() -> dict[str, Path]:
    """The two Debian packages (apt's own sources and cache; fetched once)."""
    cache = testbed.CACHE_DIR / "native-lua"
    cache.mkdir(parents=True, exist_ok=True)
    found = {v: sorted(cache.glob(f"{pkg}_*.deb")) for v, pkg in LUA.items()}
    if not all(found.values()):
        if shutil.which("apt-get") is None:
            pytest.fail("apt-get is needed to fetch liblua5.3-0 / liblua5.4-0", pytrace=False)
        _run(["apt-get", "download", *LUA.values()], cache)
        found = {v: sorted(cache.glob(f"{pkg}_*.deb")) for v, pkg in LUA.items()}
    return {v: paths[-1] for v, paths in found.items()}


def _wheel(version: str, deb: Path, work: Path) -> Path:
    """``luaext-1.0`` built against liblua ``version`` (linked against the library unpacked from ``deb``)."""
    if shutil.which("gcc") is None:
        pytest.fail("gcc is needed to build the test extension", pytrace=False)
    build = work / f"build-{version}"
    build.mkdir()
    _run(["dpkg-deb", "-x", str(deb), "root"], build)
    libdir = next((build / "root").glob("usr/lib/*/"))
    (build / "ext.c").write_text(EXT_C)
    ext = "_lua.cpython-311-x86_64-linux-gnu.so"
    _run(["gcc", "-shared", "-fPIC", "-O2", "-o", ext, "ext.c", f"-L{libdir}", f"-l:liblua{version}.so.0"], build)
    files = {
        f"luaext/{ext}": (build / ext).read_bytes(),
        "luaext/__init__.py": b"",
        "luaext-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: luaext\nVersion: 1.0\n",
        "luaext-1.0.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: envcheck-tests\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n"
        ),
    }
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("luaext-1.0.dist-info/RECORD,,")
    wheel = work / version / "luaext-1.0-cp311-cp311-linux_x86_64.whl"
    wheel.parent.mkdir()
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        zf.writestr("luaext-1.0.dist-info/RECORD", "\n".join(record) + "\n")
    return wheel


def _image(engine: Any, base: str, version: str, deb: Path, wheel: Path, work: Path) -> str:
    ctx = work / f"ctx-{version}"
    ctx.mkdir()
    shutil.copy(deb, ctx / deb.name)
    shutil.copy(wheel, ctx / wheel.name)
    (ctx / "Dockerfile").write_text(
        f"FROM {base}\n"
        f"COPY {deb.name} {wheel.name} /tmp/\n"
        f"RUN dpkg -i /tmp/{deb.name} && python3 -m pip install --no-index --no-deps /tmp/{wheel.name}"
        f" && rm /tmp/{deb.name} /tmp/{wheel.name}\n"
    )
    tag = f"s4-native/luaext-{version}:test"
    engine.build(ctx, tag, network_host=False)
    return tag


def _snapshot(tag: str, out: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["snapshot", "image", f"docker:{tag}", "-o", str(out)]) == 0
    capsys.readouterr()
    return out


def _ec108(a: Path, b: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    main(["diff", str(a), str(b), "--format", "json", "--select", "EC108", "--fail-on", "never"])
    report = json.loads(capsys.readouterr().out)
    return [f for f in report["findings"] if f["rule"] == "EC108"]


def test_same_package_linking_another_lua_major_gives_ec108(
    docker_engine: Any, standins: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = standins[0]
    debs = _debs()
    snaps = {}
    for version, deb in debs.items():
        wheel = _wheel(version, deb, tmp_path)
        tag = _image(docker_engine, base, version, deb, wheel, tmp_path)
        snaps[version] = _snapshot(tag, tmp_path / f"{version}.json", capsys)

    doc = json.loads(snaps["5.4"].read_text())
    [pkg] = [p for p in doc["native"]["packages"] if p["name"] == "luaext"]
    assert "liblua5.4.so.0" in pkg["extensions"][0]["needed"]
    lib = doc["native"]["libraries"]["liblua5.4.so.0"]
    assert lib["package"] == "liblua5.4-0" and lib["version"].startswith("5.4.")

    [finding] = _ec108(snaps["5.3"], snaps["5.4"], capsys)
    assert finding["subject"] == "luaext:liblua"
    assert finding["left"]["value"].startswith("5.3.") and finding["right"]["value"].startswith("5.4.")
    assert "luaext" in finding["message"] and "5.3." in finding["message"] and "5.4." in finding["message"]

    assert _ec108(snaps["5.4"], snaps["5.4"], capsys) == []


def test_python_venv_image_records_native_facts_and_is_silent_against_itself(
    docker_engine: Any, python_venv_image: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snap = _snapshot(python_venv_image.tag, tmp_path / "venv.json", capsys)
    doc = json.loads(snap.read_text())
    assert "openssl" in doc["native"]["python"]
    assert _ec108(snap, snap, capsys) == []
