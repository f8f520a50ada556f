"""Session fixtures for the host scanner's tests (helpers live in host_testutil.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# --import-mode=importlib does not put test directories on sys.path; the
# helpers module has a unique name so this cannot shadow anything.
sys.path.insert(0, str(Path(__file__).parent))

from host_testutil import make_venv, pip_install, pyenv_python, write_local_project


@pytest.fixture(scope="session")
def venv311(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pyenv 3.11 venv: an extra, dotted names, a pinned old packaging, and an editable local project."""
    root = tmp_path_factory.mktemp("venv311")
    py = make_venv(pyenv_python("3.11"), root / ".venv")
    pip_install(py, "requests[socks]==2.32.3", "jaraco.functools==4.1.0", "six==1.16.0", "attrs==24.2.0")
    local = write_local_project(root / "localproj")
    pip_install(py, "-e", str(local))
    return root


@pytest.fixture(scope="session")
def venv_system_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A --system-site-packages venv over pyenv 3.11 with packaging pinned below the base's copy."""
    root = tmp_path_factory.mktemp("venvsys")
    py = make_venv(pyenv_python("3.11"), root / "venv", system_site=True)
    pip_install(py, "packaging==21.3", "six==1.16.0")
    return root
