"""The pure generator: snapshots built in code in, Dockerfile/lock text out."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from gen_testutil import hadolint, host, lock, project, req, serious

from envcheck.errors import EnvcheckError
from envcheck.generate.dockerfile import GeneratedFiles, Options, generate, locked_names
from envcheck.generate.layout import NodeApp, ProjectLayout, read_layout
from envcheck.snapshot import DeclaredRuntime, Requirement

PY = ProjectLayout(files=frozenset({"requirements.txt", "app.py"}), py_files=frozenset({"requirements.txt", "app.py"}))


def froms(files: GeneratedFiles) -> list[str]:
    return re.findall(r"^FROM (\S+)", files.dockerfile, re.MULTILINE)


def cmd(files: GeneratedFiles) -> str:
    lines: list[str] = re.findall(r"^CMD (.+)$", files.dockerfile, re.MULTILINE)
    return lines[-1]


def lock_text(files: GeneratedFiles) -> str:
    return files.locks["requirements.lock"]


# --------------------------------------------------------------------------- versions


def test_base_image_is_the_host_interpreter_exactly() -> None:
    out = generate(project((req("flask", ">=3"),)), PY, host(packages={"flask": "3.1.0"}))
    assert froms(out) == ["python:3.11.7-slim-bookworm", "python:3.11.7-slim-bookworm"]
    assert "# Python: python 3.11.7 is the interpreter of the host." in out.dockerfile


def test_debian_release_of_the_host_picks_the_codename() -> None:
    out = generate(project((req("six"),)), PY, host(python="3.12.11", packages={"six": "1.16.0"}, distro="debian 13"))
    assert all(f.startswith("python:3.12.11-slim-trixie") for f in froms(out))


def test_a_release_with_no_image_on_the_host_debian_takes_one_that_exists() -> None:
    # 3.11.7 shipped before trixie: no python:3.11.7-slim-trixie was ever published.
    out = generate(project((req("six"),)), PY, host(packages={"six": "1.16.0"}, distro="debian 13"))
    assert all(f.startswith("python:3.11.7-slim-bookworm") for f in froms(out))


def test_host_outside_requires_python_is_not_pinned() -> None:
    snap = project(
        (req("six"),), python=DeclaredRuntime(requires=">=3.12", version_files={".python-version": "3.12.4"})
    )
    out = generate(snap, PY, host(packages={"six": "1.16.0"}))
    assert all(f.startswith("python:3.12.4-slim-bookworm") for f in froms(out))
    assert any("outside requires-python" in w for w in out.warnings)


def test_without_a_host_the_version_file_decides() -> None:
    snap = project((req("six", "==1.16.0"),), python=DeclaredRuntime(version_files={"runtime.txt": "python-3.10.13"}))
    out = generate(snap, PY, None)
    assert all(f.startswith("python:3.10.13-slim-bookworm") for f in froms(out))
    assert "named in runtime.txt" in out.dockerfile


def test_minor_only_version_file_uses_newest_known_patch_and_says_so() -> None:
    snap = project((req("six", "==1.16.0"),), python=DeclaredRuntime(version_files={".python-version": "3.12"}))
    out = generate(snap, PY, None)
    assert re.match(r"python:3\.12\.\d+-slim-bookworm", froms(out)[0])
    assert "newest known patch release" in out.dockerfile


# --------------------------------------------------------------------------- the lock


def test_lock_from_host_is_the_dependency_closure_of_the_requirements() -> None:
    installed = {"flask": "3.1.0", "werkzeug": "3.1.9", "markupsafe": "3.0.4", "six": "1.16.0", "pip": "23.0.1"}
    requires = {
        "flask": ("Werkzeug>=3.1", "pytest; extra == 'dev'"),
        "werkzeug": ("MarkupSafe>=2.1.1", "watchdog>=2.3; extra == 'watchdog'"),
        "markupsafe": (),
        "six": (),
        "pip": (),
    }
    out = generate(project((req("flask", ">=3"),)), PY, host(packages=installed), requires_dist=requires)
    assert locked_names(out) == {"flask", "werkzeug", "markupsafe"}
    assert "flask==3.1.0\n" in lock_text(out)
    # The installer is pinned to the host's, outside the lock.
    assert "/opt/venv/bin/pip install --no-cache-dir pip==23.0.1" in out.dockerfile


def test_without_metadata_every_active_package_but_tooling_is_pinned() -> None:
    installed = {"flask": "3.1.0", "six": "1.16.0", "pip": "23.0.1", "setuptools": "66.1.1"}
    out = generate(project((req("flask"),)), PY, host(packages=installed), requires_dist=None)
    assert locked_names(out) == {"flask", "six"}
    assert "no package metadata" in lock_text(out)


def test_requirement_missing_on_host_is_written_unpinned_with_a_warning() -> None:
    out = generate(project((req("flask"), req("six"))), PY, host(packages={"six": "1.16.0"}), requires_dist={"six": ()})
    assert "# not pinned: nothing recorded a version for the next line\nflask\n" in lock_text(out)
    assert any("flask" in w for w in out.warnings)


def test_requirement_pinned_by_the_project_but_absent_on_host_stays_pinned() -> None:
    """warehouse's 136 `==` pins are pins, even on a host that never installed them."""
    snap = project((req("alembic", "==1.18.5"), req("six")))
    out = generate(snap, PY, host(packages={"six": "1.16.0"}), requires_dist={"six": ()})
    text = lock_text(out)
    assert "alembic==1.18.5\n" in text
    assert "not pinned" not in text
    assert not any("have no pin" in w for w in out.warnings)
    assert any("1 pinned requirement(s) are not installed" in w and "alembic==1.18.5" in w for w in out.warnings)


