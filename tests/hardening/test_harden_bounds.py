"""Stated bounds: no input makes envcheck allocate without bound or run without end.

Each case runs in a fresh interpreter (``harden_testutil.measure``) and must
finish inside the bound it states, measured as wall time of the call and peak
resident memory of the whole process (interpreter included).  The bounds are
generous multiples of what the caps imply, so the tests are not flaky on a
loaded machine, yet far below what an unbounded read would take:

=====================================  ==========================================
cap (where)                            bound asserted here
=====================================  ==========================================
64 MiB per manifest/lock file          10 GB sparse file: error, < 30 s, < 400 MiB
(``_io.read_text``)
64 levels of YAML, Python's JSON/TOML  200 000 levels: error, < 30 s, < 400 MiB
recursion limit (parsers)
16 levels of ``-r``/``-c`` includes,   40-deep chain, cycles, 2^16 diamond: < 30 s
cycles refused (requirements)
40 symlink hops (image walker)         10 000-link chain: < 30 s
4 MiB per metadata file, 160 MiB per   10 GB sparse METADATA / python3.11 in a
scanned binary (walker)                dir: rootfs: < 60 s, < 400 MiB
8 MiB per manifest/config JSON         9 MiB config: error
100x expansion past 1 GiB (walker,     2 GiB-of-zeros gzip layer or archive:
compressed archives)                   refused, < 120 s, < 400 MiB
=====================================  ==========================================
"""

from __future__ import annotations

import pytest
from harden_testutil import Measured, measure

RSS_MIB = 400


def _within(m: Measured, seconds: float, *, rss: float = RSS_MIB) -> None:
    assert m.seconds < seconds, f"took {m.seconds:.1f}s, bound {seconds}s ({m.outcome})"
    assert m.peak_rss_mib < rss, f"peak RSS {m.peak_rss_mib:.0f} MiB, bound {rss} MiB ({m.outcome})"


# --------------------------------------------------------------------------- size caps on project files


@pytest.mark.parametrize(
    "name", ["requirements.txt", "package.json", "package-lock.json", "pnpm-lock.yaml", "pyproject.toml", "yarn.lock"]
)
def test_a_10gb_sparse_project_file_is_refused_at_the_cap(tmp_path: object, name: str) -> None:
    m = measure(
        f"""
        import os, tempfile
        from pathlib import Path
        from envcheck.parsers import load, parser_for
        d = Path(tempfile.mkdtemp(dir={str(tmp_path)!r}))
        p = d / {name!r}
        with open(p, "wb") as fh:
            fh.truncate(10 * 1024**3)   # sparse: no disk used, 10 GB declared
        load(parser_for({name!r}))(p, d)
        """
    )
    assert m.outcome.startswith("EnvcheckError") and "larger than 64 MiB" in m.outcome, m.outcome
    _within(m, 30)


# --------------------------------------------------------------------------- nesting

N = 200_000
NESTED = {
    "package.json": "'[' * N + ']' * N",
    "package-lock.json": "'{\"a\":' * N + '1' + '}' * N",
    "Pipfile.lock": "'[' * N + ']' * N",
    "pyproject.toml": "'a = ' + '[' * N + ']' * N",
    "Pipfile": "'[packages]\\nx = ' + '{a=' * N + '1' + '}' * N",
    "poetry.lock": "'x = ' + '{a=' * N + '1' + '}' * N",
    "uv.lock": "'x = ' + '[' * N + ']' * N",
    "environment.yml": "'a: ' + '[' * N + ']' * N",
    "pnpm-lock.yaml": "'a: ' + '[' * N + ']' * N",
    "yarn.lock": "'__metadata:\\n  version: 6\\na: ' + '{b: ' * N + '1' + '}' * N",
    "docker-compose.yml": "'- ' * N + 'x'",
    "settings.py": "'x = ' + '(' * N + ')' * N",
    "app.js": "'x = ' + '(' * N + ')' * N",
    "Dockerfile": "'FROM x\\nRUN ' + '\\\\\\n' * N + 'echo\\n'",
}


@pytest.mark.parametrize("name", sorted(NESTED))
def test_deeply_nested_input_is_bounded(tmp_path: object, name: str) -> None:
    """200 000 levels: libyaml's composer alone would segfault; every parser answers in bounded time."""
    m = measure(
        f"""
        import tempfile
        from pathlib import Path
        from envcheck.parsers import load, parser_for
        N = {N}
        d = Path(tempfile.mkdtemp(dir={str(tmp_path)!r}))
        p = d / {name!r}
        p.write_text({NESTED[name]})
        load(parser_for({name!r}))(p, d)
        """
    )
    assert m.outcome == "ok" or m.outcome.startswith("EnvcheckError"), m.outcome
    _within(m, 30)


def test_snapshot_json_nesting_and_size_are_bounded(tmp_path: object) -> None:
    m = measure(
        """
        from envcheck.snapshot import Snapshot
        for text in ('[' * 200000 + ']' * 200000, '{"schema": "envcheck.snapshot/1", "env": {' + ','.join(
                f'"V{i}": {{"set": true}}' for i in range(200000)) + '}}'):
            try:
                Snapshot.from_json(text)
            except EnvcheckError:
                pass
        """
    )
    _within(m, 30)


# --------------------------------------------------------------------------- requirement includes


