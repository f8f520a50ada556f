"""Write a starting corpus for one fuzz target: real files, so libFuzzer mutates the valid shapes.

    python fuzz/seed.py TARGET CORPUS_DIR

Parser seeds come from ``../shared/corpus`` and ``fixtures/`` (each prefixed
with the byte that routes it to its parser in ``fuzz_envcheck.py``); image
seeds are synthetic layers and archives from the image tests' helpers.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from collections.abc import Iterator
from fnmatch import fnmatchcase
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = (REPO.parent / "shared" / "corpus", REPO / "fixtures", REPO / "tests")
MAX_SEED = 64 * 1024

# (target, dispatch byte, file-name patterns) — the indexes of fuzz_envcheck's tables.
ROUTES: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("python", 0, ("requirements*.txt", "*requirements.txt", "dev.txt", "tests.txt", "prod*.txt", "*.in")),
    ("python", 1, ("requirements*.txt",)),
    ("python", 2, ("pyproject.toml",)),
    ("python", 3, ("setup.cfg",)),
    ("python", 4, ("Pipfile",)),
    ("python", 5, ("Pipfile.lock",)),
    ("python", 6, ("poetry.lock",)),
    ("python", 7, ("uv.lock",)),
    ("python", 8, ("environment.yml", "environment.yaml")),
    ("node", 0, ("package.json",)),
    ("node", 1, ("package-lock.json", "npm-shrinkwrap.json")),
    ("node", 2, ("yarn.lock",)),
    ("node", 3, ("pnpm-lock.yaml",)),
    ("project", 0, ("Dockerfile", "Dockerfile.*", "*.Dockerfile")),
    ("project", 1, (".env.example", ".env.sample", ".env.template")),
    ("project", 2, ("docker-compose*.yml", "compose*.yml", "docker-compose*.yaml")),
    ("project", 3, ("settings.py", "config.py", "app.py", "main.py", "conftest.py")),
    ("project", 4, ("*.js", "*.mjs")),
    ("project", 5, ("*.ts",)),
    ("project", 6, (".python-version",)),
    ("project", 7, ("runtime.txt",)),
    ("project", 8, (".tool-versions",)),
    ("project", 9, (".nvmrc", ".node-version")),
)


def _files() -> Iterator[Path]:
    for base in SOURCES:
        if base.is_dir():
            yield from (p for p in sorted(base.rglob("*")) if p.is_file() and "node_modules" not in p.parts)


def parser_seeds(target: str) -> Iterator[bytes]:
    for path in _files():
        for t, byte, patterns in ROUTES:
            if t == target and any(fnmatchcase(path.name, pat) for pat in patterns):
                data = path.read_bytes()
                if len(data) <= MAX_SEED:
                    yield bytes([byte]) + data


def image_seeds(target: str) -> Iterator[bytes]:
    sys.path.insert(0, str(REPO / "tests" / "image"))
    from image_testutil import (  # type: ignore[import-not-found,unused-ignore]
        Hard,
        Link,
        docker_archive,
        gz,
        layer_tar,
        metadata,
        standard_config,
        standard_layers,
        tar_directory,
        write_oci_layout,
    )

    layers = [layer_tar(layer) for layer in standard_layers()]
    tricky = layer_tar(
        {
            "usr/lib/python3/dist-packages/a-1.dist-info/METADATA": metadata("a", "1"),
            "etc/os-release": Link("/usr/lib/os-release"),
            "loop": Link("loop"),
            "h": Hard("usr/lib/python3/dist-packages/a-1.dist-info/METADATA"),
        }
    )
    if target == "layer":
        for layer in [*layers, tricky]:
            yield layer
            yield gz(layer)
        return
    cfg = standard_config(layers)
    yield docker_archive(layers[:2], cfg | {"rootfs": {"type": "layers", "diff_ids": []}})
    yield docker_archive([tricky], {"architecture": "amd64", "os": "linux", "config": {}})
    with tempfile.TemporaryDirectory() as tmp:
        layout = write_oci_layout(Path(tmp) / "oci", {"linux/amd64": ([tricky], {"os": "linux", "config": {}})})
        yield tar_directory(layout)


def snapshot_seeds() -> Iterator[bytes]:
    from envcheck.scanners.project import scan_project

    for fixture in sorted((REPO / "fixtures").iterdir()):
        if fixture.is_dir():
            try:
                yield scan_project(fixture).to_json().encode()
            except Exception:  # a seed is optional; the fuzzer reports real problems
                continue
    yield json.dumps({"schema": "envcheck.snapshot/1", "source": {"kind": "host", "ref": "x"}}).encode()


def sbom_seeds() -> Iterator[bytes]:
    """envcheck's own CycloneDX and SPDX of each fixture's snapshot, and a small syft JSON."""
    from envcheck.sbom import render

    for snap in snapshot_seeds():
        from envcheck.snapshot import Snapshot

        for fmt in ("cyclonedx", "spdx"):
            yield render(Snapshot.from_json(snap.decode()), fmt).encode()
    artifact = {"type": "npm", "name": "ms", "version": "2.1.3", "purl": "pkg:npm/ms@2.1.3"}
    yield json.dumps(
        {"artifacts": [artifact], "descriptor": {"name": "syft"}, "schema": {"version": "16.0.18"}}
    ).encode()


def main(argv: list[str]) -> None:
    if len(argv) != 3:
        sys.exit(f"usage: {argv[0]} TARGET CORPUS_DIR")
    target, out = argv[1], Path(argv[2])
    out.mkdir(parents=True, exist_ok=True)
    if target in ("python", "node", "project"):
        seeds = list(parser_seeds(target))
    elif target in ("layer", "archive"):
        seeds = list(image_seeds(target))
    elif target == "snapshot":
        seeds = list(snapshot_seeds())
    elif target == "sbom":
        seeds = list(sbom_seeds())
    else:
        sys.exit(f"unknown target {target}")
    for seed in seeds:
        (out / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
    print(f"{target}: {len(seeds)} seeds in {out}")


if __name__ == "__main__":
    main(sys.argv)
