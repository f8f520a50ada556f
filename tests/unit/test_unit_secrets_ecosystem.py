"""Secret detection that knows the ecosystem: official base images' ENV and public value shapes are not secrets.

Real values are used where they are public: the CPython release managers'
OpenPGP fingerprints that ``python:*`` images set as ``GPG_KEY``.  Real
credentials — including a key under a harmless or official name — are still
caught.
"""

from __future__ import annotations

import secrets
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envcheck.known_env import official_image_env, provided_by_tool, tool_env
from envcheck.parsers.env_refs import js_refs
from envcheck.scanners.image.detectors import image_facts
from envcheck.secrets import is_public_url, keep_value, looks_secret

# Public keys of CPython release managers (python.org/downloads, "OpenPGP Public Keys").
RELEASE_MANAGER_FINGERPRINTS = (
    "A035C8C19219BA821ECEA86B64E628F8D684696D",  # Pablo Galindo Salgado (3.10, 3.11)
    "7169605F62C751356D054A26A821E680E5FA6305",  # Thomas Wouters (3.12, 3.13)
    "E3FF2839C048B25C084DEBE9B26995E310250568",  # Łukasz Langa (3.8, 3.9)
    "0D96DF4D4110E5C43FBFB17F2D347EA6AA65421D",  # Ned Deily (3.6, 3.7)
)

# The Env of a python:3.9 official image as `docker inspect` shows it (older
# images also carry the get-pip URL and checksum).
OFFICIAL_PYTHON_ENV = [
    "PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG=C.UTF-8",
    "GPG_KEY=E3FF2839C048B25C084DEBE9B26995E310250568",
    "PYTHON_VERSION=3.9.18",
    "PYTHON_PIP_VERSION=23.0.1",
    "PYTHON_SETUPTOOLS_VERSION=58.1.0",
    "PYTHON_GET_PIP_URL=https://github.com/pypa/get-pip/raw/9af82b715db434abb94a0a6f3569f43e72157346/public/get-pip.py",
    "PYTHON_GET_PIP_SHA256=45a2bb8bf2bb5eff16fdd00faef6f29731831c7c59bd9fc2bf1f3bed511ff1fe",
]
OFFICIAL_NODE_ENV = ["NODE_VERSION=20.11.1", "YARN_VERSION=1.22.19"]


def _config(env: list[str]) -> dict[str, object]:
    return {"config": {"Env": env}}


def test_an_official_python_image_raises_no_secret() -> None:
    assert image_facts(_config(OFFICIAL_PYTHON_ENV + OFFICIAL_NODE_ENV), "root", "")["secret_env"] == []


@pytest.mark.parametrize("fingerprint", RELEASE_MANAGER_FINGERPRINTS)
def test_release_manager_fingerprints_are_public_and_kept(fingerprint: str) -> None:
    assert not looks_secret("GPG_KEY", fingerprint)
    assert keep_value("GPG_KEY", fingerprint)


def test_php_style_key_lists_are_public() -> None:
    assert not looks_secret("GPG_KEYS", " ".join(RELEASE_MANAGER_FINGERPRINTS[:2]))


def _rand(n: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(n))


def test_a_key_hidden_under_an_official_name_is_still_caught() -> None:
    hidden = _rand(40)
    env = [f"GPG_KEY={hidden}", f"PYTHON_GET_PIP_URL=https://deploy:{_rand(16)}@example.org/get-pip.py"]
    assert image_facts(_config(env), "root", "")["secret_env"] == ["GPG_KEY", "PYTHON_GET_PIP_URL"]
    assert not keep_value("GPG_KEY", hidden)


def test_a_hex_token_under_a_credential_name_is_still_a_secret() -> None:
    # Hex is a checksum's shape only under a checksum's name.
    assert looks_secret("API_TOKEN", secrets.token_hex(20))
    assert looks_secret("GPG_KEY_PASSPHRASE", secrets.token_hex(20))


@pytest.mark.parametrize(
    ("name", "value", "secret"),
    [
        ("BASE_URL", "https://api.example.com/v1", False),
        ("API_BASE_URL", "http://backend:8000/", False),
        ("DATABASE_URL", "postgres://app:hunter2hunter2@db/app", True),
        ("SENTRY_DSN", "https://1f2e3d4c5b6a@o1.ingest.sentry.io/42", True),
        ("STRIPE_SKEY", "hunter2hunter2", True),
        ("STRIPE_SKEY", "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", True),
        ("APP_SIGNKEY", "correct-horse-battery", True),
        ("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/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", True),
        ("DOWNLOAD_URL", "https://bucket.s3.amazonaws.com/f.tgz?X-Amz-Signature=abc123", True),
        ("MONKEY_PATCH", "on", False),
    ],
)
def test_names_and_shapes(name: str, value: str, secret: bool) -> None:
    assert looks_secret(name, value) is secret


@given(st.from_regex(r"https://[a-z]{3,10}\.example\.org(/[a-z-]{1,12}){0,4}/?", fullmatch=True))
def test_credential_free_urls_are_public(url: str) -> None:
    assert is_public_url(url)
    assert not looks_secret("SERVICE_URL", url)


@given(st.text(alphabet=string.ascii_letters + string.digits, min_size=6, max_size=30))
def test_a_url_with_userinfo_is_never_public(password: str) -> None:
    assert not is_public_url(f"https://user:{password}@example.org/x")


def test_the_data_files_name_their_sources_and_validate() -> None:
    tables = official_image_env()
    assert tables["python"]["GPG_KEY"] == "fingerprint"
    assert {"NODE_VERSION", "YARN_VERSION"} <= set(tables["node"])
    assert "npm" in tool_env()


@pytest.mark.parametrize(
    "name", ["npm_lifecycle_event", "npm_config_registry", "npm_package_version", "npm_execpath", "INIT_CWD"]
)
def test_npm_provided_variables_are_the_tools(name: str) -> None:
    assert provided_by_tool(name) == "npm"


def test_npm_provided_variables_are_not_the_apps_settings() -> None:
    code = "const e = process.env.npm_lifecycle_event;\nconst u = process.env.BASE_URL;\nprocess.env.npm_config_cache\n"
    assert [r.name for r in js_refs(code, "index.js")] == ["BASE_URL"]
