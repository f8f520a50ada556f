"""Helpers for the host scanner's tests: real virtual environments and real installs.

Wheels are cached under ~/.cache/envcheck-test/wheels so reruns install
offline; the first run needs the package registry.  Missing network fails the
tests (never skips them).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from envcheck.snapshot import Snapshot

WHEELS = Path.home() / ".cache" / "envcheck-test" / "wheels"
PYENV = Path("/root/.pyenv/versions")


def run(argv: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None) -> str:
    proc = subprocess.run(
        list(argv),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        check=False,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, f"{' '.join(argv[:6])} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc.stdout


def clean_env(**extra: str) -> dict[str, str]:
    """An environment without the caller's PYTHON*/VIRTUAL_ENV, so pip and envcheck see the same thing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_")) and k != "VIRTUAL_ENV"}
    env.update(extra)
    return env


def pyenv_python(version: str) -> Path:
    """A pyenv interpreter; skipping is allowed only outside CI."""
    matches = sorted(PYENV.glob(f"{version}*/bin/python"))
    if not matches:
        if os.environ.get("CI"):
            pytest.fail(f"pyenv {version} is required in CI")
        pytest.skip(f"pyenv {version} not installed")
    return matches[-1]


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def make_venv(base: Path, dest: Path, *, system_site: bool = False) -> Path:
    argv = [str(base), "-m", "venv", str(dest)]
    if system_site:
        argv.append("--system-site-packages")
    run(argv, env=clean_env())
    return venv_python(dest)


def pip_install(python: Path, *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> None:
    """Install from the wheel cache; fill the cache from the registry only when it misses."""
    env = env or clean_env()
    WHEELS.mkdir(parents=True, exist_ok=True)
    common = ["-m", "pip", "--disable-pip-version-check", "-q"]
    offline = [str(python), *common, "install", "--no-index", "--find-links", str(WHEELS), *args]
    proc = subprocess.run(offline, check=False, capture_output=True, text=True, env=dict(env), cwd=cwd, timeout=900)
    if proc.returncode == 0:
        return
    wanted = [a for a in args if not a.startswith("-") and not Path(a).exists()]
    build = ["setuptools>=40.8"] if any(a == "-e" for a in args) else []
    run([str(python), *common, "download", "-d", str(WHEELS), *wanted, *build], env=env, cwd=cwd)
    run(offline, env=env, cwd=cwd)


def pip_list(python: Path, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> list[dict[str, str]]:
    out = run(
        [str(python), "-m", "pip", "--disable-pip-version-check", "list", "--format", "json"],
        env=env or clean_env(),
        cwd=cwd,
    )
    data = json.loads(out)
    assert isinstance(data, list)
    return data


def canon(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def pip_set(listing: list[dict[str, str]]) -> dict[str, str]:
    return {canon(d["name"]): d["version"] for d in listing}


def active_set(snap: Snapshot) -> dict[str, str]:
    """The snapshot's python packages that import: exactly one per name (shadowed copies are inactive)."""
    active = snap.active_packages("python")
    names = [p.name for p in active]
    assert len(names) == len(set(names)), f"a name is active twice: {sorted(n for n in names if names.count(n) > 1)}"
    return {p.name: p.version for p in active}


def write_local_project(dest: Path, name: str = "localproj", version: str = "0.3.1") -> Path:
    (dest / name.replace("-", "_")).mkdir(parents=True, exist_ok=True)
    (dest / name.replace("-", "_") / "__init__.py").write_text("VALUE = 1\n")
    (dest / "pyproject.toml").write_text(
        "[build-system]\n"
        'requires = ["setuptools>=40.8"]\n'
        'build-backend = "setuptools.build_meta"\n\n'
        "[project]\n"
        f'name = "{name}"\n'
        f'version = "{version}"\n'
    )
    return dest
