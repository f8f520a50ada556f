"""The Python lock a generated Dockerfile installs from (``requirements.lock``).

Where the pins come from, in order (issue 6):

1. the project's lock file (``poetry.lock``, ``uv.lock``, ``Pipfile.lock``,
   ``pdm.lock``, ``pylock.toml``, or requirements pinned with hashes) when every
   main requirement has a locked version that satisfies it;
2. otherwise the installed distributions of a host or stored snapshot,
   restricted to what the project needs: the transitive closure of its main
   requirements through each distribution's ``Requires-Dist``.  Without that
   metadata (a snapshot from another machine), every active distribution except
   the installer tooling is pinned — more than needed, never less;
3. a declared requirement that nothing can pin is written as declared, with a
   warning, rather than silently dropped.

Hashes are written only when *every* line has them: pip's hash-checking mode
is all-or-nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from envcheck.record import record
from envcheck.snapshot import Declared, LockedPackage, Package, Snapshot
from envcheck.snapshot import Requirement as DeclaredReq

# Installer tooling: present in every venv, pinned separately (see dockerfile.py).
TOOLING: frozenset[str] = frozenset({"pip", "setuptools", "wheel", "distribute", "pkg-resources"})

# Lock files in the order a project is most likely to treat as authoritative.
LOCK_PRIORITY: tuple[str, ...] = ("poetry.lock", "uv.lock", "pdm.lock", "pylock.toml", "Pipfile.lock")


@record
class LockLine:
    name: str
    requirement: str  # "flask==3.0.0", "pkg @ git+https://…", or a declared range when unpinnable
    hashes: tuple[str, ...] = ()
    marker: str | None = None
    pinned: bool = True


@record
class PyLock:
    lines: tuple[LockLine, ...]
    origin: str  # sentence for the header: where the pins came from
    tooling: tuple[tuple[str, str], ...] = ()  # (name, version) of pip/setuptools/wheel to pin
    warnings: tuple[str, ...] = ()

    @property
    def hashed(self) -> bool:
        return bool(self.lines) and all(line.hashes for line in self.lines)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(line.name for line in self.lines)


def marker_environment(python_version: str, arch: str | None) -> dict[str, str]:
    """PEP 508 marker variables of the *image* (linux, CPython, the pinned version)."""
    parts = python_version.split(".")
    return {
        "python_version": ".".join(parts[:2]),
        "python_full_version": python_version,
        "implementation_version": python_version,
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "os_name": "posix",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": arch or "x86_64",
        "platform_release": "",
        "platform_version": "",
    }


def _marker_applies(marker: str | None, env: Mapping[str, str], extras: Sequence[str] = ("",)) -> bool:
    if not marker:
        return True
    try:
        parsed = Marker(marker)
    except InvalidMarker:
        return True  # unreadable: keep it and let pip decide
    for extra in extras:
        try:
            if parsed.evaluate({**env, "extra": extra}):
                return True
        except (UndefinedComparison, UndefinedEnvironmentName, InvalidVersion, ValueError):
            return True
    return False


def _file_of(source: str) -> str:
    return source.split(":", 1)[0] if source else ""


def main_requirements(declared: Declared, local: frozenset[str], env: Mapping[str, str]) -> tuple[DeclaredReq, ...]:
    """The python requirements the running project needs (no dev/optional/constraint groups)."""
    out = []
    for r in declared.requirements:
        if r.ecosystem != "python" or r.group is not None or r.editable:
            continue
        if canonicalize_name(r.name) in local:
            continue
        if _marker_applies(r.marker, env):
            out.append(r)
    return tuple(out)


def _satisfied(spec: str, versions: Sequence[str]) -> bool:
    if not spec.strip():
        return bool(versions)
    try:
        ss = SpecifierSet(spec)
    except InvalidSpecifier:
        return bool(versions)
    for v in versions:
        try:
            if ss.contains(Version(v), prereleases=True):
                return True
        except InvalidVersion:
            continue
    return False


def _lock_file_entries(declared: Declared, local: frozenset[str]) -> tuple[str, list[LockedPackage]] | None:
    by_file: dict[str, list[LockedPackage]] = {}
    for e in declared.locks:
        if e.ecosystem == "python" and canonicalize_name(e.name) not in local:
            by_file.setdefault(_file_of(e.source), []).append(e)
    if not by_file:
        return None
    ranked = sorted(by_file, key=lambda f: (LOCK_PRIORITY.index(f) if f in LOCK_PRIORITY else len(LOCK_PRIORITY), f))
    return ranked[0], by_file[ranked[0]]


def _hash_arg(h: str) -> str:
    return h if ":" in h else f"sha256:{h}"


def from_lock_file(
    declared: Declared, local: frozenset[str], env: Mapping[str, str]
) -> tuple[PyLock | None, str | None]:
    """The project's own lock, or ``(None, reason)`` when there is none or it is stale."""
    found = _lock_file_entries(declared, local)
    mains = main_requirements(declared, local, env)
    if found is None:
        return _hashed_requirements(mains)
    fname, all_entries = found
    versions: dict[str, list[str]] = {}
    for e in all_entries:
        versions.setdefault(canonicalize_name(e.name), []).append(e.version)
    # A lock flags packages of dependency groups as dev.  When the main
    # requirements need one of them (a `prod` group exported to
    # requirements/prod.txt), the lock's dependency edges are not in the
    # snapshot, so keep every entry: more than needed, never an unlisted one
    # (pip's hash mode refuses a dependency the lock does not list).
    prod_names = {canonicalize_name(e.name) for e in all_entries if not e.dev}
    needs_dev = any(
        canonicalize_name(r.name) not in prod_names and canonicalize_name(r.name) in versions for r in mains
    )
    entries = all_entries if needs_dev else [e for e in all_entries if not e.dev]
    stale = [
        f"{r.name}{r.specifier}"
        for r in mains
        if r.url is None and not _satisfied(r.specifier, versions.get(canonicalize_name(r.name), []))
    ]
    if stale:
        return None, f"{fname} does not satisfy {', '.join(sorted(stale)[:5])}"
    lines = tuple(
        LockLine(
            name=canonicalize_name(e.name),
            requirement=f"{canonicalize_name(e.name)}=={e.version}",
            hashes=tuple(sorted({_hash_arg(h) for h in e.hashes})),
            marker=e.marker,
        )
        for e in sorted(entries, key=lambda e: (canonicalize_name(e.name), e.version, e.marker or ""))
        if _marker_applies(e.marker, env)
    )
    # A VCS requirement (Pipfile `{git = …}`) has no version for a lock to record;
    # left out, pip would resolve the name from the index, and hash mode refuses that.
    have = {line.name for line in lines}
    vcs = tuple(
        LockLine(name=canonicalize_name(r.name), requirement=f"{canonicalize_name(r.name)} @ {r.url}", pinned=False)
        for r in mains
        if r.url and canonicalize_name(r.name) not in have
    )
    warnings: tuple[str, ...] = ()
    if vcs:
        warnings = (
            f"{fname} records no version for {', '.join(v.name for v in vcs)}: installed from "
            f"{', '.join(v.requirement.split(' @ ', 1)[1] for v in vcs)} as the project declares it",
        )
    return PyLock(lines=_dedupe((*lines, *vcs)), origin=f"{fname}", warnings=warnings), None


