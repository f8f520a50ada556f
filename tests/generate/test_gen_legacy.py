"""The generator on the real legacy projects (ENVCHECK_LEGACY_CORPUS): generate-only checks.

The build-and-serve test lives in tests/legacy/ (it needs the engine and the
stand-in images); this one checks, without a host or network, what the
Dockerfile promises: hadolint-clean, an official image tag that exists, a CMD
on 0.0.0.0:$PORT whose port is EXPOSEd, and once-before-start steps named.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from gen_testutil import hadolint, serious

from envcheck.generate import generate_for
from envcheck.generate.interpreter import image_release

CORPUS = os.environ.get("ENVCHECK_LEGACY_CORPUS")
VERIFIED = ("flasky", "django-beginners-guide", "fastapi-nano-poetry")
TRIAL = ("fastapi-realworld-example-app", "httpbin", "microblog", "uv-docker-example")


def _corpus() -> Path:
    if not CORPUS:
        if os.environ.get("CI"):
            pytest.fail("ENVCHECK_LEGACY_CORPUS is not set: the legacy projects were not tried")
        pytest.skip("ENVCHECK_LEGACY_CORPUS is not set: the legacy projects were not tried")
    return Path(CORPUS)


@pytest.mark.parametrize("name", [*VERIFIED, *(f"trial/{t}" for t in TRIAL)])
def test_a_legacy_project_gets_a_dockerfile_that_serves_on_port(name: str, tmp_path: Path) -> None:
    src = _corpus() / name
    proj = tmp_path / "p"
    shutil.copytree(src, proj, ignore=shutil.ignore_patterns(".git", "node_modules"))
    files = generate_for(proj, proj / "Dockerfile.envcheck", source=None, offline=True)
    df = files.dockerfile
    assert not serious(hadolint(df, tmp_path))
    for ref in re.findall(r"^FROM python:(\S+)", df, re.MULTILINE):
        version, _, release = ref.partition("-slim-")
        assert image_release(version, release)[0] == release, ref
    expose = re.findall(r"^EXPOSE (\d+)$", df, re.MULTILINE)
    assert expose, "no EXPOSE"
    cmd = re.findall(r"^CMD (.+)$", df, re.MULTILINE)[-1]
    assert "${PORT:-" + expose[0] + "}" in cmd, cmd
    assert "127.0.0.1" not in cmd


def test_flasky_keeps_its_declared_python_line_and_names_its_deploy_step(tmp_path: Path) -> None:
    proj = tmp_path / "flasky"
    shutil.copytree(_corpus() / "flasky", proj)
    files = generate_for(proj, proj / "Dockerfile.envcheck", source=None, offline=True)
    assert "FROM python:3.6.15-slim-bullseye AS builder" in files.dockerfile
    assert "flask deploy" in files.dockerfile
    assert any("end of life on 2021-12-23" in w for w in files.warnings)