def _hashed(name: str, version: str, source: str) -> Requirement:
    return req(name, f"=={version}", source=source, hashes=(f"sha256:{name}",))


def test_hashed_pins_stay_the_lock_beside_an_unrelated_requirement_file() -> None:
    """A file next to the pip-compile outputs (warehouse's ipython.txt) does not void them; it is named."""
    snap = project(
        (
            _hashed("flask", "3.1.0", "requirements/main.txt:3"),
            _hashed("gunicorn", "23.0.0", "requirements/deploy.txt:3"),
            req("flask", ">=3", source="requirements/main.in:1"),
            req("ipython", ">=9", source="requirements/ipython.txt:1"),
        )
    )
    out = generate(snap, PY, host(packages={"flask": "3.1.0", "ipython": "9.1.0"}), requires_dist={})
    text = lock_text(out)
    assert "flask==3.1.0 \\\n    --hash=sha256:flask" in text and "gunicorn==23.0.0" in text
    assert "ipython" not in text
    assert any("left out of the image: ipython>=9 (requirements/ipython.txt)" in w for w in out.warnings)
    assert not any("not using the project's lock" in w for w in out.warnings)


def test_hashed_pins_that_disagree_with_their_input_are_stale() -> None:
    snap = project(
        (_hashed("flask", "2.3.0", "requirements/main.txt:3"), req("flask", ">=3", source="requirements/main.in:1"))
    )
    out = generate(snap, PY, host(packages={"flask": "3.1.0"}), requires_dist={"flask": ()})
    assert "flask==3.1.0" in lock_text(out)
    assert any("not using the project's lock" in w and "main.in" in w for w in out.warnings)


def test_consistent_lock_file_wins_and_its_hashes_are_required() -> None:
    snap = project(
        (req("flask", ">=3", source="pyproject.toml:7"),),
        locks=(
            lock("flask", "3.0.3", hashes=("sha256:aaa",)),
            lock("werkzeug", "3.0.1", hashes=("sha256:bbb", "sha256:ccc")),
            lock("pytest", "8.0.0", dev=True, hashes=("sha256:ddd",)),
        ),
    )
    out = generate(snap, PY, host(packages={"flask": "3.1.0"}))
    text = lock_text(out)
    assert "flask==3.0.3 \\\n    --hash=sha256:aaa" in text
    assert "pytest" not in text
    assert "--require-hashes" in out.dockerfile
    assert "from poetry.lock" in out.dockerfile


def test_stale_lock_falls_back_to_the_host_with_a_warning() -> None:
    snap = project((req("flask", ">=3"),), locks=(lock("flask", "2.3.0"),))
    out = generate(snap, PY, host(packages={"flask": "3.1.0"}), requires_dist={"flask": ()})
    assert "flask==3.1.0" in lock_text(out)
    assert any("poetry.lock does not satisfy flask>=3" in w for w in out.warnings)


def test_from_lock_without_a_lock_is_a_clear_error() -> None:
    with pytest.raises(EnvcheckError, match="no Python lock file"):
        generate(project((req("flask"),)), PY, None, Options(version_source="lock"))


