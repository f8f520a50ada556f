"""Choosing the exact interpreter versions a generated Dockerfile pins.

The order is the issue's "source of truth": the version that runs on the
developer's machine (a host or stored snapshot) when the project's own
constraints allow it; else a full ``X.Y.Z`` the project names in a version
file; else the newest *known* release that satisfies what it declares.

``KNOWN_*`` are fallbacks only, used when nothing names an exact version.
They age: a newer patch release is always fine to pin by hand, and a host
snapshot or a full version in ``.python-version`` overrides them.  Node's
version comes from real release data instead (:mod:`.node_releases`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

# Newest patch of each CPython minor with official slim images (fallback table).
KNOWN_PYTHON: tuple[str, ...] = (
    "3.14.0",
    "3.13.9",
    "3.12.12",
    "3.11.14",
    "3.10.19",
    "3.9.24",
    "3.8.20",
)

# Debian release number -> codename, for the tag suffix of python images.
DEBIAN_CODENAMES: Mapping[str, str] = {"11": "bullseye", "12": "bookworm", "13": "trixie"}
DEFAULT_CODENAME = "bookworm"

_FULL = re.compile(r"^\d+\.\d+\.\d+$")


@dataclass(frozen=True, slots=True)
class Choice:
    """A pinned version and the sentence the Dockerfile comment gives for it."""

    version: str
    reason: str
    warning: str | None = None


def _clean(raw: str, prefixes: tuple[str, ...]) -> str:
    text = raw.strip()
    for p in prefixes:
        if text.lower().startswith(p):
            text = text[len(p) :]
    return text.strip()


def _satisfies(version: str, spec: SpecifierSet | None) -> bool:
    if spec is None:
        return True
    try:
        return spec.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False


def _specifier(requires: str | None) -> SpecifierSet | None:
    if not requires:
        return None
    try:
        return SpecifierSet(requires)
    except InvalidSpecifier:
        return None


def _newest_known(known: tuple[str, ...], prefix: str, ok: SpecifierSet | None) -> str | None:
    for v in known:
        if (not prefix or v == prefix or v.startswith(prefix + ".")) and _satisfies(v, ok):
            return v
    return None


def choose_python(
    host: str | None,
    host_label: str,
    version_files: Mapping[str, str],
    requires: str | None,
) -> Choice:
    """Pick the python version for ``python:X.Y.Z-slim-<codename>``."""
    spec = _specifier(requires)
    if host and _FULL.match(host):
        if _satisfies(host, spec):
            return Choice(host, f"python {host} is the interpreter of the {host_label}")
        warning = f"the {host_label} runs python {host}, outside requires-python {requires}; not pinning it"
    else:
        warning = None
    named: list[tuple[str, str]] = []
    for fname, raw in sorted(version_files.items()):
        if fname.startswith("Dockerfile"):
            continue  # a Dockerfile we may be replacing is not a source of truth
        v = _clean(raw, ("python-", "python ", "cpython-"))
        named.append((fname, v))
    for fname, v in named:
        if _FULL.match(v) and _satisfies(v, spec):
            return Choice(v, f"python {v} is named in {fname}", warning)
    for fname, v in named:
        if re.match(r"^\d+\.\d+$", v):
            found = _newest_known(KNOWN_PYTHON, v, spec)
            if found:
                return Choice(found, f"{fname} names python {v}; {found} is its newest known patch release", warning)
    found = _newest_known(KNOWN_PYTHON, "", spec)
    if found and spec is not None:
        return Choice(found, f"{found} is the newest known release satisfying requires-python {requires}", warning)
    fallback = KNOWN_PYTHON[1]
    return Choice(
        fallback,
        f"nothing names a python version; {fallback} is the newest known release of a mature minor",
        warning or "no python version found on the host or in the project; pinned a default — check it",
    )


def debian_codename(distro: str | None) -> str:
    """``debian 12`` -> ``bookworm``; anything else -> the default."""
    if distro:
        m = re.match(r"^debian\s+(\d+)", distro.strip().lower())
        if m and m.group(1) in DEBIAN_CODENAMES:
            return DEBIAN_CODENAMES[m.group(1)]
    return DEFAULT_CODENAME
