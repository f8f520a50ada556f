"""The generator's knowledge tables (``envcheck/data/*.toml``), loaded and validated.

Facts that age — which official images exist, when a CPython line reaches its
end of life, which Debian packages an sdist needs — live in data files with
their source named, not in code branches.  A malformed table is a bug in
envcheck, so loading fails loudly (:class:`KnowledgeError`) and a test loads
every table.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from envcheck import _regex
from envcheck._toml import loads
from envcheck.record import field, record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


DATA = Path(__file__).resolve().parent.parent / "data"
_PKG = _regex.compile(r"^[a-z0-9][a-z0-9+.-]+$")  # a Debian package name
_MINOR = _regex.compile(r"^\d+\.\d+$")
_FULL = _regex.compile(r"^\d+\.\d+\.\d+$")


class KnowledgeError(ValueError):
    """A knowledge table is malformed."""


def _load(name: str) -> dict[str, Any]:
    path = DATA / name
    data = loads(path.read_text(encoding="utf-8"), str(path))
    if not isinstance(data.get("source"), str) or not data["source"].strip():
        raise KnowledgeError(f"{name}: every table names its source")
    return data


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise KnowledgeError(f"{where}: expected a list of strings")
    return tuple(value)


def _spec(value: Any, where: str) -> SpecifierSet:
    try:
        return SpecifierSet(str(value))
    except InvalidSpecifier:
        raise KnowledgeError(f"{where}: {value!r} is not a version range") from None


# --------------------------------------------------------------------------- end of life


def _eol_date(text: str, where: str) -> dt.date:
    m = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", text)
    if m is None:
        raise KnowledgeError(f"{where}: {text!r} is not YYYY-MM or YYYY-MM-DD")
    year, month = int(m.group(1)), int(m.group(2))
    if m.group(3):
        return dt.date(year, month, int(m.group(3)))
    # A planned month: its last day.
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


@cache
def python_eol() -> Mapping[str, tuple[dt.date, str]]:
    """CPython line ("3.6") -> (end-of-life date, the date as the table writes it)."""
    data = _load("python_eol.toml")
    raw = data.get("eol")
    if not isinstance(raw, dict):
        raise KnowledgeError("python_eol.toml: missing [eol]")
    out: dict[str, tuple[dt.date, str]] = {}
    for line, when in raw.items():
        if not _MINOR.match(line) or not isinstance(when, str):
            raise KnowledgeError(f"python_eol.toml: {line!r} = {when!r}")
        out[line] = (_eol_date(when, f"python_eol.toml {line}"), when)
    return out


@cache
def python_released() -> Mapping[str, dt.date]:
    """CPython line ("3.6") -> the date of its first final release (X.Y.0)."""
    data = _load("python_releases.toml")
    raw = data.get("released")
    if not isinstance(raw, dict):
        raise KnowledgeError("python_releases.toml: missing [released]")
    out: dict[str, dt.date] = {}
    for line, when in raw.items():
        if not _MINOR.match(line) or not isinstance(when, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", when):
            raise KnowledgeError(f"python_releases.toml: {line!r} = {when!r}")
        out[line] = _eol_date(when, f"python_releases.toml {line}")
    return out


# --------------------------------------------------------------------------- images


@record
class ImageLine:
    python: str  # "3.7"
    newest: str  # "3.7.17"
    debian: tuple[tuple[str, SpecifierSet], ...]  # (release, versions) newest release first

    def releases_for(self, version: str) -> tuple[str, ...]:
        """Debian releases with an official slim image of ``version``."""
        v = Version(version)
        return tuple(rel for rel, spec in self.debian if spec.contains(v, prereleases=True))


@record
class ImageTable:
    lines: Mapping[str, ImageLine]
    default_release: str
    archived: frozenset[str] = frozenset()

    def line(self, version: str) -> ImageLine | None:
        return self.lines.get(".".join(version.split(".")[:2]))

    def newest(self) -> tuple[str, ...]:
        """The newest known patch of every line, newest line first."""
        return tuple(
            line.newest for line in sorted(self.lines.values(), key=lambda li: Version(li.newest), reverse=True)
        )


@cache
def python_images() -> ImageTable:
    data = _load("python_images.toml")
    default = data.get("default_release")
    if not isinstance(default, str):
        raise KnowledgeError("python_images.toml: default_release")
    lines: dict[str, ImageLine] = {}
    for i, entry in enumerate(data.get("line") or []):
        where = f"python_images.toml line {i + 1}"
        if not isinstance(entry, dict):
            raise KnowledgeError(where)
        py, newest = entry.get("python"), entry.get("newest")
        if not isinstance(py, str) or not _MINOR.match(py) or not isinstance(newest, str) or not _FULL.match(newest):
            raise KnowledgeError(f"{where}: python and newest")
        if not newest.startswith(py + "."):
            raise KnowledgeError(f"{where}: newest {newest} is not a {py} release")
        debian = []
        for d in entry.get("debian") or []:
            if not isinstance(d, dict) or not isinstance(d.get("release"), str):
                raise KnowledgeError(f"{where}: debian entries need a release")
            debian.append((d["release"], _spec(d.get("versions", ""), where)))
        if not debian:
            raise KnowledgeError(f"{where}: no Debian release")
        if py in lines:
            raise KnowledgeError(f"{where}: {py} listed twice")
        lines[py] = ImageLine(py, newest, tuple(debian))
    if not lines:
        raise KnowledgeError("python_images.toml: no lines")
    archived = _strings(data.get("archived", []), "python_images.toml archived")
    return ImageTable(lines, default, frozenset(archived))


# --------------------------------------------------------------------------- sdist system packages


@record
class SdistNeeds:
    name: str
    build: tuple[str, ...]
    runtime: tuple[str, ...]
    source: str
    versions: SpecifierSet | None = None
    always_runtime: bool = False
    runtime_on: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def runtime_for(self, release: str) -> tuple[str, ...]:
        return self.runtime_on.get(release, self.runtime)


@cache
def sdist_system_packages() -> Mapping[str, tuple[SdistNeeds, ...]]:
    data = _load("sdist_system_packages.toml")
    out: dict[str, list[SdistNeeds]] = {}
    for i, entry in enumerate(data.get("dist") or []):
        where = f"sdist_system_packages.toml dist {i + 1}"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise KnowledgeError(f"{where}: name")
        src = entry.get("source")
        if not isinstance(src, str) or not src.strip():
            raise KnowledgeError(f"{where}: every entry names its source")
        build = _strings(entry.get("build", []), where)
        runtime = _strings(entry.get("runtime", []), where)
        runtime_on_raw = entry.get("runtime_on", {})
        if not isinstance(runtime_on_raw, dict):
            raise KnowledgeError(f"{where}: runtime_on")
        runtime_on = {k: _strings(v, where) for k, v in runtime_on_raw.items()}
        for pkg in (*build, *runtime, *(p for v in runtime_on.values() for p in v)):
            if not _PKG.match(pkg):
                raise KnowledgeError(f"{where}: {pkg!r} is not a Debian package name")
        versions = _spec(entry["versions"], where) if "versions" in entry else None
        name = canonicalize_name(entry["name"])
        out.setdefault(name, []).append(
            SdistNeeds(
                name=name,
                build=build,
                runtime=runtime,
                source=src,
                versions=versions,
                always_runtime=bool(entry.get("always_runtime", False)),
                runtime_on=runtime_on,
            )
        )
    return {k: tuple(v) for k, v in out.items()}


def sdist_needs(name: str, version: str | None) -> SdistNeeds | None:
    """The table's entry for ``name`` at ``version`` (the first whose range holds it)."""
    entries = sdist_system_packages().get(canonicalize_name(name), ())
    for entry in entries:
        if entry.versions is None or version is None:
            return entry
        try:
            if entry.versions.contains(Version(version), prereleases=True):
                return entry
        except InvalidVersion:
            return entry
    return None


