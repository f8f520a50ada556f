"""The cached interpreter description (issue 15): same snapshot, never stale, never in the way."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from host_testutil import active_set, clean_env, make_venv, pip_list, pip_set, pyenv_python

from envcheck.scanners import interpreter_cache
from envcheck.scanners.host import scan_host
from envcheck.snapshot import Snapshot

pytestmark = pytest.mark.network


def _json(snap: Snapshot) -> str:
    doc = snap.to_dict()
    doc["source"].pop("captured_at")  # the only field that differs between two runs
    return json.dumps(doc, sort_keys=True)


def _entries(cache_home: Path) -> list[Path]:
    return sorted((cache_home / "envcheck" / "interpreters").glob("*.json"))


def _settle(*paths: Path) -> None:
    """Let every path age past the cache's racy window, so a probe may be cached."""
    newest = max(p.stat().st_mtime for p in paths)
    time.sleep(max(0.0, newest + interpreter_cache._RACY_SECONDS + 0.05 - time.time()))


def _site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def _fake_dist(where: Path, name: str, version: str) -> None:
    info = where / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n", encoding="utf-8")


def _project(tmp_path: Path, version: str) -> Path:
    py = make_venv(pyenv_python(version), tmp_path / "proj" / ".venv")
    _fake_dist(_site_packages(tmp_path / "proj" / ".venv"), "alpha", "1.0")
    _settle(py, _site_packages(tmp_path / "proj" / ".venv"))
    return tmp_path / "proj"


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    return _project(tmp_path, "3.11")


def _scan(project: Path, cache_home: Path, **extra: str) -> Snapshot:
    env = clean_env(XDG_CACHE_HOME=str(cache_home), **extra)
    if not extra:
        env.pop(interpreter_cache.DISABLE_ENV, None)
    return scan_host(project, node=False, env_names=(), environ=env)


# The oldest interpreter the probe supports, envcheck's own, and the newest:
# a warm snapshot reads the distributions in envcheck's process, whatever
# version the project's interpreter is.
@pytest.mark.parametrize("version", ["3.6", "3.11", "3.13"])
def test_cold_warm_and_disabled_snapshots_are_byte_for_byte_equal(tmp_path: Path, version: str) -> None:
    venv = _project(tmp_path, version)
    cache = tmp_path / "cache"
    off = _scan(venv, cache, ENVCHECK_NO_CACHE="1")
    assert _entries(cache) == []  # disabled: nothing read, nothing written
    cold = _scan(venv, cache)
    assert len(_entries(cache)) == 1
    warm = _scan(venv, cache)
    assert _json(off) == _json(cold) == _json(warm)
    # ... and all of them are what pip says is installed.
    assert active_set(warm) == pip_set(pip_list(venv / ".venv" / "bin" / "python"))


