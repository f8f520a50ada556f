"""Python planning: the builder and runtime stages of a Python app, as a :class:`Plan`.

The decisions, in order: the interpreter (:mod:`.interpreter`), the lock
(:mod:`.pylock`), whether every pin installs on that interpreter
(:mod:`envcheck.pyindex`, moving to the nearest line where they do), the
Debian packages sdists need to build and run (``data/sdist_system_packages.toml``),
and how the image serves (:mod:`.serve`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from envcheck.generate import pylock
from envcheck.generate.asof import AsOf
from envcheck.generate.interpreter import PythonChoice, candidates, choose_python, eol_warning, image_release
from envcheck.generate.knowledge import sdist_needs
from envcheck.generate.layout import ProjectLayout
from envcheck.generate.node import copy_manifests, is_node_runtime_needed, node_install, npmrc_aware, run_install
from envcheck.generate.options import HEADER, LOCK_HEADER, REGENERATE, GenerateError, Options, source_label
from envcheck.generate.plan import (
    Arg,
    Cmd,
    Copy,
    Env,
    Expose,
    Note,
    Plan,
    Run,
    Stage,
    Step,
    SystemPackages,
    User,
    Workdir,
)
from envcheck.generate.procfile import Procfile
from envcheck.generate.serve import Serving, check_executables, plan_serving, procfile_of
from envcheck.generate.settings import OWN_ENV, env_steps
from envcheck.generate.versions import Choice, debian_codename
from envcheck.pyindex import ProjectPage, Target, Unchecked, Verdict, installable
from envcheck.record import record, replace
from envcheck.snapshot import Snapshot

APP_UID = 10001
VENV = "/opt/venv"
# When pip builds an sdist nobody has described, a C toolchain is the usual need.
_GENERIC_BUILD = ("gcc", "libc6-dev")


def _render_lock(lock: pylock.PyLock, version: str) -> str:
    out = [
        f"{LOCK_HEADER} for python {version}; do not edit — regenerate instead.",
        f"# Pins: {lock.origin}.",
    ]
    if lock.lines and not lock.hashed and any(line.hashes for line in lock.lines):
        out.append("# Hashes left out: pip checks hashes for all lines or none, and some pins have none.")
    for line in lock.lines:
        text = line.requirement + (f" ; {line.marker}" if line.marker else "")
        if not line.pinned:
            out.append("# not pinned: nothing recorded a version for the next line")
        if lock.hashed:
            out.append(" \\\n".join([text, *(f"    --hash={h}" for h in line.hashes)]))
        else:
            out.append(text)
    return "\n".join(out) + "\n"


def _resolve_lock(
    project: Snapshot,
    *,
    layout: ProjectLayout,
    source: Snapshot | None,
    options: Options,
    env: Mapping[str, str],
    requires_dist: Mapping[str, tuple[str, ...]] | None,
) -> pylock.PyLock:
    declared = project.declared
    assert declared is not None
    local = layout.local_packages
    mode = options.version_source
    lock, stale = (None, None) if mode in ("host", "snapshot") else pylock.from_lock_file(declared, local, env)
    if lock is not None:
        return pylock.with_requested_extras(lock, requires_dist, env, locked_extras=pylock.lock_extras(declared))
    warnings = [f"not using the project's lock: {stale}"] if stale else []
    if mode == "lock":
        raise GenerateError(
            stale
            or "--from lock: the project has no Python lock file (poetry.lock, uv.lock, Pipfile.lock, pdm.lock, hashed requirements)"
        )
    if source is not None:
        got = pylock.from_snapshot(
            declared,
            snapshot=source,
            requires_dist=requires_dist,
            local=local,
            env=env,
            label=source_label(source) + " environment",
        )
    else:
        got = pylock.declared_fallback(
            declared, local, env, "the project's declared requirements (no lock file and no snapshot)"
        )
    got = pylock.PyLock(got.lines, got.origin, got.tooling, (*warnings, *got.warnings))
    return _pinned_as_of(got, options.as_of)


def open_requirements(lock: pylock.PyLock) -> tuple[str, ...]:
    """The lock's lines nothing pinned (requirement strings, markers kept): what :mod:`.asof` resolves."""
    return tuple(
        line.requirement + (f" ; {line.marker}" if line.marker else "")
        for line in lock.lines
        if not line.pinned and " @ " not in line.requirement
    )


