"""Every Python manifest and lock in the real-world corpus parses, with concrete facts checked."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from envcheck.errors import ParseError
from envcheck.parsers import (
    conda_env,
    parser_for,
    pipfile,
    pipfile_lock,
    poetry_lock,
    pyproject,
    requirements,
    setup_cfg,
    uv_lock,
)

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
PY_MODULES = {
    "requirements",
    "pyproject",
    "setup_cfg",
    "pipfile",
    "pipfile_lock",
    "poetry_lock",
    "uv_lock",
    "conda_env",
}
# Deliberately invalid YAML in repo2docker's tests (see its SOURCE.md).
DECOYS = {
    "jupyterhub__repo2docker/tests/conda/py35-binder-dir/environment.yml",
    "jupyterhub__repo2docker/tests/venv/binder-dir/environment.yml",
}
MODULES = {
    "requirements": requirements,
    "pyproject": pyproject,
    "setup_cfg": setup_cfg,
    "pipfile": pipfile,
    "pipfile_lock": pipfile_lock,
    "poetry_lock": poetry_lock,
    "uv_lock": uv_lock,
    "conda_env": conda_env,
}


def _corpus_files() -> list[tuple[str, str]]:
    out = []
    for project in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        for f in sorted(project.rglob("*")):
            if not f.is_file():
                continue
            rel = f.relative_to(project).as_posix()
            module = parser_for(rel)
            if module is None and f.suffix == ".in":
                module = "requirements"  # pip-tools inputs: the scanner skips them, the parser must still read them
            if module in PY_MODULES:
                out.append((f"{project.name}/{rel}", module))
    return out


def test_corpus_is_there() -> None:
    assert CORPUS.is_dir(), f"corpus missing at {CORPUS}"
    kinds = Counter(m for _, m in _corpus_files())
    assert set(kinds) == PY_MODULES
    assert kinds["requirements"] == 46  # 32 *.txt + 14 pip-tools *.in


@pytest.mark.parametrize(("name", "module"), _corpus_files(), ids=str)
def test_every_corpus_file_parses(name: str, module: str) -> None:
    project = CORPUS / name.split("/", 1)[0]
    path = CORPUS / name
    if name in DECOYS:
        with pytest.raises(ParseError) as err:
            MODULES[module].parse(path, project)
        assert str(err.value).startswith(name.split("/", 1)[1] + ":")
        assert "invalid YAML" in str(err.value)
        return
    declared = MODULES[module].parse(path, project)
    assert declared.files[0] == name.split("/", 1)[1]
    for r in declared.requirements:
        assert r.ecosystem == "python" and r.name == r.name.lower()
        assert ":" in r.source
    for lk in declared.locks:
        assert lk.version and lk.source


# --------------------------------------------------------------------------- requirements


def test_warehouse_main_txt_hashes_and_unsafe_section() -> None:
    root = CORPUS / "pypi__warehouse"
    d = requirements.parse(root / "requirements/main.txt", root)
    assert len(d.requirements) == 184
    assert sum(len(r.hashes) for r in d.requirements) == 2089
    assert all(r.is_pinned and r.hashes for r in d.requirements)
    alembic = d.requirements[0]
    assert (alembic.name, alembic.specifier, alembic.source) == ("alembic", "==1.18.5", "requirements/main.txt:7")
    assert alembic.hashes[0] == "sha256:06d8ba9d04558022f5395e9317de03d270f3dced49cee01f89fe7a13c26f14bc"
    # pip-compile --allow-unsafe writes setuptools below the "unsafe" comment: still a requirement
    setuptools = [r for r in d.requirements if r.name == "setuptools"]
    assert [r.source for r in setuptools] == ["requirements/main.txt:2676"]


def test_warehouse_top_level_file_follows_every_include_with_dev_groups() -> None:
    root = CORPUS / "pypi__warehouse"
    d = requirements.parse(root / "requirements.txt", root)
    assert d.files == (
        "requirements.txt",
        "requirements/main.txt",
        "requirements/deploy.txt",
        "requirements/docs-dev.txt",
        "requirements/docs-user.txt",
        "requirements/docs-blog.txt",
        "requirements/lint.txt",
        "requirements/tests.txt",
    )
    groups = Counter((r.source.split(":")[0], r.group) for r in d.requirements)
    assert groups[("requirements/main.txt", None)] == 184
    assert groups[("requirements/deploy.txt", None)] == 8
    assert groups[("requirements/lint.txt", "dev")] == 56
    assert groups[("requirements/tests.txt", "dev")] == 48


def test_bakerydemo_chained_includes_keep_per_file_sources() -> None:
    root = CORPUS / "wagtail__bakerydemo"
    d = requirements.parse(root / "requirements.txt", root)
    assert d.files == ("requirements.txt", "requirements/production.txt", "requirements/base.txt")
    by_name = {r.name: r for r in d.requirements}
    assert by_name["django"].source == "requirements/base.txt:1"
    assert by_name["django"].specifier == ">=6.0,<6.1"
    assert by_name["psycopg"].source == "requirements/production.txt:5"
    assert by_name["psycopg"].extras == ("binary",)
    assert by_name["aws-requests-auth"].is_pinned
    assert all(r.group is None for r in d.requirements)
    assert len(d.requirements) == 18
    dev = requirements.parse(root / "requirements/development.txt", root)
    assert {r.group for r in dev.requirements if r.source.startswith("requirements/development.txt")} == {"dev"}
    assert {r.group for r in dev.requirements if r.source.startswith("requirements/base.txt")} == {None}


def test_djangoproject_git_reference_kept_as_url_and_markers() -> None:
    root = CORPUS / "django__djangoproject.com"
    d = requirements.parse(root / "requirements/prod.txt", root)
    push = next(r for r in d.requirements if r.name == "django-push")
    assert push.url == "git+https://github.com/brutasse/django-push.git@22fda99641cfbd2f3075a723d92652a8e38220a5"
    assert push.specifier == "" and push.source == "requirements/prod.txt:41"
    colorama = next(r for r in d.requirements if r.name == "colorama")
    assert colorama.marker == 'sys_platform == "win32"' and colorama.specifier == "==0.4.6"
    assert all(r.group is None for r in d.requirements)
    tests = requirements.parse(root / "requirements/tests.txt", root)
    assert {r.group for r in tests.requirements} == {"dev"}


def test_flask_bare_archive_urls_and_pip_tools_inputs() -> None:
    root = CORPUS / "pallets__flask"
    d = requirements.parse(root / "requirements/tests-dev.txt", root)
    assert [r.name for r in d.requirements] == ["werkzeug", "jinja", "markupsafe", "itsdangerous", "click", "blinker"]
    assert d.requirements[0].url == "https://github.com/pallets/werkzeug/archive/refs/heads/main.tar.gz"
    dev_in = requirements.parse(root / "requirements/dev.in", root)
    assert dev_in.files == (
        "requirements/dev.in",
        "requirements/docs.txt",
        "requirements/tests.txt",
        "requirements/typing.txt",
    )
    assert {r.name for r in dev_in.requirements if r.source.startswith("requirements/dev.in")} == {"pre-commit", "tox"}


def test_healthchecks_extras_and_mixed_case_names() -> None:
    root = CORPUS / "healthchecks__healthchecks"
    d = requirements.parse(root / "requirements.txt", root)
    by_name = {r.name: r for r in d.requirements}
    assert by_name["django"].extras == ("argon2",) and by_name["django"].specifier == "==6.1"
    assert by_name["pyjwt"].extras == ("crypto",)
    dev = requirements.parse(root / "requirements-dev.txt", root)
    assert {r.group for r in dev.requirements} == {"dev"}
    assert not next(r for r in dev.requirements if r.name == "types-markdown").is_pinned


# --------------------------------------------------------------------------- pyproject


def test_poetry_project_pep621_and_groups() -> None:
    root = CORPUS / "python-poetry__poetry"
    d = pyproject.parse(root / "pyproject.toml", root)
    assert d.python is not None
    assert (d.python.requires, d.python.requires_source) == (">=3.10,<4.0", "pyproject.toml:5")
    by = {(r.name, r.group): r for r in d.requirements}
    assert by[("poetry-core", None)].url == "git+https://github.com/python-poetry/poetry-core.git"
    assert by[("tomli", None)].marker == 'python_version < "3.11"'
    assert by[("pbs-installer", None)].extras == ("download", "install")
    assert by[("pytest-xdist", "group:test")].extras == ("psutil",)
    assert by[("pytest-github-actions-annotate-failures", "group:github-actions")].specifier == ">=0.1.7,<0.2.0"
    assert by[("pre-commit", "group:dev")].source == "pyproject.toml:70"


def test_poetry_fixture_caret_tilde_python_and_table_forms() -> None:
    root = CORPUS / "python-poetry__poetry"
    d = pyproject.parse(root / "tests/fixtures/sample_project/pyproject.toml", root)
    assert d.python is not None
    assert d.python.requires == ">=2.7,<4.0,!=3.0.*,!=3.1.*,!=3.2.*,!=3.3.*,!=3.4.*,!=3.5.*"
    by = {r.name: r for r in d.requirements}
    assert by["cleo"].specifier == ">=0.6,<0.7"
    assert by["pendulum"].url == "git+https://github.com/sdispater/pendulum.git@2.0"
    assert by["pathlib2"].marker == 'python_version >= "2.7" and python_version < "2.8"'
    assert by["orator"].group == "optional:db"
    assert by["requests"].extras == ("security",)
    assert by["demo"].url == "../distributions/demo-0.1.0-py2.py3-none-any.whl"
    assert by["pytest"].group == "dev" or by["pytest"].group == "group:dev"
    assert "sys_platform" in (by["functools32"].marker or "")
    path_dep = pyproject.parse(root / "tests/fixtures/with_path_dependency/pyproject.toml", root)
    assert path_dep.requirements[0].editable and path_dep.requirements[0].url == "./bazz"


def test_fastapi_uv_workspace_dependency_groups() -> None:
    root = CORPUS / "fastapi__full-stack-fastapi-template"
    top = pyproject.parse(root / "pyproject.toml", root)
    assert top.python is None
    assert {(r.name, r.group) for r in top.requirements} == {
        ("prek", "group:dev"),
        ("typer", "group:dev"),
        ("zizmor", "group:dev"),
        ("smokeshow", "group:github-actions"),
    }
    backend = pyproject.parse(root / "backend/pyproject.toml", root)
    assert backend.python is not None and backend.python.requires == ">=3.14,<4.0"
    assert backend.python.requires_source == "backend/pyproject.toml:5"
    pwdlib = next(r for r in backend.requirements if r.name == "pwdlib")
    assert pwdlib.extras == ("argon2", "bcrypt") and pwdlib.source == "backend/pyproject.toml:21"


def test_djangoproject_include_group_entries_appear_once() -> None:
    root = CORPUS / "django__djangoproject.com"
    d = pyproject.parse(root / "pyproject.toml", root)
    assert d.python is not None and d.python.requires == "==3.12.*"
    coverage = [r for r in d.requirements if r.name == "coverage"]
    assert [(r.group, r.source) for r in coverage] == [("group:tests", "pyproject.toml:57")]
    assert next(r for r in d.requirements if r.name == "django-push").url is not None
    assert setup_cfg.parse(root / "setup.cfg", root).requirements == ()


# --------------------------------------------------------------------------- locks


def test_poetry_lock_versions_hashes_and_dev() -> None:
    root = CORPUS / "python-poetry__poetry"
    d = poetry_lock.parse(root / "poetry.lock", root)
    assert len(d.locks) == 78
    anyio = d.locks[0]
    assert (anyio.name, anyio.version, anyio.source, anyio.dev) == ("anyio", "4.13.0", "poetry.lock:4", False)
    assert anyio.hashes == (
        "sha256:08b310f9e24a9594186fd75b4f73f4a4152069e3853f1ed8bfbf58369f4ad708",
        "sha256:334b70e641fd2221c1505b3890c69882fe4a2df910cba14d97019b90b24439dc",
    )
    by = {lk.name: lk for lk in d.locks}
    assert by["pytest"].dev and not by["requests"].dev
    assert by["backports-tarfile"].marker == 'python_version < "3.12"'


def test_poetry_lock_v1_metadata_files_and_2_0_category() -> None:
    root = CORPUS / "python-poetry__poetry"
    old = poetry_lock.parse(root / "tests/fixtures/old_lock/poetry.lock", root)
    assert [(lk.name, lk.version, len(lk.hashes)) for lk in old.locks] == [("sampleproject", "1.3.1", 3)]
    outdated = poetry_lock.parse(root / "tests/fixtures/outdated_lock/poetry.lock", root)
    assert {lk.name: lk.version for lk in outdated.locks}["docker"] == "4.3.0"
    hashes = {lk.name: len(lk.hashes) for lk in outdated.locks}
    assert hashes["pywin32"] == 12 and hashes["certifi"] == 2
    v20 = poetry_lock.parse(root / "tests/fixtures/with_path_dependency/poetry.lock", root)
    assert {lk.name: lk.version for lk in v20.locks} == {
        "bazz": "1",
        "certifi": "2022.12.7",
        "chardet": "4.0.0",
        "idna": "2.10",
        "requests": "2.25.1",
        "urllib3": "1.26.14",
    }


def test_uv_lock_skips_workspace_members_and_marks_dev() -> None:
    root = CORPUS / "fastapi__full-stack-fastapi-template"
    d = uv_lock.parse(root / "uv.lock", root)
    names = {lk.name for lk in d.locks}
    assert "app" not in names and "fastapi" in names
    by = {lk.name: lk for lk in d.locks}
    assert by["alembic"].version == "1.18.5" and not by["alembic"].dev
    assert by["alembic"].hashes == (
        "sha256:1554982221dd17e9a749b53902407578eb305e453f71999e8c7f0a48389fff8e",
        "sha256:06d8ba9d04558022f5395e9317de03d270f3dced49cee01f89fe7a13c26f14bc",
    )
    assert by["pytest"].dev and by["zizmor"].dev and by["smokeshow"].dev
    django = uv_lock.parse(CORPUS / "django__djangoproject.com/uv.lock", CORPUS / "django__djangoproject.com")
    dby = {lk.name: lk for lk in django.locks}
    assert "djangoproject-com" not in dby
    assert dby["django-push"].version == "2.0" and dby["django-push"].source == "uv.lock:236"
    assert not dby["django"].dev and dby["ruff"].dev


def test_pipfile_and_lock_from_repo2docker() -> None:
    root = CORPUS / "jupyterhub__repo2docker"
    p = pipfile.parse(root / "tests/pipfile/py36/Pipfile", root)
    assert p.python is not None and dict(p.python.version_files) == {"tests/pipfile/py36/Pipfile": "3.6"}
    assert [(r.name, r.specifier, r.group) for r in p.requirements] == [
        ("pypi-pkg-test", "", None),
        ("there", "", "dev"),
    ]
    editable = pipfile.parse(root / "tests/pipfile/setup-py-explicit/Pipfile", root)
    dummy = next(r for r in editable.requirements if r.name == "dummy")
    assert dummy.editable and dummy.url == "."
    lock = pipfile_lock.parse(root / "tests/pipfile/py2-with-server-and-kernel-req/Pipfile.lock", root)
    by = {lk.name: lk for lk in lock.locks}
    assert by["numpy"].version == "1.16.4" and len(by["numpy"].hashes) == 23 and not by["numpy"].dev
    assert by["parse"].dev and by["parse"].version == "1.12.0"


def test_conda_environments_python_and_pip_section() -> None:
    root = CORPUS / "jupyterhub__repo2docker"
    d = conda_env.parse(root / "tests/conda/py310-requirements-file/environment.yml", root)
    assert d.python is not None
    assert dict(d.python.version_files) == {"tests/conda/py310-requirements-file/environment.yml": "3.10"}
    assert [(r.name, r.source) for r in d.requirements] == [
        ("simplejson", "tests/conda/py310-requirements-file/environment.yml:6")
    ]
    yaml_ext = conda_env.parse(root / "tests/conda/yaml/environment.yaml", root)
    assert yaml_ext.python is not None and list(yaml_ext.python.version_files.values()) == ["3.12"]
    no_python = conda_env.parse(root / "tests/conda/py-r-postbuild-file/environment.yml", root)
    assert no_python.python is None and no_python.requirements == ()
