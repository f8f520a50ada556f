"""The project scanner: what a project's own files declare (``envcheck snapshot project``).

It walks the project tree within bounds, hands each file the parser registry
(:mod:`envcheck.parsers`) knows to its parser, and merges the
:class:`~envcheck.snapshot.Declared` fragments into one snapshot with
``source.kind == "project"``.  Nothing is executed and nothing outside the
project directory is read.
"""

from __future__ import annotations

import fnmatch
import functools
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from envcheck.errors import EnvcheckError
from envcheck.parsers import REMEMBERED, load, parser_for, relpath, remembered
from envcheck.record import record, replace
from envcheck.snapshot import (
    BaseImage,
    Declared,
    DeclaredRuntime,
    DockerfileVar,
    EnvRef,
    InstallCommand,
    LockedPackage,
    Requirement,
    Snapshot,
    Source,
    Suppression,
)

# Directories that hold installed, generated or vendored files, never the
# project's own declarations.
SKIP_DIRS: frozenset[str] = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".bzr",
        "node_modules",
        "bower_components",
        "jspm_packages",
        "__pycache__",
        ".tox",
        ".nox",
        ".venv",
        ".direnv",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
        ".eggs",
        "site-packages",
        "dist-packages",
        "dist",
        ".next",
        ".nuxt",
        ".svelte-kit",
        ".turbo",
        ".parcel-cache",
        ".cache",
        ".terraform",
        ".idea",
        ".vscode",
        "coverage",
        "htmlcov",
    }
)
MAX_DEPTH = 12
MAX_ENTRIES = 50_000


@record
class Discovery:
    files: tuple[Path, ...]
    notes: tuple[str, ...] = ()
    # Directories with a manifest of their own: other projects, not this one's files.
    subprojects: tuple[str, ...] = ()
    # Declaration files found but outside the project's boundary.
    outside: tuple[str, ...] = ()