def _pinned_as_of(lock: pylock.PyLock, as_of: AsOf | None) -> pylock.PyLock:
    """Open lines pinned to what the index had on the project's date; their dependencies added."""
    roots = open_requirements(lock)
    if as_of is None or not roots:
        return lock
    day, where = as_of.date.day, as_of.date.source
    if as_of.offline is not None:
        msg = (
            f"could not pin {len(roots)} open requirement(s) as of the project's date {day} ({where}): "
            f"{as_of.offline}; they install unpinned, at whatever is newest when the image is built"
        )
        return replace(lock, warnings=(*lock.warnings, msg))
    pins = dict(as_of.pins)
    lines: list[pylock.LockLine] = []
    for line in lock.lines:
        if not line.pinned and line.name in pins:
            extras = re.match(r"^[A-Za-z0-9._-]+(\[[^\]]*\])?", line.requirement)
            lines.append(
                replace(
                    line,
                    requirement=f"{line.name}{extras.group(1) or '' if extras else ''}=={pins[line.name]}",
                    pinned=True,
                )
            )
        else:
            lines.append(line)
    have = {line.name for line in lines}
    lines.extend(pylock.LockLine(name=n, requirement=f"{n}=={v}") for n, v in pins.items() if n not in have)
    lines.sort(key=lambda line: line.name)
    # The open lines lose their "nothing to pin them from" warning: they are pinned now.
    kept = [w for w in lock.warnings if "have no pin and nothing" not in w or any(not x.pinned for x in lines)]
    msg = (
        f"pinned {len(pins)} distribution(s) nothing else pinned to the newest releases on the package index "
        f"as of {day}, the project's date from {where} (--as-of DATE or dockerfile-as-of overrides it)"
    )
    kept.append(msg)
    if as_of.unresolved:
        kept.append(
            f"as of {day}, nothing could be chosen for "
            + ", ".join(f"{n} ({why})" for n, why in as_of.unresolved[:4])
            + "; left unpinned"
        )
    if as_of.no_metadata:
        kept.append(
            f"the index has no metadata for {_short(list(as_of.no_metadata))} as of {day}: "
            "their own dependencies resolve at build time"
        )
    origin = f"{lock.origin}; open requirements and their dependencies as of {day} ({where})"
    # The era's interpreter is not the host's: the host's pip may not even
    # run on it (pip 23 needs python 3.7), so the image's own installer is kept.
    tooling = () if as_of.python else lock.tooling
    return pylock.PyLock(tuple(lines), origin, tooling, tuple(kept))


