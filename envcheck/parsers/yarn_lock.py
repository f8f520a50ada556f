"""``yarn.lock``: yarn classic (v1, its own indented format) and berry (YAML).

Each block of a yarn lock resolves one or more requested descriptors
(``"a@^1", a@^1.1:``) to one version.  Those requested ranges are the point
of the file for EC304 — ``yarn install --frozen-lockfile`` fails when
package.json asks for a range the lock has no key for — so they are kept in
``LockedPackage.specifiers`` (as package.json writes them: berry's implicit
``npm:`` protocol is dropped, aliases like ``npm:other@^1`` stay) and
:func:`locked_ranges` returns the ``(name, range) -> version`` table directly.

Workspace, ``link:`` and ``portal:`` entries of berry (``linkType: soft``) are
the project's own folders, not packages.  A yarn lock records no dev/prod
split, so ``dev`` stays False.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from envcheck import _regex
from envcheck._io import read_text
from envcheck.errors import ParseError
from envcheck.parsers.package_json import relative_source
from envcheck.snapshot import Declared, LockedPackage

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


_DESCRIPTOR = _regex.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|([^,"]+))\s*(?:,|$)')


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            loaded = json.loads(value)
        except ValueError:
            return value[1:-1]
        return loaded if isinstance(loaded, str) else value[1:-1]
    return value


def split_descriptors(header: str) -> list[str]:
    """``"a@^1", a@^1.1`` → ``["a@^1", "a@^1.1"]``."""
    out: list[str] = []
    pos = 0
    while pos < len(header):
        m = _DESCRIPTOR.match(header, pos)
        if m is None or m.end() == pos:
            break
        quoted, bare = m.group(1), m.group(2)
        item = _unquote(f'"{quoted}"') if quoted is not None else (bare or "").strip()
        if item:
            out.append(item)
        pos = m.end()
    return out


def split_descriptor(descriptor: str) -> tuple[str, str]:
    """``@scope/a@npm:^1`` → ``("@scope/a", "npm:^1")``; a bare name has range ``""``."""
    at = descriptor.find("@", 1)
    if at == -1:
        return descriptor, ""
    return descriptor[:at], descriptor[at + 1 :]


def _manifest_range(range_: str) -> str:
    """Berry writes ``npm:^1.0.0`` for what package.json spells ``^1.0.0``; keep real aliases."""
    if range_.startswith("npm:") and range_.find("@", 5) == -1:
        return range_[4:]
    return range_


class _Entry:
    __slots__ = ("hashes", "line", "ranges", "version")

    def __init__(self, line: int) -> None:
        self.line = line
        self.version: str | None = None
        self.hashes: tuple[str, ...] = ()
        self.ranges: dict[str, list[str]] = {}


def _v1_entries(text: str, rel: str) -> Iterator[_Entry]:
    entry: _Entry | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        stripped = line.lstrip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        if indent == 0:
            if entry is not None:
                yield _finish_v1(entry, rel)
            if not line.endswith(":"):
                raise ParseError("expected an entry header ending in ':'", path=rel, line=lineno)
            entry = _Entry(lineno)
            descriptors = split_descriptors(line[:-1])
            if not descriptors:
                raise ParseError("entry header names no package", path=rel, line=lineno)
            for d in descriptors:
                name, range_ = split_descriptor(d)
                entry.ranges.setdefault(name, []).append(range_)
            continue
        if entry is None:
            raise ParseError("indented line before the first entry", path=rel, line=lineno)
        if indent != 2 or stripped.endswith(":"):
            continue  # dependency lists and their members
        key, _, value = stripped.partition(" ")
        key = _unquote(key)
        if key == "version":
            entry.version = _unquote(value)
        elif key == "integrity":
            entry.hashes = tuple(_unquote(value).split())
    if entry is not None:
        yield _finish_v1(entry, rel)


def _finish_v1(entry: _Entry, rel: str) -> _Entry:
    if not entry.version:
        raise ParseError("entry has no version", path=rel, line=entry.line)
    return entry


def _header_lines(text: str) -> dict[str, int]:
    lines: dict[str, int] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        if raw and not raw[0].isspace() and raw[0] != "#":
            key = raw.rstrip()
            if key.endswith(":"):
                lines.setdefault(_unquote(key[:-1]), lineno)
    return lines


def load_yaml(text: str, rel: str) -> Any:
    """PyYAML with a safe loader (C when available); failures are ``ParseError``s with a line."""
    import yaml

    from envcheck.parsers.conda_env import _check_depth

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        _check_depth(yaml.scan(text, Loader=loader), rel)  # deep nesting segfaults libyaml's composer
        return yaml.load(text, Loader=loader)  # noqa: S506 - always a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise ParseError(
            f"invalid YAML: {exc.problem or 'syntax error'}", path=rel, line=mark.line + 1 if mark else None
        ) from None
    except (yaml.YAMLError, RecursionError, ValueError, TypeError, OverflowError):
        raise ParseError("invalid YAML", path=rel) from None


def _berry_entries(text: str, rel: str) -> Iterator[_Entry]:
    data = load_yaml(text, rel)
    if not isinstance(data, dict):
        raise ParseError("yarn.lock must be a mapping of entries", path=rel, line=1)
    lines = _header_lines(text)
    for key, value in data.items():
        if key == "__metadata" or not isinstance(key, str):
            continue
        if not isinstance(value, dict):
            raise ParseError(f"entry {key!r}: expected a mapping", path=rel, line=lines.get(key))
        resolution = value.get("resolution")
        if value.get("linkType") == "soft" or (
            isinstance(resolution, str) and any(p in resolution for p in ("@workspace:", "@link:", "@portal:"))
        ):
            continue
        version = value.get("version")
        if isinstance(version, (int, float)) and not isinstance(version, bool):
            version = str(version)
        if not isinstance(version, str) or not version:
            raise ParseError(f"entry {key!r}: no version", path=rel, line=lines.get(key))
        entry = _Entry(lines.get(key, 0))
        entry.version = version
        checksum = value.get("checksum")
        if isinstance(checksum, str):
            entry.hashes = (checksum,)
        for d in split_descriptors(key):
            name, range_ = split_descriptor(d)
            entry.ranges.setdefault(name, []).append(_manifest_range(range_))
        yield entry


def is_berry(text: str) -> bool:
    head = text[:4096]
    return "__metadata:" in text and "# yarn lockfile v1" not in head


def parse_text(text: str, rel: str) -> Declared:
    """Parse yarn.lock text (either format); ``rel`` names it in sources and errors."""
    entries = _berry_entries(text, rel) if is_berry(text) else _v1_entries(text, rel)
    merged: dict[tuple[str, str], LockedPackage] = {}
    for entry in entries:
        version = entry.version or ""
        for name, ranges in entry.ranges.items():
            key = (name, version)
            old = merged.get(key)
            specs = tuple(dict.fromkeys((*(old.specifiers if old else ()), *ranges)))
            source = old.source if old else (f"{rel}:{entry.line}" if entry.line else rel)
            hashes = old.hashes if old and old.hashes else entry.hashes
            merged[key] = LockedPackage("node", name, version, source, hashes, specifiers=specs)
    return Declared(locks=tuple(merged.values()), files=(rel,))


def parse(path: Path, root: Path) -> Declared:
    return parse_text(read_text(path), relative_source(path, root))


def ranges_of(declared: Declared) -> dict[tuple[str, str], str]:
    """``(name, requested range) -> locked version`` from a parsed yarn lock."""
    return {(p.name, spec): p.version for p in declared.locks for spec in p.specifiers}


def locked_ranges(path: Path, root: Path | None = None) -> dict[tuple[str, str], str]:
    """``(name, range as package.json writes it) -> version`` for every key of a yarn lock.

    ``("express", "^4.17.1") in locked_ranges(p)`` is exactly the check
    ``yarn install --frozen-lockfile`` makes for a manifest dependency.
    """
    return ranges_of(parse(path, root if root is not None else path.parent))
