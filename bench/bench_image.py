"""Time `envcheck snapshot image` against `syft scan` on real image archives.

Two images, built once in the real-engine test bed and cached (the image by a
recipe label in a kept bed, the archive under ~/.cache/envcheck-test/bench-image):

* big   — the python stand-in + a venv with numpy, pandas and scipy (wheels
          fetched with ``pip download``) + node and an ``npm ci``'d
          node_modules (typescript, express, lodash, @types/node): >= 300 MB;
* small — the standard ``python-venv`` test image (~220 MB, mostly Debian).

Each command reads the same ``docker-archive:`` file; after one warm-up round
(page cache) the commands run interleaved ``--runs`` times (envcheck, syft,
``cat``, a sha256 of the file, envcheck, syft, …) and the median wall time
and the peak RSS of each child (``wait4`` rusage) are printed side by side:
envcheck against syft, and against the floor any reader of the archive pays
— reading it (``cat``) plus hashing it (issue 15: within 2x of that floor,
10x faster than syft).  ``--envcheck-src DIR`` also times the envcheck of
another checkout (e.g. a ``git worktree`` of the commit before a change).

    python bench/bench_image.py [--runs 5] [--envcheck-src DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _floor
import testbed

BENCH = testbed.CACHE_DIR / "bench-image"
BIG_TAG = "envcheck-test/bench-big:1"
BIG_WHEELS = ("numpy==1.26.4", "pandas==2.2.2", "scipy==1.13.1")
BIG_NODE = {
    "name": "envcheck-bench-image",
    "version": "1.0.0",
    "private": True,
    "dependencies": {"express": "4.19.2", "lodash": "4.17.21", "typescript": "5.4.5", "@types/node": "20.12.7"},
}

BIG_DOCKERFILE = """\
FROM {node} AS node
FROM {python}
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
COPY wheels /tmp/wheels
RUN python3 -m venv /opt/venv \\
 && /opt/venv/bin/pip install --no-index --no-cache-dir --find-links /tmp/wheels {wheels} \\
 && rm -rf /tmp/wheels
WORKDIR /app
COPY ca-bundle.crt package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --cafile ./ca-bundle.crt --cache /tmp/npm-cache \\
 && rm -rf /tmp/npm-cache ./ca-bundle.crt
ENV PATH=/opt/venv/bin:{path}
"""


def _download_wheels() -> Path:
    dest = BENCH / "wheels"
    marker = dest / ".complete"
    if not marker.exists():
        dest.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "-d", str(dest), *BIG_WHEELS],
            check=True,
            stdin=subprocess.DEVNULL,
        )
        marker.touch()
    return dest


def _build_big(client: Any) -> str:
    py, node = testbed.ensure_standins(client)
    ctx = Path(tempfile.mkdtemp(prefix="bench-big-", dir=BENCH))
    try:
        shutil.copytree(_download_wheels(), ctx / "wheels", ignore=shutil.ignore_patterns(".complete"))
        (ctx / "package.json").write_text(json.dumps(BIG_NODE, indent=2) + "\n")
        shutil.copy2(testbed.npm_lock(BIG_NODE), ctx / "package-lock.json")
        shutil.copy2(testbed.CA_BUNDLE, ctx / "ca-bundle.crt")
        dockerfile = BIG_DOCKERFILE.format(
            node=node, python=py, wheels=" ".join(BIG_WHEELS), path=testbed.PYTHON_IMAGE_PATH
        )
        (ctx / "Dockerfile").write_text(dockerfile)
        recipe = testbed._recipe_hash(
            dockerfile, (ctx / "package-lock.json").read_text(), client.images.get(py).id, client.images.get(node).id
        )
        return testbed.build(client, ctx, BIG_TAG, recipe=recipe)
    finally:
        shutil.rmtree(ctx, ignore_errors=True)


def _archive(client: Any, tag: str, image_id: str) -> Path:
    stem = tag.rsplit("/", maxsplit=1)[-1].replace(":", "_")
    path = BENCH / f"{stem}-{image_id.rsplit(':', maxsplit=1)[-1][:12]}.tar"
    if not path.exists():
        for old in BENCH.glob(f"{stem}-*.tar"):
            old.unlink()
        testbed.save(client, tag, path)
    return path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--envcheck-src", metavar="DIR", help="also time envcheck imported from this checkout")
    args = parser.parse_args(argv)
    BENCH.mkdir(parents=True, exist_ok=True)
    syft = shutil.which("syft")
    if not syft:
        raise SystemExit("syft not found (pip install -e '.[test]')")
    eng = testbed.start()
    try:
        client = eng.client()
        small = testbed.build_python_venv(client)
        archives = {
            "big": _archive(client, BIG_TAG, _build_big(client)),
            "small": _archive(client, small.tag, small.image_id),
        }
    finally:
        testbed.stop(eng)
    envcheck = [sys.executable, "-m", "envcheck"]
    _floor.compile_bytecode()
    if args.envcheck_src:
        _floor.compile_bytecode(Path(args.envcheck_src).resolve())
    print(f"before: {_floor.load()}")
    rows = []
    for name, archive in archives.items():
        ref = f"docker-archive:{archive}"
        commands: dict[str, tuple[list[str], dict[str, str] | None]] = {
            "envcheck": ([*envcheck, "snapshot", "image", ref, "-o", os.devnull], None),
            "syft": ([syft, "scan", ref, "-o", "json", "-q"], None),
        }
        if args.envcheck_src:
            env = dict(os.environ, PYTHONPATH=str(Path(args.envcheck_src).resolve()))
            commands["envcheck (--envcheck-src)"] = (commands["envcheck"][0], env)
        commands.update(_floor.archive_floor(archive))
        rows.append((name, archive, _floor.paired(commands, args.runs)))
    print(f"after: {_floor.load()}")
    print(f"\nmedian of {args.runs} interleaved runs after one warm-up; RSS = peak resident set of the child")
    print("floor = cat + sha256 of the archive (read every byte, hash every byte: what verifying it costs)\n")
    for name, archive, figs in rows:
        ours = figs["envcheck"].seconds
        floor = figs["floor: cat"].seconds + figs["floor: sha256"].seconds
        print(f"{name}: {archive.name} ({archive.stat().st_size / 1e6:.0f} MB)")
        for label, fig in figs.items():
            print(f"  {label:<28} {fig.seconds:7.2f} s  {fig.cpu:7.2f} s CPU  {fig.rss_mib:7.0f} MiB")
        print(f"  {'floor (cat + sha256)':<28} {floor:7.2f} s")
        print(f"  syft / envcheck     {figs['syft'].seconds / ours:6.1f}x   (issue 15 asks >= 10x)")
        print(f"  envcheck / floor    {ours / floor:6.2f}x   (issue 15 asks <= 2x)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
