"""The project boundary: root files, what they include, conventional locations; other projects are listed, not merged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envcheck.cli import main
from envcheck.scanners.project import Boundary, discover_project, scan_project


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def read(root: Path, boundary: Boundary | None = None) -> list[str]:
    snap = scan_project(root, boundary=boundary)
    assert snap.declared is not None
    return sorted(snap.declared.files)


def test_a_leftover_copy_is_not_merged_and_does_not_hide_root_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's case: 16 false errors from a copy, EC401 hidden on the real file."""
    root = tree(
        tmp_path,
        {
            "requirements.txt": "flask\nrequests>=2\ncelery\nredis\ngunicorn==21.2.0\n",
            "_updated/config/development/requirements.txt": "flask==1.0\nrequests==2.0.0\ncelery==4.0\nredis==3.0\n",
        },
    )
    assert read(root) == ["requirements.txt"]
    main(["lint", str(root), "--format", "json", "-v"])
    captured = capsys.readouterr()
    findings = json.loads(captured.out)["findings"]
    assert sorted(f["subject"] for f in findings if f["rule"] == "EC401") == ["celery", "flask", "redis", "requests"]
    assert all(f["location"]["path"] == "requirements.txt" for f in findings)
    assert "_updated/config/development/: another project" in captured.err


def test_a_monorepo_root_lists_its_apps_and_each_is_scanned_when_named(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "README.md": "two apps\n",
            "apps/api/pyproject.toml": '[project]\nname = "api"\nversion = "1"\ndependencies = ["fastapi==0.110.0"]\n',
            "apps/api/.python-version": "3.12.1\n",
            "apps/web/package.json": '{"name": "web", "dependencies": {"react": "18.2.0"}}\n',
            "apps/web/.nvmrc": "20\n",
        },
    )
    found = discover_project(root)
    assert found.subprojects == ("apps/api", "apps/web")
    assert read(root) == []
    assert read(root / "apps" / "api") == [".python-version", "pyproject.toml"]
    assert read(root / "apps" / "web") == [".nvmrc", "package.json"]


def test_conventional_requirement_folders_and_includes_belong(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "requirements.txt": "-r config/base.txt\n",
            "config/base.txt": "flask==3.0.0\n",
            "requirements/dev.txt": "pytest==8.0.0\n",
            "docs/requirements.txt": "sphinx\n",
            "docker/Dockerfile": "FROM python:3.11-slim\n",
        },
    )
    assert read(root) == [
        "config/base.txt",
        "docker/Dockerfile",
        "requirements.txt",
        "requirements/dev.txt",
    ]
    assert discover_project(root).subprojects == ("docs",)


def test_what_a_root_dockerfile_builds_belongs_to_the_project(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.12-slim\nCOPY backend/requirements.txt .\nRUN pip install -r requirements.txt\n"
            "COPY . .\n",
            "backend/requirements.txt": "flask==3.0.0\n",
            "backend/.python-version": "3.12\n",
            "tools/requirements.txt": "black\n",
        },
    )
    assert read(root) == ["Dockerfile", "backend/.python-version", "backend/requirements.txt"]
    assert discover_project(root).subprojects == ("tools",)


def test_a_file_a_dockerfile_installs_from_belongs(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.12-slim\nCOPY . /app\nRUN pip install -r /app/deploy/requirements-prod.txt\n",
            "deploy/requirements-prod.txt": "gunicorn==21.2.0\n",
        },
    )
    snap = scan_project(root)
    assert snap.declared is not None and "deploy/requirements-prod.txt" in snap.declared.files


def test_workspace_members_belong_to_the_root(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "package.json": '{"name": "mono", "private": true, "workspaces": ["packages/*"]}\n',
            "packages/a/package.json": '{"name": "a", "dependencies": {"lodash": "4.17.21"}}\n',
            "examples/demo/package.json": '{"name": "demo"}\n',
        },
    )
    assert read(root) == ["package.json", "packages/a/package.json"]
    assert discover_project(root).subprojects == ("examples/demo",)


