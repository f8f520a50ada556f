"""The parser registry: which project file is read by which parser module.

An explicit table instead of discovery (like pre-commit's ``all_languages``):
a newcomer finds the parser for ``poetry.lock`` by reading this file, and a
test checks every module named here exists and exposes ``parse``.  Modules are
imported lazily so ``envcheck lint`` only pays for the formats a project has.

Every parser module exposes ``parse(path: Path, root: Path) -> Declared``: a
fragment of :class:`envcheck.snapshot.Declared` whose sources are relative to
``root`` (``requirements.txt:3``).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath

from envcheck._typing import cast

TYPE_CHECKING = False
if TYPE_CHECKING:
    from envcheck.snapshot import Declared

ParseFunc = Callable[[Path, Path], "Declared"]

# Exact file names (the last path component).
BY_NAME: Mapping[str, str] = {
    # python manifests and locks
    "pyproject.toml": "pyproject",
    "setup.cfg": "setup_cfg",
    "setup.py": "setup_py",
    "Pipfile": "pipfile",
    "Pipfile.lock": "pipfile_lock",
    "poetry.lock": "poetry_lock",
    "uv.lock": "uv_lock",
    "environment.yml": "conda_env",
    "environment.yaml": "conda_env",
    # node manifests and locks
    "package.json": "package_json",
    "package-lock.json": "package_lock",
    "npm-shrinkwrap.json": "package_lock",
    "yarn.lock": "yarn_lock",
    "pnpm-lock.yaml": "pnpm_lock",
    "bun.lock": "bun_lock",
    # interpreter version files
    ".python-version": "version_files",
    "runtime.txt": "version_files",
    ".tool-versions": "version_files",
    ".nvmrc": "version_files",
    ".node-version": "version_files",
    # container builds
    "Dockerfile": "dockerfile",
    "Containerfile": "dockerfile",
    "dockerfile": "dockerfile",  # docker build falls back to the lower-case name
    # env var templates (never `.env` itself: it holds the real values)
    ".env.example": "env_refs",
    ".env.sample": "env_refs",
    ".env.template": "env_refs",
    ".env.dist": "env_refs",
}

# Glob patterns on the file name, tried in order after BY_NAME.
BY_PATTERN: tuple[tuple[str, str], ...] = (
    ("*.dockerignore", ""),  # BuildKit's per-Dockerfile ignore file, not a Dockerfile
    ("Dockerfile.*", "dockerfile"),
    ("*.Dockerfile", "dockerfile"),
    ("Containerfile.*", "dockerfile"),
    ("*.Containerfile", "dockerfile"),
    # Per-environment templates (`.env.production.example`, `example.env`);
    # never a bare `.env.local`/`.env.production`, which hold real values.
    (".env.*.example", "env_refs"),
    (".env.*.sample", "env_refs"),
    (".env.*.template", "env_refs"),
    ("example.env", "env_refs"),
    ("sample.env", "env_refs"),
    ("requirements*.txt", "requirements"),
    ("*requirements.txt", "requirements"),
    ("requirements*.lock", "requirements"),  # `envcheck dockerfile` writes requirements.lock: == pins in pip syntax
    ("docker-compose*.yml", "env_refs"),
    ("docker-compose*.yaml", "env_refs"),
    ("compose*.yml", "env_refs"),
    ("compose*.yaml", "env_refs"),
    ("*.py", "env_refs"),
    ("*.js", "env_refs"),
    ("*.mjs", "env_refs"),
    ("*.cjs", "env_refs"),
    ("*.jsx", "env_refs"),
    ("*.ts", "env_refs"),
    ("*.tsx", "env_refs"),
    ("*.mts", "env_refs"),
    ("*.cts", "env_refs"),
)

# Files inside a `requirements/` folder are requirement files whatever their
# name (`requirements/base.txt`).  pip-tools `*.in` inputs are not read: the
# compiled `*.txt` beside them is what gets installed, and the loose ranges of
# an `.in` are deliberate, not the EC401 smell they would look like.
_REQUIREMENTS_DIRS = frozenset({"requirements", "reqs"})

# Parsers whose fragments are remembered by the bytes they read (envcheck.parsers.remembered):
# each reads only its own file, and costs 10-60 ms for the TOML or YAML library and
# `packaging` it imports.  JSON formats parse faster than a remembered fragment loads;
# requirements, setup.cfg and environment.yml read other files (`-r`, `file:`).
REMEMBERED: frozenset[str] = frozenset(
    {"pyproject", "poetry_lock", "uv_lock", "pipfile", "pipfile_lock", "pnpm_lock", "yarn_lock"}
)

# Every module this registry can name; a test checks each exists.
MODULES: tuple[str, ...] = tuple(sorted({*BY_NAME.values(), *(m for _, m in BY_PATTERN if m), "requirements"}))


def parser_for(relpath: str | PurePosixPath) -> str | None:
    """The parser module for a project-relative path, or None when envcheck ignores the file."""
    # The components PurePosixPath would see, without making one per file of a large project.
    parts = [part for part in str(relpath).split("/") if part and part != "."]
    name = parts[-1] if parts else ""
    module = BY_NAME.get(name)
    if module is not None:
        return module
    if (
        len(parts) > 1
        and parts[-2] in _REQUIREMENTS_DIRS
        and name.endswith(".txt")
        and len(name) > 4  # PurePosixPath(".txt").suffix is "": a dot file has no suffix
    ):
        return "requirements"
    return _by_pattern(name)


@functools.lru_cache(maxsize=8192)
def _by_pattern(name: str) -> str | None:
    # Asked once per distinct file name: a project's 3,000 files share a few hundred
    # names (__init__.py, models.py), and 30 patterns a name was most of a large scan.
    for pattern, module in BY_PATTERN:
        if glob_match(name, pattern):
            return module or None
    return None


def glob_match(name: str, pattern: str) -> bool:
    """``fnmatch.fnmatchcase(name, pattern)``, without compiling a regex when ``*`` is the only wildcard.

    ``envcheck lint`` asks this of every file name in a project against every
    pattern above; fnmatch compiled 26 regexes for it on each run (issue 15).
    A test holds the two equal.
    """
    if "?" in pattern or "[" in pattern:
        import fnmatch

        return fnmatch.fnmatchcase(name, pattern)
    parts = pattern.split("*")
    if len(parts) == 1:
        return name == pattern
    first, last = parts[0], parts[-1]
    if len(name) < len(first) + len(last) or not name.startswith(first) or not name.endswith(last):
        return False
    # Leftmost placement of each middle piece is enough: a later one only leaves less room for the rest.
    pos, end = len(first), len(name) - len(last)
    for piece in parts[1:-1]:
        found = name.find(piece, pos, end)
        if found < 0:
            return False
        pos = found + len(piece)
    return True


def relpath(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` in POSIX form, as every ``source`` is written."""
    # A path's text is already normal (no `//`, no `.` parts), so a path under the root
    # is a prefix of its text: no relative_to per file of a 3,000-file project.
    # (POSIX keeps a leading `//` as a root of its own: such paths take the long way.)
    text, base = str(path), str(root)
    if not text.startswith("//") and not base.startswith("//"):
        if base == "." and not text.startswith("/"):
            return text
        if base != "." and text.startswith(base) and (base in (text, "/") or text[len(base)] == "/"):
            return text[len(base) + (base != "/") :] or "."
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        pass
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return path.as_posix()


def load(module: str) -> ParseFunc:
    """Import ``envcheck.parsers.<module>`` and return its ``parse``."""
    if module not in MODULES:
        raise KeyError(module)
    mod = importlib.import_module(f"envcheck.parsers.{module}")
    return cast(ParseFunc, mod.parse)
