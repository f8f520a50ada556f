"""Pipfile.lock, poetry.lock and uv.lock on small realistic inputs."""

from __future__ import annotations

import pytest

from envcheck.errors import ParseError
from envcheck.parsers import pipfile_lock, poetry_lock, uv_lock

PIPFILE_LOCK = """\
{
    "_meta": {"requires": {"python_version": "3.8"}, "pipfile-spec": 6},
    "default": {
        "requests": {
            "hashes": ["sha256:aaa", "sha256:bbb"],
            "markers": "python_version >= '3.7'",
            "version": "==2.31.0"
        },
        "mylib": {"editable": true, "path": "."}
    },
    "develop": {
        "pytest": {"hashes": ["sha256:ccc"], "version": "==7.4.3"}
    }
}
"""


def test_pipfile_lock_sections() -> None:
    d = pipfile_lock.parse_text(PIPFILE_LOCK)
    got = [(lk.name, lk.version, lk.dev, lk.source, lk.hashes) for lk in d.locks]
    assert got == [
        ("requests", "2.31.0", False, "Pipfile.lock:4", ("sha256:aaa", "sha256:bbb")),
        ("pytest", "7.4.3", True, "Pipfile.lock:12", ("sha256:ccc",)),
    ]
    assert d.locks[0].marker == "python_version >= '3.7'"
    assert d.python is not None and dict(d.python.version_files) == {"Pipfile.lock": "3.8"}


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('{"default": {\n  "a": {"version": ', 2, "invalid JSON"),
        ("[]", 1, "expected a JSON object"),
        ('{"default": {"a": {"version": 3}}}', 1, "version must be a string"),
    ],
)
def test_pipfile_lock_errors(text: str, line: int, fragment: str) -> None:
    with pytest.raises(ParseError) as err:
        pipfile_lock.parse_text(text)
    assert str(err.value).startswith(f"Pipfile.lock:{line}: ") and fragment in str(err.value)


POETRY_21 = """\
[[package]]
name = "Requests"
version = "2.31.0"
optional = false
python-versions = ">=3.7"
groups = ["main", "dev"]
markers = {main = "python_version >= \\"3.8\\"", dev = "sys_platform == \\"linux\\""}
files = [
    {file = "requests-2.31.0-py3-none-any.whl", hash = "sha256:aaa"},
    {file = "requests-2.31.0.tar.gz", hash = "sha256:bbb"},
]

[[package]]
name = "pytest"
version = "7.4.3"
groups = ["dev"]
files = []

[metadata]
lock-version = "2.1"
python-versions = "^3.8"
content-hash = "x"
"""


def test_poetry_lock_2_1_groups_and_marker_tables() -> None:
    d = poetry_lock.parse_text(POETRY_21)
    assert [(lk.name, lk.version, lk.dev, lk.source) for lk in d.locks] == [
        ("requests", "2.31.0", False, "poetry.lock:2"),
        ("pytest", "7.4.3", True, "poetry.lock:14"),
    ]
    assert d.locks[0].hashes == ("sha256:aaa", "sha256:bbb")
    assert d.locks[0].marker == '(python_version >= "3.8") or (sys_platform == "linux")'


def test_poetry_lock_1_x_category_and_metadata_files() -> None:
    text = (
        '[[package]]\nname = "six"\nversion = "1.16.0"\ncategory = "dev"\n\n'
        '[metadata]\nlock-version = "1.1"\n\n[metadata.files]\nsix = [\n'
        '    {file = "six-1.16.0.tar.gz", hash = "sha256:ddd"},\n]\n'
    )
    d = poetry_lock.parse_text(text)
    assert [(lk.name, lk.dev, lk.hashes) for lk in d.locks] == [("six", True, ("sha256:ddd",))]


def test_poetry_lock_unknown_major_is_refused() -> None:
    with pytest.raises(ParseError, match=r"^poetry.lock:2: unsupported poetry.lock lock-version '3.0'"):
        poetry_lock.parse_text('[metadata]\nlock-version = "3.0"\n')


