"""Patterns made from the compiled-code cache (envcheck._regex) behave exactly as re.compile's."""

from __future__ import annotations

import marshal
import re
from array import array
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envcheck import _regex

FEATURES = [
    r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>.*)",
    r"^v?(\d+(?:\.\d+){0,2})(?![\d])",
    r"(?<![a-z0-9+.-])(?!ssh://)([a-z][a-z0-9+.-]*://)[^/\s@]+@",
    r"(a)(b)?\2|\1",
    r"(?i)straße|ǅ",
    r"(?x) a  b # comment\n c",
    r"[^\W\d_]+",
    r"(?s:.)*?end",
    r"\bport\s*=\s*(\d{2,5})\b",
    r"(?:^|_)(?:GPG|PGP)_?KEYS?(?:_|$)|FINGERPRINT",
    r"x{2,}?y*+z?+",
    r"(?>ab|a)c",
]
SAMPLES = ["", "a", "ab", "abc", "aac", "FOO = bar", "v1.2.3x", "https://u:p@h", "STRASSE", "ǆ", "port = 8080", "xxyz"]


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("ENVCHECK_NO_CACHE", raising=False)
    monkeypatch.setattr(_regex, "_STORE", _regex._Store())
    return tmp_path / "envcheck" / "regex"


def _new_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the next envcheck run sees: the file written, a new in-memory view."""
    _regex._save()
    monkeypatch.setattr(_regex, "_STORE", _regex._Store())


def _same(made: re.Pattern[str], pattern: str, flags: int) -> None:
    want = re.compile(pattern, flags)
    assert (made.pattern, made.flags, made.groups, made.groupindex) == (
        want.pattern,
        want.flags,
        want.groups,
        want.groupindex,
    )
    for text in SAMPLES:
        assert _spans(made.search(text)) == _spans(want.search(text))
        assert _spans(made.fullmatch(text)) == _spans(want.fullmatch(text))
        assert made.findall(text) == want.findall(text)


def _spans(m: re.Match[str] | None) -> object:
    return None if m is None else [m.span(i) for i in range(len(m.groups()) + 1)]


@pytest.mark.parametrize("pattern", FEATURES)
@pytest.mark.parametrize("flags", [0, re.IGNORECASE, re.MULTILINE | re.DOTALL, re.ASCII])
def test_a_pattern_from_the_cache_is_the_pattern_re_makes(
    pattern: str, flags: int, fresh_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _regex.compile(pattern, flags)  # compiled, and its code kept
    _new_process(monkeypatch)
    second = _regex.compile(pattern, flags)  # made from the file
    assert _regex._STORE.dirty is False  # a hit: nothing to write
    _same(first, pattern, flags)
    _same(second, pattern, flags)


_atom = st.sampled_from(["a", "b", ".", r"\d", r"\w", "[ab]", "[^a]", r"\s", "(?:ab)", "(a)", "(?P<n>b)", "x"])
_quant = st.sampled_from(["", "*", "+", "?", "{1,2}", "*?", "+?"])
_generated = st.lists(st.tuples(_atom, _quant).map("".join), min_size=1, max_size=5).map("".join)


@given(pattern=_generated, alt=_generated, text=st.text(alphabet="abx1 _", max_size=12))
@settings(max_examples=150, deadline=None)
def test_generated_patterns_match_as_re_does(
    pattern: str, alt: str, text: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    source = f"{pattern}|{alt}"  # a repeated group name is an re.error: skipped below
    try:
        want = re.compile(source)
    except re.error:
        return
    made, entry = _regex._compile_keeping_code(source, 0)
    assert entry is not None
    again = _regex._from_entry(source, marshal.loads(marshal.dumps(entry)))  # through the file's format
    assert again is not None
    for candidate in (made, again):
        assert _spans(candidate.search(text)) == _spans(want.search(text))
        assert candidate.sub("-", text) == want.sub("-", text)


def test_bytes_patterns_are_cached_too(fresh_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pattern = rb"\x00(3\.\d{1,2}\.\d{1,2})\x00"
    _regex.compile(pattern)
    _new_process(monkeypatch)
    made = _regex.compile(pattern)
    assert made.search(b"..\x003.45.1\x00..") is not None
    assert made.search(b"..\x003.45.1\x00..").group(1) == b"3.45.1"  # type: ignore[union-attr]


def test_a_damaged_entry_is_compiled_afresh(fresh_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pattern = r"(?P<word>\w+)-(\d+)"
    _regex.compile(pattern)
    _new_process(monkeypatch)
    [path] = fresh_cache.glob("*.marshal")
    build, entries = marshal.loads(path.read_bytes())
    key = f"0:s:{pattern}"
    entries[key] = (
        entries[key][0],
        array(_regex._code_type(), [999, 1, 2, 3]).tobytes(),
        *entries[key][2:],
    )  # not code the matcher accepts
    path.write_bytes(marshal.dumps((build, entries)))
    _same(_regex.compile(pattern), pattern, 0)
    entries[key] = "nonsense"
    path.write_bytes(marshal.dumps((build, entries)))
    monkeypatch.setattr(_regex, "_STORE", _regex._Store())
    _same(_regex.compile(pattern), pattern, 0)
    path.write_bytes(b"\x00not marshal at all")
    monkeypatch.setattr(_regex, "_STORE", _regex._Store())
    _same(_regex.compile(pattern), pattern, 0)


def test_a_file_from_another_python_build_is_ignored(fresh_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _regex.compile(r"abc")
    _new_process(monkeypatch)
    [path] = fresh_cache.glob("*.marshal")
    _build, entries = marshal.loads(path.read_bytes())
    path.write_bytes(marshal.dumps(("cpython-399 another build", entries)))
    _regex.compile(r"abc")
    assert _regex._STORE.dirty  # not trusted: compiled again, to be written back


def test_no_cache_compiles_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("ENVCHECK_NO_CACHE", "1")
    monkeypatch.setattr(_regex, "_STORE", _regex._Store())
    _same(_regex.compile(r"a(b)"), r"a(b)", 0)
    _regex._save()
    assert not (tmp_path / "envcheck").exists()


def test_lazy_patterns_compile_on_first_use(fresh_cache: Path) -> None:
    lazy = _regex.LazyPattern(r"[-_.]+")
    assert lazy._compiled is None
    assert lazy.split("a-b_c") == ["a", "b", "c"]
    assert lazy.sub("-", "a__b") == "a-b"
    assert lazy.fullmatch("-.") is not None and lazy.match("x") is None and lazy.search("x.") is not None
