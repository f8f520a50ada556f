"""No manifest at all: the project's requirements are what its code imports (issue 13, item 6).

A script-style app with no requirements file still runs somewhere: its truth
is its code and the environment it runs in.  :func:`imported_modules` reads
the top-level imports of the project's ``.py`` files (``ast``; a regex for
code the running interpreter cannot parse, such as Python 2), leaving out the
standard library (``sys.stdlib_module_names``) and the project's own modules.
:func:`import_map` maps import names to the distributions that provide them,
through the installed distributions' own metadata (``top_level.txt``, else the
top folders of ``RECORD``), so ``import yaml`` pins ``PyYAML`` and ``import
bs4`` pins ``beautifulsoup4``.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from packaging.utils import canonicalize_name

from envcheck import _regex
from envcheck.record import record
from envcheck.snapshot import Package

_SKIP_DIRS = frozenset(
    {".git", ".venv", "venv", "env", "node_modules", "__pycache__", "build", "dist", "site-packages", ".tox", ".nox"}
)
_MAX_FILES = 2000
_MAX_BYTES = 1024 * 1024
_IMPORT_RE = _regex.compile(
    r"^\s*(?:from\s+([A-Za-z_]\w*)[\w.]*\s+import\b|import\s+([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*))", re.M
)
# Modules that ship with CPython 2 but not 3 (so absent from stdlib_module_names).
_PY2_STDLIB = frozenset(
    {"urllib2", "urlparse", "httplib", "cPickle", "StringIO", "cStringIO", "ConfigParser", "Queue", "commands"}
)


@record
class ImportPin:
    dist: str  # canonical distribution name
    version: str
    module: str  # the import name
    where: str  # "app.py:3"


def _py_files(root: Path) -> list[Path]:
    out: list[Path] = []
    stack = [root]
    while stack and len(out) < _MAX_FILES:
        d = stack.pop()
        try:
            children = sorted(d.iterdir())
        except OSError:
            continue
        for p in children:
            if p.is_dir() and not p.is_symlink():
                if p.name not in _SKIP_DIRS and not p.name.startswith(".") and p.name not in ("tests", "test"):
                    stack.append(p)
            elif p.suffix == ".py" and not p.name.startswith("test_"):
                out.append(p)
    return out


def _imports_of(text: str) -> list[tuple[str, int]]:
    """(top-level module, line) of each absolute import."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        found = []
        for m in _IMPORT_RE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            if m.group(1):
                found.append((m.group(1), line))
            else:
                found.extend((n.strip().split(".")[0], line) for n in m.group(2).split(","))
        return found
    out: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((a.name.split(".")[0], node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.module.split(".")[0], node.lineno))
    return out


def local_modules(root: Path) -> frozenset[str]:
    """Top-level names the project itself provides (its modules and packages, src/ too)."""
    names: set[str] = set()
    for base in (root, root / "src"):
        try:
            for p in base.iterdir():
                if p.suffix == ".py":
                    names.add(p.stem)
                elif p.is_dir() and any(p.glob("*.py")):
                    names.add(p.name)
        except OSError:
            continue
    return frozenset(names)


def imported_modules(root: Path) -> dict[str, str]:
    """Third-party top-level module -> where it is first imported (``file:line``)."""
    stdlib = frozenset(sys.stdlib_module_names) | _PY2_STDLIB | {"__future__"}
    local = local_modules(root)
    found: dict[str, str] = {}
    for path in _py_files(root):
        try:
            if path.stat().st_size > _MAX_BYTES:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        rel = path.relative_to(root).as_posix()
        for module, line in _imports_of(text):
            if module in stdlib or module in local or module.startswith("_"):
                continue
            found.setdefault(module, f"{rel}:{line}")
    return dict(sorted(found.items()))


def _top_levels(dist_info: Path) -> set[str]:
    for name in ("top_level.txt",):
        try:
            text = (dist_info / name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        return {t.strip().split("/")[0] for t in text.splitlines() if t.strip()}
    names: set[str] = set()
    try:
        record = (dist_info / "RECORD").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return names
    for line in record.splitlines():
        path = line.split(",", 1)[0]
        head = path.split("/", 1)[0]
        if not head or head.startswith("..") or head.endswith((".dist-info", ".data", ".pth")) or head == "__pycache__":
            continue
        if "/" in path:
            names.add(head)
        elif head.endswith(".py"):
            names.add(head[:-3])
        elif ".cpython-" in head or head.endswith(".so"):
            names.add(head.split(".", 1)[0])
    return names


def import_map(packages: Iterable[Package]) -> dict[str, list[tuple[str, str]]]:
    """Import name -> [(canonical distribution, version)] from the installed metadata."""
    out: dict[str, list[tuple[str, str]]] = {}
    for pkg in packages:
        if not pkg.path:
            continue
        for top in _top_levels(Path(pkg.path)):
            out.setdefault(top, []).append((canonicalize_name(pkg.name), pkg.version))
    return out


def pins_for_imports(
    modules: Mapping[str, str], mapping: Mapping[str, list[tuple[str, str]]]
) -> tuple[tuple[ImportPin, ...], tuple[str, ...]]:
    """(pins, modules no installed distribution provides)."""
    pins: dict[str, ImportPin] = {}
    missing: list[str] = []
    for module, where in modules.items():
        dists = mapping.get(module)
        if not dists:
            missing.append(f"{module} ({where})")
            continue
        for dist, version in sorted(dists):
            pins.setdefault(dist, ImportPin(dist, version, module, where))
    return tuple(pins.values()), tuple(missing)


def read_console_scripts(packages: Iterable[Package]) -> dict[str, str] | None:
    """Console script -> canonical distribution, from each installed ``entry_points.txt``.

    None when no package has a readable path (a snapshot from another machine).
    """
    import configparser

    out: dict[str, str] = {}
    any_path = False
    for pkg in packages:
        if not pkg.path:
            continue
        any_path = True
        path = Path(pkg.path) / "entry_points.txt"
        parser = configparser.RawConfigParser(delimiters=("=",))
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        try:
            if not path.is_file():
                continue
            parser.read_string(path.read_text(encoding="utf-8", errors="replace"))
        except (OSError, configparser.Error):
            continue
        if parser.has_section("console_scripts"):
            for script in parser.options("console_scripts"):
                out.setdefault(script.strip(), canonicalize_name(pkg.name))
    return out if any_path else None
