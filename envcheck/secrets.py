"""Environment values are secrets until proven otherwise (DESIGN.md, Snapshot JSON).

A value is kept only when the variable's *name* is on the allow-list or matches
a safe pattern, *and* the value itself does not look like a credential.  Every
scanner and reporter goes through :func:`keep_value`, so the policy lives here
and nowhere else.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable

from envcheck._regex import LazyPattern

# Names whose values describe the runtime rather than grant access to anything.
SAFE_NAMES: frozenset[str] = frozenset(
    {
        "LANG",
        "LANGUAGE",
        "TZ",
        "PATH",
        "HOME",
        "USER",
        "SHELL",
        "TERM",
        "PWD",
        "HOSTNAME",
        "NODE_ENV",
        "FLASK_APP",
        "FLASK_DEBUG",
        "DJANGO_SETTINGS_MODULE",
        "PYTHONPATH",
        "PYTHONUNBUFFERED",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONHASHSEED",
        "PIP_NO_CACHE_DIR",
        "PIP_DISABLE_PIP_VERSION_CHECK",
        "VIRTUAL_ENV",
        "DEBIAN_FRONTEND",
        "PORT",
        "HOST",
        "DEBUG",
        "LOG_LEVEL",
        "WORKERS",
        "GPG_KEY",
    }
)
SAFE_PATTERNS: tuple[str, ...] = (
    "*_ENV",
    "*_VERSION",
    "LC_*",
    "*PATH",
    "*_PORT",
    "*_HOST",
    "*_LOG_LEVEL",
    "*_DEBUG",
    "*_HOME",
    "*_DIR",
)
# A name containing one of these is never safe, whatever pattern it matches
# (`SECRET_KEY_PATH` is fine to know about, its value still is not shown).
_SENSITIVE_NAME = LazyPattern(
    r"SECRET|PASSW|PASSWD|PWD_|TOKEN|APIKEY|API_KEY|PRIVATE|CREDENTIAL|AUTH|SESSION|COOKIE|SIGNING|DSN|DATABASE_URL"
    # A key as a word of the name: `_KEY`, `KEY_`, and the abbreviations
    # (`STRIPE_SKEY`, `APP_PKEY`, `SIGNKEY`) people use for the same thing.
    r"|(?:^|_)(?:S|P|SIGN|ENC|MASTER|ACCESS|LICENSE|CLIENT)?KEYS?(?:_|$)"
    r"|_URI$|_URL$",
    re.IGNORECASE,
)
# Names whose value is a URL: sensitive only when the URL carries credentials
# (`BASE_URL=https://api.example.com` is configuration; a password or token in
# it is not).
_URL_NAME = LazyPattern(r"(?:_URL|_URI|_ENDPOINT)$", re.IGNORECASE)
# Names whose value is an OpenPGP key id or fingerprint (`GPG_KEY`, php's
# `GPG_KEYS`, `SIGNING_KEY_FINGERPRINT`): public by nature when the value has
# that shape.
_FINGERPRINT_NAME = LazyPattern(r"(?:^|_)(?:GPG|PGP)_?KEYS?(?:_|$)|FINGERPRINT", re.IGNORECASE)
# Words that make a name a credential whatever else it says (`GPG_KEY_PASSPHRASE`).
_CREDENTIAL_WORD = LazyPattern(r"SECRET|PASS|PWD|TOKEN|PRIVATE|CREDENTIAL", re.IGNORECASE)
# Query parameters that carry credentials (`?token=`, `&sig=`, `X-Amz-Signature`).
_SECRET_QUERY = LazyPattern(
    r"(?i)(?:^|[?&;])[\w.-]*(?:token|key|secret|sig|signature|password|passwd|pwd|auth)[\w.-]*="
)

# Value shapes that are credentials whatever the variable is called.
_SECRET_VALUE = LazyPattern(
    r"(AKIA|ASIA)[0-9A-Z]{16}"  # AWS access key id
    r"|gh[pousr]_[A-Za-z0-9]{30,}"  # GitHub tokens
    r"|github_pat_[A-Za-z0-9_]{30,}"
    r"|xox[abpr]-[A-Za-z0-9-]{10,}"  # Slack
    r"|sk_(live|test)_[A-Za-z0-9]{16,}"  # Stripe
    r"|sk-[A-Za-z0-9_-]{20,}"  # OpenAI-style keys
    r"|AIza[0-9A-Za-z_-]{35}"  # Google API key
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"  # URL with user:password
    r"|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.",  # JWT
)


def shannon_entropy(value: str) -> float:
    """Bits per character; random keys score well above English or paths."""
    if not value:
        return 0.0
    counts: dict[str, int] = {}
    for ch in value:
        counts[ch] = counts.get(ch, 0) + 1
    n = len(value)
    from math import log2  # here: most runs test no value

    return -sum(c / n * log2(c / n) for c in counts.values())


def _balanced_case(text: str) -> bool:
    """Random keys mix cases about evenly; words, paths and CamelCase names have a capital per word or none."""
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and 0.3 <= sum(c.isupper() for c in letters) / len(letters) <= 0.7


def _random_segment(segment: str) -> bool:
    # Path segments carry a version or a counter; keys scatter digits among both cases.
    return (
        len(segment) >= 8
        and sum(c.isdigit() for c in segment) >= 2
        and any(c.islower() for c in segment)
        and any(c.isupper() for c in segment)
    )


def _looks_like_path(token: str) -> bool:
    """Slashes separate path segments, which are words; in a base64 key they fall among random characters."""
    letters = [c for c in token if c.isalpha()]
    lower = sum(c.islower() for c in letters)
    # Paths are lower case with a capital per word, or all capitals; keys are neither.
    if (lower and (len(letters) - lower) >= 0.3 * len(letters)) or "+" in token or "=" in token:
        return False
    return not any(_random_segment(seg) for seg in token.split("/"))


def looks_secret_value(value: str) -> bool:
    """True when the value itself has the shape of a credential."""
    if _SECRET_VALUE.search(value):
        return True
    # Long, dense, high-entropy tokens without spaces are keys far more often
    # than they are configuration.
    token = value.strip()
    if len(token) < 20 or any(c.isspace() for c in token) or "://" in token:
        return False
    if "/" in token and _looks_like_path(token):
        return False
    if shannon_entropy(token) < 4.0 or not any(c.isalpha() for c in token):
        return False
    if any(c.isdigit() for c in token):
        return True
    return len(token) >= 24 and _balanced_case(token)


def is_sensitive_name(name: str) -> bool:
    return bool(_SENSITIVE_NAME.search(name))


def is_safe_name(name: str, allow: Iterable[str] = ()) -> bool:
    """True when the variable's value may be recorded (before looking at the value)."""
    upper = name.upper()
    allowed = {a.upper() for a in allow}
    if upper in allowed:
        return True
    if is_sensitive_name(upper):
        return False
    if upper in SAFE_NAMES:
        return True
    return any(fnmatch.fnmatchcase(upper, pattern) for pattern in SAFE_PATTERNS)


