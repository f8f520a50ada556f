"""``package.json``: declared node dependencies, ``engines.node``, the package manager.

Names are kept exactly as written (npm names are case-sensitive and scoped
``@org/name``); ranges are kept as written so the engine can judge them with
:mod:`envcheck.npm_semver`.  URL, git, ``file:`` and GitHub-shorthand specs go
to ``Requirement.url`` with an empty specifier, like URL requirements on the
Python side; ``workspace:``, ``npm:`` aliases and dist-tags stay in
``specifier`` (``satisfies`` answers ``None`` for what is not a semver range).

JSON carries no line numbers, so a cheap tokenizer over the text finds the
line of each top-level key and of the keys one level below it — enough for
``package.json:14`` on every dependency.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from envcheck import _regex
from envcheck._io import read_text
from envcheck.errors import ParseError
from envcheck.snapshot import Declared, DeclaredRuntime, Requirement

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


# (section, group) in the order npm documents them.
SECTIONS: tuple[tuple[str, str | None], ...] = (
    ("dependencies", None),
    ("devDependencies", "dev"),
    ("optionalDependencies", "optional"),
    ("peerDependencies", "peer"),
)

_URL_PREFIXES = (
    "http:",
    "https:",
    "git:",
    "git+",
    "git@",
    "ssh:",
    "file:",
    "link:",
    "github:",
    "gitlab:",
    "bitbucket:",
    "gist:",
    ".",
    "/",
    "~/",
)
# A JSON string, or one structural character (newlines counted for line numbers).
_TOKEN = _regex.compile(r'"(?:[^"\\\n]|\\.)*"|[{}\[\],:\n]')


def relative_source(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` in POSIX form; the path itself when outside ``root``."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return path.as_posix()


def load_json(text: str, rel: str) -> Any:
    """``json.loads`` whose failures are ``ParseError``s naming the file and line."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON: {exc.msg}", path=rel, line=exc.lineno) from None
    except RecursionError:
        raise ParseError("invalid JSON: nested too deeply", path=rel) from None


