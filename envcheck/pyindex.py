"""A Python package index client: which files a project has, per the index's own metadata.

Speaks the JSON form of the simple repository API (PEP 691), and reads the
HTML form (PEP 503) when an index offers nothing else.  Which indexes to ask
is what pip would ask: the project's own index settings first (Pipfile
``[[source]]``, poetry/uv sources, ``--index-url`` lines), then pip's
configuration (``PIP_INDEX_URL``/``PIP_EXTRA_INDEX_URL``, ``PIP_CONFIG_FILE``
and the ``pip.conf`` files pip reads), then pip's own default, read from the
installed pip at run time.

Answers are cached on disk (``$XDG_CACHE_HOME/envcheck/pyindex``).  An index
that cannot be reached gives :class:`Unchecked`, never an empty answer: a
caller says "could not check", it does not conclude a file is missing.

:func:`installable` is pure: given the files of a release, the interpreter and
the platforms, does pip find something to install?
"""

from __future__ import annotations

import configparser
import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from html.parser import HTMLParser
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from envcheck.record import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


JSON_ACCEPT = "application/vnd.pypi.simple.v1+json"
ACCEPT = f"{JSON_ACCEPT}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
CACHE_TTL = 24 * 3600  # a release's files rarely change; a day old answer is still the answer
TIMEOUT = 10.0
_MAX_PAGE = 32 * 1024 * 1024

# glibc of each Debian release the official python images are built on: the
# newest manylinux_2_X tag a wheel may carry and still load there.
GLIBC: Mapping[str, tuple[int, int]] = {
    "stretch": (2, 24),
    "buster": (2, 28),
    "bullseye": (2, 31),
    "bookworm": (2, 36),
    "trixie": (2, 41),
}
ARCHES: tuple[str, ...] = ("x86_64", "aarch64")


class IndexAnswerError(Exception):
    """An index answered something unreadable (kept apart from "unreachable")."""


# --------------------------------------------------------------------------- configuration


@record
class IndexConfig:
    """The indexes to ask, in pip's order, and how to trust them."""

    urls: tuple[str, ...]
    cert: str | None = None  # a CA bundle (pip's `cert` setting)
    origin: str = ""  # where the list came from, for messages
    disabled: str | None = None  # why nothing may be asked (PIP_NO_INDEX)


def pip_config_files(environ: Mapping[str, str], home: Path | None = None) -> list[Path]:
    """pip's configuration files, lowest priority first (as ``pip config debug`` lists them)."""
    home = home if home is not None else Path(environ.get("HOME") or Path.home())
    xdg_dirs = environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(":")
    files = [Path(d) / "pip" / "pip.conf" for d in reversed([d for d in xdg_dirs if d])]
    files.append(Path("/etc/pip.conf"))
    xdg_home = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
    files.extend([home / ".pip" / "pip.conf", xdg_home / "pip" / "pip.conf"])
    venv = environ.get("VIRTUAL_ENV")
    if venv:
        files.append(Path(venv) / "pip.conf")
    extra = environ.get("PIP_CONFIG_FILE")
    if extra and extra != os.devnull:
        files.append(Path(extra))
    return files


def _split(value: str) -> list[str]:
    return [v for v in re.split(r"\s+", value.strip()) if v]


def read_pip_config(files: Iterable[Path]) -> dict[str, str]:
    """``index-url``, ``extra-index-url``, ``no-index`` and ``cert`` from pip.conf files.

    Later files win, and ``[install]`` beats ``[global]`` within a file, as in pip.
    A file that cannot be read or parsed is skipped: pip would warn, not stop.
    """
    out: dict[str, str] = {}
    for path in files:
        parser = configparser.RawConfigParser()
        try:
            if not path.is_file():
                continue
            parser.read_string(path.read_text(encoding="utf-8", errors="replace"), str(path))
        except (OSError, configparser.Error):
            continue
        for section in ("global", "install"):
            if parser.has_section(section):
                for key in ("index-url", "extra-index-url", "no-index", "cert"):
                    if parser.has_option(section, key):
                        out[key] = parser.get(section, key)
    return out


