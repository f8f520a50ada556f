"""``package-lock.json`` / ``npm-shrinkwrap.json``, lockfile versions 1, 2 and 3.

v2 and v3 list every installed folder under ``packages``, keyed by its path
(``node_modules/a/node_modules/b``): one :class:`LockedPackage` per folder, so
nested copies keep their ``path`` and the name is the folder name after the
last ``node_modules/`` — the name ``require()`` and package.json use, which for
an ``npm:`` alias is the alias.  The root entry ``""``, workspace folders
(keys without ``node_modules``) and ``link: true`` symlinks are not packages
of their own.  v1 nests ``dependencies`` objects instead; the same paths are
rebuilt from the nesting.

The manifest ranges npm recorded in the root entry (and in workspace entries)
go to ``LockedPackage.specifiers`` of the folder they resolve to, so EC304 can
compare lock and package.json from the snapshot alone.

``dev`` is npm's ``dev`` flag (``devOptional`` is not dev: ``--omit=dev``
still installs it); ``optional``/``devOptional`` entries get the marker
``"optional"`` — a missing optional package (``fsevents`` on Linux) is not drift.

Lock files reach tens of MB, so this stays on the ``json`` module's C parser,
with no per-entry regex; line numbers come from ``str.find`` over npm's fixed
two-space layout (a minified lock just gets file-level sources).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from envcheck._io import read_text
from envcheck.errors import ParseError
from envcheck.parsers.package_json import load_json, relative_source
from envcheck.snapshot import Declared, LockedPackage

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


_NM = "node_modules/"
_MANIFEST_SECTIONS = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")


def _depth2_key_lines(text: str) -> dict[str, int]:
    """Line of each key written at four-space indentation (npm's layout for depth-2 keys)."""
    needle = '\n    "'
    lines: dict[str, int] = {}
    pos = text.find(needle)
    prev = 0
    line = 1
    while pos != -1:
        line += text.count("\n", prev, pos)
        prev = pos
        start = pos + len(needle)
        end = text.find('"', start)
        if end == -1:
            break
        key = text[start:end]
        if key not in lines:
            lines[key] = line + 1
        pos = text.find(needle, end)
    return lines


def _hashes(entry: Mapping[str, Any]) -> tuple[str, ...]:
    integrity = entry.get("integrity")
    return tuple(integrity.split()) if isinstance(integrity, str) else ()


def _version_of(raw: str) -> str:
    # v1 writes an alias's version as "npm:real-name@1.2.3".
    if raw.startswith("npm:"):
        at = raw.rfind("@")
        if at > 4:
            return raw[at + 1 :]
    return raw


def _from_packages(packages: Mapping[str, Any], rel: str, lines: Mapping[str, int]) -> tuple[LockedPackage, ...]:
    # Manifest ranges recorded by the root entry and by workspace folders.
    wanted: dict[str, list[str]] = {}
    for key in [k for k in packages if _NM not in k]:
        entry = packages[key]
        if not isinstance(entry, dict):
            continue
        prefix = f"{key}/{_NM}" if key else _NM
        for section in _MANIFEST_SECTIONS:
            deps = entry.get(section)
            if not isinstance(deps, dict):
                continue
            for name, spec in deps.items():
                if not isinstance(spec, str):
                    continue
                target = prefix + name
                if key and target not in packages:
                    target = _NM + name  # hoisted to the root
                wanted.setdefault(target, []).append(spec.strip())

    out: list[LockedPackage] = []
    append = out.append
    get_line = lines.get
    get_wanted = wanted.get
    nm_len = len(_NM)
    for key, entry in packages.items():
        cut = key.rfind(_NM)
        if cut == -1 or (cut and key[cut - 1] != "/"):
            continue  # root "" and workspace folders
        if entry.__class__ is not dict:
            raise ParseError(f"packages[{key!r}]: expected an object", path=rel, line=get_line(key))
        get = entry.get
        version = get("version")
        if version.__class__ is not str:
            if version is None or get("link") is True:
                continue  # a symlink to a workspace/file: folder, or an extraneous folder
            raise ParseError(f"packages[{key!r}].version: expected a string", path=rel, line=get_line(key))
        if get("link") is True:
            continue
        line = get_line(key)
        integrity = get("integrity")
        specs = get_wanted(key)
        append(
            LockedPackage(
                "node",
                key[cut + nm_len :],
                version,
                f"{rel}:{line}" if line else rel,
                tuple(integrity.split()) if integrity.__class__ is str else (),
                get("dev") is True,
                "optional" if get("optional") is True or get("devOptional") is True else None,
                key,
                tuple(dict.fromkeys(specs)) if specs else (),
            )
        )
    return tuple(out)


def _from_v1(dependencies: Mapping[str, Any], rel: str, lines: Mapping[str, int]) -> tuple[LockedPackage, ...]:
    out: list[LockedPackage] = []
    # Iterative walk: hostile nesting must not hit the recursion limit.
    todo: list[tuple[str, Mapping[str, Any], bool]] = [("", dependencies, True)]
    while todo:
        prefix, deps, top = todo.pop()
        for name, entry in deps.items():
            if not isinstance(entry, dict):
                raise ParseError(
                    f"dependencies[{name!r}]: expected an object", path=rel, line=lines.get(name) if top else None
                )
            path = f"{prefix}{_NM}{name}"
            version = entry.get("version")
            if isinstance(version, str):
                line = lines.get(name) if top else None
                out.append(
                    LockedPackage(
                        "node",
                        name,
                        _version_of(version),
                        f"{rel}:{line}" if line else rel,
                        _hashes(entry),
                        entry.get("dev") is True,
                        "optional" if entry.get("optional") is True else None,
                        path,
                    )
                )
            elif version is not None:
                raise ParseError(f"dependencies[{name!r}].version: expected a string", path=rel)
            nested = entry.get("dependencies")
            if isinstance(nested, dict):
                todo.append((f"{path}/", nested, False))
    out.sort(key=lambda p: p.path or "")
    return tuple(out)


def parse_text(text: str, rel: str) -> Declared:
    """Parse lock text; ``rel`` names it in sources and errors."""
    data = load_json(text, rel)
    if not isinstance(data, dict):
        raise ParseError("package-lock.json must be a JSON object", path=rel, line=1)
    version = data.get("lockfileVersion", 1)
    packages = data.get("packages")
    lines = _depth2_key_lines(text)
    if packages is not None:
        if not isinstance(packages, dict):
            raise ParseError("packages: expected an object", path=rel)
        locks = _from_packages(packages, rel, lines)
    else:
        if isinstance(version, int) and not isinstance(version, bool) and version > 1:
            raise ParseError(f"lockfileVersion {version} without a 'packages' object", path=rel)
        dependencies = data.get("dependencies", {})
        if not isinstance(dependencies, dict):
            raise ParseError("dependencies: expected an object", path=rel)
        locks = _from_v1(dependencies, rel, lines)
    return Declared(locks=locks, files=(rel,))


def parse(path: Path, root: Path) -> Declared:
    return parse_text(read_text(path), relative_source(path, root))
