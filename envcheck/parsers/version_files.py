"""Interpreter version files: ``.python-version``, ``runtime.txt``, ``.tool-versions``, ``.nvmrc``, ``.node-version``.

Each file becomes ``Declared.python``/``Declared.node`` ``version_files``
``{relpath: version}``, keyed by the relative path alone (these files name one
version each; the Dockerfile parser keys by ``path:line`` because one
Dockerfile can name several).  Versions are normalised to what the rules
compare: the language version as dotted numbers (``3.11.7``, ``3.12``,
``20``), so ``pypy3.10-7.3`` declares ``3.10`` and ``lts/iron`` declares
``20``.  Entries that name no version (``system``, ``node``, ``lts/*``,
``miniconda3-latest``) are left out: absent, never invented.
"""

from __future__ import annotations

import re
from pathlib import Path

from envcheck import _regex
from envcheck._io import read_text
from envcheck.errors import ParseError
from envcheck.parsers import relpath
from envcheck.snapshot import Declared, DeclaredRuntime

# Node's LTS codenames as nvm understands them in `.nvmrc` (`lts/iron`).
NODE_LTS: dict[str, str] = {
    "argon": "4",
    "boron": "6",
    "carbon": "8",
    "dubnium": "10",
    "erbium": "12",
    "fermium": "14",
    "gallium": "16",
    "hydrogen": "18",
    "iron": "20",
    "jod": "22",
    "krypton": "24",
}

_VERSION = _regex.compile(r"\d+(?:\.\d+){0,2}")
# pyenv names: 3.11.7, 3.12, 3.13t (free-threaded), 3.12-dev, 3.14.0rc1,
# pypy3.10-7.3.12, pypy3.10, stackless-3.7.5, cpython-3.12 (uv).
_PYENV = _regex.compile(
    r"^(?:cpython-|python-?|pypy|stackless-|graalpy-?|pyston-?)?"
    r"(?P<v>\d+(?:\.\d+){0,2}(?:(?:a|b|rc)\d+)?)(?:t|-dev|[-+].*)?$",
    re.IGNORECASE,
)
_NODE = _regex.compile(r"^v?(?P<v>\d+(?:\.\d+){0,2})(?:[-+].*)?$")


def python_version(token: str) -> str | None:
    """The language version a pyenv/asdf/runtime.txt token names, or None."""
    t = token.strip()
    if t.lower().startswith("graalpy"):
        # GraalPy's own release numbers (graalpy-24.1) are not Python versions.
        return None
    m = _PYENV.match(t)
    if m is None:
        return None
    return m.group("v")


def node_version(token: str) -> str | None:
    """The node version an ``.nvmrc``/``.node-version``/asdf token names, or None."""
    t = token.strip()
    if t.lower().startswith("lts/"):
        return NODE_LTS.get(t[4:].lower())
    m = _NODE.match(t)
    return m.group("v") if m else None


def _content_lines(text: str) -> list[tuple[int, str]]:
    """Non-blank lines without ``#`` comments, with 1-based numbers."""
    out: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.split("#", 1)[0].strip()
        if stripped:
            out.append((number, stripped))
    return out


def python_version_file_line(text: str) -> tuple[str, int] | None:
    """``.python-version``: pyenv activates the first version listed (others are extras for tox)."""
    for number, line in _content_lines(text):
        for token in line.split():
            version = python_version(token)
            if version is not None:
                return version, number
        return None
    return None


def parse_python_version_file(text: str) -> str | None:
    found = python_version_file_line(text)
    return found[0] if found else None


def runtime_txt_line(text: str, path: str = "runtime.txt") -> tuple[str, int] | None:
    """``runtime.txt`` (Heroku / repo2docker): ``python-3.12.1``; ``r-…`` lines are R, not Python."""
    for number, line in _content_lines(text):
        lowered = line.lower()
        if not lowered.startswith("python"):
            # repo2docker's `r-4.3-2024-01-10`, `r-2025-07-01` and other runtimes.
            continue
        version = python_version(line)
        if version is None:
            raise ParseError(f"cannot read a Python version from {line[:60]!r}", path=path, line=number)
        return version, number
    return None


def parse_runtime_txt(text: str, path: str = "runtime.txt") -> str | None:
    found = runtime_txt_line(text, path)
    return found[0] if found else None


def tool_versions_lines(text: str) -> tuple[tuple[str, int] | None, tuple[str, int] | None]:
    """asdf/mise ``.tool-versions``: ``python 3.11.7 3.10.4`` — the first version of each tool wins."""
    py: tuple[str, int] | None = None
    node: tuple[str, int] | None = None
    for number, line in _content_lines(text):
        tool, *versions = line.split()
        if not versions:
            continue
        tool = tool.lower()
        if tool == "python" and py is None:
            v = python_version(versions[0])
            py = (v, number) if v else None
        elif tool in ("nodejs", "node") and node is None:
            v = node_version(versions[0])
            node = (v, number) if v else None
    return py, node


def parse_tool_versions(text: str) -> tuple[str | None, str | None]:
    py, node = tool_versions_lines(text)
    return (py[0] if py else None), (node[0] if node else None)


def nvmrc_line(text: str) -> tuple[str, int] | None:
    """``.nvmrc`` / ``.node-version``: ``v20``, ``20.11.1``, ``lts/iron``; ``node``/``lts/*`` float."""
    for number, line in _content_lines(text):
        v = node_version(line.split()[0])
        return (v, number) if v else None
    return None


def parse_nvmrc(text: str) -> str | None:
    found = nvmrc_line(text)
    return found[0] if found else None


def _runtime(rel: str, found: tuple[str, int] | None) -> DeclaredRuntime | None:
    if found is None:
        return None
    return DeclaredRuntime(version_files={rel: found[0]}, version_lines={rel: found[1]})


def parse(path: Path, root: Path) -> Declared:
    rel = relpath(path, root)
    text = read_text(path, limit=1024 * 1024)
    name = path.name
    py: tuple[str, int] | None = None
    node: tuple[str, int] | None = None
    if name == ".python-version":
        py = python_version_file_line(text)
    elif name == "runtime.txt":
        py = runtime_txt_line(text, rel)
    elif name == ".tool-versions":
        py, node = tool_versions_lines(text)
    elif name in (".nvmrc", ".node-version"):
        node = nvmrc_line(text)
    else:
        raise ParseError("not a version file envcheck knows", path=rel)
    return Declared(python=_runtime(rel, py), node=_runtime(rel, node), files=(rel,))