UV_LOCK = """\
version = 1
revision = 3
requires-python = ">=3.11"

[[package]]
name = "demo"
version = "0.1.0"
source = { editable = "." }
dependencies = [{ name = "httpx", extra = ["http2"] }]

[package.optional-dependencies]
pg = [{ name = "psycopg" }]

[package.dev-dependencies]
dev = [{ name = "pytest" }, { name = "httpx" }]

[[package]]
name = "httpx"
version = "0.27.0"
source = { registry = "https://index.invalid/simple" }
dependencies = [{ name = "idna" }]
sdist = { url = "https://files.invalid/httpx-0.27.0.tar.gz", hash = "sha256:s1", size = 1 }
wheels = [{ url = "https://files.invalid/httpx-0.27.0-py3-none-any.whl", hash = "sha256:w1", size = 1 }]

[package.optional-dependencies]
http2 = [{ name = "h2" }]
socks = [{ name = "socksio" }]

[[package]]
name = "h2"
version = "4.1.0"
source = { registry = "https://index.invalid/simple" }

[[package]]
name = "socksio"
version = "1.0.0"
source = { registry = "https://index.invalid/simple" }

[[package]]
name = "idna"
version = "3.7"
source = { registry = "https://index.invalid/simple" }

[[package]]
name = "psycopg"
version = "3.2.1"
source = { registry = "https://index.invalid/simple" }

[[package]]
name = "pytest"
version = "8.2.0"
source = { registry = "https://index.invalid/simple" }
dependencies = [{ name = "iniconfig" }]

[[package]]
name = "iniconfig"
version = "2.0.0"
resolution-markers = ["python_full_version < '3.12'", "python_full_version >= '3.13'"]
source = { registry = "https://index.invalid/simple" }
"""


def test_uv_lock_roots_dev_reachability_and_hashes() -> None:
    d = uv_lock.parse_text(UV_LOCK)
    by = {lk.name: lk for lk in d.locks}
    assert "demo" not in by, "the project itself is not a third-party lock"
    assert by["httpx"].hashes == ("sha256:s1", "sha256:w1") and by["httpx"].source == "uv.lock:18"
    assert {n for n, lk in by.items() if lk.dev} == {"pytest", "iniconfig"}
    assert not by["h2"].dev and not by["psycopg"].dev and not by["idna"].dev
    assert not by["socksio"].dev  # reached by nothing: not claimed to be dev
    assert by["iniconfig"].marker == "python_full_version < '3.12' or python_full_version >= '3.13'"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("version = 2\n", "unsupported uv.lock version 2"),
        ("revision = 3\n", "not a uv.lock"),
        ("version = 1\n[[package]]\nname = 1\n", "needs a string name"),
    ],
)
def test_uv_lock_errors(text: str, fragment: str) -> None:
    with pytest.raises(ParseError, match=fragment):
        uv_lock.parse_text(text)


def test_uv_lock_records_the_extras_locked_packages_ask_of_each_other() -> None:
    """uv-docker-example: fastapi-cli asks uvicorn[standard]; pip's hash mode needs a line naming it."""
    text = """\
version = 1

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }
dependencies = [{ name = "fastapi-cli" }]

[[package]]
name = "fastapi-cli"
version = "0.0.13"
source = { registry = "https://pypi-index.invalid/simple" }
dependencies = [{ name = "uvicorn", extra = ["standard"] }]

[[package]]
name = "uvicorn"
version = "0.37.0"
source = { registry = "https://pypi-index.invalid/simple" }

[package.optional-dependencies]
standard = [{ name = "watchfiles" }]

[[package]]
name = "watchfiles"
version = "1.1.0"
source = { registry = "https://pypi-index.invalid/simple" }
"""
    locks = {lk.name: lk for lk in uv_lock.parse_text(text).locks}
    assert locks["uvicorn"].extras == ("standard",)
    assert locks["fastapi-cli"].extras == () and "watchfiles" in locks
    from envcheck.generate import pylock

    lock = pylock.PyLock(
        tuple(pylock.LockLine(n, f"{n}=={lk.version}") for n, lk in sorted(locks.items())), "uv.lock", (), ()
    )
    got = pylock.with_requested_extras(lock, None, {}, locked_extras={"uvicorn": {"standard"}})
    assert [line.requirement for line in got.lines if line.name == "uvicorn"] == [
        "uvicorn==0.37.0",
        "uvicorn[standard]==0.37.0",
    ]