def test_a_warm_snapshot_reads_installed_packages_fresh(venv: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _scan(venv, cache)
    site = _site_packages(venv / ".venv")
    _fake_dist(site, "beta", "2.0")
    shutil.rmtree(site / "alpha-1.0.dist-info")
    names = {p.name: p.version for p in _scan(venv, cache).packages["python"]}
    assert names.get("beta") == "2.0" and "alpha" not in names
    assert _json(_scan(venv, cache)) == _json(_scan(venv, cache, ENVCHECK_NO_CACHE="1"))


def test_a_new_pth_file_changes_sys_path_and_the_cache_follows(venv: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _scan(venv, cache)
    extra = tmp_path / "extra"
    _fake_dist(extra, "gamma", "3.0")
    (_site_packages(venv / ".venv") / "extra.pth").write_text(f"{extra}\n", encoding="utf-8")
    snap = _scan(venv, cache)
    assert ("gamma", "3.0") in {(p.name, p.version) for p in snap.packages["python"] if p.active}


def test_a_pth_file_edited_in_place_is_noticed(venv: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    one, two = tmp_path / "one", tmp_path / "two"
    _fake_dist(one, "delta", "1.0")
    _fake_dist(two, "delta", "2.0")
    site = _site_packages(venv / ".venv")
    pth = site / "extra.pth"
    pth.write_text(f"{one}\n", encoding="utf-8")
    _settle(site, pth)
    assert "1.0" in {p.version for p in _scan(venv, cache).packages["python"] if p.name == "delta"}
    assert len(_entries(cache)) == 1  # the description was cached ...
    site_mtime = site.stat().st_mtime_ns
    pth.write_text(f"{two}\n", encoding="utf-8")  # ... and the directory's mtime does not move
    os.utime(site, ns=(site_mtime, site_mtime))
    versions = {p.version for p in _scan(venv, cache).packages["python"] if p.name == "delta" and p.active}
    assert versions == {"2.0"}


def test_a_corrupt_or_foreign_entry_is_a_miss_not_an_error(venv: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    expected = _json(_scan(venv, cache))
    (entry,) = _entries(cache)
    for junk in (b"\x00\xff not json", b"[]", b'{"key": 1, "watch": [], "description": {}}', b"{" * 100_000):
        entry.write_bytes(junk)
        assert _json(_scan(venv, cache)) == expected
    # A valid entry for the same interpreter whose description was tampered with
    # is still checked against the files it names.
    _scan(venv, cache)
    doc = json.loads(entry.read_text(encoding="utf-8"))
    doc["description"]["path"] = ["relative/path"]
    entry.write_text(json.dumps(doc), encoding="utf-8")
    assert _json(_scan(venv, cache)) == expected


def test_an_unwritable_cache_directory_changes_nothing(venv: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("", encoding="utf-8")
    assert _json(_scan(venv, blocker)) == _json(_scan(venv, tmp_path / "c2", ENVCHECK_NO_CACHE="1"))


# --------------------------------------------------------------------------- the cache as a unit


def _description(place: Path) -> dict[str, Any]:
    return {"version": "3.11.0", "path": [str(place)], "user_site": None, "site_packages": [str(place)]}


def key_of(cache: interpreter_cache.InterpreterCache, exe: Path) -> dict[str, Any]:
    key = cache.key(str(exe))
    assert key is not None
    return key


def _old(path: Path) -> None:
    past = time.time() - 60
    os.utime(path, (past, past))


def test_a_changed_interpreter_or_pyvenv_cfg_invalidates(tmp_path: Path) -> None:
    exe = tmp_path / "venv" / "bin" / "python"
    exe.parent.mkdir(parents=True)
    exe.write_bytes(b"\x7fELF a build")
    cfg = tmp_path / "venv" / "pyvenv.cfg"
    cfg.write_text("home = /usr/bin\n", encoding="utf-8")
    lib = tmp_path / "lib"
    lib.mkdir()
    for p in (exe, cfg, lib, exe.parent, exe.parent.parent):
        _old(p)
    cache = interpreter_cache.InterpreterCache(tmp_path / "cache", "probe", {"HOME": "/h"})
    key = cache.key(str(exe))
    assert key is not None
    cache.store(str(exe), key, _description(lib), time.time())
    assert cache.load(str(exe)) == _description(lib)
    cfg.write_text("home = /usr/local/bin\n", encoding="utf-8")
    assert cache.load(str(exe)) is None
    cache.store(str(exe), key_of(cache, exe), _description(lib), time.time() + 10)
    assert cache.load(str(exe)) is not None
    exe.write_bytes(b"\x7fELF a new build")
    assert cache.load(str(exe)) is None
    # A different probe, or another home, is another answer.
    assert interpreter_cache.InterpreterCache(tmp_path / "cache", "probe v2", {"HOME": "/h"}).load(str(exe)) is None


def test_a_description_probed_while_things_changed_is_not_stored(tmp_path: Path) -> None:
    exe = Path(sys.executable)
    lib = tmp_path / "lib"
    lib.mkdir()  # modified just now: within the racy window
    cache = interpreter_cache.InterpreterCache(tmp_path / "cache", "probe", {})
    cache.store(str(exe), key_of(cache, exe), _description(lib), time.time())
    assert cache.load(str(exe)) is None
    stale_key = dict(key_of(cache, exe), stat=[0, 0, 0, 0])  # the interpreter changed during the probe
    _old(lib)
    cache.store(str(exe), stale_key, _description(lib), time.time())
    assert cache.load(str(exe)) is None


def test_the_cache_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(interpreter_cache, "MAX_ENTRIES", 3)
    lib = tmp_path / "lib"
    lib.mkdir()
    _old(lib)
    cache = interpreter_cache.InterpreterCache(tmp_path / "cache", "probe", {})
    for i in range(6):
        exe = tmp_path / f"python{i}"
        exe.write_bytes(b"\x7fELF")
        _old(exe)
        cache.store(str(exe), key_of(cache, exe), _description(lib), time.time())
        assert cache.load(str(exe)) is not None  # the newest is always kept
    assert len(list((tmp_path / "cache").glob("*.json"))) == 3
    assert not list((tmp_path / "cache").glob("*.tmp"))


def test_a_shim_script_is_never_cached(venv: Path, tmp_path: Path) -> None:
    # pyenv's and asdf's shims choose the interpreter each time they run: the
    # shim's own stat would not notice `pyenv global 3.12`.
    shim = tmp_path / "shims" / "python"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec "{venv / ".venv" / "bin" / "python"}" "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    _old(shim)
    cache = tmp_path / "cache"
    env = clean_env(XDG_CACHE_HOME=str(cache))
    first = scan_host(venv, python=str(shim), node=False, env_names=(), environ=env)
    again = scan_host(venv, python=str(shim), node=False, env_names=(), environ=env)
    assert _entries(cache) == []
    assert _json(first) == _json(again) and "alpha" in {p.name for p in again.packages["python"]}


def test_cache_dir_follows_xdg_and_can_be_turned_off() -> None:
    assert interpreter_cache.cache_dir({"HOME": "/h"}) == Path("/h/.cache/envcheck/interpreters")
    assert interpreter_cache.cache_dir({"HOME": "/h", "XDG_CACHE_HOME": "/x"}) == Path("/x/envcheck/interpreters")
    assert interpreter_cache.cache_dir({"HOME": "/h", "XDG_CACHE_HOME": "rel"}) == Path(
        "/h/.cache/envcheck/interpreters"
    )
    assert interpreter_cache.cache_dir({"HOME": "/h", "ENVCHECK_NO_CACHE": "1"}) is None
    assert interpreter_cache.cache_dir({"HOME": "/h", "ENVCHECK_NO_CACHE": "0"}) is not None
    assert interpreter_cache.cache_dir({}) is None


def test_two_envcheck_installs_keep_an_entry_each(tmp_path: Path) -> None:
    """pre-commit's envcheck and the venv's ask about one interpreter: neither evicts the other's answer."""
    lib = tmp_path / "lib"
    lib.mkdir()
    _old(lib)
    exe = tmp_path / "python"
    exe.write_bytes(b"\x7fELF")
    _old(exe)
    caches = [interpreter_cache.InterpreterCache(tmp_path / "cache", probe, {}) for probe in ("0.1:1:1", "0.2:2:2")]
    for cache in caches:
        cache.store(str(exe), key_of(cache, exe), _description(lib), time.time())
    assert all(cache.load(str(exe)) is not None for cache in caches)