def pip_default_index() -> str | None:
    """The index pip uses when nothing is configured, from the installed pip itself."""
    try:
        from pip._internal.models.index import PyPI
    except Exception:
        return None
    url = getattr(PyPI, "simple_url", None)
    return url if isinstance(url, str) else None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def index_config(
    project_urls: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
    files: Iterable[Path] | None = None,
    default: Callable[[], str | None] = pip_default_index,
) -> IndexConfig:
    """The indexes pip would ask for this project, the project's own first."""
    env = os.environ if environ is None else environ
    conf = read_pip_config(pip_config_files(env) if files is None else files)
    if _truthy(env.get("PIP_NO_INDEX")) or _truthy(conf.get("no-index")):
        return IndexConfig((), origin="pip", disabled="pip is configured with no-index")
    cert = env.get("PIP_CERT") or conf.get("cert") or None
    primary = env.get("PIP_INDEX_URL") or conf.get("index-url")
    extras = _split(env.get("PIP_EXTRA_INDEX_URL") or conf.get("extra-index-url") or "")
    origin = "pip's configuration"
    if not primary:
        primary = default()
        origin = "pip's default index"
    urls = [u for u in project_urls if u]
    if urls:
        origin = "the project's index settings and " + origin
    if primary:
        urls.append(primary)
    urls.extend(extras)
    # Only indexes reachable over HTTP are asked; a find-links folder or a
    # file:// index is local to the machine the image is not built on.
    seen = tuple(dict.fromkeys(u.rstrip("/") + "/" for u in urls if u.startswith(("http://", "https://"))))
    return IndexConfig(seen, cert=cert, origin=origin)


# --------------------------------------------------------------------------- pages


@record
class IndexFile:
    filename: str
    requires_python: str | None = None
    yanked: bool = False
    # PEP 700: when the file reached the index (ISO 8601), JSON pages only.
    upload_time: str | None = None
    url: str | None = None  # absolute, for the PEP 658 metadata file beside it
    core_metadata: bool = False  # PEP 658/714: ``url + ".metadata"`` holds its METADATA


@record
class ProjectPage:
    name: str
    files: tuple[IndexFile, ...]


@record
class Unchecked:
    """No answer: why, in words a user can act on."""

    reason: str


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.files: list[IndexFile] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a":
            return
        a = dict(attrs)
        href = a.get("href") or ""
        name = urllib.parse.unquote(urllib.parse.urlsplit(href).path.rsplit("/", 1)[-1])
        if name:
            rp = a.get("data-requires-python")
            self.files.append(IndexFile(name, rp or None, "data-yanked" in a))


def parse_page(name: str, body: bytes, content_type: str, base_url: str = "") -> ProjectPage:
    """A project page in PEP 691 JSON or PEP 503 HTML."""
    if "json" in content_type:
        try:
            data: Any = json.loads(body)
        except (ValueError, RecursionError):
            raise IndexAnswerError("the index sent malformed JSON") from None
        raw = data.get("files") if isinstance(data, dict) else None
        if not isinstance(raw, list):
            raise IndexAnswerError("the index's JSON page has no files list")
        files = []
        for f in raw:
            if not isinstance(f, dict) or not isinstance(f.get("filename"), str):
                continue
            rp = f.get("requires-python")
            yanked = f.get("yanked")
            up = f.get("upload-time")
            href = f.get("url")
            meta = f.get("core-metadata", f.get("dist-info-metadata"))
            files.append(
                IndexFile(
                    f["filename"],
                    rp if isinstance(rp, str) and rp else None,
                    bool(yanked),
                    upload_time=up if isinstance(up, str) and up else None,
                    url=urllib.parse.urljoin(base_url, href) if isinstance(href, str) and href else None,
                    core_metadata=bool(meta),
                )
            )
        return ProjectPage(name, tuple(files))
    parser = _Anchors()
    parser.feed(body.decode("utf-8", "replace"))
    return ProjectPage(name, tuple(parser.files))


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".cache")
    return Path(base) / "envcheck" / "pyindex"


