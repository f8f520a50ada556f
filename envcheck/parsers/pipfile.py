"""Pipenv's ``Pipfile``.

``[packages]`` is the main set, ``[dev-packages]`` is ``dev``, any other
package category pipenv allows is ``group:NAME``.  ``"*"`` is any version.
A table may carry ``version``, ``extras``, ``markers``, marker keys
(``sys_platform = "== 'win32'"``), ``editable``, ``path``/``file`` or
``git`` + ``ref``.  ``[requires] python_full_version``/``python_version``
names the interpreter: it goes to ``version_files`` under the Pipfile's path.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from envcheck import _toml
from envcheck.errors import ParseError
from envcheck.parsers.pyproject import TomlLines
from envcheck.parsers.requirements import canonical, read_manifest, relpath, scan_suppressions, spec_str
from envcheck.snapshot import Declared, DeclaredRuntime, Requirement

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


__all__ = ["parse", "parse_text"]

# Pipfile keys that pipenv turns into PEP 508 markers (pipenv's Pipfile spec).
_MARKER_KEYS = (
    "os_name",
    "sys_platform",
    "platform_machine",
    "platform_python_implementation",
    "platform_release",
    "platform_system",
    "platform_version",
    "python_version",
    "python_full_version",
    "implementation_name",
    "implementation_version",
)
_NOT_CATEGORIES = frozenset({"source", "requires", "pipenv", "scripts"})


def parse(path: Path, root: Path) -> Declared:
    rel = relpath(path, root)
    return parse_text(read_manifest(path, rel), rel)


def parse_text(text: str, source_name: str = "Pipfile") -> Declared:
    rel = source_name
    data = _toml.loads(text, rel)
    lines = TomlLines(text)
    reqs: list[Requirement] = []
    for category, table in data.items():
        if category in _NOT_CATEGORIES or not isinstance(table, dict):
            continue
        group = None if category == "packages" else "dev" if category == "dev-packages" else f"group:{category}"
        for name, value in table.items():
            line = lines.key_line((category,), name)
            reqs.append(_requirement(name, value, rel, line, group))

    python: DeclaredRuntime | None = None
    requires = data.get("requires")
    if isinstance(requires, dict):
        key = "python_full_version" if requires.get("python_full_version") else "python_version"
        version = requires.get(key)
        if isinstance(version, str) and version.strip():
            line = lines.key_line(("requires",), key)
            python = DeclaredRuntime(version_files={rel: version.strip()}, version_lines={rel: line} if line else {})
    return Declared(python=python, requirements=tuple(reqs), suppressions=scan_suppressions(text, rel), files=(rel,))


def _specifier(value: str, rel: str, line: int | None, name: str) -> str:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    value = value.strip()
    if value in ("*", ""):
        return ""
    if value[0].isdigit():
        value = "==" + value  # pipenv reads a bare version as an exact pin
    try:
        return spec_str(SpecifierSet(value))
    except InvalidSpecifier:
        raise ParseError(f"{name}: invalid version specifier {value!r}", path=rel, line=line) from None


def _requirement(name: str, value: Any, rel: str, line: int | None, group: str | None) -> Requirement:
    from packaging.markers import InvalidMarker, Marker

    source = rel if line is None else f"{rel}:{line}"
    if isinstance(value, str):
        return Requirement(
            ecosystem="python",
            name=canonical(name),
            specifier=_specifier(value, rel, line, name),
            source=source,
            group=group,
        )
    if not isinstance(value, dict):
        raise ParseError(f"{name}: expected a version string or a table", path=rel, line=line)
    version = value.get("version", "*")
    if not isinstance(version, str):
        raise ParseError(f"{name}: version must be a string", path=rel, line=line)
    extras = value.get("extras", [])
    if not isinstance(extras, list) or not all(isinstance(e, str) for e in extras):
        raise ParseError(f"{name}: extras must be a list of strings", path=rel, line=line)
    parts: list[str] = []
    if isinstance(value.get("markers"), str) and value["markers"].strip():
        parts.append(value["markers"].strip())
    for key in _MARKER_KEYS:
        if isinstance(value.get(key), str):
            parts.append(f"{key} {value[key].strip()}")
    marker: str | None = None
    if parts:
        text = parts[0] if len(parts) == 1 else " and ".join(f"({p})" for p in parts)
        try:
            marker = str(Marker(text))
        except (InvalidMarker, ValueError, RecursionError):
            raise ParseError(f"{name}: invalid markers {text!r}", path=rel, line=line) from None
    url = _url(value)
    return Requirement(
        ecosystem="python",
        name=canonical(name),
        specifier="" if url else _specifier(version, rel, line, name),
        source=source,
        extras=tuple(sorted(canonical(e) for e in extras)),
        marker=marker,
        url=url,
        editable=value.get("editable") is True,
        group=group,
    )


def _url(value: Mapping[str, Any]) -> str | None:
    for vcs in ("git", "hg", "svn", "bzr"):
        if isinstance(value.get(vcs), str):
            base = value[vcs]
            url = base if base.startswith(f"{vcs}+") else f"{vcs}+{base}"
            if isinstance(value.get("ref"), str):
                url += "@" + value["ref"]
            if isinstance(value.get("subdirectory"), str):
                url += "#subdirectory=" + value["subdirectory"]
            return url
    for key in ("path", "file"):
        if isinstance(value.get(key), str):
            return str(value[key])
    return None
