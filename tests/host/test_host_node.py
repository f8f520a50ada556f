"""node_modules as npm really lays it out, read without npm, against `npm ls --all --json`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from envcheck.scanners.host import scan_host
from envcheck.scanners.node_modules import dedupe_like_npm_ls, walk_node_modules

PACKAGE_JSON = {
    "name": "envcheck-node-fixture",
    "version": "1.0.0",
    "private": True,
    "workspaces": ["packages/*"],
    # debug@4 at the top forces express's debug@2 (and its ms@2.0.0) into nested copies.
    # An npm alias is reported under the name it is required by, as npm ls does.
    "dependencies": {
        "express": "4.21.2",
        "debug": "4.3.7",
        "@types/node": "20.17.10",
        "ms-alias": "npm:ms@2.1.1",
    },
}
WORKSPACE = {"name": "ws-a", "version": "0.2.0", "dependencies": {"ms": "2.1.2"}}


def _npm_ls_pairs(tree: dict[str, Any]) -> set[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()

    def visit(deps: dict[str, Any]) -> None:
        for name, node in deps.items():
            if not isinstance(node, dict) or node.get("missing") or "version" not in node:
                continue
            pairs.add((name, node["version"]))
            visit(node.get("dependencies", {}))

    visit(tree.get("dependencies", {}))
    return pairs


@pytest.fixture(scope="module")
def npm_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    npm = shutil.which("npm")
    assert npm is not None, "npm is required for the node tests"
    root = tmp_path_factory.mktemp("npmproj")
    (root / "package.json").write_text(json.dumps(PACKAGE_JSON))
    ws = root / "packages" / "ws-a"
    ws.mkdir(parents=True)
    (ws / "package.json").write_text(json.dumps(WORKSPACE))
    proc = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefer-offline"],
        check=False,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return root


@pytest.mark.network
def test_package_set_equals_npm_ls(npm_project: Path) -> None:
    snap = scan_host(npm_project, python=None, node=True, env_names=(), environ={"PATH": "/usr/bin:/bin"})
    proc = subprocess.run(
        ["npm", "ls", "--all", "--json"], cwd=npm_project, check=False, capture_output=True, text=True, timeout=120
    )
    expected = _npm_ls_pairs(json.loads(proc.stdout))
    got = {(p.name, p.version) for p in snap.packages["node"]}
    assert got == expected
    assert ("@types/node", "20.17.10") in got  # scoped
    assert ("ws-a", "0.2.0") in got  # workspace link
    assert ("ms-alias", "2.1.1") in got  # npm alias


@pytest.mark.network
def test_nested_copies_have_their_own_paths(npm_project: Path) -> None:
    tree = walk_node_modules(npm_project)
    debug = {p.path: p.version for p in tree.packages if p.name == "debug"}
    assert debug["node_modules/debug"] == "4.3.7"
    assert any(path.endswith("/node_modules/debug") and v.startswith("2.") for path, v in debug.items())
    # npm's own record of what it installed where (the hidden lock file) agrees path by path.
    hidden = json.loads((npm_project / "node_modules" / ".package-lock.json").read_text())
    packages = hidden["packages"]
    # A workspace's own dependencies sit under its real folder (packages/ws-a/…);
    # we report them at the path node resolves them through (node_modules/ws-a/…).
    links = {meta["resolved"]: path for path, meta in packages.items() if meta.get("link")}
    expected = set()
    for path, meta in packages.items():
        if meta.get("link") or "version" not in meta:
            continue
        for real, logical in links.items():
            if path.startswith(real + "/"):
                path = logical + path[len(real) :]
        if path.startswith("node_modules/"):
            expected.add((path, meta["version"]))
    got = {(p.path, p.version) for p in tree.packages if not p.link}
    assert got == expected
    assert dedupe_like_npm_ls(tree.packages) >= {("ms", "2.0.0"), ("ms", "2.1.3")}


@pytest.mark.network
def test_runtimes_node_and_npm(npm_project: Path) -> None:
    snap = scan_host(npm_project, node=True, env_names=(), environ={"PATH": "/usr/bin:/bin"})
    node_v = (
        subprocess.run(["node", "--version"], check=False, capture_output=True, text=True).stdout.strip().lstrip("v")
    )
    npm_v = subprocess.run(["npm", "--version"], check=False, capture_output=True, text=True).stdout.strip()
    assert snap.runtimes["node"].version == node_v
    assert snap.runtimes["npm"].version == npm_v
    assert "yarn" not in snap.runtimes and "pnpm" not in snap.runtimes


def _pkg(dir_: Path, name: str, version: str) -> None:
    dir_.mkdir(parents=True, exist_ok=True)
    (dir_ / "package.json").write_text(json.dumps({"name": name, "version": version}))


def test_pnpm_layout_lists_each_real_package_once(tmp_path: Path) -> None:
    store = tmp_path / "node_modules" / ".pnpm"
    _pkg(store / "express@4.21.2" / "node_modules" / "express", "express", "4.21.2")
    _pkg(store / "ms@2.0.0" / "node_modules" / "ms", "ms", "2.0.0")
    _pkg(store / "@types+node@20.1.0" / "node_modules" / "@types" / "node", "@types/node", "20.1.0")
    # express's dependency on ms is a sibling symlink inside the store
    (store / "express@4.21.2" / "node_modules" / "ms").symlink_to(store / "ms@2.0.0" / "node_modules" / "ms")
    (tmp_path / "node_modules" / "express").symlink_to(store / "express@4.21.2" / "node_modules" / "express")
    (tmp_path / "node_modules" / "@types").mkdir()
    (tmp_path / "node_modules" / "@types" / "node").symlink_to(
        store / "@types+node@20.1.0" / "node_modules" / "@types" / "node"
    )
    tree = walk_node_modules(tmp_path)
    got = sorted((p.name, p.version, p.path) for p in tree.packages)
    assert got == [
        ("@types/node", "20.1.0", "node_modules/@types/node"),
        ("express", "4.21.2", "node_modules/express"),
        ("ms", "2.0.0", "node_modules/.pnpm/ms@2.0.0/node_modules/ms"),
    ]


def test_broken_manifests_and_cycles_are_notes_not_crashes(tmp_path: Path) -> None:
    nm = tmp_path / "node_modules"
    _pkg(nm / "good", "good", "1.0.0")
    (nm / "bad").mkdir()
    (nm / "bad" / "package.json").write_text("{not json")
    (nm / "empty").mkdir()  # leftover folder without a manifest: ignored, as npm ls does
    (nm / "good" / "node_modules").mkdir()
    (nm / "good" / "node_modules" / "loop").symlink_to(nm / "good")
    (nm / "dangling").symlink_to(tmp_path / "nowhere")
    tree = walk_node_modules(tmp_path)
    assert [(p.name, p.path) for p in tree.packages] == [("good", "node_modules/good")]
    assert any("bad/package.json" in n for n in tree.notes)
    assert any("dangling" in n for n in tree.notes)


def test_yarn_project_reports_yarn_when_present(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(json.dumps({"name": "x", "packageManager": "yarn@1.22.22"}))
    snap = scan_host(tmp_path, node=True, env_names=(), environ={"PATH": str(tmp_path / "empty-bin")})
    # No yarn (and no node) on this PATH: clear lines, no crash, no invented versions.
    assert "yarn" not in snap.runtimes and "node" not in snap.runtimes
    assert any(n.startswith("yarn: not found") for n in snap.notes)
    assert any(n.startswith("node: not found") for n in snap.notes)


def test_corepack_shim_finds_its_package_manager_through_corepack_home(tmp_path: Path) -> None:
    # A stand-in for corepack's yarn shim: it can only answer from the package
    # managers COREPACK_HOME holds (the network is off for it during a scan).
    home = tmp_path / "corepack-home"
    home.mkdir()
    (home / "yarn-version").write_text("4.9.2\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "yarn"
    shim.write_text('#!/bin/sh\nexec cat "${COREPACK_HOME:-/nonexistent}/yarn-version"\n')
    shim.chmod(0o755)
    (tmp_path / "package.json").write_text(json.dumps({"name": "x", "packageManager": "yarn@4.9.2"}))
    environ = {"PATH": f"{bin_dir}:/usr/bin:/bin", "COREPACK_HOME": str(home)}
    snap = scan_host(tmp_path, node=True, env_names=(), environ=environ)
    assert snap.runtime("yarn") is not None and snap.runtimes["yarn"].version == "4.9.2", snap.notes