@dataclasses.dataclass
class IndexClient:
    """Asks the configured indexes for project pages; caches answers on disk."""

    config: IndexConfig
    cache: Path | None = dataclasses.field(default_factory=cache_dir)
    ttl: float = CACHE_TTL
    timeout: float = TIMEOUT
    _memo: dict[str, ProjectPage | Unchecked] = dataclasses.field(default_factory=dict)
    _down: dict[str, str] = dataclasses.field(default_factory=dict)  # index url -> why it gave no answer this run

    def _cache_file(self, url: str) -> Path | None:
        if self.cache is None:
            return None
        return self.cache / (hashlib.sha256(url.encode()).hexdigest() + ".json")

    def _cached(self, url: str, *, stale_ok: bool) -> tuple[bytes, str] | None:
        path = self._cache_file(url)
        try:
            if path is None or not path.is_file():
                return None
            entry = json.loads(path.read_text(encoding="utf-8"))
            if not stale_ok and time.time() - float(entry["at"]) > self.ttl:
                return None
            return str(entry["body"]).encode("utf-8"), str(entry["type"])
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a damaged cache entry is no entry

    def _store(self, url: str, body: bytes, ctype: str) -> None:
        path = self._cache_file(url)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(
                json.dumps({"at": time.time(), "type": ctype, "body": body.decode("utf-8", "replace")}),
                encoding="utf-8",
            )
            tmp.replace(path)
        except OSError:
            pass  # no cache is slower, not wrong

    def _get(self, url: str) -> tuple[bytes, str] | None:
        """(body, content type), or None for "no such project here" (404/410)."""
        parts = urllib.parse.urlsplit(url)
        headers = {"Accept": ACCEPT, "User-Agent": "envcheck"}
        if parts.username is not None:
            import base64

            cred = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
            headers["Authorization"] = "Basic " + base64.b64encode(cred.encode()).decode()
            netloc = parts.hostname or ""
            if parts.port:
                netloc += f":{parts.port}"
            url = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
        context = ssl.create_default_context(cafile=self.config.cert) if self.config.cert else None
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 - http(s) only, see index_config
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=context) as resp:  # noqa: S310 - http(s) only, see index_config
                body = resp.read(_MAX_PAGE + 1)
                if len(body) > _MAX_PAGE:
                    raise IndexAnswerError("the index page is too large")
                return body, resp.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            if exc.code in (404, 410):
                return None
            raise

    def page(self, name: str) -> ProjectPage | Unchecked:
        """Every file of ``name`` across the configured indexes (pip merges them)."""
        key = canonicalize_name(name)
        if key in self._memo:
            return self._memo[key]
        if self.config.disabled:
            return Unchecked(self.config.disabled)
        if not self.config.urls:
            return Unchecked("no package index is configured (pip.conf, PIP_INDEX_URL) and pip is not installed")
        files: list[IndexFile] = []
        problems: list[str] = []
        found = False
        for index in self.config.urls:
            url = index + key + "/"
            if index in self._down:
                problems.append(self._down[index])
                continue
            got = self._cached(url, stale_ok=False)
            if got is None:
                try:
                    got = self._get(url)
                except (urllib.error.URLError, OSError, IndexAnswerError, ValueError) as exc:
                    reason = getattr(exc, "reason", None) or exc
                    why = f"{_host(index)}: {reason}"
                    stale = self._cached(url, stale_ok=True)
                    if stale is None:
                        self._down[index] = why
                        problems.append(why)
                        continue
                    got = stale
                else:
                    if got is not None:
                        self._store(url, *got)
            if got is None:
                continue  # not on this index; another may have it
            try:
                page = parse_page(key, *got, base_url=url)
            except IndexAnswerError as exc:
                problems.append(f"{_host(index)}: {exc}")
                continue
            found = True
            files.extend(page.files)
        result: ProjectPage | Unchecked
        if found:
            result = ProjectPage(key, tuple(files))
        elif problems:
            result = Unchecked("; ".join(dict.fromkeys(problems)))
        else:
            # Every index answered "no such project": a private or renamed
            # distribution, or an index that hides it.  Not proof it cannot
            # install (a find-links folder may hold it), so still "unchecked".
            result = Unchecked(f"no index lists {key} ({', '.join(_host(u) for u in self.config.urls)})")
        self._memo[key] = result
        return result


def _host(url: str) -> str:
    """An index named without its credentials."""
    parts = urllib.parse.urlsplit(url)
    return (parts.hostname or url) + (f":{parts.port}" if parts.port else "")


