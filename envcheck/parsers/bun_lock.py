"""``bun.lock``, Bun's text lock file (Bun 1.2+).

A JSON document with trailing commas (JSONC without comments)::

    {
      "lockfileVersion": 1,
      "workspaces": { "": {"name": "app", "dependencies": {"react": "^19.0.0"}}, "frontend": {…} },
      "packages": {
        "react": ["react@19.2.8", "", {…}, "sha512-…"],
        "send/debug": ["debug@2.6.9", "", {…}, "sha512-…"],
      }
    }

Each ``packages`` key is an install path: ``react`` is ``node_modules/react``,
``send/debug`` the copy nested under ``send``.  The first element names what
was resolved (``NAME@VERSION``); workspace, link, file and git entries carry no
registry version and are not packages of their own.  The ranges the root
workspace declares go to the top-level entries' ``specifiers``, as the
package-lock parser does, so EC304 can compare lock and package.json.

The binary ``bun.lockb`` of older Bun versions is not read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from envcheck import _regex
from envcheck._io import read_text
from envcheck.errors import ParseError
from envcheck.parsers import relpath
from envcheck.parsers.package_json import load_json
from envcheck.snapshot import Declared, LockedPackage

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


_SECTIONS = ("dependencies", "devDependencies", "optionalDependencies")
_VERSION = _regex.compile(r"^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?$")


def strip_trailing_commas(text: str) -> str:
    """Remove the commas before ``}``/``]`` that JSON forbids, leaving strings untouched."""
    out: list[str] = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        ch = text[i]
        if in_string:
            out.append(ch)
            if ch == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
            out.append(ch)
        elif ch == ",":
            j = i + 1
            while j < n and text[j] in " \t\r\n":
                j += 1
            if j < n and text[j] in "}]":
                i += 1
                continue
            out.append(ch)
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def parse(path: Path, root: Path) -> Declared:
    rel = relpath(path, root)
    return parse_text(read_text(path), rel)


def _key_lines(text: str) -> dict[str, int]:
    """Line of each ``"key": [`` (the packages' entries), first occurrence."""
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        m = re.match(r'\s*"((?:[^"\\]|\\.)*)"\s*:\s*\[', line)
        if m and m.group(1) not in lines:
            lines[m.group(1)] = number
    return lines


def _root_ranges(data: Mapping[str, Any]) -> dict[str, str]:
    workspaces = data.get("workspaces")
    root = workspaces.get("") if isinstance(workspaces, dict) else None
    out: dict[str, str] = {}
    if isinstance(root, dict):
        for section in _SECTIONS:
            deps = root.get(section)
            if isinstance(deps, dict):
                out.update({k: v for k, v in deps.items() if isinstance(k, str) and isinstance(v, str)})
    return out


def parse_text(text: str, rel: str = "bun.lock") -> Declared:
    data = load_json(strip_trailing_commas(text), rel)
    if not isinstance(data, dict):
        raise ParseError("bun.lock must be a JSON object", path=rel, line=1)
    packages = data.get("packages", {})
    if not isinstance(packages, dict):
        raise ParseError("'packages' must be an object", path=rel)
    ranges = _root_ranges(data)
    lines = _key_lines(text)
    locks: list[LockedPackage] = []
    for key, entry in packages.items():
        if not isinstance(key, str) or not isinstance(entry, list) or not entry or not isinstance(entry[0], str):
            continue
        name, sep, version = entry[0].rpartition("@")
        if not sep or not name or not _VERSION.match(version):
            continue  # workspace:, link:, file:, github: … — not a registry release
        if key == name:
            path = f"node_modules/{name}"
        elif key.endswith("/" + name):
            path = "node_modules/" + key[: -len(name) - 1].replace("/", "/node_modules/") + f"/node_modules/{name}"
        else:
            path = f"node_modules/{key}"  # an alias (`"my-react": ["react@18.2.0", …]`): the folder is the key
            name = key
        line = lines.get(key)
        top = path == f"node_modules/{name}"
        locks.append(
            LockedPackage(
                ecosystem="node",
                name=name,
                version=version,
                source=f"{rel}:{line}" if line else rel,
                path=path,
                specifiers=(ranges[name],) if top and name in ranges else (),
            )
        )
    return Declared(locks=tuple(locks), files=(rel,))
