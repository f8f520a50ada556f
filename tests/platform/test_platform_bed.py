"""Issue 18 on the test bed: an arm64 image and an Alpine-style musl root against this amd64 glibc host.

The real parts: the engine builds the arm64 image (``--platform linux/arm64``,
COPY steps only, so no emulation), Debian's arm64 and musl packages provide the
files, and ``envcheck scan`` runs as a user runs it.  The package index is the
local PEP 691 server of :mod:`wheel_testutil`, so which wheels exist is known.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import platform_bed
from wheel_testutil import LOCKED, FakeIndex


def _project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    lock = {
        "_meta": {"hash": {"sha256": "0" * 64}, "pipfile-spec": 6, "requires": {}, "sources": []},
        "default": {name: {"version": f"=={v}"} for name, v in LOCKED.items()},
        "develop": {},
    }
    (root / "Pipfile.lock").write_text(json.dumps(lock))
    return root


def _envcheck(args: list[str], cwd: Path, index: FakeIndex, extra: dict[str, str] | None = None) -> Any:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(cwd),
        "XDG_CACHE_HOME": str(cwd / "cache"),
        "XDG_CONFIG_DIRS": str(cwd / "no-config"),
        "PIP_CONFIG_FILE": "/dev/null",
        "PIP_INDEX_URL": index.url,
        **(extra or {}),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "envcheck", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def _ec214(doc: dict[str, Any]) -> dict[str, str]:
    return {f["subject"]: f["message"] for f in doc["findings"] if f["rule"] == "EC214"}


def test_an_arm64_image_against_this_amd64_host(docker_engine: Any, fake_index: FakeIndex, tmp_path: Path) -> None:
    assert platform.machine() == "x86_64", "the test bed is an amd64 machine"
    context, python = platform_bed.arm64_context(tmp_path / "ctx")
    tag = "s4-platform/arm64-python:test"
    docker_engine.client.images.build(
        path=str(context), tag=tag, rm=True, forcerm=True, platform="linux/arm64", network_mode="none"
    )
    engine = {"DOCKER_HOST": docker_engine.host}
    snap = _envcheck(["snapshot", "image", f"docker:{tag}"], tmp_path, fake_index, engine)
    assert snap["platform"]["arch"] == "aarch64" and snap["platform"]["libc"] == "glibc 2.36"
    py = snap["runtimes"]["python"]
    assert py["version"] == python and py["abi"] == "cp311"
    assert py["wheel_platforms"][0] == "manylinux_2_36_aarch64" and "manylinux2014_aarch64" in py["wheel_platforms"]

    project = _project(tmp_path / "app")
    doc = _envcheck(
        ["scan", str(project), "--image", f"docker:{tag}", "--python", sys.executable, "--format", "json"],
        tmp_path,
        fake_index,
        engine,
    )
    arch = [f for f in doc["findings"] if f["rule"] == "EC105"]
    assert [f["subject"] for f in arch] == ["arch"]
    assert arch[0]["left"]["value"] == "x86_64" and arch[0]["right"]["value"] == "aarch64"
    got = _ec214(doc)
    assert set(got) == {"fastlib", "binonly"}, doc["findings"]
    assert "build it from source" in got["fastlib"] and "cannot be installed" in got["binonly"]


def test_an_alpine_style_musl_root_against_a_glibc_lock(fake_index: FakeIndex, tmp_path: Path) -> None:
    host_python = ".".join(str(p) for p in sys.version_info[:3])
    rootfs = platform_bed.musl_rootfs(tmp_path / "alpine", host_python)
    project = _project(tmp_path / "app")
    doc = _envcheck(
        ["scan", str(project), "--image", f"dir:{rootfs}", "--python", sys.executable, "--format", "json"],
        tmp_path,
        fake_index,
    )
    libc = [f for f in doc["findings"] if f["rule"] == "EC105"]
    assert [(f["subject"], f["left"]["value"], f["right"]["value"]) for f in libc] == [("libc", "glibc", "musl")]
    got = _ec214(doc)
    # bothlib publishes musllinux wheels, purelib is pure Python, srconly builds from source on both sides.
    assert set(got) == {"fastlib", "binonly"}, doc["findings"]
    assert "musllinux_1_2_x86_64" in got["fastlib"] and "from source" in got["fastlib"]