# --------------------------------------------------------------------------- installability


@record
class Target:
    """An interpreter and the platforms an image runs on."""

    python: str  # "3.6.15"
    codename: str = "bookworm"
    arches: tuple[str, ...] = ARCHES

    @property
    def version(self) -> Version:
        return Version(self.python)


def _platforms(codename: str, arch: str) -> list[str]:
    # One table of PEP 600/599 platform tags for the generator and EC214.
    from envcheck.platform_tags import manylinux_platforms

    return [*manylinux_platforms(GLIBC.get(codename, GLIBC["bookworm"]), arch), f"linux_{arch}"]


def supported_tags(target: Target, arch: str) -> frozenset[Tag]:
    v = target.version
    py = (v.major, v.minor)
    platforms = _platforms(target.codename, arch)
    # CPython before 3.8 was built with pymalloc's ABI flag ("cp37m").
    abis = [f"cp{v.major}{v.minor}m" if py < (3, 8) else f"cp{v.major}{v.minor}", "abi3", "none"]
    if v.major == 2:
        abis = [f"cp{v.major}{v.minor}mu", f"cp{v.major}{v.minor}m", "none"]
    tags = set(cpython_tags(py, abis=abis, platforms=platforms))
    tags.update(compatible_tags(py, f"cp{v.major}{v.minor}", platforms))
    return frozenset(tags)


def _admits(requires_python: str | None, version: Version) -> bool:
    if not requires_python:
        return True
    try:
        return SpecifierSet(requires_python).contains(version, prereleases=True)
    except InvalidSpecifier:
        return True  # pip ignores a specifier it cannot read


@record
class Verdict:
    """How ``name==version`` installs on a target."""

    name: str
    version: str
    wheel_arches: tuple[str, ...] = ()  # arches with a compatible wheel
    sdist: bool = False  # an sdist whose Requires-Python admits the interpreter
    wheels_elsewhere: bool = False  # binary wheels exist, just not for this interpreter
    excluded_by_requires_python: bool = False
    unchecked: str | None = None

    @property
    def installs(self) -> bool:
        """pip finds a file for the first (primary) arch: a wheel, or an sdist to build."""
        return self.unchecked is None and (self.sdist or ARCHES[0] in self.wheel_arches)

    @property
    def missing_arches(self) -> tuple[str, ...]:
        """Arches with neither a wheel nor an sdist."""
        if self.unchecked is not None or self.sdist:
            return ()
        return tuple(a for a in ARCHES if a not in self.wheel_arches)

    @property
    def builds_from_source(self) -> tuple[str, ...]:
        """Arches where pip would build the sdist."""
        if self.unchecked is not None or not self.sdist:
            return ()
        return tuple(a for a in ARCHES if a not in self.wheel_arches)


def _file_version(filename: str) -> tuple[str, Version, frozenset[Tag] | None] | None:
    try:
        if filename.endswith(".whl"):
            name, version, _, tags = parse_wheel_filename(filename)
            return name, version, frozenset(tags)
        if filename.endswith((".tar.gz", ".zip", ".tar.bz2", ".tgz")):
            name, version = parse_sdist_filename(filename)
            return name, version, None
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return None


def installable(page: ProjectPage, version: str, target: Target) -> Verdict:
    """Does ``page`` hold a file of ``version`` pip would install on ``target``?"""
    try:
        wanted = Version(version)
    except InvalidVersion:
        return Verdict(page.name, version, unchecked=f"{version!r} is not a version")
    py = target.version
    arch_tags = {a: supported_tags(target, a) for a in target.arches}
    wheel_arches: set[str] = set()
    sdist = False
    binary_elsewhere = False
    excluded = False
    any_file = False
    for f in page.files:
        parsed = _file_version(f.filename)
        if parsed is None or parsed[1] != wanted:
            continue
        any_file = True
        tags = parsed[2]
        if not _admits(f.requires_python, py):
            excluded = True
            continue
        if tags is None:
            sdist = True
            continue
        matched = [a for a, supported in arch_tags.items() if tags & supported]
        wheel_arches.update(matched)
        if not matched and any(t.abi not in ("none",) for t in tags):
            binary_elsewhere = True
    if not any_file:
        return Verdict(page.name, version, unchecked=None, excluded_by_requires_python=False)
    return Verdict(
        page.name,
        version,
        wheel_arches=tuple(a for a in target.arches if a in wheel_arches),
        sdist=sdist,
        wheels_elsewhere=binary_elsewhere,
        excluded_by_requires_python=excluded and not sdist and not wheel_arches,
    )


