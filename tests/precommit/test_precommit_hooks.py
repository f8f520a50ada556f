"""The pre-commit hooks as a user meets them: the real ``pre-commit try-repo`` on fixture projects.

``language: python`` makes pre-commit build a virtualenv and pip-install this
checkout into it (hatchling and the dependencies come from the package
index), so these tests need the network and take a while; they fail, never
skip, when pre-commit or the index is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from envcheck.parsers import BY_NAME, parser_for

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"
MANIFEST = REPO / ".pre-commit-hooks.yaml"
# What pip needs to build the package, plus the hook manifest.
PACKAGE_FILES = ("pyproject.toml", "README.md", "SECURITY.md", ".pre-commit-hooks.yaml", "envcheck", "rules")

GIT_ENV = {
    "GIT_AUTHOR_NAME": "envcheck tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "envcheck tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def hooks() -> dict[str, dict[str, object]]:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return {h["id"]: h for h in data}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRE_COMMIT", "GIT_", "VIRTUAL_ENV"))}
    env.update(GIT_ENV)
    # Where pre-commit keeps its own state (try-repo builds its hook env in a temp store regardless).
    env["PRE_COMMIT_HOME"] = str(Path.home() / ".cache" / "envcheck-test" / "pre-commit")
    env["NO_COLOR"] = "1"
    # A fixture's .python-version must not steer a pyenv shim to an interpreter that is not installed.
    env["PYENV_VERSION"] = os.environ.get("PYENV_VERSION", "system")
    return env


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=_env(), check=True, capture_output=True)


def _checkout_is_committed() -> bool:
    """True when everything pip would install from this checkout is committed (a CI clone)."""
    out = subprocess.run(
        ["git", "status", "--porcelain", "--", *PACKAGE_FILES],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return not out.strip()


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """This checkout; or, while files are uncommitted, a commit of its working tree.

    try-repo itself only carries *tracked* changes over, so a checkout with a
    new, not yet added module would install a broken package.
    """
    if _checkout_is_committed():
        yield REPO
        return
    shadow = tmp_path_factory.mktemp("hook-repo")
    for name in PACKAGE_FILES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, shadow / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif src.exists():
            shutil.copy2(src, shadow / name)
    _git("init", "-q", cwd=shadow)
    _git("add", "-A", cwd=shadow)
    _git("commit", "-q", "-m", "working tree of the envcheck checkout", cwd=shadow)
    yield shadow


def project_repo(tmp_path: Path, fixture: str) -> Path:
    dest = tmp_path / fixture
    shutil.copytree(FIXTURES / fixture, dest)
    _git("init", "-q", cwd=dest)
    _git("add", "-A", cwd=dest)
    _git("commit", "-q", "-m", "fixture", cwd=dest)
    return dest


def try_repo(hook_repo: Path, project: Path, hook: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), hook, "--color", "never", *extra],
        cwd=project,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


# --------------------------------------------------------------------------- the manifest


def test_manifest_is_valid_for_pre_commit() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-manifest", str(MANIFEST)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert set(hooks()) == {"envcheck-lint", "envcheck-dockerfile-check", "envcheck-scan"}
    assert hooks()["envcheck-scan"]["stages"] == ["manual"]
    assert hooks()["envcheck-dockerfile-check"]["entry"] == "envcheck dockerfile --check --from lock"


STATIC_NAMES = [
    *(n for n, m in BY_NAME.items() if m != "env_refs"),
    "requirements.txt",
    "requirements-dev.txt",
    "dev-requirements.txt",
    "requirements.lock",
    "requirements/base.txt",
    "backend/requirements/prod.txt",
    "Dockerfile.prod",
    "api.Dockerfile",
    "Containerfile.dev",
    "sub/dir/package-lock.json",
    "frontend/.nvmrc",
]
IGNORED_NAMES = [
    "app.py",
    "server.js",
    ".env.example",
    ".env",
    "docker-compose.yml",
    "README.md",
    "Dockerfile.dockerignore",
    "requirements.in",
    "notes/requirements.md",
    "mypackage.json",
    "src/package.json.bak",
]


@pytest.mark.parametrize("name", STATIC_NAMES + IGNORED_NAMES)
def test_lint_hook_files_are_exactly_what_the_static_rules_read(name: str) -> None:
    hook = hooks()["envcheck-lint"]
    selected = re.search(str(hook["files"]), name) is not None and re.search(str(hook["exclude"]), name) is None
    read = parser_for(name) not in (None, "env_refs")
    assert selected == read, f"{name}: hook selects it={selected}, envcheck's static rules read it={read}"


# --------------------------------------------------------------------------- the real pre-commit


@pytest.mark.network
def test_try_repo_lint_fails_on_a_drifting_project(hook_repo: Path, tmp_path: Path) -> None:
    proc = try_repo(hook_repo, project_repo(tmp_path, "stale-lock"), "envcheck-lint", "--all-files")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert re.search(r"envcheck lint\.+Failed", out), out
    assert "EC304" in out and "helmet" in out


@pytest.mark.network
def test_try_repo_lint_passes_on_a_clean_project(hook_repo: Path, tmp_path: Path) -> None:
    proc = try_repo(hook_repo, project_repo(tmp_path, "clean-pinned"), "envcheck-lint", "--all-files")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert re.search(r"envcheck lint\.+Passed", out), out


@pytest.mark.network
def test_try_repo_lint_on_one_staged_manifest_still_sees_its_lock(hook_repo: Path, tmp_path: Path) -> None:
    """The commit path: only package.json is passed, the stale lock beside it is still read."""
    project = project_repo(tmp_path, "stale-lock")
    proc = try_repo(hook_repo, project, "envcheck-lint", "--files", "package.json")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "package.json:15: EC304" in out, out
