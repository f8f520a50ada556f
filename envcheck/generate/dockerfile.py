"""The Dockerfile generator's entry: pick the ecosystem, plan, render.

``generate(project, layout, source, options)`` takes

* ``project`` — the project snapshot (what its files declare),
* ``layout`` — the entry files and scripts :func:`~envcheck.generate.layout.read_layout` found,
* ``source`` — the snapshot whose versions are the truth (the host, or a stored one), or ``None``,
* ``options`` — which version source to use, base-image digests, file names,

and returns :class:`GeneratedFiles` — the text of the Dockerfile,
``.dockerignore`` and ``requirements.lock``.  It reads nothing and writes
nothing (:mod:`envcheck.generate.writer` does that), so the same input gives
byte-identical output: nothing here depends on time, paths or dict order.

The decisions live in :mod:`.python` and :mod:`.node`, which return a
:class:`~envcheck.generate.plan.Plan`; :mod:`.render` writes its text.
Every choice a reader might question is explained in a comment in the output.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from packaging.utils import canonicalize_name

from envcheck.generate.imports import ImportPin
from envcheck.generate.layout import ProjectLayout
from envcheck.generate.node import choose_for, dockerignore_for, plan_node
from envcheck.generate.options import (
    DOCKERIGNORE,
    HEADER,
    LOCK_HEADER,
    GeneratedFiles,
    GenerateError,
    Options,
    VersionSource,
    source_label,
)
from envcheck.generate.plan import Plan
from envcheck.generate.python import plan_python
from envcheck.generate.render import render
from envcheck.record import replace
from envcheck.snapshot import Declared, DeclaredRuntime, Snapshot
from envcheck.snapshot import Requirement as DeclaredReq

__all__ = [
    "DOCKERIGNORE",
    "HEADER",
    "LOCK_HEADER",
    "GenerateError",
    "GeneratedFiles",
    "Options",
    "VersionSource",
    "app_dirs",
    "focus",
    "generate",
    "locked_names",
    "plan",
    "relevant_source",
]


# --------------------------------------------------------------------------- entry point


def app_dirs(layout: ProjectLayout) -> frozenset[str]:
    """Folders whose manifests belong to the root app."""
    dirs = {"requirements", "reqs", *layout.member_dirs}
    if layout.node:
        dirs.add(layout.node.dir)
    if layout.python_dir:
        dirs.update({layout.python_dir, f"{layout.python_dir}/requirements"})
    return frozenset(dirs)


def relevant_source(source: str, dirs: frozenset[str]) -> bool:
    """Is a ``file:line`` source part of the app at the root (not a nested sample or test)?"""
    path = source.split(":", 1)[0]
    parent = path.rpartition("/")[0]
    return parent == "" or parent in dirs


def focus(declared: Declared, layout: ProjectLayout, own_lock: str = "requirements.lock") -> Declared:
    """The declarations of the root project only.

    The project scanner walks the whole tree; nested folders often hold other
    projects (test fixtures, examples, templates).  The image is built from the
    root, so only files at the root, in ``requirements/``, in workspace members
    and beside the app's ``package.json`` count.  Env refs stay: code anywhere
    in the tree may read a variable.
    """
    dirs = app_dirs(layout)

    def runtime(rt: DeclaredRuntime | None) -> DeclaredRuntime | None:
        if rt is None:
            return None
        keep = {k: v for k, v in rt.version_files.items() if relevant_source(k, dirs)}
        requires_ok = rt.requires_source is None or relevant_source(rt.requires_source, dirs)
        return replace(
            rt,
            version_files=keep,
            requires=rt.requires if requires_ok else None,
            requires_source=rt.requires_source if requires_ok else None,
        )

    closure = layout.requirements_closure

    def reached(source: str) -> bool:
        # With a root requirements.txt, the other requirement files (docker.txt,
        # prod-mysql.txt) are alternatives it does not install: pip and Heroku read
        # only what requirements.txt reaches with -r.
        path = source.split(":", 1)[0]
        name = path.rsplit("/", 1)[-1]
        if closure is None or not (name.endswith((".txt", ".in")) and "requirements" in path):
            return True
        return path in closure

    return replace(
        declared,
        python=runtime(declared.python),
        node=runtime(declared.node),
        # The lock this generator wrote last time is its output, never its input.
        requirements=tuple(
            r
            for r in declared.requirements
            if relevant_source(r.source, dirs) and r.source.split(":", 1)[0] != own_lock and reached(r.source)
        ),
        locks=tuple(e for e in declared.locks if relevant_source(e.source, dirs)),
    )


def plan(
    project: Snapshot,
    layout: ProjectLayout,
    source: Snapshot | None = None,
    options: Options | None = None,
    requires_dist: Mapping[str, tuple[str, ...]] | None = None,
    *,
    scripts: Mapping[str, str] | None = None,
    imports: tuple[ImportPin, ...] = (),
) -> Plan:
    """The plan of the project's image (its stages, lock files and warnings).

    ``requires_dist`` (from :func:`~envcheck.generate.layout.read_requires_dist`)
    narrows a snapshot's packages to the project's dependency closure;
    ``scripts`` (console script -> distribution, from the same metadata) tells
    whether a start command exists in the image; ``imports`` are the pins of
    what the code imports, used when the project declares no requirements.
    Raises :class:`GenerateError` when there is nothing to containerise.
    """
    options = options or Options()
    if project.declared is None:
        raise GenerateError("not a project snapshot (it has no declared section)")
    declared = focus(project.declared, layout, options.lock_path)
    project = replace(project, declared=declared)
    if options.version_source in ("host", "snapshot") and source is None:
        raise GenerateError(f"--from {options.version_source}: no snapshot to take versions from")
    if options.version_source == "lock":
        source = None
    is_python = (
        layout.is_python
        or declared.python is not None
        or any(r.ecosystem == "python" for r in declared.requirements)
        or any(e.ecosystem == "python" for e in declared.locks)
    )
    node = layout.node
    if not is_python and node is None:
        raise GenerateError(
            "no Python or Node project here: expected pyproject.toml, requirements.txt, setup.py, Pipfile, "
            "manage.py or package.json at the top of the project"
        )
    label = source_label(source)
    warnings: list[str] = []
    node_choice = None
    if node is not None:
        from envcheck.generate import node_releases

        releases = options.node_releases or node_releases.snapshot()
        era = (options.project_date.day, options.project_date.source) if options.project_date else None
        node_choice, node_warnings = choose_for(node, declared, source, label, releases, era=era)
        warnings.extend(node_warnings)
    if is_python:
        import_warnings: list[str] = []
        if (
            imports
            and not any(r.ecosystem == "python" for r in declared.requirements)
            and not any(e.ecosystem == "python" for e in declared.locks)
        ):
            project, import_warnings = _with_imports(project, imports, label)
        planned = plan_python(
            project,
            layout=layout,
            source=source,
            options=options,
            node_choice=node_choice,
            requires_dist=requires_dist,
            scripts=scripts,
        )
        warnings.extend(import_warnings)
    else:
        assert node is not None and node_choice is not None
        planned = plan_node(project, layout=layout, node=node, source=source, options=options, choice=node_choice)
    return replace(planned, warnings=(*warnings, *planned.warnings))


def _with_imports(project: Snapshot, imports: tuple[ImportPin, ...], label: str) -> tuple[Snapshot, list[str]]:
    """The project with its imports as its requirements, pinned to the host's versions."""
    declared = project.declared
    assert declared is not None
    reqs = tuple(
        DeclaredReq(
            ecosystem="python", name=p.dist, specifier=f"=={p.version}", source=f"import {p.module} ({p.where})"
        )
        for p in imports
    )
    names = ", ".join(f"{p.dist}=={p.version}" for p in imports[:6]) + (" …" if len(imports) > 6 else "")
    warning = (
        f"no requirements file: pinned what the code imports, at the {label}'s versions ({names}); "
        "commit a requirements.txt to make this the project's own truth"
    )
    return replace(project, declared=replace(declared, requirements=reqs)), [warning]


