"""``pnpm-lock.yaml``: lockfile versions 5.x, 6.0 and 9.0.

Package keys changed shape across versions:

- 5.x ``/name/1.2.3`` and ``/@scope/name/1.2.3_peer@1.0.0`` (peers after ``_``);
- 6.0 ``/name@1.2.3(peer@1.0.0)``;
- 9.0 ``name@1.2.3`` under ``packages``, with the peer-qualified copies
  (``name@1.2.3(peer@1.0.0)``) and their dependencies under ``snapshots``.

One :class:`LockedPackage` per ``name@version`` (pnpm's peer variants are the
same release).  Direct dependencies of each importer (the root project
``"."`` and workspace folders; the top level of a single-project 5.x/6.0 lock)
carry their ``specifier`` — the range package.json had when the lock was
written — into ``LockedPackage.specifiers``; :func:`importer_dependencies`
returns them with the importer and group.  ``link:`` dependencies are
workspace folders, not packages.

``dev`` is pnpm's flag in 5.x/6.0; 9.0 dropped it, so it is recomputed: a
package is dev when no production or optional direct dependency reaches it
through ``snapshots``.  ``optional: true`` becomes the marker ``"optional"``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from envcheck._io import read_text
from envcheck.errors import ParseError
from envcheck.parsers.package_json import relative_source
from envcheck.parsers.yarn_lock import load_yaml
from envcheck.record import record
from envcheck.snapshot import Declared, LockedPackage

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


_GROUPS: tuple[tuple[str, str | None], ...] = (
    ("dependencies", None),
    ("devDependencies", "dev"),
    ("optionalDependencies", "optional"),
)


@record
class ImporterDependency:
    """A direct dependency of one importer (``"."`` is the root project)."""

    importer: str
    name: str
    specifier: str | None
    version: str  # as locked, peer suffix removed; "link:../x" for workspace links
    group: str | None = None  # None (dependencies), "dev", "optional"
    package: tuple[str, str] | None = None  # (name, version) of the packages entry it resolves to


def _strip_peers(ref: str) -> str:
    cut = ref.find("(")
    if cut != -1:
        ref = ref[:cut]
    return ref


def split_key(key: str) -> tuple[str, str] | None:
    """A package key of any version → ``(name, version)``; ``None`` when it is not ``name@version``-like."""
    s = _strip_peers(key.strip())
    if s.startswith("/"):
        s = s[1:]
    if not s:
        return None
    scoped = s.startswith("@")
    head = s.find("/") + 1 if scoped else 0
    if scoped and head == 0:
        return None
    slash = s.find("/", head)
    at = s.find("@", head)
    if slash != -1 and (at == -1 or slash < at):
        # 5.x: name/version_peers
        name, version = s[:slash], s[slash + 1 :]
        underscore = version.find("_")
        if underscore != -1:
            version = version[:underscore]
        if "/" in version:
            return None  # a tarball/git path key; the entry's own name/version fields say more
    elif at != -1:
        name, version = s[:at], s[at + 1 :]
    else:
        return None
    if not name or not version:
        return None
    return name, version


def _resolve_ref(name: str, ref: str) -> tuple[str, str] | None:
    """An importer/snapshot dependency value (``1.2.3(peer)``, ``/x/1.0.0``, ``x@1.0.0``) → packages id."""
    ref = _strip_peers(ref.strip())
    if not ref or ref.startswith(("link:", "file:", "workspace:")):
        return None
    if ref.startswith("/") or (not ref[0].isdigit() and "@" in ref[1:]):
        return split_key(ref)  # an alias or a non-registry key
    underscore = ref.find("_")
    if underscore != -1:
        ref = ref[:underscore]  # 5.x peer suffix
    return name, ref


def _str_map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _importers(data: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    importers = data.get("importers")
    if isinstance(importers, dict):
        for path, body in importers.items():
            if isinstance(path, str) and isinstance(body, dict):
                yield path, body
    else:
        yield ".", data


def _direct(data: Mapping[str, Any]) -> tuple[ImporterDependency, ...]:
    out: list[ImporterDependency] = []
    for importer, body in _importers(data):
        specifiers = _str_map(body.get("specifiers"))  # 5.x keeps them apart
        for section, group in _GROUPS:
            for name, value in _str_map(body.get(section)).items():
                if not isinstance(name, str):
                    continue
                if isinstance(value, dict):
                    spec, version = value.get("specifier"), value.get("version")
                else:
                    spec, version = specifiers.get(name), value
                if isinstance(version, (int, float)) and not isinstance(version, bool):
                    version = str(version)
                if not isinstance(version, str):
                    continue
                spec = str(spec) if isinstance(spec, (str, int, float)) and not isinstance(spec, bool) else None
                out.append(
                    ImporterDependency(importer, name, spec, _strip_peers(version), group, _resolve_ref(name, version))
                )
    return tuple(out)


def _key_lines(text: str) -> dict[str, int]:
    """Line of each two-space-indented key under ``packages:`` (first occurrence)."""
    lines: dict[str, int] = {}
    section = ""
    for lineno, raw in enumerate(text.splitlines(), 1):
        if not raw or raw[0] == "#":
            continue
        if not raw[0].isspace():
            section = raw.split(":", 1)[0]
            continue
        if section == "packages" and raw.startswith("  ") and len(raw) > 2 and raw[2] not in " #":
            key = raw.strip()
            if key.endswith(":"):
                key = key[:-1]
            elif ": " in key:
                key = key.split(": ", 1)[0]  # an inline value, e.g. "  a@1.0.0: {}"
            else:
                continue
            if len(key) >= 2 and key[0] == key[-1] and key[0] in "'\"":
                key = key[1:-1]
            lines.setdefault(key, lineno)
    return lines


def _dev_by_reachability(data: Mapping[str, Any], direct: tuple[ImporterDependency, ...]) -> set[tuple[str, str]]:
    """9.0: ids reachable from production or optional direct dependencies."""
    snapshots = _str_map(data.get("snapshots"))
    by_id: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for key, body in snapshots.items():
        ident = split_key(key) if isinstance(key, str) else None
        if ident is not None and isinstance(body, dict):
            by_id.setdefault(ident, []).append(body)
    prod: set[tuple[str, str]] = set()
    todo = [d.package for d in direct if d.group != "dev" and d.package is not None]
    while todo:
        ident = todo.pop()
        if ident is None or ident in prod:
            continue
        prod.add(ident)
        for body in by_id.get(ident, ()):
            for section in ("dependencies", "optionalDependencies"):
                for name, ref in _str_map(body.get(section)).items():
                    if isinstance(name, str) and isinstance(ref, str):
                        nxt = _resolve_ref(name, ref)
                        if nxt is not None and nxt not in prod:
                            todo.append(nxt)
    return prod


def _load(text: str, rel: str) -> Mapping[str, Any]:
    data = load_yaml(text, rel)
    if not isinstance(data, dict):
        raise ParseError("pnpm-lock.yaml must be a mapping", path=rel, line=1)
    if "lockfileVersion" not in data:
        raise ParseError("no lockfileVersion: not a pnpm lock file", path=rel, line=1)
    return data


def _major(data: Mapping[str, Any]) -> int:
    raw = str(data.get("lockfileVersion", ""))
    digits = raw.split(".", 1)[0].strip()
    return int(digits) if digits.isdigit() and len(digits) < 6 else 0


def parse_text(text: str, rel: str) -> Declared:
    """Parse pnpm-lock.yaml text; ``rel`` names it in sources and errors."""
    data = _load(text, rel)
    packages = data.get("packages")
    if packages is not None and not isinstance(packages, dict):
        raise ParseError("packages: expected a mapping", path=rel)
    direct = _direct(data)
    lines = _key_lines(text)
    specs: dict[tuple[str, str], list[str]] = {}
    for d in direct:
        if d.package is not None and d.specifier is not None:
            specs.setdefault(d.package, []).append(d.specifier)
    reachable = _dev_by_reachability(data, direct) if _major(data) >= 9 else None

    merged: dict[tuple[str, str], LockedPackage] = {}
    for key, body in (packages or {}).items():
        if not isinstance(body, dict):
            raise ParseError(f"packages[{key!r}]: expected a mapping", path=rel, line=lines.get(str(key)))
        ident = split_key(key) if isinstance(key, str) else None
        name = body.get("name")
        version = body.get("version")
        if isinstance(version, (int, float)) and not isinstance(version, bool):
            version = str(version)
        if isinstance(name, str) and isinstance(version, str):
            ident = (name, version)
        elif ident is not None and isinstance(name, str):
            ident = (name, ident[1])
        if ident is None:
            continue
        resolution = body.get("resolution")
        integrity = resolution.get("integrity") if isinstance(resolution, dict) else None
        # Without any direct dependency there is no root to judge from: not dev.
        dev = (bool(direct) and ident not in reachable) if reachable is not None else body.get("dev") is True
        old = merged.get(ident)
        if old is not None:
            # Peer variants of one release: dev only if every variant is.
            if old.dev and not dev:
                merged[ident] = LockedPackage(
                    "node", old.name, old.version, old.source, old.hashes, False, old.marker, None, old.specifiers
                )
            continue
        line = lines.get(str(key))
        found = specs.get(ident)
        merged[ident] = LockedPackage(
            "node",
            ident[0],
            ident[1],
            f"{rel}:{line}" if line else rel,
            (integrity,) if isinstance(integrity, str) else (),
            dev,
            "optional" if body.get("optional") is True else None,
            None,
            tuple(dict.fromkeys(found)) if found else (),
        )
    return Declared(locks=tuple(merged.values()), files=(rel,))


def parse(path: Path, root: Path) -> Declared:
    return parse_text(read_text(path), relative_source(path, root))


def importer_dependencies(path: Path, root: Path | None = None) -> tuple[ImporterDependency, ...]:
    """Every importer's direct dependencies with the specifier and version pnpm locked."""
    rel = relative_source(path, root if root is not None else path.parent)
    return _direct(_load(read_text(path), rel))