# --------------------------------------------------------------------------- application servers


@record
class Server:
    name: str
    dist: str  # canonical distribution name
    script: str  # its console script
    serves: tuple[str, ...]  # "wsgi", "asgi"
    default_port: int
    bind: tuple[str, ...]  # with "{port}"
    source: str


@cache
def python_servers() -> tuple[Server, ...]:
    data = _load("python_servers.toml")
    out: list[Server] = []
    for i, entry in enumerate(data.get("server") or []):
        where = f"python_servers.toml server {i + 1}"
        if not isinstance(entry, dict):
            raise KnowledgeError(where)
        try:
            name, dist, script = str(entry["name"]), str(entry["dist"]), str(entry["script"])
            port = entry["default_port"]
            src = str(entry["source"])
        except KeyError as exc:
            raise KnowledgeError(f"{where}: missing {exc}") from None
        if not isinstance(port, int) or not 0 < port < 65536:
            raise KnowledgeError(f"{where}: default_port")
        serves = _strings(entry.get("serves", []), where)
        if not serves or not set(serves) <= {"wsgi", "asgi"}:
            raise KnowledgeError(f"{where}: serves is wsgi and/or asgi")
        bind = _strings(entry.get("bind", []), where)
        if not any("{port}" in b for b in bind):
            raise KnowledgeError(f"{where}: bind must place {{port}}")
        out.append(Server(name, canonicalize_name(dist), script, serves, port, bind, src))
    if len({s.name for s in out}) != len(out):
        raise KnowledgeError("python_servers.toml: a server is listed twice")
    return tuple(out)