def test_partial_hashes_are_dropped_because_pip_hash_mode_is_all_or_nothing() -> None:
    snap = project((req("a"), req("b")), locks=(lock("a", "1.0", hashes=("sha256:x",)), lock("b", "2.0")))
    out = generate(snap, PY, None)
    assert "--hash" not in lock_text(out)
    assert "--require-hashes" not in out.dockerfile
    assert "Hashes left out" in lock_text(out)


def test_dev_and_nested_requirements_are_not_the_apps() -> None:
    snap = project(
        (
            req("flask", "==3.1.0"),
            req("pytest", "==8.0.0", source="requirements-dev.txt:1", group="dev"),
            req("django", "==5.0", source="tests/fixtures/other/requirements.txt:1"),
        )
    )
    out = generate(snap, PY, None)
    assert locked_names(out) == {"flask"}


# --------------------------------------------------------------------------- the image


def test_python_image_shape() -> None:
    out = generate(project((req("six", "==1.16.0"),)), PY, None)
    df = out.dockerfile
    for needle in (
        "PYTHONDONTWRITEBYTECODE=1",
        "PYTHONUNBUFFERED=1",
        "PIP_NO_CACHE_DIR=1",
        "useradd --no-log-init --create-home --uid 10001",
        "USER 10001",
        "WORKDIR /app",
        "COPY --from=builder /opt/venv /opt/venv",
        "AS builder",
    ):
        assert needle in df, needle
    assert cmd(out) == '["python", "app.py"]'


@pytest.mark.parametrize(
    ("layout", "installed", "expected", "port"),
    [
        (
            ProjectLayout(py_files=frozenset({"manage.py", "shop/"}), django_wsgi="shop.wsgi"),
            {"django": "5.1.4", "gunicorn": "23.0.0"},
            '["/bin/sh", "-c", "exec gunicorn shop.wsgi:application --bind \\"0.0.0.0:${PORT:-8000}\\""]',
            8000,
        ),
        (
            ProjectLayout(py_files=frozenset({"manage.py"})),
            {"django": "5.1.4"},
            '["/bin/sh", "-c", "exec python manage.py runserver \\"0.0.0.0:${PORT:-8000}\\" --noreload"]',
            8000,
        ),
        (
            ProjectLayout(py_files=frozenset({"app.py"}), flask_app="app:app"),
            {"flask": "3.1.0"},
            '["/bin/sh", "-c", "exec flask run --host 0.0.0.0 --port \\"${PORT:-5000}\\""]',
            5000,
        ),
        (
            ProjectLayout(py_files=frozenset({"main.py"}), asgi_app="main:app", python_port=8080),
            {"fastapi": "0.115.6", "uvicorn": "0.34.0"},
            '["/bin/sh", "-c", "exec uvicorn main:app --host 0.0.0.0 --port \\"${PORT:-8080}\\""]',
            8080,
        ),
        (
            ProjectLayout(
                py_files=frozenset({"app.py", "Procfile"}), procfile_web="gunicorn app:app --bind 0.0.0.0:$PORT"
            ),
            {"gunicorn": "23.0.0"},
            '["/bin/sh", "-c", "exec gunicorn app:app --bind 0.0.0.0:${PORT:-8000}"]',
            8000,
        ),
        (
            ProjectLayout(py_files=frozenset({"src/", "pyproject.toml"}), scripts=(("wb", "weatherbot.cli:main"),)),
            {"requests": "2.28.2"},
            '["python", "-c", "import sys; from weatherbot.cli import main; sys.exit(main())"]',
            None,
        ),
    ],
)
def test_cmd_and_port_are_inferred(
    layout: ProjectLayout, installed: dict[str, str], expected: str, port: int | None
) -> None:
    snap = project(tuple(req(n) for n in installed))
    out = generate(snap, layout, host(packages=installed), requires_dist={n: () for n in installed})
    assert cmd(out) == expected
    assert (f"EXPOSE {port}" in out.dockerfile) == (port is not None)


def test_non_secret_values_are_baked_and_secrets_only_documented() -> None:
    snap = project((req("six"),), env_refs=("APP_ENV", "DATABASE_URL", "STRIPE_SECRET_KEY", "FEATURE_FLAGS", "HOME"))
    env = {"APP_ENV": "production", "DATABASE_URL": None, "STRIPE_SECRET_KEY": None}
    out = generate(snap, PY, host(packages={"six": "1.16.0"}, env=env), requires_dist={"six": ()})
    df = out.dockerfile
    assert "ENV APP_ENV=production" in df
    assert re.search(r"^#   DATABASE_URL ", df, re.MULTILINE)
    assert re.search(r"^#   STRIPE_SECRET_KEY ", df, re.MULTILINE)
    assert "runtime-only" in df
    assert re.search(r"^#   FEATURE_FLAGS ", df, re.MULTILINE)
    assert "HOME" not in df
    assert not re.search(r"^(ENV|ARG) .*(DATABASE_URL|SECRET)", df, re.MULTILINE)


