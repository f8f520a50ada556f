"""A parse remembered under the text itself (envcheck._cache.by_content): the Dockerfile of every lint."""

from __future__ import annotations

from pathlib import Path

import pytest

from envcheck import _cache
from envcheck.errors import ParseError
from envcheck.parsers import dockerfile


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("ENVCHECK_NO_CACHE", raising=False)
    dockerfile._instructions.cache_clear()
    return tmp_path / "envcheck"


def test_a_hit_needs_the_same_text_and_the_same_salt(cache_home: Path) -> None:
    calls: list[str] = []

    def parse(text: str) -> list[str]:
        calls.append(text)
        return text.split()

    assert _cache.by_content("t", "a b", "v1", parse) == ["a", "b"]
    assert _cache.by_content("t", "a b", "v1", parse) == ["a", "b"]
    assert calls == ["a b"]  # the second came from the file
    assert _cache.by_content("t", "a b", "v2", parse) == ["a", "b"]  # another parser: parsed again
    assert _cache.by_content("t", "a  b", "v2", parse) == ["a", "b"]
    assert calls == ["a b", "a b", "a  b"]


def test_an_entry_for_another_text_under_the_same_name_is_not_used(cache_home: Path) -> None:
    _cache.by_content("t", "FROM a", "s", lambda text: [text])
    [entry] = (cache_home / "t").glob("*.json")
    # A different text whose entry would have the same file name (a CRC collision) is compared whole.
    entry.write_text(entry.read_text().replace('"FROM a"', '"FROM b"', 1))
    assert _cache.by_content("t", "FROM a", "s", lambda text: [text, "fresh"]) == ["FROM a", "fresh"]


def test_values_json_would_change_are_not_stored(cache_home: Path) -> None:
    _cache.by_content("t", "x", "s", lambda text: (1, 2))
    assert not (cache_home / "t").exists() or not list((cache_home / "t").glob("*.json"))


def test_dockerfile_instructions_are_the_same_from_the_cache(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "FROM python:3.11-slim\nRUN pip install \\\n    flask==3.0.0\nENV PORT=8000\n"
    fresh = dockerfile._instructions(text, "Dockerfile")
    dockerfile._instructions.cache_clear()
    assert list((cache_home / "dockerfile").glob("*.json"))
    import sys

    monkeypatch.setitem(sys.modules, "dockerfile_parse", None)  # importing it now fails: a hit must not need it
    assert dockerfile._instructions(text, "Dockerfile") == fresh
    assert [i.keyword for i in fresh] == ["FROM", "RUN", "ENV"] and fresh[1].end == 3


def test_a_dockerfile_the_parser_rejects_is_not_remembered(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dockerfile_parse

    def broken(*_args: object, **_kwargs: object) -> None:
        raise ValueError("garbage")

    monkeypatch.setattr(dockerfile_parse, "DockerfileParser", broken)
    with pytest.raises(ParseError, match="cannot parse Dockerfile: ValueError"):
        dockerfile._instructions("FROM x\n", "Dockerfile")
    assert not (cache_home / "dockerfile").exists() or not list((cache_home / "dockerfile").glob("*.json"))
