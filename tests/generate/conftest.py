"""Shared builders for the Dockerfile generator's tests (helpers live in gen_testutil.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# --import-mode=importlib does not put test directories on sys.path.
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))

import pytest


@pytest.fixture(autouse=True)
def _no_real_package_index(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The generator asks the package index whether pins install: here it asks a closed
    local port, so no test depends on the network or on today's releases.  Tests of
    the index client start their own index server."""
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple/")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.delenv("PIP_NO_INDEX", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
