"""Shared by the SBOM tests: a realistic image snapshot, the official schemas, syft."""

from __future__ import annotations

import json
import os
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import referencing
from referencing.jsonschema import DRAFT7

from envcheck.snapshot import EnvVar, Package, Platform, Runtime, Snapshot, Source

DATA = Path(__file__).parent.parent / "data"
CDX_SCHEMAS = ("bom-1.6.SNAPSHOT.schema.json", "spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json")


def image_snapshot() -> Snapshot:
    """An image with a venv (active), Debian's site (not active), node_modules with a scope and a nested copy."""
    venv = "/opt/venv/lib/python3.11/site-packages"
    debian = "/usr/lib/python3/dist-packages"
    return Snapshot(
        source=Source(kind="image", ref="docker:shop/api:1.4", captured_at="2026-01-02T03:04:05Z"),
        platform=Platform(os="linux", arch="x86_64", distro="debian 12", libc="glibc 2.36"),
        runtimes={
            "python": Runtime(version="3.11.2", implementation="cpython", path="/usr/bin/python3.11"),
            "node": Runtime(version="20.20.2", path="/usr/local/bin/node"),
            "npm": Runtime(version="11.19.1"),
        },
        packages={
            "python": (
                Package("requests", "2.28.2", f"{venv}/requests-2.28.2.dist-info"),
                Package("charset-normalizer", "3.1.0", f"{venv}/charset_normalizer-3.1.0.dist-info"),
                Package("pip", "23.0.1", f"{debian}/pip-23.0.1.dist-info", active=False),
                Package("myapp", "0.1.0", f"{venv}/myapp-0.1.0.dist-info", editable=True),
            ),
            "node": (
                Package("@types/node", "20.1.0", "node_modules/@types/node"),
                Package("ms", "2.1.3", "node_modules/ms"),
                Package("ms", "2.0.0", "node_modules/debug/node_modules/ms"),
                Package("npm", "11.19.1", "/usr/local/lib/node_modules/npm", active=False),
            ),
        },
        env={
            "APP_ENV": EnvVar(set=True, value="production"),
            "DATABASE_URL": EnvVar(set=True),
            "PATH": EnvVar(set=True, value="/opt/venv/bin:/usr/bin"),
        },
        image={"user": "app", "workdir": "/app", "digest": "sha256:" + "ab" * 32, "secret_env": ["API_TOKEN"]},
        notes=("python: patch level of /usr/bin/python3.11 unknown from static reading; --probe asks the interpreter",),
    )


@cache
def cyclonedx_validator() -> jsonschema.Draft7Validator:
    schemas = {name: json.loads((DATA / name).read_text(encoding="utf-8")) for name in CDX_SCHEMAS}
    # The bom schema refers to its companions by file name; register them under that name and their $id.
    resources = [(name, DRAFT7.create_resource(s)) for name, s in schemas.items()]
    resources += [(s["$id"], DRAFT7.create_resource(s)) for s in schemas.values()]
    registry: referencing.Registry[Any] = referencing.Registry().with_resources(resources)
    return jsonschema.Draft7Validator(
        schemas[CDX_SCHEMAS[0]], registry=registry, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


@cache
def spdx_validator() -> jsonschema.Draft7Validator:
    schema = json.loads((DATA / "spdx-schema-2.3.json").read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def schema_errors(validator: jsonschema.Draft7Validator, doc: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(doc)][:10]


def syft_run(syft_bin: str, *args: str) -> str:
    """``syft ARGS -q`` (the binary from the ``syft_bin`` fixture); its stdout."""
    proc = subprocess.run(
        [syft_bin, *args, "-q"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={"SYFT_CHECK_FOR_APP_UPDATE": "false", "PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp")},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def syft_packages(syft_json: str) -> dict[str, set[tuple[str, str]]]:
    """syft's python and npm artifacts as (name, version), from its own JSON."""
    from packaging.utils import canonicalize_name

    out: dict[str, set[tuple[str, str]]] = {"python": set(), "npm": set()}
    for a in json.loads(syft_json)["artifacts"]:
        if a["type"] in out:
            name = str(canonicalize_name(a["name"])) if a["type"] == "python" else a["name"]
            out[a["type"]].add((name, a["version"]))
    return out


def inventory(snap: Snapshot, eco: str, workdir: str = "/app") -> set[tuple[str, str, str]]:
    """(name, version, absolute path): the image scanner writes the project's node_modules relative to WORKDIR."""
    out = set()
    for p in snap.packages.get(eco, ()):
        path = p.path or ""
        out.add((p.name, p.version, path if path.startswith("/") else f"{workdir.rstrip('/')}/{path}"))
    return out
