"""Generation over every fixture project and the real-world corpus: it succeeds,
hadolint finds nothing at warning level or above, and the project lints clean.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from gen_testutil import CORPUS, FIXTURES, copy_project, hadolint, host, serious

from envcheck.cli import main
from envcheck.errors import EnvcheckError
from envcheck.generate import generate_for, writer

FIXTURE_DIRS = sorted(p for p in FIXTURES.iterdir() if p.is_dir()) if FIXTURES.is_dir() else []
CORPUS_DIRS = sorted(p for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else []
# The corpus copy of repo2docker holds only nested test repositories (decoys
# included) and nothing at its root: the generator must say so, clearly.
NO_PROJECT = {"jupyterhub__repo2docker"}


def test_the_inputs_exist() -> None:
    assert FIXTURE_DIRS, f"no fixtures under {FIXTURES}"
    assert len(CORPUS_DIRS) == 12, f"expected the 12 corpus projects under {CORPUS}"


@pytest.mark.parametrize("path", FIXTURE_DIRS, ids=lambda p: p.name)
def test_fixture_generates_hadolint_clean(path: Path, tmp_path: Path) -> None:
    for source in (None, host(python="3.11.2", node="20.20.2")):
        try:
            files = generate_for(path, path / "Dockerfile", source=source)
        except EnvcheckError as err:
            # Only a fixture with nothing to containerise may refuse, and clearly.
            assert "no Python or Node project" in str(err)
            assert not (path / "requirements.txt").exists() and not (path / "pyproject.toml").exists()
            return
        assert not serious(hadolint(files.dockerfile, tmp_path)), files.dockerfile
        # Same input, byte-identical output.
        assert generate_for(path, path / "Dockerfile", source=source) == files


@pytest.mark.parametrize("path", CORPUS_DIRS, ids=lambda p: p.name)
def test_corpus_project_generates_hadolint_clean(path: Path, tmp_path: Path) -> None:
    if path.name in NO_PROJECT:
        with pytest.raises(EnvcheckError, match="no Python or Node project here"):
            generate_for(path, path / "Dockerfile", source=None)
        return
    files = generate_for(path, path / "Dockerfile", source=None)
    findings = hadolint(files.dockerfile, tmp_path)
    assert not serious(findings), files.dockerfile
    assert re.search(r"^FROM (python|node):\d+\.\d+\.\d+-", files.dockerfile, re.MULTILINE)


@pytest.mark.parametrize(
    "name",
    [
        n
        for n in ("clean-pinned", "express-app", "poetry-app", "uv-app", "mixed-pnpm", "django-runtime")
        if (FIXTURES / n).is_dir()
    ],
)
def test_project_lints_clean_after_generation(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What EC401/EC402/EC404/EC405 ask of a Dockerfile, the generated one does."""
    proj = copy_project(FIXTURES / name, tmp_path / name)
    (proj / "Dockerfile").unlink(missing_ok=True)
    files = generate_for(proj, proj / "Dockerfile", source=None)
    writer.write(proj, proj / "Dockerfile", files)
    capsys.readouterr()
    monkeypatch.chdir(proj)
    code = main(["lint", "--fail-on", "warning", "--select", "EC401,EC402,EC404,EC405"])
    assert code == 0, capsys.readouterr()


def test_generated_lock_counts_as_the_lock_for_ec401(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    proj = tmp_path / "app"
    proj.mkdir()
    monkeypatch.chdir(proj)
    (proj / "requirements.txt").write_text("flask>=3\n")
    (proj / "app.py").write_text("import flask\napp = flask.Flask(__name__)\n")
    capsys.readouterr()
    assert main(["lint", "--fail-on", "warning", "--select", "EC401"]) == 1
    files = generate_for(proj, proj / "Dockerfile", source=host(packages={"flask": "3.1.0"}))
    writer.write(proj, proj / "Dockerfile", files)
    assert "flask==3.1.0" in (proj / "requirements.lock").read_text()
    capsys.readouterr()
    assert main(["lint", "--fail-on", "warning", "--select", "EC401,EC402,EC404,EC405"]) == 0, capsys.readouterr()
    # And the generator does not read its own lock back as the project's requirements.
    again = generate_for(proj, proj / "Dockerfile", source=host(packages={"flask": "3.1.0"}))
    assert again == files
