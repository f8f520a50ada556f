"""The native-library cache against real pip (issue 15): install, upgrade, uninstall — always the cold answer."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import zipfile
from pathlib import Path

import pytest
from host_testutil import clean_env, make_venv, pip_install, pyenv_python, run

from envcheck.scanners.host import scan_host
from envcheck.snapshot import Snapshot

DATA = Path(__file__).resolve().parents[1] / "data" / "elf"
EXT = DATA / "_ext.cpython-311-x86_64-linux-gnu.so"
LIB = DATA / "libfoo.so.1.2.3"


def _wheel(where: Path, version: str, files: dict[str, bytes]) -> Path:
    """A real wheel of ``foo`` (pip checks its layout and rewrites its RECORD on install)."""
    info = f"foo-{version}.dist-info"
    files = {
        **files,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: foo\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: envcheck-tests\nRoot-Is-Purelib: false\nTag: py3-none-any\n",
    }
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    path = where / f"foo-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        zf.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return path


def _age(tree: Path) -> None:
    """Date the installed files back past the caches' racy window, as in a venv installed a while ago."""
    then = time.time() - 30
    for path in [tree, *tree.rglob("*")]:
        os.utime(path, (then, then), follow_symlinks=False)


def _json(snap: Snapshot) -> str:
    doc = snap.to_dict()
    doc["source"].pop("captured_at")
    return json.dumps(doc, sort_keys=True)


@pytest.mark.network
def test_pip_install_reinstall_and_uninstall_give_the_cold_snapshot(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    py = make_venv(pyenv_python("3.11"), project / ".venv")
    site = next((project / ".venv" / "lib").glob("python3*/site-packages"))
    v1 = _wheel(
        tmp_path,
        "1.0",
        {"foo/__init__.py": b"", f"foo/{EXT.name}": EXT.read_bytes(), "foo.libs/libfoo.so.1": LIB.read_bytes()},
    )
    # A rebuild of 1.0 renamed its extension and vendors nothing any more: only its new RECORD
    # (in the same .dist-info directory) knows.
    (tmp_path / "rebuilt").mkdir()
    v2 = _wheel(tmp_path / "rebuilt", "1.0", {"foo/__init__.py": b"", f"foo/_other{EXT.name[4:]}": EXT.read_bytes()})
    cache = tmp_path / "cache"
    env = {k: v for k, v in clean_env(XDG_CACHE_HOME=str(cache)).items() if k != "ENVCHECK_NO_CACHE"}

    def same_as_cold() -> Snapshot:
        warm = scan_host(project, node=False, env_names=(), environ=env)
        cold = scan_host(project, node=False, env_names=(), environ={**env, "ENVCHECK_NO_CACHE": "1"})
        assert _json(warm) == _json(cold)
        # The snapshot writer (envcheck._json_text) writes what json.dumps(indent=2) would.
        assert warm.to_json() == json.dumps(warm.to_dict(), indent=2) + "\n"
        return warm

    pip_install(py, str(v1))
    _age(site)
    first = same_as_cold()
    assert list((cache / "envcheck" / "native").glob("*.json"))
    assert _json(same_as_cold()) == _json(first)  # warm this time
    assert _foo(first) == (("libfoo.so.1",), ("libfoo.so.1",))

    pip_install(py, "--force-reinstall", str(v2))
    same_as_cold()  # fresh files: read, not vouched for
    _age(site)
    assert _foo(same_as_cold()) == (("libfoo.so.1",), ())

    run([str(py), "-m", "pip", "uninstall", "-y", "-q", "foo"], env=clean_env())
    _age(site)
    gone = same_as_cold()
    assert all(p.name != "foo" for p in gone.packages.get("python", ()))
    assert _foo(gone) is None


def _foo(snap: Snapshot) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(what foo's extension needs, what foo vendors), None when foo has no native facts."""
    found = [p for p in snap.native.packages if p.name == "foo"] if snap.native else []
    if not found:
        return None
    return found[0].extensions[0].needed, found[0].vendored
