"""What was scanned, in words: the lines ``-v`` prints, and the "nothing to scan" refusal.

A first run must not silently scan a global interpreter's 100 packages or
report "No findings." for a directory with no project in it; ``scan``,
``lint`` and ``snapshot`` say the same things through these functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from envcheck.errors import EnvcheckError
from envcheck.parsers import parser_for
from envcheck.scanners.project import Discovery, boundary_lines
from envcheck.snapshot import Snapshot

# What "a project" is made of, as the refusal names it.
LOOKED_FOR = (
    "pyproject.toml, setup.py, setup.cfg, requirements*.txt, Pipfile, environment.yml, package.json, "
    "lock files, .python-version, runtime.txt, .tool-versions, .nvmrc, .node-version, Dockerfile"
)


def declaration_files(project: Snapshot) -> list[str]:
    """The manifests, locks, version files and Dockerfiles read (not source files scanned for env names)."""
    files = project.declared.files if project.declared else ()
    return [f for f in files if parser_for(f) not in (None, "env_refs")]


def require_something(root: Path, project: Snapshot, found: Discovery | None, *, allow_empty: bool) -> None:
    """Refuse (exit 2, one line) a directory with nothing to scan, unless the config says that is intended."""
    if allow_empty or declaration_files(project):
        return
    others = ""
    if found is not None and found.subprojects:
        shown = ", ".join(f"{d}/" for d in found.subprojects[:5])
        more = f" and {len(found.subprojects) - 5} more" if len(found.subprojects) > 5 else ""
        others = f"; it holds other projects: {shown}{more} (scan one by name)"
    raise EnvcheckError(
        f"nothing to scan: no manifest, lock, version file or Dockerfile found (looked for {LOOKED_FOR}){others}"
        " — set allow-empty = true in the config if this is intended",
        path=str(root),
    )


def project_lines(project: Snapshot, found: Discovery | None) -> list[str]:
    read = list(project.declared.files if project.declared else ())
    lines = [f"project: read {len(read)} file(s): {', '.join(read)}" if read else "project: read no project files"]
    refs = project.declared.env_refs if project.declared else ()
    if refs:
        sources = sorted({r.source.rsplit(":", 1)[0] for r in refs})
        lines.append(
            f"project: {len({r.name for r in refs})} environment variable name(s) read in {len(sources)} file(s)"
        )
    if found is not None:
        lines.extend(f"project: {line}" for line in boundary_lines(found))
    lines.extend(f"project: {note}" for note in project.notes)
    lines.extend(f"project: {note}" for note in (project.declared.notes if project.declared else ()))
    return lines


def _environment_kind(interpreter: str) -> str:
    """``venv /path`` when the interpreter belongs to a virtual environment, else ``global interpreter``."""
    path = Path(interpreter)
    for prefix in (path.parent.parent, path.parent):
        if (prefix / "pyvenv.cfg").is_file():
            return f"venv {prefix}"
        if (prefix / "conda-meta").is_dir():
            return f"conda environment {prefix}"
    return "global interpreter (no venv): every package installed for it counts as the project's"


def host_lines(host: Snapshot, label: str = "host") -> list[str]:
    lines: list[str] = []
    py = host.runtime("python")
    if py is None:
        lines.append(f"{label}: no python interpreter scanned")
    else:
        where = py.path or "unknown path"
        kind = _environment_kind(py.path) if py.path and host.kind == "host" else ""
        active = host.active_packages("python")
        context = len(host.packages.get("python", ())) - len(active)
        counts = f"{len(active)} python package(s)" + (
            f" (+{context} in other environments: context, not compared)" if context else ""
        )
        lines.append(f"{label}: python {py.version} at {where}" + (f", {kind}" if kind else "") + f"; {counts}")
    node = host.runtime("node")
    if node is not None:
        count = len(host.active_packages("node"))
        lines.append(f"{label}: node {node.version} at {node.path or 'unknown path'}; {count} node package(s)")
    lines.extend(f"{label}: {note}" for note in host.notes)
    return lines


def verbose_lines(
    project: Snapshot | None, found: Discovery | None, sides: Sequence[tuple[str, Snapshot]]
) -> list[str]:
    out = project_lines(project, found) if project is not None else []
    for label, snap in sides:
        out.extend(host_lines(snap, label))
    return out
