"""The Python plan: interpreter, installability, system packages, serving, once-before-start steps.

Assertions are on the plan (frozen data), not on the Dockerfile's wording.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from gen_testutil import host, lock, project, req
from hypothesis import given
from hypothesis import strategies as st

from envcheck.generate.dockerfile import GenerateError, Options, plan
from envcheck.generate.imports import import_map, imported_modules, pins_for_imports, read_console_scripts
from envcheck.generate.interpreter import choose_python, image_release
from envcheck.generate.knowledge import python_eol, python_images, python_servers, sdist_needs, sdist_system_packages
from envcheck.generate.layout import ProjectLayout, read_layout
from envcheck.generate.plan import Copy, Env, Run, SystemPackages, User
from envcheck.generate.procfile import parse_procfile
from envcheck.generate.render import render
from envcheck.pyindex import IndexFile, ProjectPage, Unchecked
from envcheck.snapshot import DeclaredRuntime, EnvRef, Package

PY = ProjectLayout(py_files=frozenset({"requirements.txt"}))
TODAY = dt.date(2026, 11, 29)


def _env(p: object) -> dict[str, str]:
    return {n: v for step in p.final.find(Env) for n, v in step.vars}  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- knowledge tables


def test_every_knowledge_table_loads_and_names_its_source() -> None:
    assert python_eol()["3.6"][0] == dt.date(2021, 12, 23)
    assert python_images().lines["3.6"].newest == "3.6.15"
    assert sdist_system_packages()["psycopg2"][0].runtime == ("libpq5",)
    assert {s.name for s in python_servers()} >= {"gunicorn", "uvicorn", "waitress", "daphne", "hypercorn"}
    for entries in sdist_system_packages().values():
        assert all(e.source for e in entries)


def test_sdist_entries_can_depend_on_the_version() -> None:
    old, new = sdist_needs("cryptography", "3.3.2"), sdist_needs("cryptography", "42.0.0")
    assert old is not None and new is not None
    assert "rustc" not in old.build and "rustc" in new.build


@pytest.mark.parametrize(
    ("version", "release"),
    [("3.6.15", "bullseye"), ("2.7.18", "buster"), ("3.7.16", "bookworm"), ("3.12.1", "bookworm")],
)
def test_the_image_tag_names_an_image_that_was_published(version: str, release: str) -> None:
    assert image_release(version)[0] == release


# --------------------------------------------------------------------------- which interpreter


def test_a_declared_line_is_honoured_over_a_host_of_another_line_and_both_say_so() -> None:
    c = choose_python(
        host="3.11.7",
        host_label="host",
        host_fits=True,
        version_files={"runtime.txt": "python-3.7.16"},
        requires=None,
        today=TODAY,
    )
    assert c.version == "3.7.16"
    assert any("runtime.txt names 3.7.16" in w for w in c.warnings)
    assert any("end of life on 2023-06-27" in w for w in c.warnings)


def test_a_host_of_the_declared_line_gives_the_exact_patch() -> None:
    c = choose_python(
        host="3.6.15",
        host_label="host",
        host_fits=True,
        version_files={},
        dockerfiles=(("Dockerfile:1", "3.6"),),
        requires=None,
    )
    assert (c.version, c.release) == ("3.6.15", "bullseye")
    assert c.image == "python:3.6.15-slim-bullseye"


def test_a_host_that_is_not_the_projects_environment_is_not_pinned() -> None:
    c = choose_python(
        host="3.11.7",
        host_label="host",
        host_fits=False,
        host_fit_reason="12 of the 12 pinned requirements are not installed there",
        version_files={},
        requires=">=3.7.1,<4.0",
    )
    assert c.version != "3.11.7"
    assert any("not the project's environment" in w for w in c.warnings)
    assert any(n.startswith("# Not the host") for n in c.notes)


def test_the_projects_dockerfile_from_is_a_declaration() -> None:
    c = choose_python(
        host=None,
        host_label="project",
        host_fits=None,
        version_files={},
        dockerfiles=(("Dockerfile:1", "3.9.10"),),
        requires=">=3.9",
    )
    assert c.version == "3.9.10" and c.declared == "3.9.10"


def test_disagreeing_declarations_warn_and_the_first_speaks() -> None:
    c = choose_python(
        host=None,
        host_label="project",
        host_fits=None,
        version_files={"runtime.txt": "python-3.8.18", ".python-version": "3.10"},
        requires=None,
    )
    assert c.version == "3.8.18"
    assert any("disagree" in w for w in c.warnings)


def test_host_fit_is_judged_from_the_pins() -> None:
    snap = project((req("flask", "==0.12.2"), req("six", "==1.10.0")))
    at_pins = plan(snap, PY, host(python="3.6.15", packages={"flask": "0.12.2", "six": "1.10.0"}), Options())
    assert at_pins.final.image == "python:3.6.15-slim-bullseye"
    elsewhere = plan(snap, PY, host(python="3.11.7", packages={"requests": "2.31.0"}), Options())
    assert not elsewhere.final.image.startswith("python:3.11.7")
    assert any("not the project's environment" in w for w in elsewhere.warnings)


# --------------------------------------------------------------------------- installability


def _page(name: str, *files: str, requires_python: str | None = None) -> ProjectPage:
    return ProjectPage(name, tuple(IndexFile(f, requires_python) for f in files))


def test_a_pin_that_cannot_install_moves_to_the_nearest_line_that_installs_and_says_why() -> None:
    snap = project((req("oldwheel", "==1.0"),), python=DeclaredRuntime(version_files={".python-version": "3.11"}))
    index = {
        "oldwheel": _page(
            "oldwheel", "oldwheel-1.0-cp37-cp37m-manylinux1_x86_64.whl", "oldwheel-1.0-cp38-cp38-manylinux1_x86_64.whl"
        )
    }
    got = plan(snap, PY, None, Options(index=index, index_origin="test index"))
    assert got.final.image.startswith("python:3.8.")
    assert any("nearest line where every pin installs" in w and "oldwheel==1.0" in w for w in got.warnings)


def test_a_declared_version_whose_pins_install_is_kept_even_when_eol() -> None:
    snap = project((req("six", "==1.10.0"),), python=DeclaredRuntime(version_files={"runtime.txt": "python-3.6.15"}))
    index = {"six": _page("six", "six-1.10.0-py2.py3-none-any.whl")}
    got = plan(snap, PY, None, Options(index=index, today=TODAY))
    assert got.final.image == "python:3.6.15-slim-bullseye"
    assert any("end of life" in w for w in got.warnings)


def test_an_unreachable_index_is_a_could_not_check_warning_and_changes_nothing() -> None:
    snap = project((req("six", "==1.10.0"),), python=DeclaredRuntime(version_files={"runtime.txt": "python-3.6.15"}))
    got = plan(snap, PY, None, Options(index={"six": Unchecked("127.0.0.1:9: connection refused")}))
    assert got.final.image == "python:3.6.15-slim-bullseye"
    assert any(w.startswith("could not check") and "connection refused" in w for w in got.warnings)


def test_an_sdist_that_compiles_gets_build_headers_in_the_builder_and_its_library_at_run_time() -> None:
    snap = project(
        (req("psycopg2", "==2.7.3"),), python=DeclaredRuntime(version_files={"runtime.txt": "python-3.11.7"})
    )
    index = {"psycopg2": _page("psycopg2", "psycopg2-2.7.3.tar.gz", "psycopg2-2.7.3-cp36-cp36m-manylinux1_x86_64.whl")}
    got = plan(snap, PY, None, Options(index=index))
    builder = got.stage("builder")
    assert builder is not None
    build = [p for s in builder.find(SystemPackages) for p in s.packages]
    runtime = [p for s in got.final.find(SystemPackages) for p in s.packages]
    assert "libpq-dev" in build and "gcc" in build
    assert runtime == ["libpq5"]
    assert "gcc" not in runtime


def test_a_pin_with_wheels_everywhere_needs_no_system_packages() -> None:
    snap = project(
        (req("psycopg2", "==2.7.3"),), python=DeclaredRuntime(version_files={"runtime.txt": "python-3.6.15"})
    )
    wheels = ("psycopg2-2.7.3-cp36-cp36m-manylinux1_x86_64.whl", "psycopg2-2.7.3-cp36-cp36m-manylinux2014_aarch64.whl")
    got = plan(snap, PY, None, Options(index={"psycopg2": _page("psycopg2", *wheels)}))
    assert not any(s.find(SystemPackages) for s in got.stages)


# --------------------------------------------------------------------------- serving


def _layout(tmp_path: Path, files: dict[str, str]) -> ProjectLayout:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return read_layout(tmp_path)


def test_a_procfile_gunicorn_line_serves_on_port_and_all_interfaces(tmp_path: Path) -> None:
    layout = _layout(
        tmp_path, {"requirements.txt": "", "Procfile": "web: gunicorn flasky:app\nrelease: flask deploy\n"}
    )
    got = plan(project((req("gunicorn", "==19.7.1"),)), layout, None, Options())
    assert got.cmd is not None
    assert got.cmd.argv == ("/bin/sh", "-c", 'exec gunicorn --bind "0.0.0.0:${PORT:-8000}" flasky:app')
    assert "PORT" not in _env(got)  # the default lives in the command; a baked PORT would differ from the host (EC501)
    assert got.expose is not None and got.expose.port == 8000
    assert any("flask deploy" in line for s in got.final.steps if hasattr(s, "lines") for line in s.lines)  # type: ignore[attr-defined]


def test_a_procfile_server_without_bind_gets_one(tmp_path: Path) -> None:
    layout = _layout(tmp_path, {"requirements.txt": "", "Procfile": "web: uvicorn app.main:app --workers 2\n"})
    got = plan(project((req("uvicorn", "==0.13.4"),)), layout, None, Options())
    assert got.cmd is not None
    assert got.cmd.argv[:2] == ("/bin/sh", "-c")
    assert '--host 0.0.0.0 --port "${PORT:-8000}"' in got.cmd.argv[2] and got.cmd.argv[2].startswith("exec uvicorn")


def test_a_procfile_bound_to_localhost_is_rebound_to_all_interfaces(tmp_path: Path) -> None:
    layout = _layout(tmp_path, {"requirements.txt": "", "Procfile": "web: gunicorn -b 127.0.0.1:$PORT app:app\n"})
    got = plan(project((req("gunicorn", "==21.2.0"),)), layout, None, Options())
    assert got.cmd is not None and "0.0.0.0:${PORT:-8000}" in got.cmd.argv[2]


def test_fastapi_in_app_main_runs_on_the_locked_uvicorn(tmp_path: Path) -> None:
    layout = _layout(
        tmp_path,
        {
            "pyproject.toml": "[project]\nname='x'\n",
            "app/__init__.py": "",
            "app/main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
        },
    )
    got = plan(project((req("fastapi", "==0.68.1"), req("uvicorn", "==0.13.4"))), layout, None, Options())
    assert got.cmd is not None and "uvicorn app.main:app" in got.cmd.argv[2]


def test_a_src_layout_asgi_app_gets_src_on_the_path(tmp_path: Path) -> None:
    layout = _layout(
        tmp_path,
        {
            "pyproject.toml": "[project]\nname='x'\n",
            "src/svc/main.py": "from starlette.applications import Starlette\napp = Starlette()\n",
        },
    )
    got = plan(project((req("starlette", "==0.37.0"), req("hypercorn", "==0.16.0"))), layout, None, Options())
    assert got.cmd is not None and "hypercorn svc.main:app" in got.cmd.argv[2]
    assert _env(got)["PYTHONPATH"] == "/app/src"


def test_an_asgi_app_with_no_server_locked_is_refused(tmp_path: Path) -> None:
    layout = _layout(tmp_path, {"requirements.txt": "", "main.py": "import fastapi\napp = fastapi.FastAPI()\n"})
    with pytest.raises(GenerateError, match="no ASGI server"):
        plan(project((req("fastapi", "==0.68.1"),)), layout, None, Options())


def test_django_collects_static_at_build_time_and_warns_about_runserver(tmp_path: Path) -> None:
    layout = _layout(
        tmp_path,
        {
            "manage.py": "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site1.settings')\n",
            "requirements.txt": "",
            "site1/__init__.py": "",
            "site1/wsgi.py": "",
            "site1/settings.py": "SECRET_KEY = config('SECRET_KEY')\nSTATIC_ROOT = 'static'\n",
        },
    )
    snap = project((req("django", "==1.11.29"),), env_refs=("SECRET_KEY", "DATABASE_URL"))
    got = plan(snap, layout, None, Options())
    runs = [s.command for s in got.final.find(Run)]
    collect = next(r for r in runs if "collectstatic" in r)
    # Placeholders exist only in this RUN, never as ENV.
    assert "SECRET_KEY=build-time-placeholder" in collect and "DATABASE_URL=sqlite:" in collect
    assert "SECRET_KEY" not in _env(got)
    assert any("runserver" in w for w in got.warnings)
    assert got.cmd is not None and "runserver" in got.cmd.argv[2]
    assert any("migrate" in line for s in got.final.steps if hasattr(s, "lines") for line in s.lines)  # type: ignore[attr-defined]


def test_django_with_gunicorn_locked_serves_with_gunicorn(tmp_path: Path) -> None:
    layout = _layout(tmp_path, {"manage.py": "", "requirements.txt": "", "site1/__init__.py": "", "site1/wsgi.py": ""})
    got = plan(project((req("django", "==4.2"), req("gunicorn", "==21.2.0"))), layout, None, Options())
    assert got.cmd is not None and "exec gunicorn site1.wsgi:application" in got.cmd.argv[2]
    assert not any("runserver" in w for w in got.warnings)


def test_a_procfile_program_no_locked_distribution_provides_is_refused(tmp_path: Path) -> None:
    layout = _layout(tmp_path, {"requirements.txt": "", "Procfile": "web: gunicorn app:app\n"})
    with pytest.raises(GenerateError, match="gunicorn"):
        plan(project((req("flask", "==3.0.0"),)), layout, None, Options(), scripts={"flask": "flask"})


def test_a_procfile_server_nothing_installs_falls_back_to_the_apps_own_start_and_says_so(tmp_path: Path) -> None:
    """flask-boilerplate: `web: gunicorn app:app` with no gunicorn in requirements.txt (Heroku fails too)."""
    layout = _layout(
        tmp_path,
        {
            "requirements.txt": "",
            "Procfile": "web: gunicorn app:app --log-file=-\n",
            "app.py": "from flask import Flask\napp = Flask(__name__)\nif __name__ == '__main__':\n    app.run()\n",
        },
    )
    got = plan(project((req("flask", "==3.0.0"),)), layout, None, Options(), scripts={"flask": "flask"})
    assert got.cmd is not None and "gunicorn" not in " ".join(got.cmd.argv)
    assert any("Procfile's web: line" in w and "gunicorn" in w for w in got.warnings)


def test_the_app_directory_belongs_to_the_app_user_unless_read_only_is_asked() -> None:
    snap = project((req("six", "==1.16.0"),))
    writable = plan(snap, PY, None, Options())
    code = [c for c in writable.final.find(Copy) if c.dest == "/app"]
    assert code[0].chown == "10001:10001"
    # The folder itself too: COPY --chown does not change a WORKDIR made by root.
    assert any("install -d -o 10001 -g 10001 /app" in r.command for r in writable.final.find(Run))
    assert writable.final.find(User)[0].uid == 10001
    read_only = plan(snap, PY, None, Options(read_only_code=True))
    assert next(c for c in read_only.final.find(Copy) if c.dest == "/app").chown is None


def test_flask_custom_deploy_and_migrations_are_named_once_before_start(tmp_path: Path) -> None:
    layout = _layout(
        tmp_path,
        {
            "requirements.txt": "",
            "migrations/env.py": "",
            "blog.py": "from flask import Flask\napp = create_app('x')\n\n@app.cli.command()\ndef deploy():\n    pass\n",
        },
    )
    got = plan(project((req("flask", "==0.12.2"), req("flask-migrate", "==2.0.4"))), layout, None, Options())
    notes = [line for s in got.final.steps if hasattr(s, "lines") for line in s.lines]  # type: ignore[attr-defined]
    assert any("flask deploy" in n for n in notes)
    assert _env(got)["FLASK_APP"] == "blog.py"
    text = render(got)
    assert "flask deploy" in text


# --------------------------------------------------------------------------- no manifest


def _dist(tmp: Path, name: str, version: str, top: str | None = None, record: str | None = None) -> Package:
    d = tmp / f"{name}-{version}.dist-info"
    d.mkdir(parents=True)
    if top:
        (d / "top_level.txt").write_text(top + "\n")
    if record:
        (d / "RECORD").write_text(record)
    (d / "entry_points.txt").write_text("[console_scripts]\nmytool = x:main\n")
    return Package(name=name, version=version, path=str(d))


def test_imports_become_pins_through_the_installed_metadata(tmp_path: Path) -> None:
    code = tmp_path / "proj"
    code.mkdir()
    (code / "bot.py").write_text("import os\nimport yaml\nfrom bs4 import BeautifulSoup\nimport helpers\n")
    (code / "helpers.py").write_text("import requests.adapters\n")
    site = tmp_path / "site"
    pkgs = [
        _dist(site, "PyYAML", "5.4.1", top="yaml\n_yaml"),
        _dist(site, "beautifulsoup4", "4.9.3", record="bs4/__init__.py,,\nbs4/element.py,,\n"),
        _dist(site, "requests", "2.25.1", top="requests"),
    ]
    modules = imported_modules(code)
    assert set(modules) == {"yaml", "bs4", "requests"}  # os is stdlib, helpers is the project's
    pins, missing = pins_for_imports(modules, import_map(pkgs))
    assert {(p.dist, p.version) for p in pins} == {
        ("pyyaml", "5.4.1"),
        ("beautifulsoup4", "4.9.3"),
        ("requests", "2.25.1"),
    }
    assert not missing
    # Several distributions claim the script: the first installed one wins, as on PATH.
    assert read_console_scripts(pkgs) == {"mytool": "pyyaml"}


def test_python2_code_is_read_for_imports_too(tmp_path: Path) -> None:
    (tmp_path / "old.py").write_text("import urllib2\nimport MySQLdb\nprint 'hello'\n")
    assert set(imported_modules(tmp_path)) == {"MySQLdb"}


def test_a_project_with_only_code_is_planned_from_its_imports() -> None:
    from envcheck.generate.imports import ImportPin

    layout = ProjectLayout(py_files=frozenset({"bot.py"}), script_files=("bot.py",))
    snap = project()
    got = plan(
        snap,
        layout,
        host(packages={"pyyaml": "5.4.1"}),
        Options(),
        requires_dist={"pyyaml": ()},
        imports=(ImportPin("pyyaml", "5.4.1", "yaml", "bot.py:2"),),
    )
    assert "pyyaml==5.4.1" in got.locks["requirements.lock"]
    assert any("pinned what the code imports" in w for w in got.warnings)


# --------------------------------------------------------------------------- Procfile parser


@given(st.text())
def test_procfile_parser_never_crashes_and_names_are_unique(text: str) -> None:
    parsed = parse_procfile(text)
    names = [n for n, _ in parsed.processes]
    assert len(names) == len(set(names))
    assert all(cmd.strip() == cmd and cmd for _, cmd in parsed.processes)


@given(
    st.lists(
        st.tuples(
            st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True),
            st.from_regex(r"[a-z][a-z0-9 .:$=-]{0,30}[a-z0-9]", fullmatch=True),
        ),
        min_size=1,
        max_size=5,
        unique_by=lambda t: t[0],
    )
)
def test_procfile_round_trips(processes: list[tuple[str, str]]) -> None:
    text = "".join(f"{n}: {c}\n" for n, c in processes)
    assert parse_procfile(text).processes == tuple(processes)


def test_env_refs_are_a_tuple_of_envref() -> None:
    # guards the builder used above: env refs carry their source
    assert isinstance(project(env_refs=("A",)).declared.env_refs[0], EnvRef)  # type: ignore[union-attr]
    assert lock("x", "1").version == "1"


def test_an_exact_patch_only_on_an_archived_debian_moves_within_its_line() -> None:
    c = choose_python(
        host=None, host_label="project", host_fits=None, version_files={"runtime.txt": "python-3.6.5"}, requires=None
    )
    assert c.image == "python:3.6.15-slim-bullseye"
    assert any("archived" in w and "3.6.15" in w for w in c.warnings)


def test_requirement_files_requirements_txt_does_not_reach_are_not_installed(tmp_path: Path) -> None:
    layout = _layout(
        tmp_path,
        {
            "requirements.txt": "-r requirements/heroku.txt\n",
            "requirements/heroku.txt": "-r common.txt\ngunicorn==19.7.1\n",
            "requirements/common.txt": "flask==0.12.2\n",
            "requirements/docker.txt": "pymysql==0.7.11\n",
        },
    )
    assert layout.requirements_closure == frozenset(
        {"requirements.txt", "requirements/heroku.txt", "requirements/common.txt"}
    )
    snap = project(
        (
            req("gunicorn", "==19.7.1", source="requirements/heroku.txt:2"),
            req("flask", "==0.12.2", source="requirements/common.txt:1"),
            req("pymysql", "==0.7.11", source="requirements/docker.txt:1"),
        )
    )
    got = plan(snap, layout, None, Options())
    assert "pymysql" not in got.locks["requirements.lock"]
    assert "flask==0.12.2" in got.locks["requirements.lock"]


def test_a_vcs_requirement_the_lock_cannot_version_is_installed_from_its_url_with_git() -> None:
    snap = project(
        (
            req("flasgger", "*", source="Pipfile:3"),
            req("pyyaml", "", source="Pipfile:4", url="git+https://example.invalid/pyyaml.git"),
        ),
        locks=(lock("flasgger", "0.9.0", source="Pipfile.lock", hashes=("sha256:" + "a" * 64,)),),
    )
    got = plan(snap, PY, None, Options())
    text = got.locks["requirements.lock"]
    assert "pyyaml @ git+https://example.invalid/pyyaml.git" in text
    assert "--hash" not in text  # pip's hash mode is all or nothing
    builder = got.stage("builder")
    assert builder is not None and "git" in [p for s in builder.find(SystemPackages) for p in s.packages]
    assert any("records no version for pyyaml" in w for w in got.warnings)


def test_extras_a_locked_distribution_asks_of_another_are_written_on_its_line() -> None:
    snap = project(
        (req("fastapi-cli", "", source="pyproject.toml:5"),),
        locks=(lock("fastapi-cli", "0.0.13", source="uv.lock"), lock("uvicorn", "0.37.0", source="uv.lock")),
    )
    requires = {"fastapi-cli": ("uvicorn[standard]>=0.15.0",), "uvicorn": ()}
    got = plan(snap, PY, None, Options(), requires_dist=requires)
    text = got.locks["requirements.lock"]
    assert "uvicorn[standard]==0.37.0" in text and "\nuvicorn==0.37.0" in text