def test_a_secret_looking_value_of_a_safe_name_is_not_baked() -> None:
    snap = project((req("six"),), env_refs=("APP_ENV",))
    env = {"APP_ENV": "ghp_" + "a1B2" * 10}
    out = generate(snap, PY, host(packages={"six": "1.16.0"}, env=env), requires_dist={"six": ()})
    assert "ghp_" not in out.dockerfile


def test_base_digest_option_pins_every_from() -> None:
    digest = "sha256:" + "ab" * 32
    options = Options(base_digests={"python:3.11.7-slim-bookworm": digest})
    out = generate(project((req("six"),)), PY, host(packages={"six": "1.16.0"}), options)
    assert froms(out) and all(f == f"python:3.11.7-slim-bookworm@{digest}" for f in froms(out))


def test_output_is_deterministic() -> None:
    installed = {"b": "1.0", "a": "2.0", "c": "3.0"}
    snap = project((req("c"), req("a"), req("b")), env_refs=("Z_ENV", "A_ENV"))
    h = host(packages=installed, env={"Z_ENV": "z", "A_ENV": "a"})
    first = generate(snap, PY, h, requires_dist={n: () for n in installed})
    again = generate(snap, PY, h, requires_dist={n: () for n in reversed(installed)})
    assert first == again
    assert lock_text(first).index("a==2.0") < lock_text(first).index("b==1.0") < lock_text(first).index("c==3.0")


def test_nothing_to_containerise_is_a_clear_error() -> None:
    with pytest.raises(EnvcheckError, match="no Python or Node project"):
        generate(project(), ProjectLayout(), None)


# --------------------------------------------------------------------------- node


def _node(**kw: object) -> NodeApp:
    base: dict[str, object] = {"dir": "", "scripts": {"start": "node server.js"}, "prod_dependencies": ("express",)}
    base.update(kw)
    return NodeApp(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("node", "install"),
    [
        (_node(lock="package-lock.json"), "npm ci --omit=dev"),
        (
            _node(lock="pnpm-lock.yaml", package_manager="pnpm@8.15.9"),
            "pnpm@8.15.9 \\\n && pnpm install --frozen-lockfile --prod",
        ),
        (_node(lock="yarn.lock"), "yarn install --frozen-lockfile --production"),
        (_node(lock="yarn.lock", yarn_berry=True, package_manager="yarn@4.1.0"), "corepack prepare yarn@4.1.0"),
        (_node(lock=None), "npm install --omit=dev"),
    ],
)
def test_node_install_follows_the_lock_file(node: NodeApp, install: str, tmp_path: Path) -> None:
    out = generate(project(node=DeclaredRuntime(version_files={".nvmrc": "20.20.2"})), ProjectLayout(node=node), None)
    assert install in out.dockerfile
    assert all(f.startswith("node:20.20.2-bookworm-slim") for f in froms(out))
    assert "USER 1000" in out.dockerfile
    assert cmd(out) == '["node", "server.js"]'
    assert not serious(hadolint(out.dockerfile, tmp_path))
    assert (node.lock is None) == any("no lock file" in w for w in out.warnings)


def test_node_build_script_builds_then_prunes_dev_dependencies() -> None:
    node = _node(
        lock="package-lock.json",
        scripts={"build": "vite build", "start": "vite preview --host"},
        dev_dependencies=("vite",),
    )
    nvmrc = project(node=DeclaredRuntime(version_files={".nvmrc": "24"}))
    out = generate(nvmrc, ProjectLayout(node=node), host(python=None, node="20.20.2"))
    df = out.dockerfile
    assert "RUN npm ci --no-fund --no-audit" in df
    assert "RUN npm run build" in df
    assert "FROM build AS prod\n# Production dependencies only" in df
    assert "RUN npm prune --omit=dev" in df
    assert cmd(out) == '["npm", "start"]'
    assert ".nvmrc names node 24" in df