def host_fits(project: Snapshot, source: Snapshot | None, local: frozenset[str]) -> tuple[bool | None, str]:
    """Is the host the project's environment: are its pins installed there, at their versions?

    None when the project pins nothing (any environment fits).  The main
    requirements are checked against the lock's versions when there is a lock,
    else against their own specifiers.
    """
    declared = project.declared
    if source is None or declared is None:
        return None, ""
    installed: dict[str, str] = {canonicalize_name(p.name): p.version for p in source.active_packages("python")}
    locked: dict[str, set[str]] = {}
    for e in declared.locks:
        if e.ecosystem == "python" and not e.dev:
            locked.setdefault(canonicalize_name(e.name), set()).add(e.version)
    mains = [
        r for r in declared.requirements if r.ecosystem == "python" and r.group is None and not r.editable and not r.url
    ]
    mains = [r for r in mains if canonicalize_name(r.name) not in local]
    if not mains and not locked:
        return None, ""
    checked = 0
    wrong: list[str] = []
    missing: list[str] = []
    names: dict[str, str] = {canonicalize_name(r.name): r.specifier for r in mains} or dict.fromkeys(locked, "")
    for name, spec in sorted(names.items()):
        want = locked.get(name)
        have = installed.get(name)
        if not want and not spec.strip():
            continue
        checked += 1
        if have is None:
            missing.append(name)
            continue
        if want:
            ok = have in want
        else:
            try:
                ok = SpecifierSet(spec).contains(Version(have), prereleases=True)
            except (InvalidSpecifier, InvalidVersion):
                ok = True
        if not ok:
            wrong.append(f"{name} {have}")
    if checked == 0:
        return None, ""
    # A few missing pins come from requirement files for other targets (a
    # docker.txt's database driver); any pin at another version means another environment.
    if not wrong and len(missing) * 2 <= checked:
        return True, ""
    parts = []
    if missing:
        parts.append(f"{len(missing)} of its {checked} pinned requirements are not installed: {', '.join(missing[:3])}")
    if wrong:
        parts.append(f"{len(wrong)} installed at another version: {', '.join(wrong[:3])}")
    return False, "; ".join(parts)


def locked_versions(lock: pylock.PyLock) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in lock.lines:
        name, sep, version = line.requirement.partition("==")
        if sep and line.pinned:
            out[canonicalize_name(name.split("[")[0].strip())] = version.strip()
    return out


@record
class Installability:
    verdicts: tuple[Verdict, ...]
    unchecked: tuple[tuple[str, str], ...]  # (name, reason)

    @property
    def failing(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if not v.installs)

    @property
    def compiles(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.builds_from_source)

    @property
    def risky(self) -> tuple[Verdict, ...]:
        """Built from source here although binary wheels exist for other interpreters."""
        return tuple(v for v in self.compiles if v.wheels_elsewhere)


def check_installability(
    pins: Mapping[str, str], version: str, release: str, index: Mapping[str, ProjectPage | Unchecked]
) -> Installability:
    target = Target(version, release)
    verdicts: list[Verdict] = []
    unchecked: list[tuple[str, str]] = []
    for name, pinned in sorted(pins.items()):
        page = index.get(name)
        if page is None:
            unchecked.append((name, "not asked"))
        elif isinstance(page, Unchecked):
            unchecked.append((name, page.reason))
        else:
            verdicts.append(installable(page, pinned, target))
    return Installability(tuple(verdicts), tuple(unchecked))


def _failing_text(v: Verdict, version: str) -> str:
    if v.excluded_by_requires_python:
        return f"{v.name}=={v.version} (its Requires-Python excludes {version})"
    if v.missing_arches and (v.wheel_arches or v.wheels_elsewhere):
        return f"{v.name}=={v.version} (no sdist, and no wheel for cp{version.replace('.', '')[:3]} on {', '.join(v.missing_arches)})"
    return f"{v.name}=={v.version} (the index has no file of it for python {version})"


def _short(items: list[str], n: int = 4) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def _system_packages(
    pins: Mapping[str, str], release: str, report: Installability | None
) -> tuple[list[str], list[str], list[str], list[str]]:
    """(build packages, runtime packages, comment lines, warnings)."""
    build: list[str] = []
    runtime: list[str] = []
    why: list[str] = []
    warnings: list[str] = []
    by_name = {v.name: v for v in report.verdicts} if report is not None else {}
    for name, version in sorted(pins.items()):
        needs = sdist_needs(name, version)
        verdict = by_name.get(name)
        compiles = verdict is not None and bool(verdict.builds_from_source)
        unknown = verdict is None
        if needs is None:
            # An sdist-only release with no binary wheel anywhere is almost always
            # pure Python (most 2010s packages shipped that way): nothing to compile.
            if compiles and verdict is not None and verdict.wheels_elsewhere:
                build.extend(_GENERIC_BUILD)
                why.append(
                    f"#   {name}=={version}: no wheel for {', '.join(verdict.builds_from_source)}; built with gcc"
                )
                warnings.append(
                    f"{name}=={version} builds from its sdist on {', '.join(verdict.builds_from_source)} and envcheck "
                    "knows no system packages for it: the builder has only a C compiler"
                )
            continue
        if needs.always_runtime:
            runtime.extend(needs.runtime_for(release))
        if compiles or unknown:
            build.extend(needs.build)
            runtime.extend(needs.runtime_for(release))
            when = (
                f"no wheel for {', '.join(verdict.builds_from_source)}"  # type: ignore[union-attr]
                if compiles
                else "wheels not checked, in case it builds from source"
            )
            why.append(f"#   {name}=={version}: {when} ({needs.source.split(':')[0]})")
        elif needs.always_runtime:
            why.append(f"#   {name}=={version}: loads {', '.join(needs.runtime_for(release))} at run time")
    return sorted(set(build)), sorted(set(runtime)), why, warnings


