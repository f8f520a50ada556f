"""setup.py read statically: literals are read, computed values are "cannot say", nothing is ever executed."""

from __future__ import annotations

import keyword
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envcheck.errors import ParseError
from envcheck.parsers.setup_py import parse, parse_text

LEGACY = """\
#!/usr/bin/env python
import os
from setuptools import setup, find_packages

here = os.path.abspath(os.path.dirname(__file__))
REQUIRES = [
    "Flask>=1.0,<2",
    "requests==2.25.1",
    'pywin32; sys_platform == "win32"',
]
TESTS = ["pytest"] + ["coverage==5.5"]

setup(
    name="inventory",
    version="1.0",
    packages=find_packages(),
    python_requires=">=3.6, <3.10",
    install_requires=REQUIRES,
    tests_require=TESTS,
    setup_requires=["setuptools_scm"],
    extras_require={
        "postgres": ["psycopg2-binary==2.8.6"],
        "docs:python_version < '3.8'": ["sphinx<4"],
    },
)
"""


def test_a_legacy_setup_py_is_read() -> None:
    d = parse_text(LEGACY)
    main = [(r.name, r.specifier, r.source) for r in d.requirements if r.group is None]
    assert main == [
        ("flask", ">=1.0,<2", "setup.py:7"),
        ("requests", "==2.25.1", "setup.py:8"),
        ("pywin32", "", "setup.py:9"),
    ]
    assert {r.name: r.group for r in d.requirements if r.group} == {
        "pytest": "group:tests",
        "coverage": "group:tests",
        "setuptools-scm": "build",
        "psycopg2-binary": "optional:postgres",
        "sphinx": "optional:docs",
    }
    sphinx = next(r for r in d.requirements if r.name == "sphinx")
    assert sphinx.marker == "python_version < '3.8'"
    assert d.python is not None and d.python.requires_source == "setup.py:17"
    assert d.python.requires in (">=3.6,<3.10", "<3.10,>=3.6")


@pytest.mark.parametrize(
    "value",
    [
        "open('requirements.txt').read().splitlines()",
        "[line.strip() for line in open('requirements.txt')]",
        "get_requirements()",
        "REQS",  # bound twice below: not known statically
        "['flask', VERSIONED]",
    ],
)
def test_computed_values_are_cannot_say(value: str) -> None:
    text = f"from setuptools import setup\nREQS = ['a']\nREQS = ['b']\nsetup(name='x', install_requires={value})\n"
    assert parse_text(text).requirements == ()


def test_kwargs_dict_and_distutils_forms() -> None:
    text = (
        "from distutils.core import setup\nmeta = dict(name='x', install_requires=['six==1.16.0'])\n"
        "if __name__ == '__main__':\n    setup(**meta)\n"
    )
    assert [r.name for r in parse_text(text).requirements] == ["six"]
    text = "import setuptools\nsetuptools.setup(**{'install_requires': 'idna==3.4\\nsix'})\n"
    assert [r.name for r in parse_text(text).requirements] == ["idna", "six"]


def test_python_2_syntax_says_nothing_rather_than_failing() -> None:
    d = parse_text("print 'installing'\nfrom setuptools import setup\nsetup(install_requires=['flask'])\n")
    assert d.requirements == () and d.files == ("setup.py",)


def test_an_invalid_literal_requirement_is_an_error_with_its_line() -> None:
    with pytest.raises(ParseError) as err:
        parse_text("from setuptools import setup\nsetup(\n    install_requires=['flask>>>2'],\n)\n")
    assert str(err.value).startswith("setup.py:3:")


def test_it_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    text = f"open({str(marker)!r}, 'w').write('x')\nfrom setuptools import setup\nsetup(install_requires=['a'])\n"
    (tmp_path / "setup.py").write_text(text)
    assert [r.name for r in parse(tmp_path / "setup.py", tmp_path).requirements] == ["a"]
    assert not marker.exists()


NAMES = st.from_regex(r"[a-z][a-z0-9]{0,8}(?:-[a-z0-9]{1,5})?", fullmatch=True).filter(
    lambda n: not keyword.iskeyword(n)
)
VERSIONS = st.from_regex(r"[0-9]{1,3}(?:\.[0-9]{1,3}){0,2}", fullmatch=True)


@given(st.lists(st.tuples(NAMES, VERSIONS), min_size=1, max_size=8, unique_by=lambda t: t[0]), st.booleans())
def test_literal_requirements_round_trip(pairs: list[tuple[str, str]], through_name: bool) -> None:
    items = ", ".join(f"'{n}=={v}'" for n, v in pairs)
    if through_name:
        text = f"from setuptools import setup\nDEPS = [{items}]\nsetup(install_requires=DEPS)\n"
    else:
        text = f"from setuptools import setup\nsetup(install_requires=[{items}])\n"
    got = [(r.name, r.specifier) for r in parse_text(text).requirements]
    assert got == [(n, f"=={v}") for n, v in pairs]


@settings(max_examples=200)
@given(st.text(max_size=300))
def test_arbitrary_text_never_crashes(text: str) -> None:
    try:
        parse_text(text)
    except ParseError:
        pass