def test_python_with_front_end_build_gets_a_node_stage() -> None:
    layout = ProjectLayout(
        files=frozenset({"requirements.txt", "app.py", "frontend/"}),
        py_files=frozenset({"requirements.txt", "app.py"}),
        node=_node(dir="frontend", lock="package-lock.json", scripts={"build": "vite build"}),
    )
    declared = project((req("six"),), node=DeclaredRuntime(version_files={"frontend/.nvmrc": "22.21.0"}))
    out = generate(declared, layout, host(packages={"six": "1.16.0"}, node="20.20.2"), requires_dist={"six": ()})
    assert froms(out)[0] == "node:22.21.0-bookworm-slim"
    assert "COPY frontend/package.json frontend/package-lock.json ./" in out.dockerfile
    assert "COPY --from=frontend --chown=10001:10001 /src /app" in out.dockerfile


def test_python_with_node_runtime_dependencies_copies_the_node_binary() -> None:
    layout = ProjectLayout(
        files=frozenset({"requirements.txt", "app.py", "package.json"}),
        py_files=frozenset({"requirements.txt", "app.py"}),
        node=_node(lock="package-lock.json", scripts={}, prod_dependencies=("mjml",)),
    )
    out = generate(
        project((req("six"),)), layout, host(packages={"six": "1.16.0"}, node="20.20.2"), requires_dist={"six": ()}
    )
    assert "COPY --from=node /usr/local/bin/node /usr/local/bin/node" in out.dockerfile
    assert "COPY --from=node /app/node_modules /app/node_modules" in out.dockerfile


def test_node_tooling_only_is_left_out_of_a_python_image() -> None:
    layout = ProjectLayout(
        files=frozenset({"requirements.txt", "package.json"}),
        py_files=frozenset({"requirements.txt"}),
        node=_node(lock="package-lock.json", scripts={"lint": "eslint ."}, prod_dependencies=()),
    )
    out = generate(
        project((req("six"),)), layout, host(packages={"six": "1.16.0"}, node="20.20.2"), requires_dist={"six": ()}
    )
    assert not any(f.startswith("node:") for f in froms(out))
    assert "node is not part of the image" in out.dockerfile


YARN_PIN = "yarn@4.9.2+sha512." + "ab" * 64


def _berry(**kw: object) -> NodeApp:
    base: dict[str, object] = {"lock": "yarn.lock", "yarn_berry": True, "package_manager": YARN_PIN}
    base.update(kw)
    return _node(**base)


def test_yarn_berry_copies_its_config_and_checks_the_lock(tmp_path: Path) -> None:
    node = _berry(yarn_files=(".yarnrc.yml", ".yarn/releases/yarn-4.9.2.cjs"), yarn_node_linker="node-modules")
    nvmrc = project(node=DeclaredRuntime(version_files={".nvmrc": "24"}))
    out = generate(nvmrc, ProjectLayout(node=node), None)
    df = out.dockerfile
    assert (
        "COPY package.json yarn.lock .yarnrc.yml ./\nCOPY .yarn/releases/yarn-4.9.2.cjs ./.yarn/releases/yarn-4.9.2.cjs\n"
        in df
    )
    # corepack checks the download against the hash packageManager records.
    assert f"corepack prepare {YARN_PIN} --activate" in df
    assert "yarn install --immutable \\\n && yarn workspaces focus --all --production" in df
    assert not out.warnings
    assert not serious(hadolint(df, tmp_path))


