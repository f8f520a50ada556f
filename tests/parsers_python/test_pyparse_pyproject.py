"""pyproject.toml (PEP 621, PEP 735, uv, Poetry) and Poetry's constraint syntax."""

from __future__ import annotations

import pytest

from envcheck.errors import ParseError
from envcheck.parsers import poetry, pyproject

PEP621 = """\
[project]
name = "demo"
requires-python = ">=3.10, <4"
dependencies = [
    "requests (>=2.31,<3)",
    "tomli>=2 ; python_version < '3.11'",  # envcheck: ignore[EC401]
    "lib @ git+https://git.invalid/lib.git@v1",
]

[project.optional-dependencies]
pg = ["psycopg[binary]>=3.1"]

[dependency-groups]
test = ["pytest>=8"]
dev = [{include-group = "test"}, "ruff"]

[tool.uv]
dev-dependencies = ["mypy"]
constraint-dependencies = ["urllib3<2"]

[tool.uv.sources]
requests = { git = "https://git.invalid/requests.git", tag = "v2.31.0" }
"""


def test_pep621_groups_and_lines() -> None:
    d = pyproject.parse_text(PEP621)
    assert d.python is not None
    assert (d.python.requires, d.python.requires_source) == (">=3.10,<4", "pyproject.toml:3")
    got = [(r.name, r.specifier, r.group, r.source) for r in d.requirements]
    assert got == [
        ("requests", ">=2.31,<3", None, "pyproject.toml:5"),
        ("tomli", ">=2", None, "pyproject.toml:6"),
        ("lib", "", None, "pyproject.toml:7"),
        ("psycopg", ">=3.1", "optional:pg", "pyproject.toml:11"),
        ("pytest", ">=8", "group:test", "pyproject.toml:14"),
        ("ruff", "", "group:dev", "pyproject.toml:15"),
        ("mypy", "", "dev", "pyproject.toml:18"),
        ("urllib3", "<2", "constraint", "pyproject.toml:19"),
    ]
    by = {r.name: r for r in d.requirements}
    assert by["requests"].url == "git+https://git.invalid/requests.git@v2.31.0"  # from [tool.uv.sources]
    assert by["lib"].url == "git+https://git.invalid/lib.git@v1"
    assert by["tomli"].marker == 'python_version < "3.11"'
    assert [s.source for s in d.suppressions] == ["pyproject.toml:6"]


POETRY = """\
[tool.poetry]
name = "legacy"

[tool.poetry.dependencies]
python = "^3.9"
cleo = "^0.6"
pendulum = { git = "https://git.invalid/pendulum.git", branch = "2.0" }
requests = { version = "^2.18", optional = true, extras = ["security"] }
pathlib2 = { version = "^2.2", python = "~2.7 || ^3.4", markers = "sys_platform == 'win32'" }
foo = [
    { version = "<=1.9", python = ">=3.6,<3.8" },
    { version = "^2.0", python = ">=3.8" },
]
local = { path = "../local", develop = true }

[tool.poetry.extras]
security = ["requests"]

[tool.poetry.dev-dependencies]
pytest = "~3.4"

[tool.poetry.group.docs.dependencies]
sphinx = "*"
"""


