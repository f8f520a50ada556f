"""Platform and wheel-availability tests (issue 18); helpers live in wheel_testutil.py."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# --import-mode=importlib does not put test directories on sys.path.
sys.path.insert(0, str(Path(__file__).parent))

from wheel_testutil import FakeIndex, serve


@pytest.fixture
def fake_index() -> Iterator[FakeIndex]:
    with serve() as index:
        yield index
