"""Where the built-in rule files are, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path


def builtin_rules_dir() -> Path:
    here = Path(__file__).resolve().parent
    installed = here / "_builtin_rules"  # force-included into the wheel (pyproject.toml)
    if installed.is_dir():
        return installed
    return here.parent / "rules"  # a checkout or an editable install