def _hashed_requirements(mains: Sequence[DeclaredReq]) -> tuple[PyLock | None, str | None]:
    """Requirement files where every line is pinned and hashed (``pip-compile
    --generate-hashes``) are a lock; the other main files (the ``*.in`` inputs)
    must agree with it."""
    by_file: dict[str, list[DeclaredReq]] = {}
    for r in mains:
        by_file.setdefault(_file_of(r.source), []).append(r)
    lock_files = sorted(f for f, reqs in by_file.items() if all(r.is_pinned and r.hashes for r in reqs))
    if not lock_files:
        return None, None
    pinned = [r for f in lock_files for r in by_file[f]]
    versions: dict[str, list[str]] = {}
    for r in pinned:
        versions.setdefault(canonicalize_name(r.name), []).append(r.specifier.strip().lstrip("="))
    stale: list[str] = []
    uncovered: list[str] = []
    for f, reqs in sorted(by_file.items()):
        if f in lock_files:
            continue
        for r in reqs:
            if r.url is None and not _satisfied(r.specifier, versions.get(canonicalize_name(r.name), [])):
                # A pip-compile input the lock disagrees with makes the lock stale; any
                # other file (warehouse's ipython.txt) is beside the lock, not behind it.
                (stale if f.endswith(".in") else uncovered).append(f"{r.name}{r.specifier} ({f})")
    if stale:
        return None, f"{', '.join(lock_files)} do not satisfy {', '.join(sorted(stale)[:5])}"
    warnings: tuple[str, ...] = ()
    if uncovered:
        warnings = (
            f"left out of the image: {_some(sorted(uncovered), 5)} — not in the hashed pins of "
            f"{', '.join(lock_files)}, and pip installs hashed pins all or nothing; lock them there to ship them",
        )
    lines = tuple(
        LockLine(
            name=canonicalize_name(r.name),
            requirement=f"{canonicalize_name(r.name)}{r.specifier.strip()}",
            hashes=tuple(sorted({_hash_arg(h) for h in r.hashes})),
            marker=r.marker,
        )
        for r in sorted(pinned, key=lambda r: (canonicalize_name(r.name), r.specifier))
    )
    return PyLock(lines=_dedupe(lines), origin=f"the hashed pins of {', '.join(lock_files)}", warnings=warnings), None


