"""A real image carrying the official python/node images' ENV raises no EC503; a key hidden among them does.

The stand-in base images come from debootstrap, so this test adds the ENV the
Docker Official Images set (real, public values) in a layer of its own and
reads the result through the engine, exactly as ``scan --image`` does.
"""

from __future__ import annotations

import json
import secrets
import string
from pathlib import Path
from typing import Any

import pytest

from envcheck.cli import main
from envcheck.scanners.image import scan_image

OFFICIAL_ENV = {
    "GPG_KEY": "A035C8C19219BA821ECEA86B64E628F8D684696D",  # Pablo Galindo Salgado, CPython 3.10/3.11
    "PYTHON_PIP_VERSION": "23.0.1",
    "PYTHON_SETUPTOOLS_VERSION": "65.5.1",
    "PYTHON_GET_PIP_URL": "https://github.com/pypa/get-pip/raw/dbf0c85f76fb6e1ab42aa672ffca6f0a675d9ee4/public/get-pip.py",
    "PYTHON_GET_PIP_SHA256": "dfe9fd5c28dc98b5ac17979a953ea550cec37ae1b47a5116007395bfacff2ab9",
    "LANG": "C.UTF-8",
    "NODE_VERSION": "20.11.1",
    "YARN_VERSION": "1.22.19",
}


def _build(docker_engine: Any, base: str, env: dict[str, str], tmp_path: Path, name: str) -> str:
    ctx = tmp_path / name
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f"FROM {base}\n" + "".join(f'ENV {k}="{v}"\n' for k, v in env.items()))
    tag = f"drift-test/{name}:{secrets.token_hex(4)}"
    docker_engine.build(ctx, tag, network_host=False)
    return tag


def test_official_env_is_not_a_secret_but_a_hidden_key_is(
    docker_engine: Any, python_standin: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hidden = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))
    clean = _build(docker_engine, python_standin, OFFICIAL_ENV, tmp_path, "official-env")
    dirty = _build(docker_engine, python_standin, {**OFFICIAL_ENV, "BUILD_REF": hidden}, tmp_path, "hidden-key")
    try:
        snap = scan_image(f"docker:{clean}")
        assert snap.image is not None and snap.image["secret_env"] == []
        # Public values are recorded; they describe the base image.
        assert snap.env["GPG_KEY"].value == OFFICIAL_ENV["GPG_KEY"]
        assert scan_image(f"docker:{dirty}").image["secret_env"] == ["BUILD_REF"]  # type: ignore[index]

        project = tmp_path / "proj"
        project.mkdir()
        for tag, expected in ((clean, []), (dirty, ["BUILD_REF"])):
            main(["scan", str(project), "--image", f"docker:{tag}", "--select", "EC503", "--format", "json"])
            out = capsys.readouterr().out
            assert [f["subject"] for f in json.loads(out)["findings"]] == expected
            assert hidden not in out
    finally:
        for tag in (clean, dirty):
            docker_engine.client.images.remove(tag, force=True)
