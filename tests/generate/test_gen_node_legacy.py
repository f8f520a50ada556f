"""The generator on the real legacy Node projects (ENVCHECK_LEGACY_CORPUS): generate-only checks.

Without a host or network (the shipped node release snapshot), what the
Dockerfile promises: hadolint-clean; a node inside what the project declares;
the workspace manifests in the install stage; a build stage where there is a
build; a CMD on $PORT whose port is EXPOSEd.  Building and serving them is
measured by hand (docs/dockerfile.md) — these need the registry.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from gen_testutil import hadolint, serious

from envcheck.generate import generate_for
from envcheck.npm_semver import satisfies

CORPUS = os.environ.get("ENVCHECK_LEGACY_CORPUS")

# name -> the node range the project declares (what the choice must stay inside)
PROJECTS = {
    "next-netlify-starter": "*",
    "vitesse-lite": "16.x",  # netlify.toml NODE_VERSION
    "trial/vue-hackernews-2.0": ">=7.0",
    "trial/hackathon-starter": ">=24.18.0",
    "trial/create-t3-turbo": "22.21.0",  # .nvmrc, inside engines ^22.21.0
}


def _generate(name: str, tmp_path: Path) -> str:
    if not CORPUS:
        if os.environ.get("CI"):
            pytest.fail("ENVCHECK_LEGACY_CORPUS is not set: the legacy projects were not tried")
        pytest.skip("ENVCHECK_LEGACY_CORPUS is not set: the legacy projects were not tried")
    proj = tmp_path / "p"
    shutil.copytree(Path(CORPUS) / name, proj, ignore=shutil.ignore_patterns(".git", "node_modules"))
    files = generate_for(proj, proj / "Dockerfile.envcheck", source=None, offline=True)
    return files.dockerfile


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_a_legacy_node_project_gets_a_dockerfile_that_serves_on_port(name: str, tmp_path: Path) -> None:
    df = _generate(name, tmp_path)
    assert not serious(hadolint(df, tmp_path))
    versions = set(re.findall(r"^FROM node:(\d+\.\d+\.\d+)-bookworm-slim", df, re.MULTILINE))
    assert len(versions) == 1, versions
    assert satisfies(versions.pop(), PROJECTS[name]) is True
    expose = re.findall(r"^EXPOSE (\d+)$", df, re.MULTILINE)
    assert expose, "no EXPOSE"
    assert f"PORT={expose[0]}" in df
    assert "127.0.0.1" not in re.findall(r"^CMD (.+)$", df, re.MULTILINE)[-1]
    assert "FROM deps AS build" in df  # every one of them has a build or install scripts


def test_the_pnpm_monorepo_installs_with_its_workspace_and_every_member(tmp_path: Path) -> None:
    df = _generate("trial/create-t3-turbo", tmp_path)
    assert "COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./" in df
    for member in ("apps/nextjs", "packages/api", "packages/db", "tooling/typescript"):
        assert f"COPY {member}/package.json ./{member}/" in df
    assert "pnpm@10.19.0" in df  # packageManager
    assert "WORKDIR /app/apps/nextjs" in df


def test_postinstall_and_husky_prepare_run_after_the_tree_is_in_place(tmp_path: Path) -> None:
    df = _generate("trial/hackathon-starter", tmp_path)
    assert "npm ci --ignore-scripts" in df
    assert "ENV HUSKY=0" in df
    assert 'RUN npm rebuild \\\n && case "$(npm --version)" in' in df
    assert ";; esac \\\n && npm run prepare" in df
    assert "npm prune --omit=dev --ignore-scripts" in df
