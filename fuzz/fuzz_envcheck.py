"""atheris (libFuzzer) harnesses for everything envcheck reads from strangers.

    python fuzz/fuzz_envcheck.py TARGET [CORPUS_DIR] [libFuzzer flags]

TARGET is one of :data:`TARGETS`.  The one contract checked: whatever the
input, the code under test returns or raises :class:`EnvcheckError`; any other
exception is a crash (atheris prints it and saves the input as
``crash-<sha1>``).  Time and memory bounds come from libFuzzer's
``-timeout`` (seconds per input) and ``-rss_limit_mb``; ``run.sh`` sets them.

The parser targets group several parsers each and pick one with the input's
first byte, so one five-minute run covers every parser in the group.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import atheris

with atheris.instrument_imports(include=["envcheck"]):
    from envcheck.errors import EnvcheckError
    from envcheck.parsers import (
        conda_env,
        dockerfile,
        env_refs,
        package_json,
        package_lock,
        pipfile,
        pipfile_lock,
        pnpm_lock,
        poetry_lock,
        pyproject,
        requirements,
        setup_cfg,
        uv_lock,
        version_files,
        yarn_lock,
    )

    # Imported lazily by envcheck itself; imported here so they are instrumented.
    from envcheck.sbom import cyclonedx, mapping, read, spdx, syft  # noqa: F401
    from envcheck.scanners.image.detectors import detect
    from envcheck.scanners.image.sources import load_archive_stream
    from envcheck.scanners.image.walker import MergedView, walk_layer
    from envcheck.snapshot import Snapshot
    from envcheck.stored import load_stored

# A scratch directory on tmpfs where it exists: file-based parsers (includes,
# name-dispatched formats) need a real file, written once per input.
_SCRATCH = Path(tempfile.mkdtemp(prefix="envcheck-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _file(name: str, data: bytes) -> tuple[Path, Path]:
    path = _SCRATCH / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path, _SCRATCH


def _requirements_file(data: bytes) -> Any:
    # The fuzzed text may `-r` these siblings (and itself): include depth,
    # cycles and containment are all reachable.
    _file("base.txt", b"-r requirements.txt\nrequests==2.31.0\n")
    _file("sub/dev.txt", b"-r ../base.txt\n-c ../requirements.txt\n")
    path, root = _file("requirements.txt", data)
    return requirements.parse(path, root)


PYTHON: tuple[Callable[[bytes], Any], ...] = (
    lambda d: requirements.parse_text(_text(d)),
    _requirements_file,
    lambda d: pyproject.parse_text(_text(d)),
    lambda d: setup_cfg.parse_text(_text(d)),
    lambda d: pipfile.parse_text(_text(d)),
    lambda d: pipfile_lock.parse_text(_text(d)),
    lambda d: poetry_lock.parse_text(_text(d)),
    lambda d: uv_lock.parse_text(_text(d)),
    lambda d: conda_env.parse_text(_text(d)),
)

NODE: tuple[Callable[[bytes], Any], ...] = (
    lambda d: package_json.parse_text(_text(d), "package.json"),
    lambda d: package_lock.parse_text(_text(d), "package-lock.json"),
    lambda d: yarn_lock.parse_text(_text(d), "yarn.lock"),
    lambda d: pnpm_lock.parse_text(_text(d), "pnpm-lock.yaml"),
)

PROJECT: tuple[Callable[[bytes], Any], ...] = (
    lambda d: dockerfile.parse_text(_text(d), "Dockerfile"),
    lambda d: env_refs.parse(*_file(".env.example", d)),
    lambda d: env_refs.parse(*_file("docker-compose.yml", d)),
    lambda d: env_refs.parse(*_file("settings.py", d)),
    lambda d: env_refs.parse(*_file("server.js", d)),
    lambda d: env_refs.parse(*_file("app.ts", d)),
    lambda d: version_files.parse(*_file(".python-version", d)),
    lambda d: version_files.parse(*_file("runtime.txt", d)),
    lambda d: version_files.parse(*_file(".tool-versions", d)),
    lambda d: version_files.parse(*_file(".nvmrc", d)),
)


def _dispatch(group: tuple[Callable[[bytes], Any], ...]) -> Callable[[bytes], Any]:
    def run(data: bytes) -> Any:
        if not data:
            return None
        return group[data[0] % len(group)](data[1:])

    return run


def _layer(data: bytes) -> Any:
    index = walk_layer(io.BytesIO(data), "fuzz")
    view = MergedView([index])
    # Resolve every kept path, so symlink chains and loops are exercised too.
    for path in list(view.entries)[:64]:
        view.lookup(path)
    return detect(view, {})


def _sbom(data: bytes) -> Any:
    # Through the file path a user's SBOM takes: size cap, JSON, format detection, reader, mapping.
    path, _ = _file("sbom.json", data)
    return load_stored(f"sbom:{path}")


def _archive(data: bytes) -> Any:
    loaded = load_archive_stream(io.BytesIO(data), "fuzz.tar", None)
    return detect(MergedView(loaded.layers), loaded.config)


TARGETS: dict[str, Callable[[bytes], Any]] = {
    "python": _dispatch(PYTHON),
    "node": _dispatch(NODE),
    "project": _dispatch(PROJECT),
    "snapshot": lambda d: Snapshot.from_json(_text(d)),
    "sbom": _sbom,
    "layer": _layer,
    "archive": _archive,
}

# How many parsers each target covers (the README and the closing note cite it).
GROUPS = {"python": len(PYTHON), "node": len(NODE), "project": len(PROJECT)}


def one_input(target: Callable[[bytes], Any]) -> Callable[[bytes], None]:
    def test(data: bytes) -> None:
        try:
            target(data)
        except EnvcheckError:
            pass  # the one exception a user may see

    return test


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[1] not in TARGETS:
        sys.exit(f"usage: {argv[0]} {{{','.join(TARGETS)}}} [CORPUS_DIR] [libFuzzer flags]")
    target = TARGETS[argv[1]]
    atheris.Setup([argv[0], *argv[2:]], one_input(target))
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