def generate(
    project: Snapshot,
    layout: ProjectLayout,
    source: Snapshot | None = None,
    options: Options | None = None,
    requires_dist: Mapping[str, tuple[str, ...]] | None = None,
    *,
    scripts: Mapping[str, str] | None = None,
    imports: tuple[ImportPin, ...] = (),
) -> GeneratedFiles:
    """Generate the Dockerfile, ``.dockerignore`` and lock for a project (see :func:`plan`)."""
    options = options or Options()
    planned = plan(project, layout, source, options, requires_dist, scripts=scripts, imports=imports)
    warnings = list(planned.warnings)
    dockerignore = dockerignore_for(layout, warnings)
    return GeneratedFiles(
        dockerfile=render(planned, options.base_digests),
        dockerignore=dockerignore,
        locks=dict(planned.locks),
        warnings=tuple(dict.fromkeys(warnings)),
        python_open=planned.python_open,
        python=planned.python,
    )


def locked_names(files: GeneratedFiles) -> frozenset[str]:
    """Canonical names pinned in the generated lock (for tests and reports)."""
    names: set[str] = set()
    for text in files.locks.values():
        for line in text.splitlines():
            m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(==|@)", line)
            if m:
                names.add(canonicalize_name(m.group(1)))
    return frozenset(names)
