"""The native scan's cache (issue 15): a warm scan only stats, and never answers for a changed file.

Every test compares a scan through the cache with a scan without one (the
cold answer); a second scan of an unchanged tree must not parse a RECORD,
read an ELF header, or rewrite the cache file.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from envcheck.native import Native
from envcheck.scanners import native_host
from envcheck.scanners.native_host import ElfCache, default_cache_path, scan_host_native
from envcheck.snapshot import Package

DATA = Path(__file__).resolve().parents[1] / "data" / "elf"
EXT = DATA / "_ext.cpython-311-x86_64-linux-gnu.so"
LIB = DATA / "libfoo.so.1.2.3"


def _age(*roots: Path, seconds: float = 60.0) -> None:
    """Date every file under ``roots`` back, as in a venv installed a while ago (past the racy window)."""
    then = time.time() - seconds
    for root in roots:
        for path in [root, *root.rglob("*")]:
            os.utime(path, (then, then), follow_symlinks=False)


def _dist(sp: Path, name: str, *, ext: Path | None = EXT, vendored: bool = False) -> Package:
    """A distribution as pip installs it: its files, and a RECORD listing them among many plain ones."""
    pkg_dir = sp / name
    pkg_dir.mkdir(parents=True)
    lines = [f"{name}/mod{i}.py,sha256=x,10" for i in range(50)]
    if ext is not None:
        shutil.copy(ext, pkg_dir / EXT.name)
        lines.append(f"{name}/{EXT.name},sha256=x,{ext.stat().st_size}")
    if vendored:
        (sp / f"{name}.libs").mkdir()
        shutil.copy(LIB, sp / f"{name}.libs" / "libfoo.so.1")
        lines.append(f"{name}.libs/libfoo.so.1,sha256=y,{LIB.stat().st_size}")
    # Listed but never installed, and outside site-packages: neither is an extension here.
    lines += [f"{name}/gone.so,,", "../../../bin/tool,,", f"{name}-1.0.dist-info/RECORD,,"]
    info = sp / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "RECORD").write_text("\n".join(lines) + "\n")
    return Package(name, "1.0", path=str(info))


def _scan(root: Path, pkgs: list[Package], cache: Path | None) -> tuple[Native, list[str]]:
    return scan_host_native(root, {"python": tuple(pkgs)}, [], environ={}, timeout=10, cache_path=cache)


def _cold(root: Path, pkgs: list[Package]) -> tuple[Native, list[str]]:
    return _scan(root, pkgs, None)  # environ={} has no HOME: no cache at all


@pytest.fixture
def no_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every RECORD parsed and ELF read; a warm scan must leave it empty."""
    seen: list[str] = []
    real_record, real_read = native_host._record_candidates, native_host.read_dynamic_file

    def record(path: str) -> tuple[list[str], list[str]]:
        seen.append(path)
        return real_record(path)

    def read(path: str):  # type: ignore[no-untyped-def]
        seen.append(path)
        return real_read(path)

    monkeypatch.setattr(native_host, "_record_candidates", record)
    monkeypatch.setattr(native_host, "read_dynamic_file", read)
    return seen


def test_warm_scan_only_stats_and_does_not_rewrite_the_cache(tmp_path: Path, no_reads: list[str]) -> None:
    sp = tmp_path / "site-packages"
    pkgs = [_dist(sp, "foo", vendored=True), _dist(sp, "bar", ext=None)]
    _age(sp)
    cache = tmp_path / "cache.json"
    cold = _scan(tmp_path, pkgs, cache)
    assert cold == _cold(tmp_path, pkgs)
    [found] = cold[0].packages
    assert found.vendored == ("libfoo.so.1",) and len(found.extensions) == 1
    before = cache.stat()
    no_reads.clear()
    assert _scan(tmp_path, pkgs, cache) == cold
    assert no_reads == []
    after = cache.stat()
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)


def test_installed_and_uninstalled_distributions_match_a_cold_scan(tmp_path: Path) -> None:
    sp = tmp_path / "site-packages"
    foo = _dist(sp, "foo")
    _age(sp)
    cache = tmp_path / "cache.json"
    _scan(tmp_path, [foo], cache)
    baz = _dist(sp, "baz", vendored=True)  # pip install
    assert _scan(tmp_path, [foo, baz], cache) == _cold(tmp_path, [foo, baz])
    _age(sp)
    assert _scan(tmp_path, [foo, baz], cache) == _cold(tmp_path, [foo, baz])
    shutil.rmtree(sp / "foo")  # pip uninstall foo
    shutil.rmtree(sp / "foo-1.0.dist-info")
    warm = _scan(tmp_path, [baz], cache)
    assert warm == _cold(tmp_path, [baz])
    # The uninstalled distribution's entries are gone from the file, not kept forever.
    doc = json.loads(cache.read_text())
    assert not any("foo" in key.split("site-packages/")[1] for key in [*doc["files"], *doc["records"]])


