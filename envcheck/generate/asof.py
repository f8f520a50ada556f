"""Unpinned requirements resolved as of the project's own date (issue 13, legacy projects).

A 2015 ``requirements.txt`` that names ``WTForms`` with no version meant the
WTForms of 2015; today's release may have removed what the app imports.  When
nothing pins a requirement (no lock, nothing installed on the host), the
generator pins it — and everything it pulls in — to the newest release the
package index had *on the project's date* that installs on the chosen
interpreter, using the index's PEP 700 ``upload-time``.

The project's date, first found wins:

1. an explicit date (``--as-of DATE``, config ``dockerfile-as-of``);
2. the last commit (``git log -1``) when the project is a git checkout;
3. the newest modification time of its manifests and source files (a
   tarball or a copy keeps them; a fresh copy gives today, which pins
   today's releases — still reproducible).

When nothing declares an interpreter and the host's own python line was
released after that date (the project cannot have been written for it), the
interpreter of the era is chosen instead: the newest line that had been out
for :data:`MATURITY` by then (wheels for a new line take months to appear).

:func:`resolve` is pure: the index is reached through the two callables it is
given (tests pass fake ones).
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from envcheck import _regex
from envcheck.generate.knowledge import python_images, python_released
from envcheck.pyindex import ProjectPage, Target, Unchecked, newest_as_of
from envcheck.record import record, replace

#: How long a CPython line had been out before a project of a date counts as written for it.
MATURITY = dt.timedelta(days=180)
#: How a conflict between requirers is reported: the whole resolution is then dropped.
CONFLICT = "conflicting requirements for"
#: The resolver gives up after this many releases chosen (a guard against a runaway closure).
MAX_CHOSEN = 400
# Files whose modification time dates a project without git (its manifests and code).
_DATED = _regex.compile(
    r"(^|/)(requirements[^/]*\.(txt|in)|Pipfile(\.lock)?|pyproject\.toml|setup\.(py|cfg)|poetry\.lock|"
    r"package(-lock)?\.json|yarn\.lock|pnpm-lock\.yaml|Procfile|[^/]+\.(py|js|mjs|ts))$"
)
_SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", "dist", "build"})


@record
class ProjectDate:
    when: dt.datetime  # aware
    source: str  # "the last commit (git log)", "--as-of", …

    @property
    def day(self) -> str:
        return self.when.date().isoformat()


@record
class AsOf:
    """What the index had on the project's date, for the requirements nothing pins."""

    date: ProjectDate
    python: str | None = None  # the interpreter of the era ("3.6.15"), when it replaces the host's
    python_why: str = ""
    pins: tuple[tuple[str, str], ...] = ()  # (canonical name, version), roots and their dependencies
    unresolved: tuple[tuple[str, str], ...] = ()  # (name, why) nothing could be chosen for
    no_metadata: tuple[str, ...] = ()  # chosen, but their own dependencies are unknown
    offline: str | None = None  # why the index was not asked: pins stay open


# --------------------------------------------------------------------------- the date


def parse_date(text: str) -> dt.datetime:
    """``2018-01-05`` or an ISO 8601 timestamp; a bare date means the end of that day (UTC)."""
    raw = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        day = dt.date.fromisoformat(raw)
        return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=dt.timezone.utc)
    when = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.timezone.utc)


def git_date(root: Path) -> dt.datetime | None:
    """The committer date of the last commit, when ``root`` is (inside) a git checkout."""
    if not any((p / ".git").exists() for p in (root, *root.resolve().parents)):
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%cI"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0 or not out.stdout.strip():
        return None
    try:
        return parse_date(out.stdout.strip())
    except ValueError:
        return None


