"""Writes are atomic: a failure leaves the old file, never half a file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from envcheck._io import atomic_write, read_text
from envcheck.errors import EnvcheckError


def test_atomic_write_replaces_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old")
    atomic_write(target, "new contents\n")
    assert target.read_text() == "new contents\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_read_only_place_is_a_clear_error() -> None:
    # Tests run as root, which ignores directory modes; /proc refuses new files even to root.
    with pytest.raises(EnvcheckError, match="cannot write"):
        atomic_write("/proc/envcheck-report.json", "y")


def test_unwritable_target_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "out.json"
    with pytest.raises(EnvcheckError) as err:
        atomic_write(target, "x")
    assert str(err.value).startswith(str(target))


def test_interrupt_mid_write_leaves_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "Dockerfile"
    target.write_text("FROM python:3.11\n")

    def boom(*_a: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, "FROM python:3.12\n")
    assert target.read_text() == "FROM python:3.11\n"
    assert [p.name for p in tmp_path.iterdir()] == ["Dockerfile"]


def test_read_text_errors(tmp_path: Path) -> None:
    with pytest.raises(EnvcheckError, match="no such file"):
        read_text(tmp_path / "nope")
    (tmp_path / "bin").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(EnvcheckError, match="not UTF-8"):
        read_text(tmp_path / "bin")
    (tmp_path / "big").write_bytes(b"a" * 2048)
    with pytest.raises(EnvcheckError, match="larger than"):
        read_text(tmp_path / "big", limit=1024)
