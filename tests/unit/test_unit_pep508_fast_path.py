"""The PEP 508 fast path (issue 15) gives exactly the Requirement packaging's parser gives, or defers to it."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from envcheck.errors import ParseError
from envcheck.parsers import requirements
from envcheck.parsers.requirements import _parse_with_packaging, parse_pep508, simple_requirement

_ws = st.sampled_from(["", "", " ", "\t", "  "])
_ident = st.one_of(
    st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,6}[A-Za-z0-9])?", fullmatch=True),
    st.sampled_from(["a_", "-a", "a..b", "Foo.Bar", "zope.interface", "ruamel.yaml", "x-", "İ", "a b"]),
)
_version = st.one_of(
    st.sampled_from(["1", "1.0", "1.0.0", "01", "2.32.3", "1.0a1", "1.0rc2", "1.0.post1", "1.0.dev0", "1!2"]),
    st.sampled_from(["1.0+local", "1.0+ubuntu.1", "1.*", "1.0b", "1.0-1", "v1", "1.0_rc1", "", "1..0", "1.0+"]),
    st.lists(st.integers(0, 20).map(str), min_size=1, max_size=4).map(".".join),
)
_op = st.sampled_from(["==", "!=", ">=", "<=", ">", "<", "~=", "===", "=", "=>"])
_clause = st.builds(lambda ws1, op, ws2, v: f"{ws1}{op}{ws2}{v}", _ws, _op, _ws, _version)
_extras = st.lists(st.builds(lambda a, e, b: f"{a}{e}{b}", _ws, _ident, _ws), max_size=3).map(",".join)
_requirement = st.builds(
    lambda ws0, name, ws1, extras, clauses, tail, ws2: f"{ws0}{name}{ws1}{extras}{clauses}{tail}{ws2}",
    _ws,
    _ident,
    _ws,
    st.one_of(st.just(""), _extras.map(lambda e: f"[{e}]")),
    st.lists(_clause, max_size=3).map(",".join),
    st.sampled_from(["", "", "", ",", " ;python_version>'3'", "; sys_platform == 'linux'", " @ https://x/y.whl", ")"]),
    _ws,
)


def _reference(text: str) -> object:
    try:
        return _parse_with_packaging(text, rel="requirements.txt", line=3)
    except ParseError:
        return "invalid"


def _parsed(text: str) -> object:
    try:
        return parse_pep508(text, rel="requirements.txt", line=3)
    except ParseError:
        return "invalid"


@settings(max_examples=1500, deadline=None)
@given(st.one_of(_requirement, st.text(alphabet=st.sampled_from("ab1.,[]=<>!~ \t;+-_*"), max_size=25)))
@example("requests[socks]==2.32.3")
@example("uvicorn[standard] == 0.34.0")
@example("Django>=4.2,<5")
@example("foo>=1.0,>=1.0.0")
@example("foo[a,a,b]")
@example("foo<1.0+local")
def test_fast_path_equals_packaging(text: str) -> None:
    if simple_requirement(text) is None:
        return  # packaging decides; nothing to compare
    assert parse_pep508(text, rel="requirements.txt", line=3) == _reference(text)


_names = st.sampled_from(["requests", "Foo.Bar", "a", "zope.interface", "typing_extensions", "A-B_c.d", "x1"])
_good_version = st.sampled_from(["1", "1.0", "1.0.0", "01", "2.32.3", "1.0a1", "1.0rc2", "1.0.post1", "1.0+abc"])
_good_clause = st.builds(
    lambda op, ws, v: f"{op}{ws}{v}", st.sampled_from(["==", "!=", ">=", "<=", ">", "<"]), _ws, _good_version
)
_shaped = st.builds(
    lambda ws0, name, ws1, extras, clauses, ws2: f"{ws0}{name}{ws1}{extras}{clauses}{ws2}",
    _ws,
    _names,
    _ws,
    st.one_of(
        st.just(""),
        st.lists(st.sampled_from(["socks", "a", "B.c", "x_y", "standard"]), max_size=3).map(
            lambda es: "[" + " , ".join(es) + "]"
        ),
    ),
    st.lists(st.builds(lambda a, c: a + c, _ws, _good_clause), max_size=3).map(",".join),
    _ws,
)


@settings(max_examples=800, deadline=None)
@given(_shaped)
def test_fast_path_equals_packaging_on_what_it_takes(text: str) -> None:
    assert _parsed(text) == _reference(text)


@pytest.mark.parametrize(
    "text",
    ["requests[socks]==2.32.3", "flask", "Django>=4.2,<5", "rich >= 13.0", "a.b[x, y] != 1.0, <2"],
)
def test_what_projects_write_needs_no_packaging_parser(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("packaging's parser was used")

    monkeypatch.setattr(requirements, "_parse_with_packaging", refuse)
    parse_pep508(text, rel="requirements.txt", line=1)


def test_long_runs_of_blanks_do_not_make_the_match_slow() -> None:
    assert simple_requirement("a" + " " * 50_000 + "b") is None
    assert simple_requirement("a[" + " ," * 20_000) is None