def newest_mtime(root: Path) -> tuple[dt.datetime, str] | None:
    """The newest modification time of the project's manifests and code, and which file."""
    best: tuple[float, str] | None = None
    stack = [root]
    while stack:
        here = stack.pop()
        try:
            entries = list(here.iterdir())
        except OSError:
            continue
        for p in entries:
            if p.is_dir() and not p.is_symlink():
                if p.name not in _SKIP_DIRS:
                    stack.append(p)
                continue
            rel = p.relative_to(root).as_posix()
            if not _DATED.search(rel) or rel in ("Dockerfile", "requirements.lock"):
                continue
            try:
                m = p.stat().st_mtime
            except OSError:
                continue
            if best is None or m > best[0]:
                best = (m, rel)
    if best is None:
        return None
    return dt.datetime.fromtimestamp(best[0], tz=dt.timezone.utc), best[1]


def project_date(root: Path, explicit: dt.datetime | None, explicit_from: str = "--as-of") -> ProjectDate | None:
    if explicit is not None:
        return ProjectDate(explicit, explicit_from)
    when = git_date(root)
    if when is not None:
        return ProjectDate(when, "the project's last commit (git log)")
    found = newest_mtime(root)
    if found is not None:
        return ProjectDate(found[0], f"the newest modification time of its files ({found[1]})")
    return None


# --------------------------------------------------------------------------- the interpreter of the era


def era_line(when: dt.date) -> str | None:
    """The newest CPython line out for :data:`MATURITY` by ``when`` that has an image."""
    lines = python_images().lines
    ready = [(Version(line), line) for line, day in python_released().items() if day + MATURITY <= when]
    ready = [(v, line) for v, line in ready if line in lines]
    return max(ready)[1] if ready else None


def era_python(when: dt.date, host: str | None) -> tuple[str, str] | None:
    """(version, why) of the era's interpreter, when the host's line is younger than the project.

    None keeps the host: it was out by the project's date (the project may
    have been written on it), or nothing is known of either.
    """
    line = era_line(when)
    if line is None:
        return None
    if host is not None:
        host_line = ".".join(host.split(".")[:2])
        released = python_released().get(host_line)
        if released is None or released <= when:
            return None
    newest = python_images().lines[line].newest
    why = f"python {line} was the current line on {when.isoformat()}" + (
        f" (python {'.'.join(host.split('.')[:2])} of the host came later)" if host else ""
    )
    return newest, why


# --------------------------------------------------------------------------- resolution


def _marker_ok(marker: Marker | None, env: Mapping[str, str], extras: Iterable[str]) -> bool:
    if marker is None:
        return True
    for extra in ("", *extras):
        try:
            if marker.evaluate({**env, "extra": extra}):
                return True
        except (UndefinedComparison, UndefinedEnvironmentName, InvalidMarker, InvalidVersion, ValueError):
            return True
    return False