def test_poetry_tables_and_python_key() -> None:
    d = pyproject.parse_text(POETRY)
    assert d.python is not None and (d.python.requires, d.python.requires_source) == (">=3.9,<4.0", "pyproject.toml:5")
    got = [(r.name, r.specifier, r.group, r.source) for r in d.requirements]
    assert got == [
        ("cleo", ">=0.6,<0.7", None, "pyproject.toml:6"),
        ("pendulum", "", None, "pyproject.toml:7"),
        ("requests", ">=2.18,<3.0", "optional:security", "pyproject.toml:8"),
        ("pathlib2", ">=2.2,<3.0", None, "pyproject.toml:9"),
        ("foo", "<=1.9", None, "pyproject.toml:10"),
        ("foo", ">=2.0,<3.0", None, "pyproject.toml:10"),
        ("local", "", None, "pyproject.toml:14"),
        ("pytest", ">=3.4,<3.5", "dev", "pyproject.toml:20"),
        ("sphinx", "", "group:docs", "pyproject.toml:23"),
    ]
    by = {r.name: r for r in d.requirements}
    assert by["pendulum"].url == "git+https://git.invalid/pendulum.git@2.0"
    assert by["local"].editable and by["local"].url == "../local"
    assert by["pathlib2"].marker == (
        'sys_platform == "win32" and ((python_version >= "2.7" and python_version < "2.8") '
        'or (python_version >= "3.4" and python_version < "4.0"))'
    )


def test_project_requires_python_wins_over_poetry_python() -> None:
    text = '[project]\nname = "x"\nrequires-python = ">=3.11"\n[tool.poetry.dependencies]\npython = "^3.9"\n'
    d = pyproject.parse_text(text)
    assert d.python is not None and d.python.requires == ">=3.11"


@pytest.mark.parametrize(
    ("constraint", "pep440"),
    [
        ("^1.2.3", ">=1.2.3,<2.0.0"),
        ("^1.2", ">=1.2,<2.0"),
        ("^1", ">=1,<2"),
        ("^0.2.3", ">=0.2.3,<0.3.0"),
        ("^0.0.3", ">=0.0.3,<0.0.4"),
        ("^0.0", ">=0.0,<0.1"),
        ("^0", ">=0,<1"),
        ("~1.2.3", ">=1.2.3,<1.3.0"),
        ("~1.2", ">=1.2,<1.3"),
        ("~1", ">=1,<2"),
        ("~=2.25.1", "~=2.25.1"),
        ("*", ""),
        ("1.*", "==1.*"),
        ("1.2.*", "==1.2.*"),
        ("1.2.3", "==1.2.3"),
        ("=1.2.3", "==1.2.3"),
        (">= 1.2, < 2.0", ">=1.2,<2.0"),
        (">=1.0 <2.0", ">=1.0,<2.0"),
        ("~2.7 || ^3.4", ">=2.7,<4.0,!=3.0.*,!=3.1.*,!=3.2.*,!=3.3.*"),
        (">=2.7,<2.8 || >=3.4", ">=2.7,!=3.0.*,!=3.1.*,!=3.2.*,!=3.3.*"),
    ],
)
def test_poetry_constraints_to_pep440(constraint: str, pep440: str) -> None:
    assert poetry.poetry_to_pep440(constraint) == pep440


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('[project]\ndependencies = "requests"\n', 2, "must be a list"),
        ('[project]\ndependencies = [\n  "ok",\n  "bad==>1",\n]\n', 4, "invalid requirement 'bad==>1'"),
        ('[project]\nrequires-python = ">>3"\n', 2, "invalid version specifier"),
        ("[dependency-groups]\na = [{include-group = 'b'}]\nb = [{include-group = 'a'}]\n", 3, "cycle"),
        ("[dependency-groups]\na = [{include-group = 'nope'}]\n", 2, "unknown group"),
        ('[tool.poetry.dependencies]\nfoo = "^x.y"\n', 2, "invalid version"),
        ('[tool.poetry.dependencies]\nfoo = { version = "1", markers = "nonsense" }\n', 2, "invalid markers"),
        ("[project\n", 1, "invalid TOML"),
    ],
)
def test_errors_carry_file_and_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(ParseError) as err:
        pyproject.parse_text(text, "sub/pyproject.toml")
    assert str(err.value).startswith(f"sub/pyproject.toml:{line}: ")
    assert fragment in str(err.value)


def test_tool_only_pyproject_declares_nothing() -> None:
    d = pyproject.parse_text("[tool.ruff]\nline-length = 100\n")
    assert d.requirements == () and d.python is None and d.files == ("pyproject.toml",)
