"""`envcheck dockerfile` on disk: no overwrite without --force, atomic writes, --check for CI."""

from __future__ import annotations

from pathlib import Path

import pytest
from gen_testutil import host, write_tree

from envcheck.cli import main

APP = {
    "requirements.txt": "flask>=3\n",
    "app.py": "import flask\napp = flask.Flask(__name__)\n",
    ".env.example": "APP_ENV=development\nSECRET_KEY=changeme\n",
}


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "app", APP)


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    path = tmp_path / "laptop.json"
    path.write_text(host(python="3.11.2", packages={"flask": "3.1.0"}, env={"APP_ENV": "production"}).to_json())
    return path


def run(*argv: str) -> int:
    return main(["dockerfile", *argv])


def test_writes_dockerfile_lock_and_dockerignore(proj: Path, snapshot: Path) -> None:
    assert run(str(proj), "--from", str(snapshot)) == 0
    df = (proj / "Dockerfile").read_text()
    assert "FROM python:3.11.2-slim-bookworm" in df
    assert "ENV APP_ENV=production" in df
    assert "changeme" not in df
    assert "flask==3.1.0" in (proj / "requirements.lock").read_text()
    ignore = (proj / ".dockerignore").read_text().splitlines()
    for entry in (".git", ".venv", "**/node_modules", "**/__pycache__", ".env"):
        assert entry in ignore
    assert not [p.name for p in proj.iterdir() if p.name.endswith(".tmp")]


def test_never_overwrites_a_dockerfile_without_force(
    proj: Path, snapshot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (proj / "Dockerfile").write_text("FROM scratch\n")
    assert run(str(proj), "--from", str(snapshot)) == 2
    assert "pass --force" in capsys.readouterr().err
    assert (proj / "Dockerfile").read_text() == "FROM scratch\n"
    assert not (proj / "requirements.lock").exists(), "nothing is written when one file is refused"
    assert run(str(proj), "--from", str(snapshot), "--force") == 0
    assert "FROM python:3.11.2" in (proj / "Dockerfile").read_text()


def test_keeps_a_users_dockerignore_and_a_hand_written_lock(proj: Path, snapshot: Path) -> None:
    (proj / ".dockerignore").write_text("secrets/\n")
    (proj / "requirements.lock").write_text("flask==2.0.0\n")
    assert run(str(proj), "--from", str(snapshot)) == 2
    assert (proj / "requirements.lock").read_text() == "flask==2.0.0\n"
    assert run(str(proj), "--from", str(snapshot), "--force") == 0
    assert (proj / ".dockerignore").read_text() == "secrets/\n"


def test_regenerating_replaces_its_own_lock(proj: Path, snapshot: Path, tmp_path: Path) -> None:
    assert run(str(proj), "--from", str(snapshot)) == 0
    newer = tmp_path / "newer.json"
    newer.write_text(host(python="3.11.2", packages={"flask": "3.1.1"}).to_json())
    assert run(str(proj), "--from", str(newer), "--force") == 0
    assert "flask==3.1.1" in (proj / "requirements.lock").read_text()


def test_check_passes_when_current_and_fails_with_a_diff_when_stale(
    proj: Path, snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(str(proj), "--from", str(snapshot), "--check") == 1, "missing files are stale"
    assert run(str(proj), "--from", str(snapshot)) == 0
    before = {p.name: p.read_text() for p in proj.iterdir()}
    capsys.readouterr()
    assert run(str(proj), "--from", str(snapshot), "--check") == 0
    newer = tmp_path / "newer.json"
    newer.write_text(host(python="3.11.7", packages={"flask": "3.1.0"}).to_json())
    capsys.readouterr()
    assert run(str(proj), "--from", str(newer), "--check") == 1
    out = capsys.readouterr()
    assert "-FROM python:3.11.2-slim-bookworm AS builder" in out.out
    assert "+FROM python:3.11.7-slim-bookworm AS builder" in out.out
    assert "stale" in out.err
    assert {p.name: p.read_text() for p in proj.iterdir()} == before, "--check writes nothing"


def test_output_outside_the_project_is_refused(
    proj: Path, snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(str(proj), "--from", str(snapshot), "-o", str(tmp_path / "elsewhere" / "Dockerfile")) == 2
    assert "inside the project" in capsys.readouterr().err


def test_output_in_a_subfolder_copies_the_lock_from_there(proj: Path, snapshot: Path) -> None:
    (proj / "deploy").mkdir()
    assert run(str(proj), "--from", str(snapshot), "-o", str(proj / "deploy" / "Dockerfile")) == 0
    assert "COPY deploy/requirements.lock /tmp/requirements.lock" in (proj / "deploy" / "Dockerfile").read_text()
    assert (proj / "deploy" / "requirements.lock").is_file()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from", "nope.json"], "--from expects host, lock or a snapshot JSON file"),
        (["--from", "lock"], "no Python lock file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    proj: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(str(proj), *argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_a_broken_snapshot_file_is_a_clear_error(
    proj: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert run(str(proj), "--from", str(bad)) == 2
    assert str(bad) in capsys.readouterr().err