def resolve(
    roots: Sequence[str],
    *,
    when: dt.datetime,
    target: Target,
    env: Mapping[str, str],
    page: Callable[[str], ProjectPage | Unchecked],
    requires: Callable[[ProjectPage, str], tuple[str, ...] | None],
    fixed: Mapping[str, str] | None = None,
) -> tuple[dict[str, str], list[tuple[str, str]], list[str]]:
    """Pins for ``roots`` (requirement strings) and their dependencies, as of ``when``.

    ``fixed``: versions already pinned elsewhere (the project's own ``==``);
    they are kept and their dependencies are theirs to bring.  Returns
    (name → version, [(name, why unresolved)], [names whose dependencies are
    unknown]).  A later requirement narrowing an earlier choice re-chooses it
    once the narrower range is known.
    """
    fixed = {canonicalize_name(k): v for k, v in (fixed or {}).items()}
    specs: dict[str, SpecifierSet] = {}
    extras: dict[str, set[str]] = {}
    chosen: dict[str, str] = {}
    unresolved: dict[str, str] = {}
    no_meta: set[str] = set()
    queue: list[tuple[str, SpecifierSet, frozenset[str]]] = []
    for raw in roots:
        try:
            req = Requirement(raw)
        except InvalidRequirement:
            continue
        if _marker_ok(req.marker, env, ()):
            queue.append((canonicalize_name(req.name), req.specifier, frozenset(req.extras)))
    steps = 0
    while queue and steps < MAX_CHOSEN:
        name, spec, want_extras = queue.pop(0)
        if name in fixed:
            continue
        merged = specs.get(name, SpecifierSet()) & spec
        new_extras = set(want_extras) - extras.get(name, set())
        specs[name] = merged
        extras.setdefault(name, set()).update(want_extras)
        current = chosen.get(name)
        if current is not None and merged.contains(Version(current), prereleases=True) and not new_extras:
            continue
        if name in unresolved and current is None:
            continue
        steps += 1
        got = page(name)
        if isinstance(got, Unchecked):
            unresolved[name] = got.reason
            continue
        version = newest_as_of(got, when, target, merged or None)
        if version is None:
            if newest_as_of(got, when, target, spec or None) is not None:
                # Each range alone has a release; together none: a choice made
                # earlier would have to move (this resolver does not backtrack).
                unresolved[name] = f"{CONFLICT} {name} ({merged})"
            else:
                unresolved[name] = (
                    f"no release of {name}{merged} before {when.date().isoformat()} installs on python {target.python}"
                )
            chosen.pop(name, None)
            continue
        chosen[name] = version
        unresolved.pop(name, None)
        deps = requires(got, version)
        if deps is None:
            no_meta.add(name)
            continue
        no_meta.discard(name)
        for raw in deps:
            try:
                dep = Requirement(raw)
            except InvalidRequirement:
                continue
            if _marker_ok(dep.marker, env, sorted(extras[name])):
                queue.append((canonicalize_name(dep.name), dep.specifier, frozenset(dep.extras)))
    return dict(sorted(chosen.items())), sorted(unresolved.items()), sorted(no_meta)


# --------------------------------------------------------------------------- the I/O edge


def as_of_for(
    root: Path,
    *,
    open_requirements: Sequence[str],
    python: tuple[str, bool] | None,
    host_python: str | None,
    index_urls: Sequence[str],
    arch: str | None,
    offline: bool,
    explicit: dt.datetime | None = None,
    explicit_from: str = "--as-of",
) -> AsOf | None:
    """Date the project, choose the era's interpreter if it applies, and resolve the open requirements."""
    from envcheck.generate.interpreter import image_release
    from envcheck.generate.pylock import marker_environment
    from envcheck.pyindex import IndexClient, fetch_requires_dist, index_config, metadata_file

    date = project_date(root, explicit, explicit_from)
    if date is None or not open_requirements:
        return None
    era = None
    if python is not None and not python[1]:
        era = era_python(date.when.date(), host_python)
    version = era[0] if era else (python[0] if python else None)
    if version is None:
        return None
    base = AsOf(date, python=era[0] if era else None, python_why=era[1] if era else "")
    if offline:
        return replace(base, offline="--offline: the package index was not asked")
    config = index_config(index_urls)
    if config.disabled or not config.urls:
        why = config.disabled or "no package index is configured"
        return replace(base, offline=why)
    client = IndexClient(config)
    target = Target(version, image_release(version)[0])
    env = marker_environment(version, arch)

    def requires(page: ProjectPage, v: str) -> tuple[str, ...] | None:
        f = metadata_file(page, v, target)
        if f is None:
            return None
        got = fetch_requires_dist(client, f)
        return None if isinstance(got, Unchecked) else got

    pins, unresolved, no_meta = resolve(
        open_requirements, when=date.when, target=target, env=env, page=client.page, requires=requires
    )
    if not pins and unresolved and all(isinstance(client.page(n), Unchecked) for n, _ in unresolved):
        return replace(base, offline=unresolved[0][1])
    conflicts = [why for _, why in unresolved if why.startswith(CONFLICT)]
    if conflicts:
        # Half a resolution is worse than none: pip's own resolver (which
        # backtracks) decides at build time, as before.
        return replace(base, offline=f"{conflicts[0]}, which needs a backtracking resolver; left to pip")
    return AsOf(
        date,
        python=base.python,
        python_why=base.python_why,
        pins=tuple(pins.items()),
        unresolved=tuple(unresolved),
        no_metadata=tuple(no_meta),
    )
