"""Pipenv's ``Pipfile.lock`` (JSON, ``pipfile-spec`` 6).

``default`` entries are run-time locks, ``develop`` entries are ``dev``.
Entries without a ``version`` (an editable path, a VCS checkout) pin no
release and are not reported as locks.  ``_meta.requires.python_version``
goes to ``version_files`` under the lock's path.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from envcheck.errors import ParseError
from envcheck.parsers.requirements import canonical, read_manifest, relpath
from envcheck.snapshot import Declared, DeclaredRuntime, LockedPackage

__all__ = ["parse", "parse_text"]


def parse(path: Path, root: Path) -> Declared:
    rel = relpath(path, root)
    return parse_text(read_manifest(path, rel), rel)


def parse_text(text: str, source_name: str = "Pipfile.lock") -> Declared:
    rel = source_name
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON: {exc.msg}", path=rel, line=exc.lineno) from None
    except RecursionError:
        raise ParseError("invalid JSON: nested too deeply", path=rel) from None
    if not isinstance(data, dict):
        raise ParseError("expected a JSON object with 'default' and 'develop'", path=rel, line=1)

    locks: list[LockedPackage] = []
    for section, dev in (("default", False), ("develop", True)):
        entries = data.get(section, {})
        if entries is None:
            continue
        if not isinstance(entries, dict):
            raise ParseError(f"{section!r} must be an object", path=rel, line=_line_of(text, section, 0))
        section_pos = _pos_of(text, section, 0)
        for name, entry in entries.items():
            line = _line_of(text, name, section_pos)
            if not isinstance(entry, dict):
                raise ParseError(f"{section}.{name}: expected an object", path=rel, line=line)
            version = entry.get("version")
            if version is None:
                continue
            if not isinstance(version, str):
                raise ParseError(f"{section}.{name}: version must be a string", path=rel, line=line)
            hashes = entry.get("hashes", [])
            if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
                raise ParseError(f"{section}.{name}: hashes must be a list of strings", path=rel, line=line)
            marker = entry.get("markers")
            locks.append(
                LockedPackage(
                    ecosystem="python",
                    name=canonical(name),
                    version=re.sub(r"^={2,3}", "", version.strip()),
                    source=rel if line is None else f"{rel}:{line}",
                    hashes=tuple(hashes),
                    dev=dev,
                    marker=marker if isinstance(marker, str) and marker else None,
                )
            )

    python: DeclaredRuntime | None = None
    meta = data.get("_meta")
    requires = meta.get("requires") if isinstance(meta, dict) else None
    if isinstance(requires, dict):
        version = requires.get("python_full_version") or requires.get("python_version")
        if isinstance(version, str) and version.strip():
            python = DeclaredRuntime(version_files={rel: version.strip()})
    return Declared(python=python, locks=tuple(locks), files=(rel,))


def _pos_of(text: str, key: str, start: int) -> int:
    idx = text.find(json.dumps(key) + ":", start)
    if idx < 0:
        idx = text.find(json.dumps(key), start)
    return max(idx, start)


def _line_of(text: str, key: str, start: int) -> int | None:
    """Line of ``"key":`` at or after ``start`` (JSON parsers keep no positions)."""
    m = re.compile(re.escape(json.dumps(key)) + r"\s*:").search(text, start)
    return text.count("\n", 0, m.start()) + 1 if m else None