def _choose(
    project: Snapshot,
    layout: ProjectLayout,
    source: Snapshot | None,
    options: Options,
) -> PythonChoice:
    declared = project.declared
    assert declared is not None
    py_rt = source.runtime("python") if source is not None else None
    dp = declared.python
    fits, fit_reason = host_fits(project, source, layout.local_packages)
    distro = source.platform.distro if source is not None and source.platform is not None else None
    host_release = debian_codename(distro) if distro else None
    choice = choose_python(
        host=py_rt.version if py_rt else None,
        host_label=source_label(source),
        host_fits=fits,
        host_fit_reason=fit_reason,
        version_files=dict(dp.version_files) if dp else {},
        dockerfiles=layout.dockerfile_pythons,
        requires=dp.requires if dp else None,
        requires_source=dp.requires_source if dp else None,
        host_release=host_release,
        today=options.today,
    )
    era = options.as_of
    if era is None or era.python is None or choice.declared is not None or (dp is not None and dp.requires):
        return choice
    # Nothing declares an interpreter and the host's line is younger than the
    # project: the interpreter of the project's own era.
    why = (
        f"nothing declares a python version and the project's requirements are not installed on the "
        f"{source_label(source)}; {era.python_why} ({era.date.source})"
    )
    release, note = image_release(era.python, None)
    notes = [f"# Interpreter of the project's era: {why}."]
    if note:
        notes.append(f"# {note[0].upper()}{note[1:]}.")
    warnings = [w for w in choice.warnings if "python" not in w or "end of life" not in w]
    warnings.append(f"python {era.python}: {why}")
    eol = eol_warning(era.python, options.today)
    if eol:
        warnings.append(eol)
        notes.append(f"# {eol[0].upper()}{eol[1:]}; kept because the project's requirements date from then.")
    return replace(
        choice,
        version=era.python,
        release=release,
        reason=f"python {era.python} is the interpreter of the project's era",
        warnings=tuple(warnings),
        notes=tuple(notes),
        firm=True,
    )


def _move(choice: PythonChoice, version: str, why: str, host_release: str | None) -> PythonChoice:
    release, note = image_release(version, host_release)
    notes = [n for n in choice.notes if "no official slim image" not in n and "has no official" not in n]
    notes.append(f"# {why}.")
    if note:
        notes.append(f"# {note[0].upper()}{note[1:]}.")
    return replace(
        choice,
        version=version,
        release=release,
        reason=f"{version}: {why}",
        warnings=(*(w for w in choice.warnings if "end of life" not in w), why),
        notes=tuple(notes),
    )