# --------------------------------------------------------------------------- one release against one tag set


@record
class ReleaseMatch:
    """What the files of ``name==version`` offer an interpreter with a given tag set (EC214)."""

    name: str
    version: str
    listed: bool = False  # the index lists files of this version at all
    wheel: bool = False  # a wheel the interpreter accepts, Requires-Python admitting it
    sdist: bool = False  # an sdist whose Requires-Python admits the interpreter
    binary_wheels: bool = False  # platform-specific wheels exist, for some target
    excluded_by: str | None = None  # a Requires-Python that shuts the interpreter out of every file


def match_release(page: ProjectPage, version: str, tags: frozenset[Tag], python: str) -> ReleaseMatch:
    """Does the index hold a file of ``version`` that pip would pick for these tags and this Python?

    Yanked files count: pip still installs a yanked file an exact pin names (PEP 592).
    """
    try:
        wanted = Version(version)
        py = Version(python)
    except InvalidVersion:
        return ReleaseMatch(page.name, version)
    listed = wheel = sdist = binary = False
    excluded: str | None = None
    for f in page.files:
        parsed = _file_version(f.filename)
        if parsed is None or parsed[1] != wanted:
            continue
        listed = True
        file_tags = parsed[2]
        if file_tags is not None and any(t.platform != "any" for t in file_tags):
            binary = True
        if not _admits(f.requires_python, py):
            excluded = excluded or f.requires_python
            continue
        if file_tags is None:
            sdist = True
        elif file_tags & tags:
            wheel = True
    return ReleaseMatch(
        page.name,
        version,
        listed=listed,
        wheel=wheel,
        sdist=sdist,
        binary_wheels=binary,
        excluded_by=excluded if listed and not (wheel or sdist) else None,
    )


# --------------------------------------------------------------------------- as of a date


def parse_upload_time(text: str) -> dt.datetime | None:
    """PEP 700 ``upload-time`` (``2018-01-05T12:56:33.123456Z``), as an aware datetime."""
    try:
        when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.timezone.utc)


def release_dates(page: ProjectPage) -> dict[Version, dt.datetime]:
    """Each release's date: when its first file reached the index (files without a date are left out)."""
    out: dict[Version, dt.datetime] = {}
    for f in page.files:
        parsed = _file_version(f.filename)
        when = parse_upload_time(f.upload_time) if f.upload_time else None
        if parsed is None or when is None:
            continue
        v = parsed[1]
        if v not in out or when < out[v]:
            out[v] = when
    return out


def newest_as_of(page: ProjectPage, as_of: dt.datetime, target: Target, spec: SpecifierSet | None = None) -> str | None:
    """The newest final release of ``page`` published by ``as_of`` that installs on ``target`` within ``spec``.

    A release counts from its first upload (wheels added later do not move it);
    yanked files and pre-releases are skipped, as pip skips them.
    """
    yanked = {p[1] for f in page.files if f.yanked and (p := _file_version(f.filename)) is not None}
    for v, when in sorted(release_dates(page).items(), reverse=True):
        if when > as_of or v.is_prerelease or v.is_devrelease or v in yanked:
            continue
        if spec is not None and not spec.contains(v, prereleases=False):
            continue
        if installable(page, str(v), target).installs:
            return str(v)
    return None


def metadata_file(page: ProjectPage, version: str, target: Target) -> IndexFile | None:
    """The file of ``version`` to read its dependencies from: a wheel for ``target`` first.

    Another wheel of the same release declares the same Requires-Dist
    (markers included); an sdist is the last resort.
    """
    try:
        wanted = Version(version)
    except InvalidVersion:
        return None
    tags = supported_tags(target, target.arches[0])
    ranked: list[tuple[int, IndexFile]] = []
    for f in page.files:
        parsed = _file_version(f.filename)
        if parsed is None or parsed[1] != wanted or not f.url:
            continue
        if parsed[2] is None:
            ranked.append((3, f))
        elif parsed[2] & tags and _admits(f.requires_python, target.version):
            ranked.append((0 if f.core_metadata else 1, f))
        else:
            ranked.append((2, f))
    return min(ranked, key=lambda r: r[0])[1] if ranked else None


