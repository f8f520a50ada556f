"""Environment variable references: names from templates, Python, JS/TS and compose files."""

from __future__ import annotations

from pathlib import Path

import pytest

from envcheck.errors import ParseError
from envcheck.parsers.env_refs import compose_refs, js_refs, parse, python_refs, template_refs

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"


def names(refs: tuple[object, ...]) -> list[tuple[str, str]]:
    return [(r.name, r.source) for r in refs]  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- templates


def test_template_names_never_values_and_commented_lines_skipped() -> None:
    text = "# Copy to .env\nDATABASE_URL=postgres://u:hunter2@db/app\nexport SECRET_KEY=\n# MAIL_PORT=25\n\nDEBUG\nnot a line\n"
    refs = template_refs(text, ".env.example")
    assert names(refs) == [
        ("DATABASE_URL", ".env.example:2"),
        ("SECRET_KEY", ".env.example:3"),
        ("DEBUG", ".env.example:6"),
    ]
    assert "hunter2" not in repr(refs)


def test_dotenv_itself_is_never_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SECRET_KEY=real-value\n", encoding="utf-8")
    assert parse(tmp_path / ".env", tmp_path).env_refs == ()


@pytest.mark.parametrize(
    ("relpath", "count", "some"),
    [
        ("healthchecks__healthchecks/docker/.env.example", 78, ("DB_PASSWORD", "docker/.env.example:7")),
        ("hagopj13__node-express-boilerplate/.env.example", 12, ("JWT_SECRET", ".env.example:9")),
        ("wagtail__bakerydemo/.env.example", 0, None),  # every directive there is commented out
    ],
)
def test_corpus_env_examples(relpath: str, count: int, some: tuple[str, str] | None) -> None:
    root = CORPUS / relpath.split("/", maxsplit=1)[0]
    declared = parse(CORPUS / relpath, root)
    got = names(declared.env_refs)
    assert len(got) == count
    if some is not None:
        assert some in got
    assert declared.files == (relpath.split("/", 1)[1],)
    text = (CORPUS / relpath).read_text(encoding="utf-8")
    values = [line.split("=", 1)[1] for line in text.splitlines() if "=" in line and not line.startswith("#")]
    dumped = repr(declared.to_dict())
    assert not any(v and len(v) > 6 and v in dumped for v in values)


# --------------------------------------------------------------------------- python


def test_python_forms() -> None:
    src = """
import os
import os as _os
from os import environ, getenv as ge
from os import environ as E

A = os.environ["A"]
B = os.environ.get("B", "x")
C = os.getenv("C")
D = environ["D"]
E_ = ge("E")
os.environ.setdefault("F", "1")
G = _os.environ.get("G")
H = E.get("H")
if "I" in os.environ:
    pass
J = os.environ.pop("J", None)
name = "DYNAMIC"
K = os.environ[name]           # not a literal: unknowable
L = settings.get("L")          # not the environment
"""
    refs = python_refs(src, "app/settings.py")
    assert [r.name for r in refs] == ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J"]
    assert refs[0].source == "app/settings.py:7"


def test_python_syntax_error_records_nothing() -> None:
    assert python_refs("import os\nos.environ['A'\n", "broken.py") == ()
    assert python_refs(b"\x00\x01", "nul.py") == ()
    assert python_refs("x = (" * 200 + ")" * 200, "deep.py") == ()


def test_python_file_parse(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    path = tmp_path / "pkg" / "config.py"
    path.write_text("import os\nTOKEN = os.getenv('API_TOKEN')\n", encoding="utf-8")
    declared = parse(path, tmp_path)
    assert names(declared.env_refs) == [("API_TOKEN", "pkg/config.py:2")]
    assert declared.files == ()  # source code is not a manifest


def test_python_file_with_latin1_coding_cookie(tmp_path: Path) -> None:
    path = tmp_path / "legacy.py"
    path.write_bytes(b"# -*- coding: latin-1 -*-\nimport os\n# caf\xe9\nX = os.environ['CAFE_URL']\n")
    assert names(parse(path, tmp_path).env_refs) == [("CAFE_URL", "legacy.py:4")]


# --------------------------------------------------------------------------- javascript


def test_js_forms_and_comments() -> None:
    src = """// process.env.IN_LINE_COMMENT
/* process.env.IN_BLOCK
   process.env.STILL_IN_BLOCK */
const port = process.env.PORT || 3000;
const url = process.env["DATABASE_URL"];
const { API_KEY, API_URL: base, ...rest } = process.env;
const s = "process.env.IN_STRING";
const t = `${process.env.IN_TEMPLATE}`;
const v = import.meta.env.VITE_API_BASE ?? import.meta.env?.VITE_OTHER;
"""
    refs = js_refs(src, "src/index.ts")
    assert names(refs) == [
        ("PORT", "src/index.ts:4"),
        ("DATABASE_URL", "src/index.ts:5"),
        ("API_KEY", "src/index.ts:6"),
        ("API_URL", "src/index.ts:6"),
        ("IN_TEMPLATE", "src/index.ts:8"),
        ("VITE_API_BASE", "src/index.ts:9"),
        ("VITE_OTHER", "src/index.ts:9"),
    ]


def test_minified_and_oversized_js_skipped(tmp_path: Path) -> None:
    (tmp_path / "vendor.min.js").write_text("process.env.X", encoding="utf-8")
    big = tmp_path / "bundle.js"
    big.write_text("process.env.BIG;" + " " * (1024 * 1024 + 10), encoding="utf-8")
    assert parse(tmp_path / "vendor.min.js", tmp_path).env_refs == ()
    assert parse(big, tmp_path).env_refs == ()


# --------------------------------------------------------------------------- compose

COMPOSE = """\
services:
  web:
    image: "shop:${TAG:-latest}"
    env_file: .env
    environment:
      - DJANGO_SETTINGS_MODULE=shop.settings
      - SECRET_KEY
      - DATABASE_URL=postgres://shop:${POSTGRES_PASSWORD}@db/shop
  db:
    image: postgres:16
    environment:
      POSTGRES_USER: shop
      POSTGRES_PASSWORD: $POSTGRES_PASSWORD
      PRICE: $$5
"""


def test_compose_environment_list_and_mapping_and_interpolation() -> None:
    refs = compose_refs(COMPOSE, "docker-compose.yml")
    assert names(refs) == [
        ("TAG", "docker-compose.yml:3"),
        ("DJANGO_SETTINGS_MODULE", "docker-compose.yml:6"),
        ("SECRET_KEY", "docker-compose.yml:7"),
        ("DATABASE_URL", "docker-compose.yml:8"),
        ("POSTGRES_PASSWORD", "docker-compose.yml:8"),
        ("POSTGRES_USER", "docker-compose.yml:12"),
        ("POSTGRES_PASSWORD", "docker-compose.yml:13"),
        ("PRICE", "docker-compose.yml:14"),
    ]


def test_compose_invalid_yaml_names_file_and_line() -> None:
    with pytest.raises(ParseError) as exc:
        compose_refs("services:\n  web:\n    environment: [\n", "compose.yaml")
    assert str(exc.value).startswith("compose.yaml:")


def test_compose_alias_bomb_is_cheap() -> None:
    lines = ['a0: &a0 ["${X}"]'] + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 12)]
    refs = compose_refs("\n".join(lines) + "\n", "compose.yml")
    assert names(refs) == [("X", "compose.yml:1")]