def test_include_depth_cycles_and_diamonds_are_bounded(tmp_path: object) -> None:
    m = measure(
        f"""
        import tempfile
        from pathlib import Path
        from envcheck.parsers import requirements
        d = Path(tempfile.mkdtemp(dir={str(tmp_path)!r}))
        outcomes = []
        # a 40-deep chain
        for i in range(40):
            (d / f"c{{i}}.txt").write_text(f"-r c{{i + 1}}.txt\\npkg{{i}}==1\\n")
        (d / "c40.txt").write_text("last==1\\n")
        # a cycle through three files, and a file including itself
        (d / "a.txt").write_text("-r b.txt\\n"); (d / "b.txt").write_text("-c x.txt\\n")
        (d / "x.txt").write_text("-r a.txt\\n"); (d / "self.txt").write_text("-r self.txt\\n")
        # a diamond 16 levels deep: 2^16 paths, 32 files
        for i in range(16):
            for side in "lr":
                (d / f"{{side}}{{i}}.txt").write_text(f"-r l{{i + 1}}.txt\\n-r r{{i + 1}}.txt\\nd{{i}}{{side}}==1\\n")
        (d / "l16.txt").write_text("bottom==1\\n"); (d / "r16.txt").write_text("bottom==1\\n")
        (d / "top.txt").write_text("-r l1.txt\\n-r r1.txt\\n")
        for name in ("c0.txt", "a.txt", "self.txt", "top.txt"):
            try:
                requirements.parse(d / name, d)
                outcomes.append("ok")
            except EnvcheckError as exc:
                outcomes.append(str(exc))
        assert "nested deeper than 16 levels" in outcomes[0], outcomes
        assert "cycle" in outcomes[1] and "cycle" in outcomes[2], outcomes
        assert outcomes[3] == "ok", outcomes
        """
    )
    assert m.outcome == "ok", m.outcome
    _within(m, 30)


# --------------------------------------------------------------------------- images


def test_symlink_chains_in_an_image_are_cut_at_the_hop_cap() -> None:
    m = measure(
        """
        import io, sys
        sys.path.insert(0, "tests/image")
        from image_testutil import Link, layer_tar
        from envcheck.scanners.image.walker import MergedView, walk_layer
        entries = {f"l{i}": Link(f"/l{i + 1}") for i in range(10000)}
        entries["usr/local/bin/python3"] = Link("/l0")
        view = MergedView([walk_layer(io.BytesIO(layer_tar(entries)), "chain")])
        for i in range(0, 10000, 10):
            view.lookup(f"l{i}")
        assert view.resolve("usr/local/bin/python3") is None
        """
    )
    assert m.outcome == "ok", m.outcome
    _within(m, 30)


def test_10gb_sparse_files_in_a_dir_rootfs_are_read_only_to_their_caps(tmp_path: object) -> None:
    m = measure(
        f"""
        import tempfile
        from pathlib import Path
        from envcheck.scanners.image import scan_image
        root = Path(tempfile.mkdtemp(dir={str(tmp_path)!r}))
        meta = root / "usr/local/lib/python3.11/site-packages/big-1.dist-info/METADATA"
        meta.parent.mkdir(parents=True)
        with open(meta, "wb") as fh:
            fh.write(b"Metadata-Version: 2.1\\nName: big\\nVersion: 1\\n\\n")
            fh.truncate(10 * 1024**3)
        binary = root / "usr/local/bin/python3.11"
        binary.parent.mkdir(parents=True)
        with open(binary, "wb") as fh:
            fh.truncate(10 * 1024**3)
        snap = scan_image(f"dir:{{root}}")
        assert [(p.name, p.version) for p in snap.packages["python"]] == [("big", "1")]
        """
    )
    assert m.outcome == "ok", m.outcome
    _within(m, 60)


def test_oversized_config_json_in_an_archive_is_refused(tmp_path: object) -> None:
    m = measure(
        f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, "tests/image")
        from image_testutil import docker_archive, layer_tar
        from envcheck.scanners.image import scan_image
        cfg = {{"architecture": "amd64", "os": "linux", "config": {{"Labels": {{"pad": "x" * (9 * 1024 * 1024)}}}}}}
        path = Path({str(tmp_path)!r}) / "big-config.tar"
        path.write_bytes(docker_archive([layer_tar({{"etc/x": b"y"}})], cfg))
        scan_image(f"docker-archive:{{path}}")
        """
    )
    assert m.outcome.startswith("EnvcheckError") and "larger than 8 MiB" in m.outcome, m.outcome
    _within(m, 30)


_BOMB = """
    import io, tarfile, zlib
    def bomb(size, name="var/cache/zeros"):
        ti = tarfile.TarInfo(name)
        ti.size = size
        co = zlib.compressobj(6, zlib.DEFLATED, 31)
        parts = [co.compress(ti.tobuf(format=tarfile.GNU_FORMAT))]
        zero = bytes(1 << 20)
        for _ in range(size >> 20):
            parts.append(co.compress(zero))
        parts += [co.compress(bytes(1024)), co.flush()]
        return b"".join(parts)
    blob = bomb(2 * 1024**3)
    assert len(blob) < 4 * 1024 * 1024
    """


def test_gzip_bomb_layer_is_refused_past_the_expansion_cap() -> None:
    m = measure(
        _BOMB
        + """
    from envcheck.scanners.image.walker import walk_layer
    walk_layer(io.BytesIO(blob), "bomb")
    """,
        timeout=400,
    )
    assert m.outcome.startswith("EnvcheckError") and "compression bomb" in m.outcome, m.outcome
    _within(m, 120)


def test_gzip_bomb_archive_is_refused_past_the_expansion_cap(tmp_path: object) -> None:
    """``docker save | gzip`` shape: the outer archive itself is the bomb."""
    m = measure(
        _BOMB
        + f"""
    from pathlib import Path
    from envcheck.scanners.image import scan_image
    path = Path({str(tmp_path)!r}) / "bomb.tar.gz"
    path.write_bytes(blob)
    scan_image(f"docker-archive:{{path}}")
    """,
        timeout=400,
    )
    assert m.outcome.startswith("EnvcheckError") and "compression bomb" in m.outcome, m.outcome
    _within(m, 120)
