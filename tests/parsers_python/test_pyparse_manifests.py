"""Pipfile, setup.cfg and environment.yml on small realistic inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from envcheck.errors import ParseError
from envcheck.parsers import conda_env, pipfile, setup_cfg

PIPFILE = """\
[[source]]
url = "https://index.invalid/simple"
name = "pypi"

[packages]
requests = "*"
django = "==4.2.7"
flask = ">=2.0"
"zope.interface" = "5.5.2"
records = { version = ">0.5.0", extras = ["pandas"], markers = "python_version >= '3.8'" }
pywinusb = { version = "*", sys_platform = "== 'win32'" }
mylib = { path = ".", editable = true }
tool = { git = "https://git.invalid/tool.git", ref = "v1.0" }

[dev-packages]
pytest = "~=7.4"

[docs]
sphinx = "*"

[requires]
python_version = "3.11"
python_full_version = "3.11.7"
"""


def test_pipfile_sections_tables_and_python() -> None:
    d = pipfile.parse_text(PIPFILE)
    got = [(r.name, r.specifier, r.group, r.source) for r in d.requirements]
    assert got == [
        ("requests", "", None, "Pipfile:6"),
        ("django", "==4.2.7", None, "Pipfile:7"),
        ("flask", ">=2.0", None, "Pipfile:8"),
        ("zope-interface", "==5.5.2", None, "Pipfile:9"),
        ("records", ">0.5.0", None, "Pipfile:10"),
        ("pywinusb", "", None, "Pipfile:11"),
        ("mylib", "", None, "Pipfile:12"),
        ("tool", "", None, "Pipfile:13"),
        ("pytest", "~=7.4", "dev", "Pipfile:16"),
        ("sphinx", "", "group:docs", "Pipfile:19"),
    ]
    by = {r.name: r for r in d.requirements}
    assert by["records"].extras == ("pandas",) and by["records"].marker == 'python_version >= "3.8"'
    assert by["pywinusb"].marker == 'sys_platform == "win32"'
    assert by["mylib"].editable and by["mylib"].url == "."
    assert by["tool"].url == "git+https://git.invalid/tool.git@v1.0"
    assert d.python is not None and dict(d.python.version_files) == {"Pipfile": "3.11.7"}


def test_pipfile_errors() -> None:
    with pytest.raises(ParseError, match=r"^Pipfile:2: foo: invalid version specifier"):
        pipfile.parse_text('[packages]\nfoo = ">>1"\n')
    with pytest.raises(ParseError, match=r"^Pipfile:2: "):
        pipfile.parse_text("[packages]\nfoo = = 1\n")


SETUP_CFG = """\
[metadata]
name = demo

[options]
python_requires = >=3.8
install_requires =
    requests>=2.0
    # a comment line
    importlib-metadata; python_version < "3.10"

[options.extras_require]
test =
    pytest>=7
yaml = PyYAML

[flake8]
max-line-length = 100
"""


def test_setup_cfg_install_requires_and_extras() -> None:
    d = setup_cfg.parse_text(SETUP_CFG)
    assert d.python is not None and (d.python.requires, d.python.requires_source) == (">=3.8", "setup.cfg:5")
    got = [(r.name, r.specifier, r.group, r.source, r.marker) for r in d.requirements]
    assert got == [
        ("requests", ">=2.0", None, "setup.cfg:7", None),
        ("importlib-metadata", "", None, "setup.cfg:9", 'python_version < "3.10"'),
        ("pytest", ">=7", "optional:test", "setup.cfg:13", None),
        ("pyyaml", "", "optional:yaml", "setup.cfg:14", None),
    ]


def test_setup_cfg_file_directive_reads_requirements(tmp_path: Path) -> None:
    (tmp_path / "setup.cfg").write_text("[options]\ninstall_requires = file: requirements.txt\n")
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    d = setup_cfg.parse(tmp_path / "setup.cfg", tmp_path)
    assert [(r.name, r.source) for r in d.requirements] == [("six", "requirements.txt:1")]
    assert d.files == ("setup.cfg", "requirements.txt")


def test_setup_cfg_errors() -> None:
    with pytest.raises(ParseError, match=r"^setup.cfg:1: text before the first"):
        setup_cfg.parse_text("install_requires = x\n")
    with pytest.raises(ParseError, match=r"^setup.cfg:3: invalid requirement"):
        setup_cfg.parse_text("[options]\ninstall_requires =\n    foo>=\n")


ENV = """\
name: demo
channels: [conda-forge]
dependencies:
  - conda-forge::python=3.10.4=h12345_0
  - numpy>=1.24
  - pip
  - pip:
      - requests==2.31.0  # envcheck: ignore[EC401]
      - -r requirements-extra.txt
      - --index-url https://index.invalid/simple
"""


def test_conda_python_pin_and_pip_section(tmp_path: Path) -> None:
    (tmp_path / "environment.yml").write_text(ENV)
    (tmp_path / "requirements-extra.txt").write_text("attrs\n")
    d = conda_env.parse(tmp_path / "environment.yml", tmp_path)
    assert d.python is not None and dict(d.python.version_files) == {"environment.yml": "3.10.4"}
    assert [(r.name, r.specifier, r.source) for r in d.requirements] == [
        ("requests", "==2.31.0", "environment.yml:8"),
        ("attrs", "", "requirements-extra.txt:1"),
    ]
    assert d.files == ("environment.yml", "requirements-extra.txt")
    assert [s.source for s in d.suppressions] == ["environment.yml:8"]


@pytest.mark.parametrize(
    ("entry", "version", "requires"),
    [
        ("python=3.9", "3.9", None),
        ("python==3.11.7", "3.11.7", None),
        ("python 3.12.*", "3.12", None),
        ("python>=3.8,<3.11", None, ">=3.8,<3.11"),
        ("python", None, None),
        ("python-dateutil=2.8", None, None),
    ],
)
def test_conda_python_specs(entry: str, version: str | None, requires: str | None) -> None:
    d = conda_env.parse_text(f"dependencies:\n  - {entry}\n")
    if version is None and requires is None:
        assert d.python is None
        return
    assert d.python is not None
    assert dict(d.python.version_files) == ({"environment.yml": version} if version else {})
    assert d.python.requires == requires


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("dependencies:\n  - thiswontwork\n  invalid\n", 3, "invalid YAML"),
        ("- a\n- b\n", 1, "expected a mapping"),
        ("dependencies: numpy\n", 1, "must be a list"),
        ("dependencies:\n  - pip:\n      - 'foo==>1'\n", 3, "invalid requirement"),
        # Ours ("YAML nested deeper …") or libyaml's own limit ("invalid YAML: …"),
        # whichever PyYAML release notices first: a clean error either way.
        ("[" * 50_000, 1, "YAML"),
    ],
)
def test_conda_errors(text: str, line: int, fragment: str) -> None:
    with pytest.raises(ParseError) as err:
        conda_env.parse_text(text)
    assert str(err.value).startswith(f"environment.yml:{line}: ")
    assert fragment in str(err.value)


def test_empty_environment_file_declares_nothing() -> None:
    d = conda_env.parse_text("")
    assert d.requirements == () and d.python is None
