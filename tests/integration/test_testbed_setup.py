"""Engine-free parts of the test bed: mirror discovery, OCI conversion, lifecycle guards."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import testbed


def test_mirror_comes_from_deb822_sources(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.invalid/debian-security\nSuites: bookworm-security\nComponents: main\n\n"
        "Types: deb-src\nURIs: http://src.invalid/debian\nSuites: bookworm\nComponents: main\n\n"
        "Types: deb\nURIs: http://mirror.invalid/debian\nSuites: bookworm bookworm-updates\nComponents: main\n"
    )
    assert testbed.debian_mirror(tmp_path) == "http://mirror.invalid/debian"


def test_mirror_comes_from_one_line_sources(tmp_path: Path) -> None:
    (tmp_path / "sources.list").write_text(
        "# comment\ndeb-src http://src.invalid/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://one.invalid/debian bookworm main contrib\n"
    )
    assert testbed.debian_mirror(tmp_path) == "http://one.invalid/debian"


def test_disabled_or_foreign_sources_are_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENVCHECK_DEBIAN_MIRROR", raising=False)
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "x.sources").write_text(
        "Enabled: no\nTypes: deb\nURIs: http://off.invalid/debian\nSuites: bookworm\nComponents: main\n\n"
        "Types: deb\nURIs: http://other.invalid/node\nSuites: nodistro\nComponents: main\n"
    )
    with pytest.raises(testbed.TestbedError, match="ENVCHECK_DEBIAN_MIRROR"):
        testbed.debian_mirror(tmp_path)
    monkeypatch.setenv("ENVCHECK_DEBIAN_MIRROR", "http://set.invalid/debian")
    assert testbed.debian_mirror(tmp_path) == "http://set.invalid/debian"


def _tar_bytes(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_docker_archive_converts_to_a_valid_oci_layout(tmp_path: Path) -> None:
    layer = _tar_bytes({"etc/hello": b"hi\n"})
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [diff_id]}})
    config_name = hashlib.sha256(config.encode()).hexdigest() + ".json"
    archive = tmp_path / "img.tar"
    archive.write_bytes(
        _tar_bytes(
            {
                "manifest.json": json.dumps(
                    [{"Config": config_name, "RepoTags": ["x:1"], "Layers": ["l/layer.tar"]}]
                ).encode(),
                config_name: config.encode(),
                "l/layer.tar": layer,
            }
        )
    )
    for gz in (False, True):
        oci = testbed.docker_archive_to_oci(archive, tmp_path / f"oci-{gz}", gzip_layers=gz)
        index = json.loads((oci / "index.json").read_text())
        (desc,) = index["manifests"]
        assert desc["annotations"]["org.opencontainers.image.ref.name"] == "x:1"
        manifest = json.loads((oci / "blobs/sha256" / desc["digest"][7:]).read_bytes())
        assert manifest["config"]["digest"] == "sha256:" + config_name[:-5]
        (lay,) = manifest["layers"]
        data = (oci / "blobs/sha256" / lay["digest"][7:]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == lay["digest"][7:]
        if gz:
            import gzip

            assert gzip.decompress(data) == layer
        else:
            assert data == layer
        packed = testbed.oci_dir_to_archive(oci, tmp_path / f"oci-{gz}.tar")
        with tarfile.open(packed) as tar:
            assert {"oci-layout", "index.json"} <= set(tar.getnames())


def test_stopping_a_bed_that_is_not_ours_does_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "keep"
    marker.write_text("x")
    testbed.stop(testbed.Engine(host="unix:///nowhere.sock", root=tmp_path, owned=False))
    assert marker.exists()


def test_ping_of_a_missing_socket_is_false(tmp_path: Path) -> None:
    assert not testbed.ping(f"unix://{tmp_path}/none.sock", timeout=0.5)


def test_standin_tags_follow_the_host_versions() -> None:
    assert testbed.PYTHON_STANDIN.startswith("python:3.") and testbed.PYTHON_STANDIN.endswith("-slim-bookworm")
    assert f"node:{testbed.NODE_VERSION}-bookworm-slim" == testbed.NODE_STANDIN
    with pytest.raises(AttributeError):
        _ = testbed.NO_SUCH_THING


def _run_engine_test(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    here = Path(__file__).resolve().parents[1]
    for name in ("conftest.py", "testbed.py"):
        shutil.copy2(here / name, tmp_path / name)
    (tmp_path / "test_needs_engine.py").write_text(
        "def test_needs_engine(docker_engine):\n    assert docker_engine.host\n\n\ndef test_plain():\n    pass\n"
    )
    clean = {k: v for k, v in os.environ.items() if k not in ("CI", "ENVCHECK_NO_ENGINE", "DOCKER_HOST")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True,
        text=True,
        # TMPDIR: a bed kept running by `scripts/testbed start` must not be found and reused.
        env={**clean, "ENVCHECK_DOCKERD": "/nonexistent/dockerd", "TMPDIR": str(tmp_path), **env},
        timeout=120,
        check=False,
        cwd=tmp_path,
    )


def test_missing_engine_fails_engine_tests_under_ci(tmp_path: Path) -> None:
    proc = _run_engine_test(tmp_path, {"CI": "true"})
    assert proc.returncode == 1, proc.stdout
    assert "the Docker test bed is required" in proc.stdout
    assert "1 passed, 1 error" in proc.stdout
    assert "skipped" not in proc.stdout


def test_missing_engine_fails_locally_too(tmp_path: Path) -> None:
    proc = _run_engine_test(tmp_path, {})
    assert proc.returncode == 1, proc.stdout
    assert "ENVCHECK_NO_ENGINE=1 deselects engine tests" in proc.stdout


def test_no_engine_opt_out_deselects_and_says_so(tmp_path: Path) -> None:
    proc = _run_engine_test(tmp_path, {"ENVCHECK_NO_ENGINE": "1"})
    assert proc.returncode == 0, proc.stdout
    assert "1 passed, 1 deselected" in proc.stdout
    assert "1 engine test(s) deselected, not run" in proc.stdout


def test_no_engine_opt_out_is_refused_under_ci(tmp_path: Path) -> None:
    proc = _run_engine_test(tmp_path, {"ENVCHECK_NO_ENGINE": "1", "CI": "true"})
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "refused when CI is set" in proc.stdout + proc.stderr
