"""``poetry.lock``, lock-version 1.x and 2.x.

Hashes come from a package's ``files`` (2.x, and late 1.x), a
``[[package.files]]`` array, or 1.0's ``[metadata.files]`` table.  A package
is ``dev`` when it is not in the main set: 2.1 lists its ``groups`` (dev
unless ``main`` is among them), older locks say ``category = "dev"``.
``markers`` is a string, or in 2.1 a table per group whose alternatives are
joined with ``or``.
"""

from __future__ import annotations

from pathlib import Path

from envcheck import _toml
from envcheck.errors import ParseError
from envcheck.parsers.pyproject import TomlLines
from envcheck.parsers.requirements import canonical, read_manifest, relpath
from envcheck.snapshot import Declared, LockedPackage

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


__all__ = ["SUPPORTED_MAJOR", "parse", "parse_text"]

SUPPORTED_MAJOR = (1, 2)


def parse(path: Path, root: Path) -> Declared:
    rel = relpath(path, root)
    return parse_text(read_manifest(path, rel), rel)


def parse_text(text: str, source_name: str = "poetry.lock") -> Declared:
    rel = source_name
    data = _toml.loads(text, rel)
    lines = TomlLines(text)
    metadata = data.get("metadata", {})
    if not isinstance(metadata, dict):
        raise ParseError("[metadata] must be a table", path=rel, line=lines.key_line((), "metadata"))
    lock_version = metadata.get("lock-version")
    if lock_version is not None:
        major = str(lock_version).split(".", 1)[0]
        if not major.isdigit() or int(major) not in SUPPORTED_MAJOR:
            raise ParseError(
                f"unsupported poetry.lock lock-version {lock_version!r} (envcheck reads 1.x and 2.x)",
                path=rel,
                line=lines.key_line(("metadata",), "lock-version"),
            )
    legacy_files = metadata.get("files", {})
    if not isinstance(legacy_files, dict):
        legacy_files = {}
    legacy_by_name = {canonical(k): v for k, v in legacy_files.items() if isinstance(k, str)}

    packages = data.get("package", [])
    if not isinstance(packages, list):
        raise ParseError(
            "'package' must be an array of tables ([[package]])", path=rel, line=lines.key_line((), "package")
        )
    locks: list[LockedPackage] = []
    for i, pkg in enumerate(packages):
        header = lines.section(("package",), i)
        line = lines.key_line(("package",), "name", i) if header else None
        if not isinstance(pkg, dict):
            raise ParseError("each [[package]] must be a table", path=rel, line=line)
        name, version = pkg.get("name"), pkg.get("version")
        if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
            raise ParseError(
                "[[package]] needs a string name and version", path=rel, line=line or (header[0] if header else None)
            )
        cname = canonical(name)
        files: Any = pkg.get("files")
        if files is None:
            files = legacy_by_name.get(cname, [])
        locks.append(
            LockedPackage(
                ecosystem="python",
                name=cname,
                version=version,
                source=rel if line is None else f"{rel}:{line}",
                hashes=_hashes(files),
                dev=_is_dev(pkg),
                marker=_marker(pkg.get("markers")),
            )
        )
    return Declared(locks=tuple(locks), files=(rel,))


def _hashes(files: Any) -> tuple[str, ...]:
    out: list[str] = []
    if isinstance(files, list):
        for f in files:
            if isinstance(f, dict) and isinstance(f.get("hash"), str) and f["hash"] not in out:
                out.append(f["hash"])
    return tuple(out)


def _is_dev(pkg: dict[str, Any]) -> bool:
    groups = pkg.get("groups")
    if isinstance(groups, list) and groups:
        return "main" not in groups
    return pkg.get("category") == "dev"


def _marker(value: Any) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        alts: list[str] = []
        for v in value.values():
            if isinstance(v, str) and v and v not in alts:
                alts.append(v)
        if len(alts) == 1:
            return alts[0]
        if alts:
            return " or ".join(f"({a})" for a in alts)
    return None