def test_a_rewritten_record_is_parsed_again(tmp_path: Path) -> None:
    sp = tmp_path / "site-packages"
    foo = _dist(sp, "foo", ext=None)
    _age(sp, seconds=120)
    cache = tmp_path / "cache.json"
    assert _scan(tmp_path, [foo], cache)[0].packages == ()
    # pip install --force-reinstall of a build with an extension: new files, new RECORD.
    shutil.rmtree(sp / "foo")
    shutil.rmtree(sp / "foo-1.0.dist-info")
    foo = _dist(sp, "foo")
    _age(sp, seconds=60)
    warm = _scan(tmp_path, [foo], cache)
    assert warm == _cold(tmp_path, [foo]) and len(warm[0].packages) == 1


def test_an_extension_rebuilt_in_place_is_read_again(tmp_path: Path) -> None:
    sp = tmp_path / "site-packages"
    foo = _dist(sp, "foo")
    _age(sp, seconds=120)
    cache = tmp_path / "cache.json"
    first = _scan(tmp_path, [foo], cache)
    assert first[0].packages[0].extensions[0].needed == ("libfoo.so.1",)
    ext = sp / "foo" / EXT.name
    ino = ext.stat().st_ino
    with open(ext, "r+b") as fh:  # same inode, RECORD untouched (an in-place `setup.py build_ext --inplace`)
        fh.truncate(0)
        fh.write(LIB.read_bytes())
    assert ext.stat().st_ino == ino
    _age(sp, seconds=60)
    warm = _scan(tmp_path, [foo], cache)
    assert warm == _cold(tmp_path, [foo]) != first
    assert warm[0].packages[0].extensions[0].needed == ()


def test_a_file_changed_just_now_is_never_vouched_for(tmp_path: Path) -> None:
    sp = tmp_path / "site-packages"
    foo = _dist(sp, "foo")  # not aged: written within the racy window
    cache = tmp_path / "cache.json"
    assert _scan(tmp_path, [foo], cache) == _cold(tmp_path, [foo])
    doc = json.loads(cache.read_text()) if cache.exists() else {"files": {}, "records": {}}
    assert doc["files"] == {} and doc["records"] == {}


@pytest.mark.parametrize("junk", ["", "{", "[]", '{"version": 2, "files": [], "records": {"x": 1}}', "\x00\xff"])
def test_a_damaged_cache_file_is_a_miss(tmp_path: Path, junk: str) -> None:
    sp = tmp_path / "site-packages"
    foo = _dist(sp, "foo", vendored=True)
    _age(sp)
    cache = tmp_path / "cache.json"
    cache.write_text(junk, encoding="utf-8", errors="surrogateescape")
    assert _scan(tmp_path, [foo], cache) == _cold(tmp_path, [foo])
    assert _scan(tmp_path, [foo], cache) == _cold(tmp_path, [foo])


def test_a_forged_record_entry_of_the_wrong_shape_is_ignored(tmp_path: Path) -> None:
    sp = tmp_path / "site-packages"
    foo = _dist(sp, "foo")
    _age(sp)
    cache = tmp_path / "cache.json"
    _scan(tmp_path, [foo], cache)
    doc = json.loads(cache.read_text())
    [key] = doc["records"]
    doc["records"][key][3] = [1, 2]
    cache.write_text(json.dumps(doc))
    assert _scan(tmp_path, [foo], cache) == _cold(tmp_path, [foo])


def test_one_cache_file_per_environment_and_none_when_caching_is_off(tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path)}
    a = default_cache_path(tmp_path / "a", ["/x/site-packages"], env)
    b = default_cache_path(tmp_path / "b", ["/x/site-packages"], env)
    c = default_cache_path(tmp_path / "a", ["/y/site-packages"], env)
    assert a is not None and a.parent == tmp_path / "envcheck" / "native"
    assert len({a, b, c}) == 3
    assert a == default_cache_path(tmp_path / "a", ["/x/site-packages"], env)
    assert default_cache_path(tmp_path, [], {**env, "ENVCHECK_NO_CACHE": "1"}) is None


def test_the_cache_directory_keeps_a_bounded_number_of_environments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(native_host, "MAX_CACHE_FILES", 3)
    sp = tmp_path / "site-packages"
    foo = _dist(sp, "foo")
    _age(sp)
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    old = tmp_path / "cache" / "envcheck" / "native.json"  # earlier envchecks' single file
    old.parent.mkdir(parents=True)
    old.write_text("{}")
    for i in range(6):
        scan_host_native(tmp_path, {"python": (foo,)}, [f"/p{i}"], environ=env, timeout=10)
    files = list((tmp_path / "cache" / "envcheck" / "native").glob("*.json"))
    assert len(files) == 3
    newest = default_cache_path(tmp_path, ["/p5"], env)
    assert newest in files
    assert ElfCache(newest).records  # the entry just written is one of those kept
    assert not old.exists()
