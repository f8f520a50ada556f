"""The Dockerfile generator (``envcheck dockerfile``).

:func:`generate_for` is the I/O shell — it scans the project, reads its layout
and the source snapshot's package metadata, then calls the pure
:func:`envcheck.generate.dockerfile.generate`.  :mod:`.writer` writes or checks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path

from envcheck.errors import EnvcheckError
from envcheck.record import replace

TYPE_CHECKING = False
if TYPE_CHECKING:
    from envcheck.generate.dockerfile import GeneratedFiles, VersionSource
    from envcheck.generate.imports import ImportPin
    from envcheck.generate.layout import ProjectLayout
    from envcheck.pyindex import ProjectPage, Unchecked
    from envcheck.snapshot import Snapshot


def _app_files(root: Path, layout: ProjectLayout) -> list[Path]:
    """The files that declare the app at ``root``, plus every file that may read env vars.

    Nested projects (test fixtures, examples, a second app) are not read: a
    broken manifest in ``tests/`` must not stop a Dockerfile for the root, and
    its requirements are not the app's.  Existing Dockerfiles are not read
    either — the generator replaces them, it does not learn from them.
    """
    from envcheck.generate.dockerfile import app_dirs, relevant_source
    from envcheck.parsers import parser_for, relpath
    from envcheck.scanners.project import discover

    dirs = app_dirs(layout)
    out: list[Path] = []
    for path in discover(root).files:
        rel = relpath(path, root)
        module = parser_for(rel)
        if module == "dockerfile":
            continue
        if module == "env_refs" or relevant_source(rel, dirs):
            out.append(path)
    return out


def _index_pages(
    names: list[str], layout: ProjectLayout, offline: bool
) -> tuple[dict[str, ProjectPage | Unchecked] | None, str]:
    """Ask the package index for the pinned distributions (the one network step)."""
    from envcheck.pyindex import IndexClient, Unchecked, index_config

    if offline:
        return None, "--offline: the package index was not asked"
    config = index_config(layout.index_urls)
    client = IndexClient(config)
    pages: dict[str, ProjectPage | Unchecked] = {}
    for name in names:
        pages[name] = client.page(name)
    hosts = ", ".join(sorted({u.split("/")[2].rsplit("@", 1)[-1] for u in config.urls})) or "none"
    if config.disabled:
        return {n: Unchecked(config.disabled) for n in names}, config.disabled
    return pages, f"{config.origin}: {hosts}"


def generate_for(
    root: Path,
    dockerfile: Path,
    *,
    source: Snapshot | None,
    mode: VersionSource = "auto",
    digests: Callable[[list[str]], Mapping[str, str]] | None = None,
    offline: bool = False,
    read_only_code: bool = False,
    today: dt.date | None = None,
    as_of: dt.datetime | None = None,
    as_of_from: str = "--as-of",
) -> GeneratedFiles:
    """Scan ``root`` and generate its files; ``dockerfile`` fixes where the lock goes.

    The I/O around the pure generator: the project's files, the source's
    package metadata (Requires-Dist, console scripts, top-level modules), the
    package index (unless ``offline``), and the engine's digests.
    """
    import re

    from envcheck.generate.dockerfile import Options, generate, locked_names
    from envcheck.generate.imports import import_map, imported_modules, pins_for_imports, read_console_scripts
    from envcheck.generate.layout import read_layout, read_requires_dist
    from envcheck.scanners.project import scan_project

    try:
        rel_dir = dockerfile.resolve().parent.relative_to(root.resolve())
    except ValueError:
        raise EnvcheckError(
            f"the Dockerfile must be inside the project {root} (the build context), so its COPY lines resolve",
            path=str(dockerfile),
        ) from None
    lock_path = (rel_dir / "requirements.lock").as_posix()
    layout = read_layout(root)
    project = scan_project(root, files=_app_files(root, layout))
    active = source.active_packages("python") if source is not None else []
    requires = read_requires_dist(active) if source is not None else None
    scripts = read_console_scripts(active) if source is not None else None
    imports: tuple[ImportPin, ...] = ()
    import_notes: list[str] = []
    if layout.script_files and source is not None and mode != "lock":
        pins, missing = pins_for_imports(imported_modules(root), import_map(active))
        imports = pins
        if missing:
            import_notes.append(
                f"imported but installed in no distribution of the {'host' if source.kind == 'host' else 'snapshot'}: "
                + ", ".join(missing[:5])
            )
    releases = None
    if layout.node is not None:
        from envcheck.generate import node_releases

        # The registry's release list (cached a day), or the shipped snapshot with a warning;
        # --offline asks no registry: the cache or the snapshot.
        releases = node_releases.load(root, offline=offline)
    options = Options(
        version_source=mode,
        lock_path=lock_path.removeprefix("./"),
        read_only_code=read_only_code,
        today=today if today is not None else dt.datetime.now(dt.timezone.utc).date(),
        node_releases=releases,
    )
    if layout.node is not None:
        from envcheck.generate.asof import project_date

        options = replace(options, project_date=project_date(root, as_of, as_of_from))
    # First pass without the index: it fixes which distributions are pinned.
    files = generate(project, layout, source, options, requires, scripts=scripts, imports=imports)
    if files.python_open:
        # Requirements nothing pins: what the index had on the project's date.
        from envcheck.generate.asof import as_of_for

        py_rt = source.runtime("python") if source is not None else None
        arch = source.platform.arch if source is not None and source.platform is not None else None
        era = as_of_for(
            root,
            open_requirements=files.python_open,
            python=files.python,
            host_python=py_rt.version if py_rt else None,
            index_urls=layout.index_urls,
            arch=arch,
            offline=offline,
            explicit=as_of,
            explicit_from=as_of_from,
        )
        if era is not None:
            options = replace(options, as_of=era)
            files = generate(project, layout, source, options, requires, scripts=scripts, imports=imports)
    has_python = bool(files.locks)
    if has_python:
        names = sorted(locked_names(files))
        pages, origin = _index_pages(names, layout, offline)
        options = replace(options, index=pages, index_origin=origin)
        files = generate(project, layout, source, options, requires, scripts=scripts, imports=imports)
        if pages is not None:
            # The interpreter may have moved: pins under other markers need pages too.
            more = sorted(locked_names(files) - set(pages))
            if more:
                extra, _ = _index_pages(more, layout, offline)
                options = replace(options, index={**pages, **(extra or {})})
                files = generate(project, layout, source, options, requires, scripts=scripts, imports=imports)
    if digests is not None:
        refs = sorted(set(re.findall(r"^FROM (\S+)", files.dockerfile, re.MULTILINE)))
        found = digests(refs)
        if found:
            options = replace(options, base_digests=dict(found))
            files = generate(project, layout, source, options, requires, scripts=scripts, imports=imports)
        missing_refs = [r for r in refs if r not in found]
        if missing_refs:
            note = f"--base-digest: the engine knows no registry digest for {', '.join(missing_refs)}; kept the tag"
            files = replace(files, warnings=(*files.warnings, note))
    if import_notes:
        files = replace(files, warnings=(*files.warnings, *import_notes))
    return files
