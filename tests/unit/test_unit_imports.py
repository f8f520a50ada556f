"""Every envcheck module imports on its own.

Modules import typing names, and each other's type aliases, only under
``if TYPE_CHECKING:`` (issue 15: start-up).  A name that a module still uses at
run time but now imports only for type checkers fails here, at import, instead
of in front of a user on the one command that loads that module.
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest

import envcheck

MODULES = sorted(m.name for m in pkgutil.walk_packages(envcheck.__path__, "envcheck.") if m.name != "envcheck.__main__")


def test_every_module_is_found() -> None:
    assert "envcheck.sbom.mapping" in MODULES and "envcheck.scanners.image.walker" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_module_imports_in_a_fresh_interpreter(name: str) -> None:
    # A fresh process: in this one, another module may already have imported what it lacks.
    out = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr.strip().splitlines()[-1:]


def test_the_typing_shims_behave_as_typing() -> None:
    shims = importlib.import_module("envcheck._typing")
    value = object()
    assert shims.cast(int, value) is value
    with pytest.raises(AssertionError):
        shims.assert_never("unexpected")  # type: ignore[arg-type]