@record
class Boundary:
    """The config's additions to and removals from the project (``include``/``exclude`` globs)."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


_DEFAULT_BOUNDARY = Boundary()


def scan_project(
    root: Path,
    files: Sequence[Path] | None = None,
    *,
    env_refs: bool = True,
    boundary: Boundary | None = None,
) -> Snapshot:
    """Snapshot of what the project at ``root`` declares.

    Without ``files``, the project is what :func:`discover_project` finds
    inside its boundary (``boundary``, or the project's config when None).
    With ``files`` (pre-commit passes the staged file names), only those files
    are parsed — still reported relative to ``root``; names no parser knows
    are ignored.  ``env_refs=False`` skips reading source code and compose
    files for variable names: no static (lint) rule needs them, and on a
    large repository they are most of the work.
    """
    return read_project(root, files, env_refs=env_refs, boundary=boundary)[0]


def read_project(
    root: Path,
    files: Sequence[Path] | None = None,
    *,
    env_refs: bool = True,
    boundary: Boundary | None = None,
) -> tuple[Snapshot, Discovery]:
    """:func:`scan_project` and the discovery behind it (what ``-v`` reports)."""
    _check_root(root)
    if files is None:
        found = discover_project(root, boundary if boundary is not None else boundary_from_config(root))
    else:
        found = Discovery(files=_given(root, files))
    chosen = found.files if env_refs else tuple(f for f in found.files if parser_for(relpath(f, root)) != "env_refs")
    by_file: dict[str, Declared] = {}
    declared = parse_files(root, chosen, by_file)
    if found.outside:
        # What the project's own files include belongs to it: a `-r` include
        # (already read by the requirements parser) or a file a Dockerfile
        # installs from (`RUN pip install -r backend/requirements.txt`).
        installed_from = {f.removeprefix("./").lstrip("/") for i in declared.installs for f in i.files}
        # Paths in the image (`/app/deploy/prod.txt`) end with the project path copied there.
        extra = [
            root / rel
            for rel in found.outside
            if rel not in declared.files and any(f == rel or f.endswith("/" + rel) for f in installed_from)
        ]
        if extra:
            declared = merge([declared, parse_files(root, extra)])
        read = set(declared.files)
        found = replace(found, outside=tuple(rel for rel in found.outside if rel not in read))
    declared = _mark_variants(root, declared, by_file.get("requirements.txt"))
    snapshot = Snapshot(
        source=Source(kind="project", ref=str(root)), platform=None, declared=declared, notes=found.notes
    )
    return snapshot, found


def _mark_variants(root: Path, declared: Declared, entry_parsed: Declared | None = None) -> Declared:
    """Requirement files the root ``requirements.txt`` does not reach are variants.

    ``requirements/docker.txt`` beside ``requirements/heroku.txt``, with
    ``requirements.txt`` including only the latter: each is one way to deploy,
    not something every environment must have. They stay declarations (every
    static rule reads them) under the group ``variant``, so a host or image is
    not told it lacks the packages of a deployment it is not. Without a root
    ``requirements.txt`` nothing says which file is the entry, and nothing is
    marked.
    """
    entry = root / "requirements.txt"
    if "requirements.txt" not in declared.files or not entry.is_file():
        return declared
    try:
        # The entry's own parse when parse_files made it: not parsed twice.
        reached = set((entry_parsed or load("requirements")(entry, root)).files)
    except EnvcheckError:
        return declared
    changed = False
    reqs: list[Requirement] = []
    for req in declared.requirements:
        file = source_key(req.source)[0] if req.source else ""
        if (
            req.group is None
            and req.ecosystem == "python"
            and file
            and file not in reached
            and parser_for(file) == "requirements"
        ):
            req = replace(req, group="variant")
            changed = True
        reqs.append(req)
    return replace(declared, requirements=tuple(reqs)) if changed else declared


def scan_project_files(root: Path, files: Sequence[Path]) -> Declared:
    """Just the declarations in ``files`` (for ``envcheck lint FILE…``)."""
    _check_root(root)
    return parse_files(root, _given(root, files))


def _check_root(root: Path) -> None:
    if not root.exists():
        raise EnvcheckError("no such directory", path=str(root))
    if not root.is_dir():
        raise EnvcheckError("not a directory", path=str(root))


# --------------------------------------------------------------------------- discovery


def _is_venv(path: Path) -> bool:
    return (path / "pyvenv.cfg").is_file() or (path / "conda-meta").is_dir()


def discover(root: Path) -> Discovery:
    """Files under ``root`` that a parser reads, shallow first, in a stable order."""
    real_root = root.resolve()
    found: list[tuple[int, str, Path]] = []
    notes: list[str] = []
    entries = 0
    stack: list[tuple[Path, int]] = [(root, 0)]
    while stack:
        directory, depth = stack.pop()
        try:
            with os.scandir(directory) as it:
                children = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            if directory == root:
                raise EnvcheckError(f"cannot read directory: {exc.strerror or exc}", path=str(root)) from None
            notes.append(f"{relpath(directory, root)}: skipped, cannot read ({exc.strerror or exc})")
            continue
        subdirs: list[Path] = []
        for entry in children:
            entries += 1
            if entries > MAX_ENTRIES:
                notes.append(f"stopped after {MAX_ENTRIES} files and folders; pass FILES to scan more")
                stack.clear()
                break
            path = Path(entry.path)
            try:
                is_link = entry.is_symlink()
                if entry.is_dir(follow_symlinks=False):
                    if not is_link and not _skip_dir(entry.name, path):
                        subdirs.append(path)
                    continue
                if not entry.is_file(follow_symlinks=True):
                    continue
                if is_link and not _inside(path, real_root):
                    continue  # a link out of the project is not the project's declaration
            except OSError:
                continue
            rel = relpath(path, root)
            if parser_for(rel) is not None:
                found.append((depth, rel, path))
        if depth + 1 > MAX_DEPTH:
            if subdirs:
                notes.append(f"{relpath(directory, root)}: not descending deeper than {MAX_DEPTH} levels")
            continue
        stack.extend((d, depth + 1) for d in reversed(subdirs))
    found.sort(key=lambda t: (t[0], t[1]))
    return Discovery(files=tuple(p for _, _, p in found), notes=tuple(notes))


def _skip_dir(name: str, path: Path) -> bool:
    return name in SKIP_DIRS or name.endswith(".egg-info") or _is_venv(path) or _is_build_output(name, path)


def _is_build_output(name: str, path: Path) -> bool:
    """setuptools' ``build/`` (copies of the sources), not Go-style ``build/package/Dockerfile``."""
    if name != "build":
        return False
    try:
        with os.scandir(path) as it:
            return any(e.name == "lib" or e.name.startswith(("bdist.", "temp.", "lib.", "scripts-")) for e in it)
    except OSError:
        return False


def _inside(path: Path, real_root: Path) -> bool:
    try:
        path.resolve().relative_to(real_root)
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def _given(root: Path, files: Iterable[Path]) -> tuple[Path, ...]:
    """Resolve file names as pre-commit passes them (relative to the cwd, or to ``root``)."""
    real_root = root.resolve()
    out: dict[Path, None] = {}
    for f in files:
        f = Path(f)
        candidates = [c for c in ([f] if f.is_absolute() else [f, root / f]) if c.exists()]
        if not candidates:
            raise EnvcheckError("no such file", path=str(f))
        path = next((c for c in candidates if _inside(c, real_root)), None)
        if path is None:
            raise EnvcheckError(f"not inside the project directory {root}", path=str(f))
        if path.is_dir():
            for p in discover(path).files:
                out[p] = None
            continue
        # Keep paths relative to root the way the walk would have written them.
        rel = path.resolve().relative_to(real_root)
        out[root / rel] = None
    return tuple(out)


# --------------------------------------------------------------------------- the project boundary

# A directory holding one of these is a project of its own (a second app, a
# docs build, a leftover copy): `envcheck scan that/dir` scans it.
MANIFESTS: frozenset[str] = frozenset(
    {
        "pyproject.toml",
        "setup.py",
        "setup.cfg",
        "Pipfile",
        "environment.yml",
        "environment.yaml",
        "requirements.txt",
        "package.json",
    }
)
# Folders at the root where projects conventionally keep requirement files
# (`requirements/base.txt`, `requirements/dev/test.txt`).
CONVENTIONAL_DIRS: frozenset[str] = frozenset({"requirements", "reqs", "requirements.d"})
# Files that belong to the project wherever they are inside its boundary:
# Dockerfiles (`docker/Dockerfile`, `build/package/Dockerfile`), env templates,
# compose files and the source code that reads variables.
_ANYWHERE: frozenset[str] = frozenset({"dockerfile", "env_refs"})


def boundary_from_config(root: Path) -> Boundary:
    """The ``include``/``exclude`` keys of the project's config (none when it has no config)."""
    from envcheck.config import load_config

    cfg = load_config(root)
    return Boundary(include=cfg.include, exclude=cfg.exclude)


def _matches(rel: str, globs: Iterable[str]) -> bool:
    """``rel`` (or a folder above it) matches a glob: ``legacy``, ``legacy/*``, ``**/old/*.txt``."""
    parts = rel.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for glob in globs:
        g = glob.strip().strip("/")
        if g.startswith("./"):
            g = g[2:]
        if any(fnmatch.fnmatchcase(p, g) for p in prefixes):
            return True
        if g.startswith("**/") and any(fnmatch.fnmatchcase(p, g[3:]) for p in prefixes):
            return True
    return False


def workspace_members(root: Path) -> tuple[str, ...]:
    """Globs of workspace members the root manifests declare (npm/yarn/pnpm workspaces, uv workspaces).

    Members share the root's lock file and are built with it: they are part
    of the root project, not projects of their own.
    """
    import json

    globs: list[str] = []
    try:
        data = json.loads((root / "package.json").read_text(encoding="utf-8"))
        ws = data.get("workspaces") if isinstance(data, dict) else None
        if isinstance(ws, dict):
            ws = ws.get("packages")
        if isinstance(ws, list):
            globs.extend(str(w) for w in ws if isinstance(w, str))
    except (OSError, ValueError, UnicodeDecodeError):
        pass
    pnpm = root / "pnpm-workspace.yaml"
    if pnpm.is_file():  # PyYAML is imported only for projects that need it (lint runs on every commit)
        import yaml

        try:
            data = yaml.safe_load(pnpm.read_text(encoding="utf-8"))
            if isinstance(data, dict) and isinstance(data.get("packages"), list):
                globs.extend(str(w) for w in data["packages"] if isinstance(w, str) and not w.startswith("!"))
        except (OSError, ValueError, UnicodeDecodeError, yaml.YAMLError):
            pass
    try:
        from envcheck._toml import loads

        data = loads((root / "pyproject.toml").read_text(encoding="utf-8"), "pyproject.toml")
        uv = data.get("tool", {}).get("uv", {}).get("workspace", {})
        members = uv.get("members") if isinstance(uv, dict) else None
        if isinstance(members, list):
            globs.extend(str(m) for m in members if isinstance(m, str))
    except (OSError, ValueError, UnicodeDecodeError, AttributeError, EnvcheckError):
        pass
    return tuple(g.rstrip("/").removeprefix("./") for g in globs)


def _copied(root: Path, dockerfiles: Sequence[tuple[str, Path]], subprojects: set[str]) -> set[str]:
    """Context paths the project's own Dockerfiles (not a sub-project's) COPY or ADD."""
    if not dockerfiles:
        return set()  # without one, the Dockerfile parser need not even be imported
    from envcheck._io import read_text
    from envcheck.parsers.dockerfile import MAX_BYTES, copy_sources

    out: set[str] = set()
    for rel, path in dockerfiles:
        if any(rel.startswith(d + "/") for d in subprojects):
            continue
        try:
            out.update(c for c in copy_sources(read_text(path, limit=MAX_BYTES), rel) if c not in (".", "*"))
        except EnvcheckError:
            continue  # the Dockerfile parser reports an unreadable Dockerfile when the project is parsed
    return out


def discover_project(root: Path, boundary: Boundary = _DEFAULT_BOUNDARY) -> Discovery:
    """The files that belong to the project at ``root`` (see docs/configuration.md, "The project boundary").

    Its root files; what they include (``-r`` files are read by the parser
    that meets the include); requirement files in the conventional folders;
    Dockerfiles, env templates and source code anywhere inside the boundary;
    workspace members its manifests name; and what the config's ``include``
    adds.  A folder with a manifest of its own is another project: listed,
    not merged.  A declaration file elsewhere (a leftover
    ``_updated/config/requirements.txt``) is left out and listed.
    """
    found = discover(root)
    members = workspace_members(root)
    rels = [(relpath(p, root), p) for p in found.files]

    absorbed: set[str] = set()

    def inside_root_project(directory: str) -> bool:
        return (
            directory.split("/", 1)[0] in CONVENTIONAL_DIRS
            or any(directory == d or directory.startswith(d + "/") for d in absorbed)
            or _matches(directory, members)
            or _matches(directory, boundary.include)
        )

    subprojects: set[str] = set()
    for rel, _ in rels:
        directory, _, name = rel.rpartition("/")
        if directory and name in MANIFESTS and not inside_root_project(directory):
            subprojects.add(directory)
    # What the project's Dockerfiles build belongs to it: `COPY
    # backend/requirements.txt .` takes backend/ into the root project
    # (`COPY . .` copies everything and says nothing about which app is built).
    copied = _copied(root, [(rel, p) for rel, p in rels if parser_for(rel) == "dockerfile"], subprojects)
    absorbed = {d for d in subprojects if any(c == d or c.startswith(d + "/") for c in copied)}
    subprojects -= absorbed

    def owner(rel: str) -> str | None:
        parts = rel.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            prefix = "/".join(parts[:i])
            if prefix in subprojects:
                return prefix
        return None

    kept: list[Path] = []
    outside: list[str] = []
    for rel, path in rels:
        if _matches(rel, boundary.exclude):
            continue
        if _matches(rel, boundary.include):
            kept.append(path)
            continue
        if owner(rel) is not None:
            continue
        directory = rel.rpartition("/")[0]
        if directory and any(sub.startswith(directory + "/") for sub in subprojects):
            # A folder that groups other projects (`deploy/Dockerfile` above
            # `deploy/api/` and `deploy/web/`, each with its own manifest)
            # builds those projects, not the root one.
            outside.append(rel)
            continue
        if directory and parser_for(rel) not in _ANYWHERE and not inside_root_project(directory) and rel not in copied:
            outside.append(rel)
            continue
        kept.append(path)
    # A project nested in another is listed once, under the outermost.
    top = sorted(d for d in subprojects if not any(d.startswith(o + "/") for o in subprojects))
    return Discovery(files=tuple(kept), notes=found.notes, subprojects=tuple(top), outside=tuple(outside))


def boundary_lines(found: Discovery) -> list[str]:
    """What ``-v`` says about the boundary: the other projects seen and the files left out."""
    lines = [
        f"{d}/: another project (it has its own manifest); scan it with: envcheck scan {d}" for d in found.subprojects
    ]
    lines.extend(
        f"{rel}: not part of the project (not at its root, not included by its files, not in a requirements "
        "folder); add it with the config key include"
        for rel in found.outside
    )
    return lines


# --------------------------------------------------------------------------- parse + merge


def parse_files(root: Path, files: Iterable[Path], by_file: dict[str, Declared] | None = None) -> Declared:
    """Parse each file its registered parser knows and merge the fragments (each also into ``by_file``, by path)."""
    fragments: list[Declared] = []
    read: set[str] = set()
    for path in files:
        rel = relpath(path, root)
        module = parser_for(rel)
        if module is None:
            continue
        if module == "requirements" and rel in read:
            # Already parsed through an `-r`/`-c` include of a shallower file;
            # the merge would keep that first reading anyway.
            continue
        if module in REMEMBERED:
            # The parser's module (and the TOML/YAML library and packaging behind it) is
            # imported only when the remembered fragment cannot be used.
            fragment = remembered.parse(module, path, rel, functools.partial(_parse_with, module, path, root))
        else:
            fragment = load(module)(path, root)
        if by_file is not None:
            by_file[rel] = fragment
        read.update(fragment.files)
        fragments.append(fragment)
    return merge(fragments)


def _parse_with(module: str, path: Path, root: Path) -> Declared:
    return load(module)(path, root)


def source_key(source: str) -> tuple[str, int]:
    """``"a/b.txt:12"`` → ``("a/b.txt", 12)`` so line 9 sorts before line 10."""
    path, sep, line = source.rpartition(":")
    if sep and line.isdigit():
        return path, int(line)
    return source, 0


def _merge_runtime(a: DeclaredRuntime | None, b: DeclaredRuntime | None) -> DeclaredRuntime | None:
    """The first (shallowest) ``requires`` wins; version files accumulate."""
    if a is None:
        return b
    if b is None:
        return a
    requires, requires_source = (a.requires, a.requires_source) if a.requires else (b.requires, b.requires_source)
    return DeclaredRuntime(
        requires=requires,
        requires_source=requires_source,
        version_files={**b.version_files, **a.version_files},
        package_manager=a.package_manager or b.package_manager,
        version_lines={**b.version_lines, **a.version_lines},
    )


def _sorted_runtime(rt: DeclaredRuntime | None) -> DeclaredRuntime | None:
    if rt is None:
        return None
    return DeclaredRuntime(
        requires=rt.requires,
        requires_source=rt.requires_source,
        version_files={k: rt.version_files[k] for k in sorted(rt.version_files, key=source_key)},
        package_manager=rt.package_manager,
        version_lines={k: rt.version_lines[k] for k in sorted(rt.version_lines)},
    )


def merge(fragments: Iterable[Declared]) -> Declared:
    """One :class:`Declared` from many, deduplicated and deterministically ordered.

    A requirement file reached through ``-r`` and also found by the walk yields
    the same ``(source, name)`` twice; it is kept once.
    """
    python: DeclaredRuntime | None = None
    node: DeclaredRuntime | None = None
    requirements: dict[tuple[str, str, str], Requirement] = {}
    locks: dict[tuple[str, str, str, str, str], LockedPackage] = {}
    base_images: dict[tuple[str, str], BaseImage] = {}
    env_refs: dict[tuple[str, str], EnvRef] = {}
    installs: dict[InstallCommand, None] = {}
    variables: dict[DockerfileVar, None] = {}
    suppressions: dict[Suppression, None] = {}
    files: set[str] = set()
    notes: dict[str, None] = {}
    for d in fragments:
        notes.update(dict.fromkeys(d.notes))
        python = _merge_runtime(python, d.python)
        node = _merge_runtime(node, d.node)
        for r in d.requirements:
            requirements.setdefault((r.ecosystem, r.source, r.name), r)
        for lk in d.locks:
            locks.setdefault((lk.ecosystem, lk.source, lk.name, lk.version, lk.path or ""), lk)
        for b in d.base_images:
            base_images.setdefault((b.source, b.ref), b)
        for e in d.env_refs:
            env_refs.setdefault((e.source, e.name), e)
        installs.update(dict.fromkeys(d.installs))
        variables.update(dict.fromkeys(d.dockerfile_vars))
        suppressions.update(dict.fromkeys(d.suppressions))
        files.update(d.files)
    return Declared(
        python=_sorted_runtime(python),
        node=_sorted_runtime(node),
        requirements=tuple(sorted(requirements.values(), key=lambda r: (source_key(r.source), r.name, r.ecosystem))),
        locks=tuple(sorted(locks.values(), key=lambda x: (x.source, x.ecosystem, x.name, x.version, x.path or ""))),
        base_images=tuple(sorted(base_images.values(), key=lambda b: source_key(b.source))),
        env_refs=tuple(sorted(env_refs.values(), key=lambda e: (source_key(e.source), e.name))),
        installs=tuple(sorted(installs, key=lambda i: source_key(i.source))),
        dockerfile_vars=tuple(sorted(variables, key=lambda v: source_key(v.source))),
        suppressions=tuple(sorted(suppressions, key=lambda s: (source_key(s.source), s.rules))),
        files=tuple(sorted(files)),
        notes=tuple(sorted(notes, key=lambda n: source_key(n.split(": ", 1)[0]))),
    )
