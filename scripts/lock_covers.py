"""Exit 1 when the installed environment lacks what pyproject.toml declares.

scripts/test installs requirements/test.txt with --require-hashes and then the
project with --no-deps, so nothing outside the lock sneaks in; this check
catches the opposite mistake: a dependency added to pyproject.toml (to the
core list or to an extra the tests use) without remaking the lock.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, requires, version

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def missing(dist: str, extras: frozenset[str], seen: set[str]) -> list[str]:
    """Requirements of ``dist[extras]`` (and of its self-references) that the environment does not satisfy."""
    key = f"{dist}{sorted(extras)}"
    if key in seen:
        return []
    seen.add(key)
    out: list[str] = []
    for line in requires(dist) or []:
        req = Requirement(line)
        if req.marker and not any(req.marker.evaluate({"extra": e}) for e in (*extras, "")):
            continue
        if canonicalize_name(req.name) == canonicalize_name(dist):
            out += missing(dist, frozenset(req.extras), seen)
            continue
        try:
            have = version(req.name)
        except PackageNotFoundError:
            out.append(f"{req} (not installed)")
            continue
        if req.specifier and not req.specifier.contains(have, prereleases=True):
            out.append(f"{req} (installed {have})")
        if req.extras:
            out += missing(req.name, frozenset(req.extras), seen)
    return out


def main(argv: list[str]) -> int:
    extras = frozenset(argv[1:] or ["test"])
    gaps = missing("envcheck", extras, set())
    for gap in gaps:
        print(f"requirements/test.txt does not cover pyproject.toml: {gap}; run scripts/lock", file=sys.stderr)
    return 1 if gaps else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
