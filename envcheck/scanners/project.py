"""The project scanner: what a project's own files declare (``envcheck snapshot project``).

It walks the project tree within bounds, hands each file the parser registry
(:mod:`envcheck.parsers`) knows to its parser, and merges the
:class:`~envcheck.snapshot.Declared` fragments into one snapshot with
``source.kind == "project"``.  Nothing is executed and nothing outside the
project directory is read.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from envcheck.errors import EnvcheckError
from envcheck.parsers import load, parser_for, relpath
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


@dataclass(frozen=True, slots=True)
class Discovery:
    files: tuple[Path, ...]
    notes: tuple[str, ...] = ()


def scan_project(root: Path, files: Sequence[Path] | None = None, *, env_refs: bool = True) -> Snapshot:
    """Snapshot of what the project at ``root`` declares.

    With ``files`` (pre-commit passes the staged file names), only those files
    are parsed — still reported relative to ``root``; names no parser knows
    are ignored.  ``env_refs=False`` skips reading source code and compose
    files for variable names: no static (lint) rule needs them, and on a
    large repository they are most of the work.
    """
    _check_root(root)
    found = discover(root) if files is None else Discovery(files=_given(root, files))
    chosen = found.files if env_refs else tuple(f for f in found.files if parser_for(relpath(f, root)) != "env_refs")
    return Snapshot(
        source=Source(kind="project", ref=str(root)),
        platform=None,
        declared=parse_files(root, chosen),
        notes=found.notes,
    )


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


# --------------------------------------------------------------------------- parse + merge


def parse_files(root: Path, files: Iterable[Path]) -> Declared:
    """Parse each file its registered parser knows and merge the fragments."""
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
        fragment = load(module)(path, root)
        read.update(fragment.files)
        fragments.append(fragment)
    return merge(fragments)


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
    for d in fragments:
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
    )
