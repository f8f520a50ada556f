"""The Dockerfile generator (``envcheck dockerfile``).

:func:`generate_for` is the I/O shell — it scans the project, reads its layout
and the source snapshot's package metadata, then calls the pure
:func:`envcheck.generate.dockerfile.generate`.  :mod:`.writer` writes or checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from envcheck.errors import EnvcheckError

if TYPE_CHECKING:
    from envcheck.generate.dockerfile import GeneratedFiles, VersionSource
    from envcheck.generate.layout import ProjectLayout
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


def generate_for(
    root: Path,
    dockerfile: Path,
    *,
    source: Snapshot | None,
    mode: VersionSource = "auto",
    digests: Callable[[list[str]], Mapping[str, str]] | None = None,
) -> GeneratedFiles:
    """Scan ``root`` and generate its files; ``dockerfile`` fixes where the lock goes."""
    import re

    from envcheck.generate.dockerfile import Options, generate
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
    requires = read_requires_dist(source.active_packages("python")) if source is not None else None
    releases = None
    if layout.node is not None:
        from envcheck.generate import node_releases

        # The registry's release list (cached a day), or the shipped snapshot with a warning.
        releases = node_releases.load(root)
    options = Options(version_source=mode, lock_path=lock_path.removeprefix("./"), node_releases=releases)
    files = generate(project, layout, source, options, requires)
    if digests is not None:
        refs = sorted(set(re.findall(r"^FROM (\S+)", files.dockerfile, re.MULTILINE)))
        found = digests(refs)
        if found:
            options = replace(options, base_digests=dict(found))
            files = generate(project, layout, source, options, requires)
        missing = [r for r in refs if r not in found]
        if missing:
            note = f"--base-digest: the engine knows no registry digest for {', '.join(missing)}; kept the tag"
            files = replace(files, warnings=(*files.warnings, note))
    return files
