"""Time `envcheck snapshot host` against `uv pip list`, `pip list` and `npm ls`, beside the floor.

Two projects are built once and cached under ~/.cache/envcheck-test/bench-host:
``small`` — the size of issue 15's anchor, a venv of ~40 distributions from a
short real requirements set (flask, requests, rich, pytest, ...), no node — and
``proj`` — a venv with >= 150 distributions from a real requirements set and a
node_modules with >= 800 packages from a real package.json.

Tables, each from paired, interleaved rounds (bench/_timing.py), medians:

1. python only (issue 15), once for each project: `snapshot host --no-node`
   with the caches warm and with them off (ENVCHECK_NO_CACHE=1: the probe
   started and every RECORD and extension read, every run), beside `uv pip
   list --format json` (the anchor: within 3x), `pip list --format json` and
   `python -c pass` (the floor: envcheck's own start-up).
2. python and node (issue 3), the big project: the whole host snapshot beside
   pip list + npm ls.

    python bench/bench_host.py [--runs 7] [--project DIR]

``--project DIR`` times table 1 on any directory with a ``.venv`` instead
and skips the builds and table 2.
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

from _timing import beside_python, load, paired, table, with_bytecode

CACHE = Path.home() / ".cache" / "envcheck-test"
WHEELS = CACHE / "wheels"
PROJECT = CACHE / "bench-host" / "proj"
SMALL = CACHE / "bench-host" / "small"

# Issue 15's anchor is a 39-package venv: a typical small web app's set.
SMALL_REQUIREMENTS = """\
flask==3.1.0
requests==2.32.3
rich==13.9.4
pytest==8.3.4
httpx==0.28.1
pydantic==2.14.4
sqlalchemy==2.0.36
alembic==1.14.0
python-dotenv==1.2.4
pyyaml==6.0.4
attrs==24.2.0
python-dateutil==2.9.0.post0
"""

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


def _venv(project: Path, requirements: str) -> None:
    """``project/.venv`` with ``requirements`` installed, from the wheel cache when it has them."""
    project.mkdir(parents=True, exist_ok=True)
    WHEELS.mkdir(parents=True, exist_ok=True)
    (project / "requirements.txt").write_text(requirements)
    venv_py = project / ".venv" / "bin" / "python"
    if not venv_py.exists():
        _check([sys.executable, "-m", "venv", str(project / ".venv")], project)
    offline = [str(venv_py), "-m", "pip", "install", "-q", "--no-index", "--find-links", str(WHEELS), "-r"]
    if subprocess.run([*offline, "requirements.txt"], cwd=project, env=_env(), check=False).returncode != 0:
        _check([str(venv_py), "-m", "pip", "download", "-q", "-d", str(WHEELS), "-r", "requirements.txt"], project)
        _check([*offline, "requirements.txt"], project)


def build_small() -> None:
    stamp = SMALL / ".bench-stamp"
    if stamp.is_file() and stamp.read_text() == SMALL_REQUIREMENTS:
        return
    _venv(SMALL, SMALL_REQUIREMENTS)
    stamp.write_text(SMALL_REQUIREMENTS)


def build() -> None:
    manifest = json.dumps(PACKAGE_JSON, indent=2) + "\n"
    stamp = PROJECT / ".bench-stamp"
    wanted = REQUIREMENTS + manifest
    if stamp.is_file() and stamp.read_text() == wanted:
        return
    _venv(PROJECT, REQUIREMENTS)
    (PROJECT / "package.json").write_text(manifest)
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


def python_only(project: Path, runs: int) -> bool:
    """Table 1; True when the cached snapshot is within 3x of `uv pip list`."""
    venv_py = str(project / ".venv" / "bin" / "python")
    envcheck = beside_python("envcheck") or shutil.which("envcheck") or "envcheck"
    uv = beside_python("uv") or shutil.which("uv")
    with tempfile.TemporaryDirectory(prefix="envcheck-bench-cache-") as cache:
        env = with_bytecode({**_env(), "XDG_CACHE_HOME": cache})
        snapshot = [envcheck, "snapshot", "host", "--no-node", "."]
        commands: list[tuple[str, list[str]]] = [
            ("envcheck (cache warm)", snapshot),
            ("envcheck (ENVCHECK_NO_CACHE=1)", snapshot),
        ]
        if uv:
            commands.append(("uv pip list", [uv, "pip", "list", "--format", "json", "--python", venv_py]))
        commands += [
            ("pip list", [venv_py, "-m", "pip", "list", "--format", "json"]),
            ("python -c pass", [sys.executable, "-c", "pass"]),
        ]
        off = {**env, "ENVCHECK_NO_CACHE": "1"}
        rows = paired(commands, runs=runs, cwd=project, env=env, envs={"envcheck (ENVCHECK_NO_CACHE=1)": off})
        same = subprocess.run(snapshot, cwd=project, env=env, capture_output=True, check=False).stdout
        fresh = subprocess.run(snapshot, cwd=project, env=off, capture_output=True, check=False).stdout
    n = len(json.loads(same)["packages"].get("python", []))
    print(f"python only: {project} ({n} python distributions), {load()}")
    print(f"median of {runs} paired rounds after one warm-up round\n")
    print(table(rows, anchor="uv pip list" if uv else "pip list", floor="python -c pass"))
    strip = [json.dumps({**json.loads(x), "source": None}, sort_keys=True) for x in (same, fresh)]
    print(f"\nsnapshot with the cache warm == without it (captured_at aside): {strip[0] == strip[1]}")
    if not uv:
        print("uv: not installed (pip install uv; it is in the test extra)")
        return False
    ratio = rows[0].median / rows[2].median
    print(
        f"envcheck (cache warm) / uv pip list = {ratio:.2f} -> target (within 3x): {'met' if ratio <= 3 else 'NOT met'}"
    )
    return ratio <= 3 and strip[0] == strip[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--project", type=Path, help="time table 1 only, on this directory's .venv")
    args = parser.parse_args()
    if args.project:
        return 0 if python_only(args.project.resolve(), args.runs) else 1
    build_small()
    build()
    fast_small = python_only(SMALL, args.runs)
    print()
    fast = python_only(PROJECT, args.runs) and fast_small
    print()

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
    return 0 if ok and fast else 1


if __name__ == "__main__":
    sys.exit(main())