def plan_python(
    project: Snapshot,
    *,
    layout: ProjectLayout,
    source: Snapshot | None,
    options: Options,
    node_choice: Choice | None,
    requires_dist: Mapping[str, tuple[str, ...]] | None,
    scripts: Mapping[str, str] | None = None,
) -> Plan:
    declared = project.declared
    assert declared is not None
    arch = source.platform.arch if source is not None and source.platform is not None else None
    distro = source.platform.distro if source is not None and source.platform is not None else None
    host_release = debian_codename(distro) if distro else None
    choice = _choose(project, layout, source, options)
    env = pylock.marker_environment(choice.version, arch)
    lock = _resolve_lock(project, layout=layout, source=source, options=options, env=env, requires_dist=requires_dist)
    pins = locked_versions(lock)
    report: Installability | None = None
    index_notes: list[str] = []
    index_warnings: list[str] = []
    if options.index is not None:
        report = check_installability(pins, choice.version, choice.release, options.index)
        spec = None
        if declared.python and declared.python.requires:
            try:
                spec = SpecifierSet(declared.python.requires)
            except InvalidSpecifier:
                spec = None
        must_move = bool(report.failing)
        may_move = not choice.firm and bool(report.risky)
        if must_move or may_move:
            best: tuple[tuple[int, int], str, Installability] | None = None
            for other in candidates(spec, choice.version):
                if other.split(".")[:2] == choice.version.split(".")[:2]:
                    continue
                rel, _ = image_release(other, host_release)
                got = check_installability(pins, other, rel, options.index)
                score = (len(got.failing), len(got.risky))
                if score[0] == 0 and (best is None or score < best[0]):
                    best = (score, other, got)
                    if score == (0, 0):
                        break
            current = (len(report.failing), len(report.risky))
            if best is not None and best[0] < current:
                failing = [_failing_text(v, choice.version) for v in report.failing]
                risky = [f"{v.name}=={v.version}" for v in report.risky]
                if failing:
                    moved = (
                        f"python {best[1]} is the nearest line where every pin installs; on {choice.version} "
                        f"{_short(failing)} cannot"
                    )
                else:
                    moved = (
                        f"python {best[1]} is the nearest line with wheels for every compiled pin; on {choice.version} "
                        f"{_short(risky)} would build from source"
                    )
                choice = _move(choice, best[1], moved, host_release)
                env = pylock.marker_environment(choice.version, arch)
                lock = _resolve_lock(
                    project, layout=layout, source=source, options=options, env=env, requires_dist=requires_dist
                )
                pins = locked_versions(lock)
                report = check_installability(pins, choice.version, choice.release, options.index)
            elif report.failing:
                failing = [_failing_text(v, choice.version) for v in report.failing]
                msg = f"on python {choice.version}, {_short(failing)} cannot install, and no known python line installs every pin"
                index_warnings.append(msg)
                index_notes.append(f"# Warning: {msg}.")
        arm_gaps = [f"{v.name}=={v.version}" for v in report.verdicts if v.installs and v.missing_arches]
        if arm_gaps:
            index_warnings.append(
                f"no linux/arm64 file for {_short(arm_gaps)} on python {choice.version}: the image builds for amd64 only"
            )
        if report.unchecked:
            reasons = sorted({r for _, r in report.unchecked})
            names = [n for n, _ in report.unchecked]
            index_warnings.append(
                f"could not check that {len(names)} pin(s) install on python {choice.version} "
                f"({_short(names)}): {_short(reasons, 2)}"
            )
            index_notes.append(f"# Wheels and sdists of {len(names)} pin(s) could not be checked against the index.")
        elif report.verdicts:
            index_notes.append(
                f"# Every pin has a wheel or an sdist for python {choice.version} on the index ({options.index_origin})."
            )
    elif options.index_origin:
        index_warnings.append(
            f"could not check that the pins install on python {choice.version}: {options.index_origin}"
        )
    warnings = [*choice.warnings, *lock.warnings, *index_warnings]
    lock_text = _render_lock(lock, choice.version)
    image = choice.image
    build_pkgs, runtime_pkgs, pkg_why, pkg_warnings = _system_packages(pins, choice.release, report)
    vcs = [line.name for line in lock.lines if " @ git+" in line.requirement]
    if vcs:
        # The slim images have no git, and pip clones git+ URLs with it.
        build_pkgs = sorted({*build_pkgs, "git"})
        pkg_why.append(f"#   git: pip clones {', '.join(vcs)} from its repository")
    warnings.extend(pkg_warnings)

    env_names = frozenset(r.name for r in declared.env_refs)
    # Unpinned lines install too (at whatever version pip resolves): they count as present.
    present = {**{n: "" for n in lock.names}, **pins}
    serving = plan_serving(layout, present, env_names)
    problem = check_executables(serving.argv, scripts=scripts, locked=present, files=layout.py_files)
    web = procfile_of(layout).get("web")
    if problem is not None and web:
        # A Procfile naming a server the requirements never install (Heroku
        # would fail the same way): start the app as if there were no web:
        # line, say so, and refuse only when that cannot run either.
        rest = tuple((n, c) for n, c in procfile_of(layout).processes if n != "web")
        fallback = plan_serving(replace(layout, procfile=Procfile(rest), procfile_web=None), present, env_names)
        starts_app = len(fallback.argv) > 1  # a bare interpreter starts no app
        if (
            starts_app
            and check_executables(fallback.argv, scripts=scripts, locked=present, files=layout.py_files) is None
        ):
            warnings.append(
                f"the Procfile's web: line ({web}) cannot run in the image: {problem}; "
                f"the image starts the app with {' '.join(fallback.argv)!r} instead "
                "(add the server to the requirements to use the Procfile's command)"
            )
            serving, problem = fallback, None
    warnings.extend(serving.warnings)
    if problem is not None:
        raise GenerateError(
            f"the start command {' '.join(serving.argv)!r} cannot run in the image: {problem}; "
            "add the distribution that provides it to the project's requirements"
        )

    node = layout.node
    node_mode: str | None = None
    node_image = None
    install = None
    if node is not None and node_choice is not None:
        node_image = f"node:{node_choice.version}-bookworm-slim"
        install = npmrc_aware(node, node_install(node, source))
        if "build" in node.scripts:
            node_mode = "frontend"
        elif is_node_runtime_needed(node):
            node_mode = "runtime"
        if node_mode and install.warning:
            warnings.append(install.warning)
        if node_mode:
            warnings.extend(install.warnings)

    header = [HEADER, REGENERATE, f"# Python: {choice.reason}."]
    header.extend(choice.notes)
    if node_choice is not None and node_mode:
        header.append(f"# Node: {node_choice.reason}.")
    header.append(f"# Packages: {options.lock_path} pins {len(lock.lines)} distributions from {lock.origin}.")
    header.extend(index_notes)
    if node is not None and node_mode is None:
        header.append("# package.json has no build script and no runtime dependencies: node is not part of the image.")
    if choice.release != "bookworm" and host_release == choice.release:
        header.append(f"# Debian {choice.release}: the release the {source_label(source)} runs.")

    stages: list[Stage] = []
    if node_mode == "frontend" and node is not None and install is not None and node_image is not None:
        workdir = "/src" + (f"/{node.dir}" if node.dir else "")
        stages.append(
            Stage(
                node_image,
                (
                    Workdir(workdir),
                    *copy_manifests(node, install, "./"),
                    *run_install(install, install.full),
                    Copy((".",), "/src"),
                    Run(
                        "npm run build \\\n && rm -rf node_modules",
                        ("# node_modules is build tooling here; the Python image needs only the built files.",),
                    ),
                ),
                "frontend",
                ("# Front end: built with the pinned node, then only its output travels on.",),
            )
        )
    elif node_mode == "runtime" and node is not None and install is not None and node_image is not None:
        stages.append(
            Stage(
                node_image,
                (
                    Workdir("/app" + (f"/{node.dir}" if node.dir else "")),
                    *copy_manifests(node, install, "./"),
                    *run_install(install, install.prod),
                ),
                "node",
                ("# Node packages the app runs with, installed by the pinned node.",),
            )
        )

    builder: list[Step] = [
        Env((("PIP_NO_CACHE_DIR", "1"), ("PIP_DISABLE_PIP_VERSION_CHECK", "1"), ("PYTHONDONTWRITEBYTECODE", "1"))),
    ]
    if build_pkgs:
        builder.append(
            SystemPackages(
                tuple(build_pkgs),
                ("# Build tools and headers for sdists pip may compile:", *pkg_why),
            )
        )
    # ARGs without a default stay unset unless given, so pip uses its usual index.
    builder.append(
        Arg(
            ("PIP_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX"),
            ("# Mirrors and offline builds: --build-arg PIP_INDEX_URL=… or PIP_FIND_LINKS=… PIP_NO_INDEX=1.",),
        )
    )
    if lock.tooling:
        pins_text = " ".join(f"{n}=={v}" for n, v in lock.tooling)
        builder.append(
            Run(
                f"python3 -m venv {VENV} \\\n && {VENV}/bin/pip install --no-cache-dir {pins_text}",
                (f"# The installer is pinned to the {source_label(source)}'s versions so the venv matches it.",),
            )
        )
    else:
        builder.append(Run(f"python3 -m venv {VENV}"))
    builder.append(Copy((options.lock_path,), "/tmp/requirements.lock"))
    flags = "--no-cache-dir"
    why: tuple[str, ...] = ()
    if lock.hashed:
        flags += " --require-hashes"
        why = ("# --require-hashes: every pin carries the hashes the project's lock recorded.",)
    builder.append(Run(f"{VENV}/bin/pip install {flags} -r /tmp/requirements.lock", why))
    stages.append(
        Stage(
            image,
            tuple(builder),
            "builder",
            ("# Builder: a virtual environment holding exactly the locked distributions.",),
        )
    )
    stages.append(
        _runtime_stage(
            project,
            layout=layout,
            source=source,
            options=options,
            image=image,
            serving=serving,
            runtime_pkgs=runtime_pkgs,
            node_mode=node_mode,
        )
    )
    declares = choice.declared is not None or bool(declared.python and declared.python.requires)
    return Plan(
        header=tuple(header),
        stages=tuple(stages),
        warnings=tuple(warnings),
        locks={options.lock_path: lock_text},
        python_open=open_requirements(lock),
        python=(choice.version, declares),
    )


