"""Dockerfile parsing: base images, installs, ENV/ARG names, suppressions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envcheck.errors import EnvcheckError, ParseError
from envcheck.parsers.dockerfile import expand, image_runtime, parse, parse_text, split_image_ref
from envcheck.snapshot import Declared

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SECRET = "k9#v2Lr8mQ7xTz4WpN1bYc6HsJ0dFgE3uA5oRiK8"


def installs(script: str) -> list[tuple[str, str, tuple[str, ...], tuple[str, ...]]]:
    d = parse_text(f"FROM python:3.11-slim\nRUN {script}\n", "Dockerfile")
    return [(i.tool, i.action, i.packages, i.files) for i in d.installs]


# --------------------------------------------------------------------------- FROM


def test_global_arg_substitution_platform_flag_and_stage_name() -> None:
    d = parse_text(
        "ARG PY=3.11\nARG VARIANT=slim-bookworm\n"
        "FROM --platform=$BUILDPLATFORM python:${PY}-${VARIANT} AS build\n"
        "FROM build AS test\n"
        "FROM BUILD\n",  # stage names are case-insensitive
        "Dockerfile",
    )
    assert [(b.ref, b.source, b.stage, b.raw) for b in d.base_images] == [
        ("python:3.11-slim-bookworm", "Dockerfile:3", "build", "python:${PY}-${VARIANT}")
    ]


def test_arg_without_default_stays_as_written() -> None:
    d = parse_text("ARG BASE_IMAGE\nFROM $BASE_IMAGE\n", "Dockerfile")
    assert [b.ref for b in d.base_images] == ["$BASE_IMAGE"]


def test_default_operator_and_scratch() -> None:
    d = parse_text(
        "ARG TAG\nFROM node:${TAG:-20.11.1-alpine} AS web\nFROM scratch\nCOPY --from=web /a /a\n", "x/Dockerfile"
    )
    assert [(b.ref, b.source) for b in d.base_images] == [("node:20.11.1-alpine", "x/Dockerfile:2")]
    assert d.node is not None and dict(d.node.version_files) == {"x/Dockerfile:2": "20.11.1"}


def test_args_after_from_do_not_substitute_into_later_from() -> None:
    d = parse_text("FROM python:3.11\nARG PY=3.12\nFROM python:${PY}\n", "Dockerfile")
    assert [b.ref for b in d.base_images] == ["python:3.11", "python:${PY}"]


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("python:3.11.2-slim-bookworm@sha256:" + "a" * 64, ("python", "3.11.2")),
        ("python:3.12-slim", ("python", "3.12")),
        ("python:3-alpine", ("python", "3")),
        ("docker.io/library/python:3.11", ("python", "3.11")),
        ("python:latest", None),
        ("python", None),
        ("python@sha256:" + "b" * 64, None),
        ("pypy:3.10-slim", ("python", "3.10")),
        ("node:20", ("node", "20")),
        ("node:20.11.1-bookworm-slim", ("node", "20.11.1")),
        ("node:iron-alpine", ("node", "20")),
        ("node:lts-iron", ("node", "20")),
        ("node:lts", None),
        ("ghcr.io/acme/python:3.11", None),  # not the official image: its tags mean anything
        ("registry.example:5000/python:3.11", None),
        ("ubuntu:22.04", None),
    ],
)
def test_image_runtime(ref: str, expected: tuple[str, str] | None) -> None:
    assert image_runtime(ref) == expected


def test_split_image_ref_with_registry_port() -> None:
    assert split_image_ref("registry.example:5000/team/app:1.2@sha256:" + "c" * 64) == (
        "registry.example:5000/team/app",
        "1.2",
        "sha256:" + "c" * 64,
    )
    assert split_image_ref("localhost:5000/app") == ("localhost:5000/app", None, None)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("${A}", "1"),
        ("$A-$B", "1-"),
        ("${UNSET:-x}", "x"),
        ("${EMPTY:-x}", "x"),
        ("${EMPTY-x}", ""),
        ("${A:+alt}", "alt"),
        ("${EMPTY:+alt}", ""),
        ("${NOVALUE}", "${NOVALUE}"),
    ],
)
def test_expand(word: str, expected: str) -> None:
    assert expand(word, {"A": "1", "B": "", "EMPTY": "", "NOVALUE": None}) == expected


# --------------------------------------------------------------------------- RUN installs


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("pip install flask requests", [("pip", "install", ("flask", "requests"), ())]),
        (
            "pip3 install --no-cache-dir -U 'flask>=3' gunicorn==22.0.0",
            [("pip", "install", ("flask>=3", "gunicorn==22.0.0"), ())],
        ),
        ("python -m pip install --upgrade pip setuptools", [("pip", "install", ("pip", "setuptools"), ())]),
        (
            "python3.11 -m pip install -r requirements.txt -c constraints.txt",
            [("pip", "install", (), ("requirements.txt", "constraints.txt"))],
        ),
        ("/opt/venv/bin/pip install -rrequirements/prod.txt", [("pip", "install", (), ("requirements/prod.txt",))]),
        (
            "pip install --requirement=req.txt --index-url https://mirror.example/simple django",
            [("pip", "install", ("django",), ("req.txt",))],
        ),
        (
            "pip install -e . && pip install ./wheels/app-1.0-py3-none-any.whl",
            [("pip", "install", (), ()), ("pip", "install", (), ())],
        ),
        ("pip --no-cache-dir install uvicorn", [("pip", "install", ("uvicorn",), ())]),
        ("pip download flask; pip uninstall -y flask; pip freeze > req.txt", []),
        ("uv pip install --system httpx", [("pip", "install", ("httpx",), ())]),
        ("PIP_NO_CACHE_DIR=1 sudo pip install celery", [("pip", "install", ("celery",), ())]),
        (
            "apt-get update && apt-get install -y curl && pip install 'uvicorn[standard]'",
            [("pip", "install", ("uvicorn[standard]",), ())],
        ),
        ("pip install $EXTRA_PACKAGES", [("pip", "install", (), ())]),
        ("npm install", [("npm", "install", (), ())]),
        ("npm i -g npm@10.2.4 pm2", [("npm", "install", ("npm@10.2.4", "pm2"), ())]),
        ("npm ci --omit=dev", [("npm", "ci", (), ())]),
        ("npm --prefix /app install express@4", [("npm", "install", ("express@4",), ())]),
        ("npm run build && npm test", []),
        ("yarn", [("yarn", "install", (), ())]),
        ("yarn install --frozen-lockfile", [("yarn", "install", (), ())]),
        ("yarn global add serve", [("yarn", "add", ("serve",), ())]),
        ("yarn build", []),
        ("pnpm install --frozen-lockfile", [("pnpm", "install", (), ())]),
        ("pnpm add @types/node@20", [("pnpm", "add", ("@types/node@20",), ())]),
        ("corepack enable && corepack pnpm install", [("pnpm", "install", (), ())]),
        ("sh -c 'npm install left-pad'", [("npm", "install", ("left-pad",), ())]),
        ("pip install flask 2>/dev/null || true", [("pip", "install", ("flask",), ())]),
    ],
)
def test_run_install_commands(script: str, expected: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]]) -> None:
    assert installs(script) == expected


def test_line_continuations_and_source_line_is_the_instruction_start() -> None:
    d = parse_text(
        "FROM python:3.11\n\nRUN apt-get update \\\n    && pip install --no-cache-dir \\\n        flask \\\n        gunicorn\n",
        "Dockerfile",
    )
    assert [(i.packages, i.source) for i in d.installs] == [(("flask", "gunicorn"), "Dockerfile:3")]


def test_exec_form_run() -> None:
    d = parse_text(
        'FROM node:20\nRUN ["npm", "install", "express"]\nRUN ["/bin/sh", "-c", "pip install x && npm ci"]\n',
        "Dockerfile",
    )
    assert [(i.tool, i.action, i.packages, i.source) for i in d.installs] == [
        ("npm", "install", ("express",), "Dockerfile:2"),
        ("pip", "install", ("x",), "Dockerfile:3"),
        ("npm", "ci", (), "Dockerfile:3"),
    ]


def test_heredoc_run_and_mount_flags() -> None:
    d = parse_text(
        "FROM python:3.12\n"
        "RUN --mount=type=cache,target=/root/.cache <<EOF\n"
        "set -e\n"
        "pip install fastapi\n"
        "EOF\n"
        "RUN --mount=type=cache,target=/root/.npm npm ci\n",
        "Dockerfile",
    )
    assert [(i.tool, i.action, i.packages, i.source) for i in d.installs] == [
        ("pip", "install", ("fastapi",), "Dockerfile:2"),
        ("npm", "ci", (), "Dockerfile:6"),
    ]


# --------------------------------------------------------------------------- ENV / ARG


def test_env_and_arg_names_with_secret_flag_and_no_secret_values() -> None:
    text = (
        "ARG GITHUB_TOKEN=ghp_0123456789abcdefghijABCDEFGHIJ0123456789\n"
        "FROM python:3.11\n"
        "ARG BUILD_VERSION\n"
        f"ENV DJANGO_SETTINGS_MODULE=shop.settings SECRET_KEY={SECRET} DEBUG=0\n"
        "ENV DATABASE_URL postgres://shop:hunter2@db:5432/shop\n"
        'ENV GREETING="hello world" API_KEY=$API_KEY\n'
    )
    d = parse_text(text, "Dockerfile")
    got = {(v.name, v.kind, v.source, v.has_value, v.secret, v.value) for v in d.dockerfile_vars}
    assert got == {
        ("GITHUB_TOKEN", "ARG", "Dockerfile:1", True, True, None),
        ("BUILD_VERSION", "ARG", "Dockerfile:3", False, False, None),
        ("DJANGO_SETTINGS_MODULE", "ENV", "Dockerfile:4", True, False, "shop.settings"),
        ("SECRET_KEY", "ENV", "Dockerfile:4", True, True, None),
        ("DEBUG", "ENV", "Dockerfile:4", True, False, "0"),
        ("DATABASE_URL", "ENV", "Dockerfile:5", True, True, None),
        ("GREETING", "ENV", "Dockerfile:6", True, False, None),
        ("API_KEY", "ENV", "Dockerfile:6", True, False, None),  # a reference, nothing baked in
    }
    dumped = json.dumps(d.to_dict())
    for secret in (SECRET, "hunter2", "ghp_0123456789"):
        assert secret not in dumped


# --------------------------------------------------------------------------- suppressions


def test_suppressions_on_the_line_before_and_on_the_instruction() -> None:
    d = parse_text(
        "# envcheck: ignore[EC402, EC403]\n"
        "FROM python:latest\n"
        "FROM node:20 AS web # envcheck: ignore[ec402]\n"
        "RUN npm install \\\n"
        "    express # envcheck: ignore\n"
        "RUN pip install flask\n",
        "Dockerfile",
    )
    assert [(s.source, s.rules) for s in d.suppressions] == [
        ("Dockerfile:2", ("EC402", "EC403")),
        ("Dockerfile:3", ("EC402",)),
        ("Dockerfile:4", ()),
    ]
    # The directive is not part of the image reference or the stage name.
    assert [(b.ref, b.stage) for b in d.base_images] == [("python:latest", None), ("node:20", "web")]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("FROM\n", 1),
        ("FROM python:3.11\nENV A='unterminated\n", 2),
        ("FROM --platform=linux/amd64\n", 1),
    ],
)
def test_malformed_dockerfile_is_a_parse_error_with_line(text: str, line: int) -> None:
    with pytest.raises(ParseError) as exc:
        parse_text(text, "docker/Dockerfile.prod")
    assert str(exc.value).startswith(f"docker/Dockerfile.prod:{line}:")


def test_unreadable_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM python:3.11\n\xff\xfe\n")
    with pytest.raises(EnvcheckError) as exc:
        parse(path, tmp_path)
    assert "Dockerfile" in str(exc.value)


def test_empty_and_comment_only_dockerfiles_declare_nothing() -> None:
    assert parse_text("", "Dockerfile") == Declared(files=("Dockerfile",))
    assert parse_text("# just a comment\n\n", "Dockerfile").base_images == ()


# --------------------------------------------------------------------------- fixtures


def test_django_runtime_fixture_dockerfile() -> None:
    root = FIXTURES / "django-runtime"
    d = parse(root / "Dockerfile", root)
    assert [(b.ref, b.source) for b in d.base_images] == [("python:latest", "Dockerfile:1")]
    assert [(i.packages, i.source) for i in d.installs] == [
        (("django", "gunicorn"), "Dockerfile:10"),
        (("psycopg[binary]", "whitenoise"), "Dockerfile:11"),
    ]
    secret = [v for v in d.dockerfile_vars if v.secret]
    assert [(v.name, v.source, v.value) for v in secret] == [("SECRET_KEY", "Dockerfile:7", None)]
    assert d.python is None  # `latest` names no version


def test_clean_pinned_fixture_dockerfile() -> None:
    root = FIXTURES / "clean-pinned"
    d = parse(root / "Dockerfile", root)
    assert all("@sha256:" in b.ref and len(b.ref.split("@sha256:")[1]) == 64 for b in d.base_images)
    assert [(i.tool, i.action, i.packages, i.files) for i in d.installs] == [
        ("npm", "ci", (), ()),
        ("pip", "install", (), ("requirements.txt",)),
    ]
    assert d.python is not None and set(d.python.version_files.values()) == {"3.11.2"}
    assert d.node is not None and set(d.node.version_files.values()) == {"20.11.1"}
    assert not any(v.secret for v in d.dockerfile_vars)
