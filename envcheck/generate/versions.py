"""Choosing the exact node version a generated Dockerfile pins (python: :mod:`.interpreter`).

The order is the issue's "source of truth": the version that runs on the
developer's machine (a host or stored snapshot) when the project's own
constraints allow it; else a full ``X.Y.Z`` the project names in a version
file; else the newest *known* release that satisfies what it declares.

``KNOWN_*`` are fallbacks only, used when nothing names an exact version.
They age: a newer patch release is always fine to pin by hand, and a host
snapshot or a full version in ``.python-version``/``.nvmrc`` overrides them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# Newest release of each node major with official bookworm-slim images.
KNOWN_NODE: tuple[str, ...] = ("24.11.1", "22.21.1", "20.19.5", "18.20.8")

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


def choose_node(host: str | None, host_label: str, version_files: Mapping[str, str], engines: str | None) -> Choice:
    """Pick the node version for ``node:X.Y.Z-bookworm-slim``."""
    from envcheck.npm_semver import satisfies

    def ok(v: str) -> bool:
        # An unreadable engines range does not veto a concrete version.
        return not engines or satisfies(v, engines) is not False

    host = host.lstrip("v") if host else None
    warning = None
    if host and _FULL.match(host):
        if ok(host):
            return Choice(host, f"node {host} is the node of the {host_label}")
        warning = f"the {host_label} runs node {host}, outside engines.node {engines}; not pinning it"
    for fname, raw in sorted(version_files.items()):
        if fname.startswith("Dockerfile"):
            continue
        v = _clean(raw, ("nodejs ", "node ", "v"))
        if _FULL.match(v) and ok(v):
            return Choice(v, f"node {v} is named in {fname}", warning)
        if re.match(r"^\d+(\.\d+)?$", v):
            for known in KNOWN_NODE:
                if (known == v or known.startswith(v + ".")) and ok(known):
                    return Choice(known, f"{fname} names node {v}; {known} is its newest known release", warning)
    for known in KNOWN_NODE:
        if ok(known) and engines:
            return Choice(known, f"{known} is the newest known release satisfying engines.node {engines}", warning)
    fallback = KNOWN_NODE[1]
    return Choice(
        fallback,
        f"nothing names a node version; {fallback} is the newest known release of an LTS line",
        warning or "no node version found on the host or in the project; pinned a default — check it",
    )


def debian_codename(distro: str | None) -> str:
    """``debian 12`` -> ``bookworm``; anything else -> the default."""
    if distro:
        m = re.match(r"^debian\s+(\d+)", distro.strip().lower())
        if m and m.group(1) in DEBIAN_CODENAMES:
            return DEBIAN_CODENAMES[m.group(1)]
    return DEFAULT_CODENAME