def keep_value(name: str, value: str, allow: Iterable[str] = ()) -> bool:
    """May this variable's value be stored in a snapshot or printed?

    Besides the allow-list and safe patterns, an official base image's own
    variable whose value has the shape the image gives it (``PYTHON_VERSION``,
    ``GPG_KEY``'s fingerprint, ``PYTHON_GET_PIP_URL``) is public knowledge.
    """
    if looks_secret_value(value):
        return False
    from envcheck.known_env import is_official_image_value

    return is_safe_name(name, allow) or is_official_image_value(name, value)


def is_public_url(value: str) -> bool:
    """A URL with no credentials: no ``user:password@``, no token-like query parameter or path segment.

    Download locations (``PYTHON_GET_PIP_URL``), API bases (``BASE_URL``) and
    service addresses are configuration. A Slack webhook or a presigned URL
    hides its credential in the path or query, so every segment must also
    fail the credential-shape test.
    """
    v = value.strip()
    m = re.match(r"^([a-z][a-z0-9+.-]*)://([^/?#\s]*)([^\s]*)$", v, re.IGNORECASE)
    if m is None or "@" in m.group(2):
        return False
    rest = m.group(3)
    if _SECRET_QUERY.search(rest.partition("?")[2]):
        return False
    return not any(looks_secret_value(part) for part in re.split(r"[/?&=#;]", rest) if part)


def public_by_shape(name: str, value: str) -> bool:
    """Values that are public by nature although the name sounds sensitive.

    An official base image's own variable with the value shape it has there
    (``GPG_KEY`` = the release manager's fingerprint), an OpenPGP fingerprint
    under a fingerprint name, and a credential-free URL under a URL name.
    A value that itself looks like a credential never gets here.
    """
    from envcheck.known_env import is_fingerprint_list, is_official_image_value

    if is_official_image_value(name, value):
        return True
    if _CREDENTIAL_WORD.search(name):
        return False
    if _FINGERPRINT_NAME.search(name) and is_fingerprint_list(value):
        return True
    return bool(_URL_NAME.search(name)) and is_public_url(value)


def looks_secret(name: str, value: str) -> bool:
    """Would baking ``name=value`` into an image leak a credential? (EC503)"""
    if not value or value.startswith("$"):
        # Empty or a reference to another variable/build arg: nothing baked in.
        return False
    if looks_secret_value(value):
        return True
    if public_by_shape(name, value):
        return False
    return is_sensitive_name(name) and not _is_placeholder(value)


_PLACEHOLDERS = LazyPattern(
    r"^(changeme|change-me|change_me|xxx+|\*+|<.*>|\{\{.*\}\}|none|null|todo|example|dummy|placeholder|your[-_].*|false|true|0|1)$",
    re.IGNORECASE,
)


def _is_placeholder(value: str) -> bool:
    return bool(_PLACEHOLDERS.match(value.strip()))


# `scheme://userinfo@` — userinfo is a token or user:password (pip redacts it the same
# way); ssh's conventional `git@` names no one and stays, and neither is a bare login
# name in an `ssh://user@host` URL a credential (ssh takes no secret in its URL).
_URL_USERINFO = LazyPattern(r"(?i)\b(?<![a-z0-9+.-])(?!ssh://[^/\s:@]+@)([a-z][a-z0-9+.-]*://)(?!git@)[^/\s@]+@")


def redact_url(url: str) -> str:
    """``git+https://user:token@host/x`` → ``git+https://****@host/x``: credentials never reach a snapshot."""
    return _URL_USERINFO.sub(r"\1****@", url)


def redact(text: str) -> str:
    """``text`` with URL credentials and credential-shaped tokens replaced by ``****``.

    Applied to every :class:`~envcheck.errors.EnvcheckError` message, which may
    quote the offending line of a user's file.
    """
    return _SECRET_VALUE.sub("****", redact_url(text))