def test_mirror_args_are_the_ones_each_package_manager_reads(tmp_path: Path) -> None:
    def args(node: NodeApp) -> list[str]:
        return re.findall(r"^ARG (\S+)$", generate(project(), ProjectLayout(node=node), None).dockerfile, re.MULTILINE)

    assert args(_node(lock="package-lock.json")) == ["NPM_CONFIG_REGISTRY"]
    assert args(_node(lock="pnpm-lock.yaml", package_manager="pnpm@9.15.9")) == ["NPM_CONFIG_REGISTRY"]
    assert args(_node(lock="yarn.lock")) == ["NPM_CONFIG_REGISTRY"]
    assert args(_berry(yarn_node_linker="node-modules")) == [
        "COREPACK_NPM_REGISTRY",
        "YARN_NPM_REGISTRY_SERVER",
        "YARN_UNSAFE_HTTP_WHITELIST",
    ]

    # Yarn 1 fetches what yarn.lock pins from the URLs it records, never from its
    # registry setting: the install itself must point them at the mirror.  Run
    # the RUN line as written, with a yarn that keeps the lock it was handed.
    df = generate(project(), ProjectLayout(node=_node(lock="yarn.lock")), None).dockerfile
    match = re.search(
        r"^RUN (.*? && yarn install --frozen-lockfile --production .*?)$\n\n", df, re.MULTILINE | re.DOTALL
    )
    assert match, df
    lock = (
        '"@sindresorhus/is@^4":\n  version "4.6.0"\n'
        '  resolved "https://registry.example/@sindresorhus/is/-/is-4.6.0.tgz#3c7c9c46"\n'
        'ms@2.1.3:\n  resolved "http://127.0.0.1:4873/ms/-/ms-2.1.3.tgz#574c8138"\n'
        'x@1:\n  resolved "https://mirror.example/api/npm/remote/@s/x/-/x-1.0.0.tgz"\n'
        'y@1:\n  resolved "https://codeload.example/u/y/tar.gz/0123"\n'
        'z@1:\n  resolved "git+https://git.example/u/z.git#0123"\n'
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "yarn").write_text('#!/bin/sh\nif [ "$1" = install ]; then cp yarn.lock "$SEEN"; fi\n')
    (bin_dir / "yarn").chmod(0o755)

    def installed_from(mirror: str | None) -> str:
        (tmp_path / "yarn.lock").write_text(lock)
        env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "SEEN": str(tmp_path / "seen.lock")}
        if mirror is not None:
            env["NPM_CONFIG_REGISTRY"] = mirror
        subprocess.run(["sh", "-ec", match.group(1)], cwd=tmp_path, env=env, check=True, timeout=60)
        assert (tmp_path / "yarn.lock").read_text() == lock, "the project's yarn.lock is put back"
        return (tmp_path / "seen.lock").read_text()

    assert installed_from(None) == lock
    seen = installed_from("http://127.0.0.1:9/npm/")
    # Registry tarballs (scoped or not, behind a path or not) move; git and codeload sources stay.
    assert re.findall(r'resolved "([^"]+)"', seen) == [
        "http://127.0.0.1:9/npm/@sindresorhus/is/-/is-4.6.0.tgz#3c7c9c46",
        "http://127.0.0.1:9/npm/ms/-/ms-2.1.3.tgz#574c8138",
        "http://127.0.0.1:9/npm/@s/x/-/x-1.0.0.tgz",
        "https://codeload.example/u/y/tar.gz/0123",
        "git+https://git.example/u/z.git#0123",
    ]


def test_yarn_berry_pin_with_shell_syntax_is_not_copied_into_run() -> None:
    node = _berry(package_manager="yarn@4.9.2+sha512.abc;touch /pwned", yarn_node_linker="node-modules")
    df = generate(project(), ProjectLayout(node=node), None).dockerfile
    assert "pwned" not in df
    assert "corepack prepare yarn@4.9.2 --activate" in df


def test_yarn_plug_n_play_is_a_warning() -> None:
    out = generate(project(), ProjectLayout(node=_berry()), None)
    assert any("Plug'n'Play" in w and "nodeLinker: node-modules" in w for w in out.warnings)


def test_yarnrc_names_the_files_yarn_needs(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"name": "x", "dependencies": {"ms": "2.1.3"}}')
    (tmp_path / "yarn.lock").write_text("__metadata:\n  version: 8\n")
    (tmp_path / ".yarn" / "releases").mkdir(parents=True)
    (tmp_path / ".yarn" / "releases" / "yarn-4.9.2.cjs").write_text("")
    (tmp_path / ".yarn" / "plugins").mkdir()
    (tmp_path / ".yarn" / "plugins" / "p.cjs").write_text("")
    (tmp_path / ".yarnrc.yml").write_text(
        "nodeLinker: 'node-modules'  # flat\n"
        "yarnPath: ./.yarn/releases/yarn-4.9.2.cjs\n"
        "plugins:\n"
        "  - path: .yarn/plugins/p.cjs\n"
        "    spec: p\n"
        "  - path: ../outside.cjs\n"
        "  - path: .yarn/plugins/missing.cjs\n"
        "npmRegistryServer: https://mirror.invalid\n"
    )
    node = read_layout(tmp_path).node
    assert node is not None and node.yarn_berry
    assert node.yarn_node_linker == "node-modules"
    assert node.yarn_files == (".yarnrc.yml", ".yarn/releases/yarn-4.9.2.cjs", ".yarn/plugins/p.cjs")