def test_compose_empty_or_odd_shapes() -> None:
    assert compose_refs("", "compose.yml") == ()
    assert compose_refs("services: [1, 2]\n", "compose.yml") == ()
    assert compose_refs("services:\n  web:\n    environment: 3\n", "compose.yml") == ()


def test_python_warnings_in_user_code_stay_quiet(recwarn: pytest.WarningsRecorder) -> None:
    refs = python_refs('import os\nX = os.environ["RE_PATTERN"]\nP = "\\d+"\n', "regex.py")
    assert [r.name for r in refs] == ["RE_PATTERN"]
    assert not [w for w in recwarn if issubclass(w.category, SyntaxWarning)]


def test_django_environ_and_python_decouple() -> None:
    src = """
import environ
from decouple import config

env = environ.Env(DEBUG=(bool, False))
SECRET_KEY = env("SECRET_KEY")
DEBUG = env.bool("DEBUG")
DATABASES = {"default": env.db()}
CACHES = {"default": env.cache("REDIS_URL")}
API_KEY = config("API_KEY", default="")
other = {}.get("NOT_ENV")
"""
    assert names(python_refs(src, "settings.py")) == [
        ("DEBUG", "settings.py:5"),
        ("SECRET_KEY", "settings.py:6"),
        ("DEBUG", "settings.py:7"),
        ("DATABASE_URL", "settings.py:8"),
        ("REDIS_URL", "settings.py:9"),
        ("API_KEY", "settings.py:10"),
    ]


def _unfiltered(source: bytes | str, rel: str) -> tuple[object, ...]:
    from unittest import mock

    from envcheck.parsers import env_refs

    with mock.patch.object(env_refs, "_may_refer", lambda _source: True):
        return env_refs.python_refs(source, rel)


def test_files_that_never_name_the_environment_are_not_parsed_and_lose_nothing() -> None:
    # Real Python of every kind: the corpus, the fixtures, envcheck itself and the standard
    # library's top level (os, subprocess, sysconfig... read the environment; most do not).
    import os

    repo = Path(__file__).resolve().parents[2]
    files = sorted(
        [
            *(repo / "tests" / "data" / "corpus").rglob("*.py"),
            *(repo / "fixtures").rglob("*.py"),
            *(repo / "envcheck").rglob("*.py"),
            *Path(os.__file__).parent.glob("*.py"),
        ]
    )
    assert len(files) > 300
    for path in files:
        data = path.read_bytes()
        assert python_refs(data, "x.py") == _unfiltered(data, "x.py"), path


@pytest.mark.parametrize(
    "source",
    [
        "import os\nX = os.environ['A']\n",
        "from os import getenv as g\ng('B')\n",
        "import environ\nenv = environ.Env(DEBUG=(bool, False))\n",
        "from decouple import config\nSECRET = config('SECRET_KEY')\n",
        "from decouple import config as c\nDEBUG = c('DEBUG', default=False)\n",
        "import os\nos.ｅnviron['WIDE']\n",  # full-width e: Python reads it as os.environ
        "import os\nprint('no environment here')\n",
        "x = 1\n",
    ],
)
def test_the_shortcut_agrees_with_the_parser(source: str) -> None:
    if "import" in source and "print" not in source and "x = 1" not in source:
        assert python_refs(source, "x.py") != ()  # each of these refers to a variable
    assert python_refs(source, "x.py") == _unfiltered(source, "x.py")
    assert python_refs(source.encode(), "x.py") == _unfiltered(source.encode(), "x.py")
