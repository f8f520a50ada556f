"""The engine's tests build snapshots in code; the builders live in engine_testutil.py."""

from __future__ import annotations

import sys
from pathlib import Path

# --import-mode=importlib does not put test directories on sys.path; the
# helpers module has a unique name so this cannot shadow anything.
sys.path.insert(0, str(Path(__file__).parent))
