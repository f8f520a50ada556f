"""``lock-sync``: the lock file disagrees with the manifest, or with what is installed (EC304).

Static: every dependency a manifest declares must be in the lock file beside
it, at a version its specifier admits (what ``npm ci``, ``poetry install`` and
``uv sync --locked`` refuse to install otherwise).  Target: a locked package
that is installed on the target at another version.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import PurePosixPath

from envcheck._pep440 import release_key
from envcheck.checks._base import (
    IGNORE_PARAM,
    Check,
    Context,
    Param,
    canonical,
    finding,
    installed_versions,
    is_local_requirement,
    marker_applies,
    where,
)
from envcheck.checks._versions import satisfies
from envcheck.findings import Finding, Side

TYPE_CHECKING = False
if TYPE_CHECKING:
    from envcheck.rules import Rule
    from envcheck.snapshot import LockedPackage, Requirement


def _path(source: str) -> str:
    # Location.parse without the object: this runs once per lock entry (20,000 in a big package-lock).
    head, sep, tail = source.rpartition(":")
    return head if sep and head and tail.isdigit() else source


def _by_lock_file(locks: Sequence[LockedPackage]) -> dict[str, list[LockedPackage]]:
    out: dict[str, list[LockedPackage]] = {}
    for lock in locks:
        out.setdefault(_path(lock.source), []).append(lock)
    return out


def _same_version(ecosystem: str, a: str, b: str) -> bool:
    if a == b:
        return True
    if ecosystem != "python":
        return a.lstrip("v=") == b.lstrip("v=")
    key_a, key_b = release_key(a), release_key(b)
    if key_a is not None and key_b is not None:
        return key_a == key_b  # two final releases: packaging's equality without importing it
    from packaging.version import InvalidVersion, Version

    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return False


def _python_lock_ok(req: Requirement, entries: Sequence[LockedPackage]) -> bool | None:
    versions = [e.version for e in entries]
    if not versions:
        return False
    answers = [satisfies("python", v, req.specifier) for v in versions]
    if any(a is True for a in answers):
        return True
    return None if all(a is None for a in answers) else False


def _static(rule: Rule, ctx: Context) -> Iterator[Finding]:
    assert ctx.declared is not None
    manifests: Mapping[str, str] = rule.params["manifests"]
    by_file = _by_lock_file(ctx.declared.locks)
    for lock_file, entries in sorted(by_file.items()):
        lock_path = PurePosixPath(lock_file)
        manifest_name = manifests.get(lock_path.name)
        if manifest_name is None:
            continue
        manifest = str(lock_path.parent / manifest_name) if str(lock_path.parent) != "." else manifest_name
        eco = entries[0].ecosystem
        # One pass over the lock instead of one per declared dependency.
        by_name: dict[str, list[LockedPackage]] = {}
        for entry in entries:
            by_name.setdefault(canonical(eco, entry.name), []).append(entry)
        seen: set[str] = set()
        for req in ctx.declared.requirements:
            if req.ecosystem != eco or _path(req.source) != manifest or is_local_requirement(req):
                continue
            if req.group in ("constraint", "peer", "build") or req.name in seen:
                continue
            seen.add(req.name)
            same_name = by_name.get(canonical(eco, req.name), [])
            if eco == "python":
                ok = _python_lock_ok(req, same_name)
            else:
                from envcheck import npm_semver

                ok = npm_semver.lock_satisfies(same_name, req.name, req.specifier or "*")
            if ok is not False:
                continue
            locked = sorted({e.version for e in same_name})
            if locked:
                declared = f"{req.name}{'' if eco == 'python' else '@'}{req.specifier}"
                message = f"{manifest} declares {declared} but {lock_file} has {req.name} {', '.join(locked)}"
            else:
                message = f"{manifest} declares {req.name} but {req.name} is not in {lock_file}"
            yield finding(
                rule,
                message,
                subject=req.name,
                left=Side("declared", req.specifier or "*"),
                right=Side("lock", ", ".join(locked) or None),
                source=req.source,
                fix=f"regenerate {lock_file} ({_relock(lock_path.name)})",
            )


def _relock(lock_name: str) -> str:
    return {
        "poetry.lock": "poetry lock",
        "uv.lock": "uv lock",
        "Pipfile.lock": "pipenv lock",
        "pdm.lock": "pdm lock",
        "package-lock.json": "npm install, then commit the lock",
        "yarn.lock": "yarn install",
        "pnpm-lock.yaml": "pnpm install",
        "bun.lock": "bun install",
    }.get(lock_name, "re-run the package manager's lock command")


def _target(rule: Rule, ctx: Context) -> Iterator[Finding]:
    assert ctx.declared is not None and ctx.right is not None
    for lock_file, entries in sorted(_by_lock_file(ctx.declared.locks).items()):
        eco = entries[0].ecosystem
        # Installer tooling a lock names is compared nowhere (EC201-EC203 skip it too).
        installed = installed_versions(ctx.right, eco, rule.params.get("ignore") or () if eco == "python" else ())
        locked: dict[str, list[LockedPackage]] = {}
        for e in entries:
            if e.path and e.path.count("node_modules/") > 1:
                continue  # nested node copies: their place, not their name, identifies them
            if eco == "python" and not marker_applies(e.marker, ctx.right):
                continue
            locked.setdefault(canonical(eco, e.name), []).append(e)
        for name in sorted(locked.keys() & installed.keys()):
            have = installed[name]
            want = locked[name]
            if any(_same_version(eco, p.version, e.version) for p in have for e in want):
                continue
            hv = ", ".join(sorted({p.version for p in have}))
            lv = ", ".join(sorted({e.version for e in want}))
            shown = want[0].name
            yield finding(
                rule,
                f"{lock_file} locks {shown} {lv} but {hv} is installed {where(ctx.right_label)}",
                subject=shown,
                left=Side("lock", lv),
                right=Side(ctx.right_label, hv),
                source=want[0].source or lock_file,
                fix=f"reinstall from {lock_file} {where(ctx.right_label)}",
            )


def check(rule: Rule, ctx: Context) -> Iterator[Finding]:
    if ctx.declared is None:
        return
    if ctx.mode == "static":
        yield from _static(rule, ctx)
    elif ctx.mode == "target" and ctx.right is not None:
        yield from _target(rule, ctx)


CHECK = Check(
    run=check,
    modes=("static", "target"),
    params={
        "manifests": Param(
            "str-map",
            default={
                "poetry.lock": "pyproject.toml",
                "uv.lock": "pyproject.toml",
                "pdm.lock": "pyproject.toml",
                "Pipfile.lock": "Pipfile",
                "package-lock.json": "package.json",
                "npm-shrinkwrap.json": "package.json",
                "yarn.lock": "package.json",
                "pnpm-lock.yaml": "package.json",
                "bun.lock": "package.json",
            },
            help="lock file name -> the manifest beside it that it must agree with",
        ),
        "ignore": IGNORE_PARAM,
    },
    doc="Lock file against its manifest (static) and against what is installed (target).",
)
