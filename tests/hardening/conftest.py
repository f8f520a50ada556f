"""Hardening tests share the image tests' in-memory image builders."""

from __future__ import annotations

import sys
from pathlib import Path

# --import-mode=importlib puts no test directory on sys.path; image_testutil
# (tests/image) and harden_testutil (here) have unique names.
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "image"))
