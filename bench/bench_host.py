"""Time `envcheck snapshot host` against `pip list --format json` and `npm ls --all --json`.

The project is built once and cached under ~/.cache/envcheck-test/bench-host:
a venv with >= 150 distributions from a real requirements set and a
node_modules with >= 800 packages from a real package.json.  Each command runs
a few times (after one warm-up) and the median wall time is reported, side by
side, with ratios.  The target (issue 3): envcheck faster than `pip list` alone.

    python bench/bench_host.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

CACHE = Path.home() / ".cache" / "envcheck-test"
WHEELS = CACHE / "wheels"
PROJECT = CACHE / "bench-host" / "proj"

REQUIREMENTS = """\
jupyterlab==4.3.4
sphinx==8.1.3
flask==3.1.0
django==5.1.4
boto3==1.35.90
requests[socks]==2.32.3
pytest==8.3.4
mypy==1.14.1
black==24.10.0
sqlalchemy==2.0.36
celery==5.4.0
fastapi==0.115.6
uvicorn[standard]==0.34.0
httpx==0.28.1
pydantic-settings==2.7.1
rich==13.9.4
tox==4.23.2
pre-commit==4.0.1
alembic==1.14.0
"""

PACKAGE_JSON = {
    "name": "envcheck-bench-host",
    "version": "1.0.0",
    "private": True,
    "dependencies": {"express": "4.21.2", "lodash": "4.17.21"},
    "devDependencies": {
        "jest": "29.7.0",
        "webpack": "5.97.1",
        "webpack-cli": "5.1.4",
        "eslint": "8.57.1",
        "@babel/core": "7.26.0",
        "@babel/preset-env": "7.26.0",
        "typescript": "5.7.2",
        "mocha": "10.8.2",
        "gulp": "4.0.2",
        "browser-sync": "3.0.3",
        "karma": "6.4.4",
        "nodemon": "3.1.9",
        "serverless": "3.39.0",
        "@nestjs/cli": "10.4.9",
    },
}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_")) and k != "VIRTUAL_ENV"}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _check(argv: list[str], cwd: Path) -> None:
    proc = subprocess.run(argv, cwd=cwd, env=_env(), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(argv[:4])} failed:\n{proc.stderr[-3000:]}")


def build() -> None:
    PROJECT.mkdir(parents=True, exist_ok=True)
    WHEELS.mkdir(parents=True, exist_ok=True)
    (PROJECT / "requirements.txt").write_text(REQUIREMENTS)
    manifest = json.dumps(PACKAGE_JSON, indent=2) + "\n"
    stamp = PROJECT / ".bench-stamp"
    wanted = REQUIREMENTS + manifest
    if stamp.is_file() and stamp.read_text() == wanted:
        return
    (PROJECT / "package.json").write_text(manifest)
    venv_py = PROJECT / ".venv" / "bin" / "python"
    if not venv_py.exists():
        _check([sys.executable, "-m", "venv", str(PROJECT / ".venv")], PROJECT)
    offline = [str(venv_py), "-m", "pip", "install", "-q", "--no-index", "--find-links", str(WHEELS), "-r"]
    if subprocess.run([*offline, "requirements.txt"], cwd=PROJECT, env=_env(), check=False).returncode != 0:
        _check([str(venv_py), "-m", "pip", "download", "-q", "-d", str(WHEELS), "-r", "requirements.txt"], PROJECT)
        _check([*offline, "requirements.txt"], PROJECT)
    _check(["npm", "install", "--no-audit", "--no-fund"], PROJECT)
    stamp.write_text(wanted)


def _envcheck_argv() -> tuple[list[str], str]:
    """The real CLI when it starts; the snapshot command alone while sibling commands are missing."""
    probe = subprocess.run(
        [sys.executable, "-m", "envcheck", "snapshot", "host", "--help"],
        capture_output=True,
        env=_env(),
        check=False,
    )
    if probe.returncode == 0:
        return [sys.executable, "-m", "envcheck", "snapshot", "host", "."], "envcheck snapshot host"
    driver = (
        "import argparse,sys;from envcheck.commands import snapshot as s;"
        "p=argparse.ArgumentParser();s.register(p.add_subparsers());"
        "a=p.parse_args(sys.argv[1:]);sys.exit(a.func(a))"
    )
    return [sys.executable, "-c", driver, "snapshot", "host", "."], "envcheck snapshot host (command module direct)"


def _time(argv: list[str], runs: int) -> tuple[float, str]:
    out = ""
    samples: list[float] = []
    for i in range(runs + 1):
        start = time.perf_counter()
        proc = subprocess.run(argv, cwd=PROJECT, env=_env(), capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
        if i == 0:
            out = proc.stdout  # warm-up run: page cache, pyc files
            continue
        samples.append(elapsed)
    return statistics.median(samples), out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    build()

    venv_py = str(PROJECT / ".venv" / "bin" / "python")
    ec_argv, ec_label = _envcheck_argv()
    t_ec, ec_out = _time(ec_argv, args.runs)
    t_pip, pip_out = _time([venv_py, "-m", "pip", "list", "--format", "json"], args.runs)
    t_npm, npm_out = _time(["npm", "ls", "--all", "--json"], args.runs)

    snap = json.loads(ec_out)
    n_py = len([p for p in snap["packages"].get("python", []) if p.get("active", True)])
    n_node = len(snap["packages"].get("node", []))
    n_pip = len(json.loads(pip_out))
    pairs: set[tuple[str, str]] = set()

    def visit(deps: dict[str, dict[str, object]]) -> None:
        for name, node in deps.items():
            if isinstance(node, dict) and "version" in node and not node.get("missing"):
                pairs.add((name, str(node["version"])))
                visit(node.get("dependencies", {}))  # type: ignore[arg-type]

    visit(json.loads(npm_out).get("dependencies", {}))

    from packaging.utils import canonicalize_name

    pip_pairs = {(canonicalize_name(d["name"]), d["version"]) for d in json.loads(pip_out)}
    ec_py = {(p["name"], p["version"]) for p in snap["packages"].get("python", []) if p.get("active", True)}
    ec_node = {(p["name"], p["version"]) for p in snap["packages"].get("node", [])}
    print(f"project: {PROJECT}")
    print(f"package sets agree: python with pip list {ec_py == pip_pairs}, node with npm ls {ec_node == pairs}")
    print(f"python packages: envcheck {n_py}, pip list {n_pip}")
    print(f"node packages:   envcheck {n_node} installed copies, {len(pairs)} distinct name@version (npm ls)")
    print(f"median of {args.runs} runs after one warm-up\n")
    rows = [
        (ec_label, t_ec),
        ("pip list --format json", t_pip),
        ("npm ls --all --json", t_npm),
        ("pip list + npm ls", t_pip + t_npm),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'command':<{width}}  {'seconds':>8}  {'x envcheck':>10}")
    for label, t in rows:
        print(f"{label:<{width}}  {t:8.3f}  {t / t_ec:10.2f}")
    ok = t_ec < t_pip
    print(
        f"\nenvcheck / pip list = {t_ec / t_pip:.2f} -> target (faster than pip list alone): {'met' if ok else 'NOT met'}"
    )
    if n_py < 150 or n_node < 800:
        print("bench: the project is smaller than the issue asks (150 python, 800 node packages)")
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
