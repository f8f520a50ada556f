"""What a version choice carries, and the Debian codename of an image tag.

The choices themselves live with their ecosystem: Python's in
:mod:`.interpreter` (with its data table), Node's in :mod:`.node`, from real
release data (:mod:`.node_releases`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from envcheck.record import record

# Debian release number -> codename, for the tag suffix of python images.
DEBIAN_CODENAMES: Mapping[str, str] = {"11": "bullseye", "12": "bookworm", "13": "trixie"}
DEFAULT_CODENAME = "bookworm"


@record
class Choice:
    """A pinned version and the sentence the Dockerfile comment gives for it."""

    version: str
    reason: str
    warning: str | None = None


def debian_codename(distro: str | None) -> str:
    """``debian 12`` -> ``bookworm``; anything else -> the default."""
    if distro:
        m = re.match(r"^debian\s+(\d+)", distro.strip().lower())
        if m and m.group(1) in DEBIAN_CODENAMES:
            return DEBIAN_CODENAMES[m.group(1)]
    return DEFAULT_CODENAME
