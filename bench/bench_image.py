"""Time `envcheck snapshot image` against `syft scan` on real image archives.

Two images, built once in the real-engine test bed and cached (the image by a
recipe label in a kept bed, the archive under ~/.cache/envcheck-test/bench-image):

* big   — the python stand-in + a venv with numpy, pandas and scipy (wheels
          fetched with ``pip download``) + node and an ``npm ci``'d
          node_modules (typescript, express, lodash, @types/node): >= 300 MB;
* small — the standard ``python-venv`` test image (~220 MB, mostly Debian).

Each command reads the same ``docker-archive:`` file; after one warm-up run
(page cache) the median wall time of ``--runs`` runs and the peak RSS of the
child (``wait4`` rusage) are printed side by side with the ratio.

    python bench/bench_image.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

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


def _measure(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one child run."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    return wall, int(usage.ru_maxrss)


def _bench(cmd: list[str], runs: int) -> tuple[float, int]:
    _measure(cmd)  # warm-up: page cache, pyc files
    results = [_measure(cmd) for _ in range(runs)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
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
    rows = []
    for name, archive in archives.items():
        ref = f"docker-archive:{archive}"
        ours = _bench([*envcheck, "snapshot", "image", ref, "-o", os.devnull], args.runs)
        theirs = _bench([syft, "scan", ref, "-o", "json", "-q"], args.runs)
        rows.append((name, archive.stat().st_size / 1e6, ours, theirs))
    print(f"\nmedian of {args.runs} runs after one warm-up; RSS = peak resident set of the child")
    header = (
        f"{'image':<6} {'MB':>6} | {'envcheck s':>10} {'syft s':>8} {'ratio':>6} | {'envcheck MB':>11} {'syft MB':>8}"
    )
    print(header)
    print("-" * len(header))
    for name, mb, (ot, orss), (st, srss) in rows:
        print(
            f"{name:<6} {mb:>6.0f} | {ot:>10.2f} {st:>8.2f} {st / ot:>5.1f}x | {orss / 1024:>11.0f} {srss / 1024:>8.0f}"
        )
    print("ratio = syft time / envcheck time (above 1: envcheck is faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