class _Frame:
    __slots__ = ("expect_key", "is_object", "last", "name")

    def __init__(self, is_object: bool, name: tuple[str, ...] | None) -> None:
        self.is_object = is_object
        self.expect_key = is_object
        self.name = name  # key path of this container; None inside arrays
        self.last: str | None = None


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Line of every key at depth 1 and 2 of a JSON object: ``("engines", "node") -> 7``.

    Run only on text ``json.loads`` accepted, so it can be lenient; the first
    occurrence wins, as ``json.loads`` keeps the last, which only matters for
    duplicate keys.
    """
    lines: dict[tuple[str, ...], int] = {}
    line = 1
    stack: list[_Frame] = []
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok == "\n":
            line += 1
        elif tok in "{[":
            name: tuple[str, ...] | None = ()
            if stack:
                parent = stack[-1]
                name = None
                if parent.is_object and parent.name is not None and parent.last is not None:
                    name = (*parent.name, parent.last)
            stack.append(_Frame(tok == "{", name))
        elif tok in "}]":
            if stack:
                stack.pop()
        elif tok == ",":
            if stack and stack[-1].is_object:
                stack[-1].expect_key = True
        elif tok != ":" and stack and stack[-1].is_object and stack[-1].expect_key:
            frame = stack[-1]
            frame.expect_key = False
            try:
                key = json.loads(tok)
            except ValueError:
                key = tok[1:-1]
            frame.last = key if isinstance(key, str) else None
            if frame.name is not None and frame.last is not None and len(frame.name) < 2:
                lines.setdefault((*frame.name, frame.last), line)
    return lines


def _where(rel: str, lines: Mapping[tuple[str, ...], int], *keys: str) -> str:
    for n in range(len(keys), 0, -1):
        line = lines.get(tuple(keys[:n]))
        if line is not None:
            return f"{rel}:{line}"
    return rel


def _load_object(path: Path, root: Path) -> tuple[str, str, dict[str, Any]]:
    rel = relative_source(path, root)
    text = read_text(path)
    data = load_json(text, rel)
    if not isinstance(data, dict):
        raise ParseError("package.json must be a JSON object", path=rel, line=1)
    return rel, text, data


def is_url_spec(spec: str) -> bool:
    """A spec naming a location rather than a version: URL, git, ``file:``, ``user/repo``."""
    s = spec.strip()
    if s.startswith(_URL_PREFIXES) or "://" in s:
        return True
    # GitHub shorthand "user/repo" or "user/repo#ref"; never an npm alias or a range.
    return "/" in s and not s.startswith(("npm:", "workspace:", "@")) and " " not in s


def requirements(data: Mapping[str, Any], rel: str, lines: Mapping[tuple[str, ...], int]) -> tuple[Requirement, ...]:
    out: list[Requirement] = []
    for section, group in SECTIONS:
        deps = data.get(section)
        if deps is None:
            continue
        if not isinstance(deps, dict):
            raise ParseError(f"{section}: expected an object of name: range", path=rel, line=lines.get((section,)))
        for name, spec in deps.items():
            if not isinstance(spec, str):
                where = lines.get((section, name))
                raise ParseError(f"{section}.{name}: expected a version range string", path=rel, line=where)
            source = _where(rel, lines, section, name)
            if is_url_spec(spec):
                out.append(Requirement("node", name, "", source, url=spec.strip(), group=group))
            else:
                out.append(Requirement("node", name, spec.strip(), source, group=group))
    return tuple(out)


def _dev_engine(data: Mapping[str, Any], key: str, want: str | None) -> tuple[str, str] | None:
    """``devEngines.<key>`` (an object or a list of them) → (name, version-or-"")."""
    dev = data.get("devEngines")
    if not isinstance(dev, dict):
        return None
    entries = dev.get(key)
    for entry in entries if isinstance(entries, list) else [entries]:
        if not isinstance(entry, dict):
            continue
        name = entry.get("name")
        version = entry.get("version")
        if not isinstance(name, str) or (want is not None and name != want):
            continue
        return name, version if isinstance(version, str) else ""
    return None


def runtime(data: Mapping[str, Any], rel: str, lines: Mapping[tuple[str, ...], int]) -> DeclaredRuntime | None:
    requires: str | None = None
    requires_source: str | None = None
    engines = data.get("engines")
    if isinstance(engines, dict) and isinstance(engines.get("node"), str):
        requires = engines["node"].strip()
        requires_source = _where(rel, lines, "engines", "node")
    else:
        dev_node = _dev_engine(data, "runtime", "node")
        if dev_node is not None and dev_node[1]:
            requires = dev_node[1].strip()
            requires_source = _where(rel, lines, "devEngines", "runtime")
    manager: str | None = None
    pm = data.get("packageManager")
    if isinstance(pm, str) and pm.strip():
        manager = pm.strip()
    else:
        dev_pm = _dev_engine(data, "packageManager", None)
        if dev_pm is not None:
            manager = f"{dev_pm[0]}@{dev_pm[1]}" if dev_pm[1] else dev_pm[0]
    # Volta pins the exact node a checkout runs (`"volta": {"node": "20.11.1"}`):
    # a version file inside package.json, compared like `.nvmrc` (EC107, EC305).
    files: dict[str, str] = {}
    volta_lines: dict[str, int] = {}
    volta = data.get("volta")
    if isinstance(volta, dict) and isinstance(volta.get("node"), str):
        from envcheck.parsers.version_files import node_version

        pinned = node_version(volta["node"])
        if pinned is not None:
            files[rel] = pinned
            line = lines.get(("volta", "node"))
            if line:
                volta_lines[rel] = line
    if requires is None and manager is None and not files:
        return None
    return DeclaredRuntime(
        requires=requires,
        requires_source=requires_source,
        package_manager=manager,
        version_files=files,
        version_lines=volta_lines,
    )


def parse_text(text: str, rel: str) -> Declared:
    """Parse ``package.json`` text; ``rel`` names it in sources and errors."""
    data = load_json(text, rel)
    if not isinstance(data, dict):
        raise ParseError("package.json must be a JSON object", path=rel, line=1)
    lines = key_lines(text)
    return Declared(node=runtime(data, rel, lines), requirements=requirements(data, rel, lines), files=(rel,))


def parse(path: Path, root: Path) -> Declared:
    rel = relative_source(path, root)
    return parse_text(read_text(path), rel)


def workspaces_of(data: Mapping[str, Any]) -> tuple[str, ...]:
    """The workspace globs of a parsed package.json (npm/yarn array or ``{packages: [...]}``)."""
    ws = data.get("workspaces")
    if isinstance(ws, dict):
        ws = ws.get("packages")
    if not isinstance(ws, list):
        return ()
    return tuple(g.strip() for g in ws if isinstance(g, str) and g.strip())


def workspace_globs(path: Path, root: Path | None = None) -> tuple[str, ...]:
    """Workspace globs declared by the package.json at ``path`` (``()`` when none)."""
    _, _, data = _load_object(path, root if root is not None else path.parent)
    return workspaces_of(data)