def _some(names: Sequence[str], n: int = 8) -> str:
    """The first ``n`` names, and how many more: warnings stay one readable line."""
    return ", ".join(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")


def _unpinned_warning(names: Sequence[str], label: str) -> str:
    shown = _some(names)
    return f"{len(names)} requirement(s) have no pin and nothing {label} to pin them from: {shown}"


def _dedupe(lines: Sequence[LockLine]) -> tuple[LockLine, ...]:
    seen: dict[tuple[str, str | None], LockLine] = {}
    for line in lines:
        seen.setdefault((line.requirement, line.marker), line)
    return tuple(seen.values())


def from_snapshot(
    declared: Declared,
    *,
    snapshot: Snapshot,
    requires_dist: Mapping[str, tuple[str, ...]] | None,
    local: frozenset[str],
    env: Mapping[str, str],
    label: str,
) -> PyLock:
    """Pins from the installed distributions of a host or stored snapshot."""
    active = [p for p in snapshot.active_packages("python") if not p.editable]
    installed: dict[str, Package] = {
        canonicalize_name(p.name): p for p in active if canonicalize_name(p.name) not in local
    }
    tooling = tuple(sorted((n, p.version) for n, p in installed.items() if n in {"pip", "setuptools", "wheel"}))
    mains = main_requirements(declared, local, env)
    warnings: list[str] = []
    # Hashes for a (name, version) the project's lock already recorded.
    known_hashes: dict[tuple[str, str], tuple[str, ...]] = {}
    for e in declared.locks:
        if e.ecosystem == "python" and e.hashes:
            known_hashes[(canonicalize_name(e.name), e.version)] = tuple(sorted({_hash_arg(h) for h in e.hashes}))

    needed: set[str]
    if not mains:
        needed = {n for n in installed if n not in TOOLING}
        origin = f"every distribution installed in the {label} (the project declares no requirements)"
    elif requires_dist is None:
        needed = {n for n in installed if n not in TOOLING}
        origin = f"every distribution installed in the {label} (no package metadata to narrow it down)"
    else:
        needed, unknown = _closure(mains, installed, requires_dist, env)
        origin = f"the {label}'s installed versions of the project's requirements and their dependencies"
        if unknown:
            # Without a reached package's metadata its dependencies are unknown:
            # pin everything rather than let pip pick unpinned versions.
            needed = {n for n in installed if n not in TOOLING}
            origin = f"every distribution installed in the {label} (no metadata for {', '.join(sorted(unknown)[:3])})"

    # The installer tooling the venv step pins is not repeated in the lock.
    needed -= {n for n, _ in tooling}
    lines: list[LockLine] = []
    by_name: dict[str, DeclaredReq] = {canonicalize_name(r.name): r for r in mains}
    for name in sorted(needed):
        req = by_name.get(name)
        if req is not None and req.url:
            lines.append(LockLine(name=name, requirement=f"{name} @ {req.url}"))
            continue
        pkg = installed.get(name)
        if pkg is None:
            continue
        lines.append(
            LockLine(name=name, requirement=f"{name}=={pkg.version}", hashes=known_hashes.get((name, pkg.version), ()))
        )
    missing: list[str] = []
    pinned_absent: list[str] = []
    for name, req in sorted(by_name.items()):
        if name in installed or req.url:
            continue
        text = f"{req.name}{req.specifier.strip()}"
        # The project's own `==` is a pin even where the host lacks the package.
        (pinned_absent if req.is_pinned else missing).append(text)
        lines.append(
            LockLine(
                name=name,
                requirement=text,
                hashes=tuple(sorted({_hash_arg(h) for h in req.hashes})),
                marker=req.marker,
                pinned=req.is_pinned,
            )
        )
    if missing:
        warnings.append(_unpinned_warning(missing, f"installed in the {label}"))
    if pinned_absent:
        shown = _some(pinned_absent)
        warnings.append(
            f"{len(pinned_absent)} pinned requirement(s) are not installed in the {label}, so their own "
            f"dependencies resolve at build time: {shown}"
        )
    for name, req in sorted(by_name.items()):
        if name in installed and req.specifier.strip() and not _satisfied(req.specifier, [installed[name].version]):
            warnings.append(f"{name} {installed[name].version} in the {label} violates {req.specifier} ({req.source})")
    lines.sort(key=lambda line: line.name)
    return PyLock(lines=tuple(lines), origin=origin, tooling=tooling, warnings=tuple(warnings))


def _closure(
    roots: Sequence[DeclaredReq],
    installed: Mapping[str, object],
    requires_dist: Mapping[str, tuple[str, ...]],
    env: Mapping[str, str],
) -> tuple[set[str], set[str]]:
    """Names reachable from ``roots``; and reached names whose metadata is unknown."""
    seen: dict[str, set[str]] = {}
    unknown: set[str] = set()
    queue: list[tuple[str, frozenset[str]]] = [(canonicalize_name(r.name), frozenset(r.extras)) for r in roots]
    while queue:
        name, extras = queue.pop()
        if name in seen and extras <= seen[name]:
            continue
        seen.setdefault(name, set()).update(extras)
        if name not in installed:
            continue
        deps = requires_dist.get(name)
        if deps is None:
            unknown.add(name)
            continue
        active_extras = ("", *sorted(seen[name]))
        for raw in deps:
            try:
                dep = Requirement(raw)
            except InvalidRequirement:
                continue
            marker = str(dep.marker) if dep.marker else None
            if _marker_applies(marker, env, active_extras):
                queue.append((canonicalize_name(dep.name), frozenset(dep.extras)))
    return {n for n in seen if n in installed}, unknown


def declared_fallback(declared: Declared, local: frozenset[str], env: Mapping[str, str], origin: str) -> PyLock:
    """No lock and no snapshot: the main requirements as declared (pinned ones stay pinned)."""
    lines: list[LockLine] = []
    warnings: list[str] = []
    unpinned: list[str] = []
    for r in sorted(main_requirements(declared, local, env), key=lambda r: canonicalize_name(r.name)):
        name = canonicalize_name(r.name)
        extras = f"[{','.join(sorted(r.extras))}]" if r.extras else ""
        if r.url:
            lines.append(LockLine(name=name, requirement=f"{r.name}{extras} @ {r.url}", marker=r.marker, pinned=False))
            continue
        pinned = r.is_pinned
        if not pinned:
            unpinned.append(f"{r.name}{r.specifier.strip()}")
        lines.append(
            LockLine(
                name=name,
                requirement=f"{r.name}{extras}{r.specifier.strip()}",
                hashes=tuple(sorted(_hash_arg(h) for h in r.hashes)),
                marker=r.marker,
                pinned=pinned,
            )
        )
    if unpinned:
        warnings.append(_unpinned_warning(sorted(set(unpinned)), "recorded"))
    return PyLock(lines=_dedupe(lines), origin=origin, warnings=tuple(warnings))


def lock_extras(declared: Declared) -> dict[str, set[str]]:
    """The extras a lock file records as asked of each locked distribution."""
    out: dict[str, set[str]] = {}
    for e in declared.locks:
        if e.ecosystem == "python" and e.extras:
            out.setdefault(canonicalize_name(e.name), set()).update(e.extras)
    return out


def with_requested_extras(
    lock: PyLock,
    requires_dist: Mapping[str, tuple[str, ...]] | None,
    env: Mapping[str, str],
    locked_extras: Mapping[str, set[str]] | None = None,
) -> PyLock:
    """Add a line for each extra locked distributions ask of each other (``uvicorn[standard]==…``).

    pip's hash-checking mode treats ``uvicorn[standard]>=0.15`` (asked by
    fastapi-cli) as a requirement of its own and refuses it unless a lock line
    names the extra; the versions are unchanged.
    """
    pip = dict(lock.tooling).get("pip")
    try:
        old_pip = pip is not None and Version(pip) < Version("20.3")
    except InvalidVersion:
        old_pip = False
    if (requires_dist is None and not locked_extras) or old_pip:
        # pip before 20.3 refuses a name listed twice ("Double requirement given").
        return lock
    names = lock.names
    # What the lock file itself records (uv.lock), then what the host's
    # installed metadata says (a host that is the project's environment).
    wanted: dict[str, set[str]] = {n: set(x) for n, x in (locked_extras or {}).items() if n in names}
    for line in lock.lines:
        for raw in (requires_dist or {}).get(line.name, ()):
            try:
                dep = Requirement(raw)
            except InvalidRequirement:
                continue
            marker = str(dep.marker) if dep.marker else None
            dep_name = canonicalize_name(dep.name)
            if dep.extras and dep_name in names and _marker_applies(marker, env):
                wanted.setdefault(dep_name, set()).update(dep.extras)
    if not wanted:
        return lock
    lines = []
    for line in lock.lines:
        extras = wanted.get(line.name)
        name, sep, rest = line.requirement.partition("==")
        lines.append(line)
        if extras and sep and "[" not in name:
            # Both lines: pip's resolver asks for `pydantic` and `pydantic[email]` separately.
            extra = f"{name}[{','.join(sorted(extras))}]=={rest}"
            lines.append(LockLine(line.name, extra, line.hashes, line.marker, line.pinned))
    return PyLock(tuple(lines), lock.origin, lock.tooling, lock.warnings)
