"""A project's .npmrc reaches the install, and its credentials never reach a layer.

`legacy-peer-deps=true` or a scoped registry change what `npm ci` resolves, so
the install stage must see the file; a token in it must not be baked into the
image (nor sent in the build context), so then it is a build secret instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gen_testutil import hadolint, serious

from envcheck.generate import generate_for
from envcheck.generate.dockerfile import GeneratedFiles

TOKEN = "npm_Zq8bX3kLmN4pR7sT2vW9yA1cD5fG6hJ0"


def _project(root: Path, npmrc: str | None, lock: str = "package-lock.json") -> Path:
    root.mkdir()
    (root / "package.json").write_text(
        json.dumps(
            {"name": "api", "version": "1.0.0", "scripts": {"start": "node server.js"}, "dependencies": {"ms": "2.1.3"}}
        )
    )
    if lock == "package-lock.json":
        (root / lock).write_text(json.dumps({"name": "api", "lockfileVersion": 3, "packages": {"": {"name": "api"}}}))
    else:
        (root / lock).write_text("__metadata:\n  version: 8\n")
        (root / ".yarnrc.yml").write_text("nodeLinker: node-modules\n")
    (root / "server.js").write_text("require('ms');\n")
    if npmrc is not None:
        (root / ".npmrc").write_text(npmrc)
    return root


def _generate(root: Path) -> GeneratedFiles:
    return generate_for(root, root / "Dockerfile", source=None)


def test_settings_only_npmrc_is_copied_with_the_manifests(tmp_path: Path) -> None:
    files = _generate(_project(tmp_path / "api", "legacy-peer-deps=true\nfund=false\n"))
    assert "COPY package.json package-lock.json .npmrc ./" in files.dockerfile
    assert "--mount=type=secret" not in files.dockerfile
    assert ".npmrc" not in files.dockerignore.splitlines()
    assert not any(".npmrc" in w for w in files.warnings)


@pytest.mark.parametrize(
    "npmrc",
    [
        f"@acme:registry=https://npm.acme.example/\n//npm.acme.example/:_authToken={TOKEN}\n",
        "//npm.acme.example/:_authToken=${NPM_TOKEN}\n",
        "registry=https://npm.acme.example/\n_auth=dXNlcjpwYXNz\nalways-auth=true\n",
    ],
    ids=["literal-token", "env-reference", "basic-auth"],
)
def test_credentialed_npmrc_is_a_build_secret_never_a_layer(tmp_path: Path, npmrc: str) -> None:
    files = _generate(_project(tmp_path / "api", npmrc))
    text = files.dockerfile
    assert ".npmrc ./" not in text and "COPY .npmrc" not in text
    assert "RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci --omit=dev" in text
    assert "--secret id=npmrc,src=.npmrc" in text
    # `COPY . /app` must not carry it in either: the written .dockerignore leaves it out.
    assert ".npmrc" in files.dockerignore.splitlines()
    assert any("holds registry credentials" in w for w in files.warnings)
    everything = text + files.dockerignore + "".join(files.warnings)
    assert TOKEN not in everything and "dXNlcjpwYXNz" not in everything
    assert not serious(hadolint(text, tmp_path))


def test_a_users_dockerignore_that_lets_it_in_is_named(tmp_path: Path) -> None:
    root = _project(tmp_path / "api", f"//npm.acme.example/:_authToken={TOKEN}\n")
    (root / ".dockerignore").write_text("node_modules\n")
    files = _generate(root)
    assert any(".dockerignore lets .npmrc into the build context" in w for w in files.warnings)
    (root / ".dockerignore").write_text("node_modules\n.npmrc\n")
    assert not any(".dockerignore lets" in w for w in _generate(root).warnings)


def test_yarn_berry_reads_yarnrc_not_npmrc(tmp_path: Path) -> None:
    files = _generate(_project(tmp_path / "api", f"//npm.acme.example/:_authToken={TOKEN}\n", lock="yarn.lock"))
    assert "--mount=type=secret" not in files.dockerfile
    assert ".npmrc" not in files.dockerfile