def test_config_include_and_exclude_move_the_boundary(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "x"\nversion = "1"\n\n[tool.envcheck]\n'
            'include = ["services/worker", "ops/requirements-pins.txt"]\nexclude = ["requirements/legacy*"]\n',
            "services/worker/requirements.txt": "celery==5.3.0\n",
            "ops/requirements-pins.txt": "redis==5.0.0\n",
            "requirements/legacy.txt": "django==1.11\n",
            "requirements/base.txt": "django==5.0\n",
        },
    )
    assert read(root) == [
        "ops/requirements-pins.txt",
        "pyproject.toml",
        "requirements/base.txt",
        "services/worker/requirements.txt",
    ]
    assert read(root, Boundary()) == ["pyproject.toml", "requirements/base.txt", "requirements/legacy.txt"]


def test_nested_projects_are_listed_once_under_the_outermost(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "setup.py": "from setuptools import setup\nsetup(name='x')\n",
            "examples/app/setup.py": "from setuptools import setup\nsetup(name='y')\n",
            "examples/app/sub/package.json": "{}\n",
        },
    )
    assert discover_project(root).subprojects == ("examples/app",)


def test_a_dockerfile_above_other_projects_builds_them_not_the_root(tmp_path: Path) -> None:
    """envcheck's own repository: `fixtures/mixed-pnpm/Dockerfile` sits above two apps with manifests."""
    root = tree(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "tool"\nversion = "1"\ndependencies = ["rich==13.7.1"]\n',
            "examples/mixed/Dockerfile": "FROM python:3.12-slim\nCOPY backend/requirements.txt .\n",
            "examples/mixed/backend/requirements.txt": "flask==3.0.0\n",
            "examples/mixed/frontend/package.json": '{"name": "web", "dependencies": {"vite": "5.0.0"}}\n',
        },
    )
    assert read(root) == ["pyproject.toml"]


def test_a_projects_own_extras_naming_itself_are_no_dependency(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "pyproject.toml": (
                '[project]\nname = "My_Tool"\nversion = "1"\ndependencies = ["rich==13.7.1"]\n'
                '[project.optional-dependencies]\nfast = ["isal==1.7.0"]\ntest = ["my-tool[fast]", "pytest==8.3.0"]\n'
            ),
        },
    )
    snap = scan_project(root)
    assert snap.declared is not None
    assert sorted(r.name for r in snap.declared.requirements) == ["isal", "pytest", "rich"]


def test_requirement_files_the_root_file_does_not_reach_are_variants(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """flasky: requirements.txt → heroku.txt → common.txt; docker.txt is another way to deploy.

    A host or an image built from requirements.txt does not lack docker.txt's
    pymysql; the file is still read, so its unpinned lines are still EC401."""
    root = tree(
        tmp_path,
        {
            "requirements.txt": "-r requirements/heroku.txt\n",
            "requirements/heroku.txt": "-r common.txt\npsycopg2==2.7.3.1\n",
            "requirements/docker.txt": "-r common.txt\npymysql\n",
            "requirements/common.txt": "flask==0.12.2\n",
        },
    )
    snap = scan_project(root)
    assert snap.declared is not None
    groups = {r.name: r.group for r in snap.declared.requirements}
    assert groups == {"psycopg2": None, "flask": None, "pymysql": "variant"}
    main(["lint", str(root), "--format", "json", "--fail-on", "never"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [f["subject"] for f in findings if f["rule"] == "EC401"] == ["pymysql"]


def test_without_a_root_requirements_file_nothing_is_a_variant(tmp_path: Path) -> None:
    root = tree(tmp_path, {"requirements/base.txt": "flask==3.0.0\n", "requirements/prod.txt": "gunicorn==21.2.0\n"})
    snap = scan_project(root)
    assert snap.declared is not None
    assert {r.group for r in snap.declared.requirements} == {None}