def requires_dist(metadata: str) -> tuple[str, ...]:
    """The ``Requires-Dist`` lines of a METADATA file (RFC 822 headers, folded lines joined)."""
    from email.parser import HeaderParser

    headers = HeaderParser().parsestr(metadata.split("\n\n", 1)[0] + "\n\n")
    return tuple(" ".join(v.split()) for v in headers.get_all("Requires-Dist") or [])


def sdist_requires(names: Sequence[str], read: Callable[[str], bytes]) -> tuple[str, ...] | None:
    """Requires-Dist of an sdist from its members: PKG-INFO (metadata 2.x), else ``*.egg-info/requires.txt``.

    ``requires.txt`` sections: the first holds plain requirements, ``[:marker]``
    conditional ones, ``[extra]`` optional ones (left out).  An egg-info with no
    requires.txt means no dependencies; no egg-info at all means unknown (None).
    """
    top_pkg = [n for n in names if n.count("/") == 1 and n.endswith("/PKG-INFO")]
    if top_pkg:
        found = requires_dist(read(top_pkg[0]).decode("utf-8", "replace"))
        if found:
            return found
    egg = [n for n in names if n.count("/") == 2 and ".egg-info/" in n]
    req = [n for n in egg if n.endswith(".egg-info/requires.txt")]
    if not req:
        return () if egg else None
    out: list[str] = []
    marker: str | None = ""
    for raw in read(req[0]).decode("utf-8", "replace").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            extra, _, cond = line[1:-1].partition(":")
            marker = cond.strip() if not extra.strip() and cond.strip() else (None if extra.strip() else "")
            continue
        if marker is None:
            continue
        out.append(f"{line} ; {marker}" if marker else line)
    return tuple(out)


def _archive_requires(filename: str, body: bytes) -> tuple[str, ...] | None:
    import io
    import tarfile
    import zipfile

    try:
        if filename.endswith((".whl", ".zip")):
            with zipfile.ZipFile(io.BytesIO(body)) as zf:
                names = zf.namelist()
                if filename.endswith(".whl"):
                    meta = [n for n in names if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
                    return requires_dist(zf.read(meta[0]).decode("utf-8", "replace")) if meta else None
                return sdist_requires(names, zf.read)
        with tarfile.open(fileobj=io.BytesIO(body)) as tf:
            members = {m.name: m for m in tf.getmembers() if m.isfile()}

            def read(name: str) -> bytes:
                handle = tf.extractfile(members[name])
                return handle.read() if handle is not None else b""

            return sdist_requires(list(members), read)
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile, tarfile.TarError):
        return None


def fetch_requires_dist(client: IndexClient, file: IndexFile) -> tuple[str, ...] | Unchecked:
    """Requires-Dist of a release file: its PEP 658 metadata file, else the file itself (read, never run).

    The answer is cached like pages, under the file's URL.
    """
    if not file.url:
        return Unchecked(f"{file.filename}: the index gives no URL")
    url = file.url.split("#", 1)[0]
    key = url + "#requires-dist"
    cached = client._cached(key, stale_ok=True)
    if cached is not None:
        text = cached[0].decode("utf-8")
        return Unchecked(f"{file.filename}: no readable metadata") if text == "\0" else tuple(text.splitlines())
    try:
        got = client._get(url + ".metadata" if file.core_metadata else url)
    except (urllib.error.URLError, OSError, IndexAnswerError, ValueError) as exc:
        return Unchecked(f"{_host(url)}: {getattr(exc, 'reason', None) or exc}")
    if got is None:
        return Unchecked(f"{file.filename}: the index has no such file")
    found = (
        requires_dist(got[0].decode("utf-8", "replace"))
        if file.core_metadata
        else _archive_requires(file.filename, got[0])
    )
    client._store(key, ("\0" if found is None else "\n".join(found)).encode("utf-8"), "text/plain")
    return Unchecked(f"{file.filename}: no readable metadata") if found is None else found
