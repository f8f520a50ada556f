"""The secret policy: values only for safe names, never for credential-shaped values."""

from __future__ import annotations

import pytest

from envcheck.secrets import is_safe_name, keep_value, looks_secret, looks_secret_value

SECRET_VALUES = [
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
    "-----BEGIN RSA PRIVATE KEY-----",
    "postgres://app:hunter2@db:5432/app",
    "xoxb-123456789012-abcdefABCDEF",
    "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "9f8e7d6c5b4a39281706f5e4d3c2b1a0ZYXWVUTS",
    # base64 keys carry slashes; this one, under RELEASE_VERSION, once reached a snapshot.
    "1jCaLO/WG0BXqqDgo8lG3h9AYwRwTxFJ98DynoP/",
    "/34Ce0rWa/kIVy/STyi2/7wU4COq/5/ilkS07If/",
    "tUqDuOQnXw1/HWzB++EK+JAafF/8/xjRsZaD/dSg",
    # A key that happens to draw no digit.
    "kmNWfNdvvqQbGDRMwejtFLpcrgXKZtuYlJLIoIxL",
]


@pytest.mark.parametrize("value", SECRET_VALUES)
def test_credential_shapes_are_recognised(value: str) -> None:
    assert looks_secret_value(value)
    # Even under a "safe" name, a credential-shaped value is not kept.
    assert not keep_value("APP_ENV", value)


@pytest.mark.parametrize(
    "value",
    [
        "production",
        "en_US.UTF-8",
        "/usr/local/bin:/usr/bin",
        "3.11.7",
        "Europe/Paris",
        "/usr/local/lib/python3.11/site-packages",
        "/home/User2/MyProject3/src",
        "/Users/JohnSmith/Projects/MyApp",
        "/srv/App2024/Release12/bin",
        "/DATA/EXPORTS/2024/JAN/Q1REPORTS",
        "ThisIsAVeryLongCamelCaseIdentifierName",
        "https://pypi.example/simple/Package2024Index",
    ],
)
def test_configuration_values_are_not_secrets(value: str) -> None:
    assert not looks_secret_value(value)


@pytest.mark.parametrize(
    "name", ["APP_ENV", "NODE_ENV", "PYTHON_VERSION", "LANG", "TZ", "PATH", "LC_ALL", "PYTHONPATH"]
)
def test_safe_names(name: str) -> None:
    assert is_safe_name(name)


@pytest.mark.parametrize(
    "name", ["DATABASE_URL", "SECRET_KEY", "API_TOKEN", "AWS_SECRET_ACCESS_KEY", "STRIPE_KEY", "DB_PASSWORD", "MYSTERY"]
)
def test_other_names_keep_no_value(name: str) -> None:
    assert not keep_value(name, "production")


def test_allow_list_opts_a_name_in() -> None:
    assert keep_value("APP_MODE", "blue", allow=["app_mode"])
    assert not keep_value("APP_MODE", "blue")


@pytest.mark.parametrize(
    ("name", "value", "secret"),
    [
        ("SECRET_KEY", "django-insecure-8f9a7sd6f8a7s6df87a6sdf", True),
        ("SECRET_KEY", "changeme", False),
        ("SECRET_KEY", "", False),
        ("API_TOKEN", "$API_TOKEN", False),
        ("APP_ENV", "production", False),
        ("DOWNLOAD_URL", "https://user:pa55@example.invalid/x", True),
    ],
)
def test_baked_in_secret(name: str, value: str, secret: bool) -> None:
    assert looks_secret(name, value) is secret
