"""The labelled corpus's helpers live in labelled_util.py."""

from __future__ import annotations

import sys
from pathlib import Path

# --import-mode=importlib does not put test directories on sys.path; the
# helpers module has a unique name so this cannot shadow anything.
sys.path.insert(0, str(Path(__file__).parent))