def _runtime_stage(
    project: Snapshot,
    *,
    layout: ProjectLayout,
    source: Snapshot | None,
    options: Options,
    image: str,
    serving: Serving,
    runtime_pkgs: list[str],
    node_mode: str | None,
) -> Stage:
    node = layout.node
    env_vars = [
        ("PYTHONDONTWRITEBYTECODE", "1"),
        ("PYTHONUNBUFFERED", "1"),
        ("PIP_NO_CACHE_DIR", "1"),
        ("VIRTUAL_ENV", VENV),
        ("PATH", f"{VENV}/bin:$PATH"),
    ]
    if serving.pythonpath:
        env_vars.append(("PYTHONPATH", "/".join(filter(None, ["/app", layout.python_dir, serving.pythonpath]))))
    final: list[Step] = []
    if runtime_pkgs:
        final.append(
            SystemPackages(tuple(runtime_pkgs), ("# Shared libraries the compiled distributions load at run time.",))
        )
    final.append(Env(tuple(env_vars)))
    final.extend(env_steps(project, source, OWN_ENV | {n for n, _ in serving.env}))
    useradd = f"useradd --no-log-init --create-home --uid {APP_UID} --shell /usr/sbin/nologin app"
    if not options.read_only_code:
        # COPY --chown owns what it copies, not an /app that WORKDIR made as root.
        useradd += f" \\\n && install -d -o {APP_UID} -g {APP_UID} /app"
    final.append(Run(useradd, ("# A fixed uid, so volume permissions and runAsUser policies can name it.",)))
    final.append(Copy((VENV,), VENV, from_stage="builder"))
    if node_mode == "runtime" and node is not None:
        final.append(
            Copy(
                ("/usr/local/bin/node",),
                "/usr/local/bin/node",
                ("# The node binary from the same pinned node image, for the code that shells out to it.",),
                from_stage="node",
            )
        )
    final.append(Workdir("/app"))
    owner = None if options.read_only_code else f"{APP_UID}:{APP_UID}"
    ownership = (
        "# Owned by root, so the app can read its code but not rewrite it (dockerfile-read-only-code)."
        if options.read_only_code
        else "# Owned by the app user, as buildpacks do: apps write logs/, sqlite files and compiled"
        "\n# translations beside their code. Set dockerfile-read-only-code = true in envcheck's config to keep it root's."
    )
    if node_mode == "frontend":
        final.append(
            Copy(
                ("/src",),
                "/app",
                (ownership, "# The source comes with the built front end."),
                from_stage="frontend",
                chown=owner,
            )
        )
    else:
        final.append(Copy((".",), "/app", (ownership,), chown=owner))
    if node_mode == "runtime" and node is not None:
        nm = "/app" + (f"/{node.dir}" if node.dir else "") + "/node_modules"
        final.append(Copy((nm,), nm, from_stage="node"))
    if layout.python_dir:
        final.append(Workdir(f"/app/{layout.python_dir}"))
    if serving.env:
        final.append(
            Env(
                serving.env,
                ("# The app's settings the start command relies on.",)
                if any(n != "PORT" for n, _ in serving.env)
                else (),
            )
        )
    for command, why in serving.build:
        placeholders = _build_placeholders(project, serving)
        prefix = " ".join(f"{n}={v}" for n, v in placeholders)
        run = f"{prefix} {command}" if prefix else command
        final.append(
            Run(
                f"{run} \\\n || echo 'envcheck: {command.split(' --')[0]} failed at build time: run it before start' >&2",
                (
                    f"# {why}.",
                    *(
                        (
                            "# Placeholder values only for this step, for settings read at import: "
                            + ", ".join(n for n, _ in placeholders)
                            + ".",
                        )
                        if placeholders
                        else ()
                    ),
                ),
            )
        )
    if serving.release:
        lines = ["# Once before start (and after each deploy), a deployer runs — the image does not:"]
        lines.extend(f"#   docker run --rm <image> {cmd}    ({why})" for cmd, why in serving.release)
        final.append(Note(tuple(lines)))
    final.append(User(APP_UID))
    if serving.port:
        final.append(Expose(serving.port, (f"# Port {serving.port}: {serving.port_why}.",) if serving.port_why else ()))
    final.append(Cmd(serving.argv, (f"# CMD: {serving.why}.",)))
    return Stage(
        image,
        tuple(final),
        why=("# Runtime: the same interpreter, the venv and the code; no build tools, not root.",),
    )


def _build_placeholders(project: Snapshot, serving: Serving) -> list[tuple[str, str]]:
    """Throw-away values for settings a build-time step needs to import the app.

    Only names the project reads with no value baked into the image (secrets
    and runtime settings); they live in that one RUN, never in an ENV.
    """
    declared = project.declared
    if declared is None:
        return []
    own = {n for n, _ in serving.env}
    out: dict[str, str] = {}
    for ref in declared.env_refs:
        name = ref.name
        if name in out or name in own or name in OWN_ENV or not name.isupper():
            continue
        if "DATABASE_URL" in name or name.endswith("_DB_URL"):
            value = "sqlite:////tmp/build.sqlite3"
        elif name.endswith("_URL") or name.endswith("_URI"):
            value = "http://localhost/"
        elif name == "DEBUG" or name.endswith("_DEBUG"):
            value = "False"
        elif name.endswith("HOSTS"):
            value = "localhost"
        elif "KEY" in name or "SECRET" in name or "TOKEN" in name or "PASSWORD" in name:
            value = "build-time-placeholder"
        else:
            continue
        out[name] = value
    return sorted(out.items())
