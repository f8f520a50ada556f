"""SBOM ↔ snapshot: the one place that knows how the two models correspond.

Reading (any :class:`~envcheck.sbom.model.Inventory` → :class:`Snapshot`):

- ``pkg:pypi/…`` and ``pkg:npm/…`` components (or syft's ``python``/``npm``
  artifacts) are the Python and node packages; Python names are PEP 503
  normalised, npm names keep their scope (``@types/node``).
- where a package was found (the ``METADATA``/``package.json`` a tool read)
  becomes its path: the ``.dist-info`` or ``node_modules/<name>`` directory.
- interpreters, libc and OS come from the components listed in
  ``runtimes.toml`` (an interpreter binary, the distribution's package) and
  from deb/rpm/apk purl qualifiers (``distro=debian-12``, ``arch=amd64``).
- what an SBOM cannot say is recorded as unknown, not as absent: the
  environment variables (``Snapshot.unknown`` holds ``env``, so env rules
  say nothing rather than "missing") and which environment would run the
  project (``active``: every listed package counts, and the engine compares
  every environment on the other side too).

Writing: :func:`properties_of` and friends give the ``envcheck:*`` property
names both writers use, so a snapshot written as CycloneDX or SPDX and read
back keeps its kind, ref, platform, env var *names*, paths and active flags.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from functools import cache
from pathlib import Path, PurePosixPath

from envcheck._typing import cast
from envcheck.record import record
from envcheck.sbom.model import Component, Inventory, SbomError
from envcheck.snapshot import (
    UNKNOWN_ACTIVE,
    UNKNOWN_ENV,
    Declared,
    EnvVar,
    LockedPackage,
    Package,
    Platform,
    Runtime,
    Snapshot,
    Source,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from packageurl import PackageURL

    from envcheck.snapshot import SourceKind

# Property names envcheck writes into its SBOMs (CycloneDX properties, SPDX
# annotations "name=value") and reads back.  The "envcheck:" prefix is the
# namespace CycloneDX's property taxonomy asks tools to use.
P_KIND = "envcheck:source:kind"
P_REF = "envcheck:source:ref"
P_OS = "envcheck:platform:os"
P_ARCH = "envcheck:platform:arch"
P_DISTRO = "envcheck:platform:distro"
P_LIBC = "envcheck:platform:libc"
P_ENV = "envcheck:env"  # one per variable *name*; values are never written
P_UNKNOWN = "envcheck:unknown"
P_NOTE = "envcheck:note"
P_IMAGE = "envcheck:image:"  # + user, workdir, digest, secret_env
P_ECOSYSTEM = "envcheck:ecosystem"
P_PATH = "envcheck:path"
P_ACTIVE = "envcheck:active"
P_EDITABLE = "envcheck:editable"
P_RUNTIME = "envcheck:runtime"
P_RUNTIME_PATH = "envcheck:runtime:path"
P_RUNTIME_IMPL = "envcheck:runtime:implementation"
P_LOCK_SOURCE = "envcheck:lock:source"
P_LOCK_DEV = "envcheck:lock:dev"

IMAGE_FACTS = ("user", "workdir", "digest")
_KINDS: tuple[str, ...] = ("host", "image", "project")
_RUNTIME_NAMES = ("python", "node", "npm", "yarn", "pnpm")
# uname names, as the host and image scanners record them.
_ARCH = {"amd64": "x86_64", "x86-64": "x86_64", "arm64": "aarch64", "i386": "x86", "i686": "x86", "386": "x86"}
_NOT_AN_ARCH = frozenset({"all", "noarch", "any", ""})


# --------------------------------------------------------------------------- purls


def purl_type(purl: str | None) -> str | None:
    """``pkg:pypi/x@1`` → ``pypi`` without a full parse (most purls are of types envcheck ignores)."""
    if not purl or not purl.startswith("pkg:"):
        return None
    head = purl[4:].lstrip("/").split("/", 1)[0]
    return head.lower() or None


def parse_purl(purl: str, where: str, path: str | None) -> PackageURL:
    from packageurl import PackageURL

    try:
        return PackageURL.from_string(purl)
    except ValueError:
        raise SbomError(f"{where}: not a valid package URL", path=path) from None


def _try_purl(purl: str) -> PackageURL | None:
    from packageurl import PackageURL

    try:
        return PackageURL.from_string(purl)
    except ValueError:
        return None


def package_purl(ecosystem: str, name: str, version: str) -> str:
    """``pkg:pypi/requests@2.31.0``, ``pkg:npm/%40types/node@20.1.0`` (the purl spec's encoding)."""
    from packageurl import PackageURL

    if ecosystem == "python":
        return str(PackageURL(type="pypi", name=name, version=version).to_string())
    scope, _, bare = name.rpartition("/")
    return str(PackageURL(type="npm", namespace=scope or None, name=bare, version=version).to_string())


def runtime_purl(name: str, version: str) -> str:
    """Interpreters and tools as syft's binary classifiers name them: ``pkg:generic/python@3.11.7``."""
    from packageurl import PackageURL

    return str(PackageURL(type="generic", name=name, version=version).to_string())


# --------------------------------------------------------------------------- knowledge


@record
class RuntimeSource:
    what: str
    purl: str
    names: tuple[re.Pattern[str], ...]
    rank: int
    family: str | None = None


@record
class ToolSource:
    what: str
    name: str
    paths: tuple[str, ...]


@record
class Knowledge:
    runtimes: tuple[RuntimeSource, ...] = ()
    tools: tuple[ToolSource, ...] = ()


@cache
def knowledge() -> Knowledge:
    """``runtimes.toml``, validated on load like the rule files."""
    from envcheck._toml import loads
    from envcheck.errors import ConfigError

    where = str(Path(__file__).with_name("runtimes.toml"))
    data = loads(Path(where).read_text(encoding="utf-8"), where)
    runtimes: list[RuntimeSource] = []
    tools: list[ToolSource] = []
    try:
        for entry in data.get("runtime", []):
            runtimes.append(
                RuntimeSource(
                    what=str(entry["what"]),
                    purl=str(entry["purl"]),
                    names=tuple(re.compile(str(n)) for n in entry["names"]),
                    rank=int(entry["rank"]),
                    family=str(entry["family"]) if "family" in entry else None,
                )
            )
        for entry in data.get("tool", []):
            tools.append(ToolSource(what=str(entry["what"]), name=str(entry["name"]), paths=tuple(entry["paths"])))
    except (KeyError, TypeError, ValueError, re.error) as exc:
        raise ConfigError(f"invalid entry: {exc}", path=where) from None
    for r in runtimes:
        if r.what not in ("python", "node", "libc") or (r.what == "libc") != (r.family is not None):
            raise ConfigError(f"runtime {r.what!r}: unknown, or family set on a non-libc entry", path=where)
    return Knowledge(tuple(runtimes), tuple(tools))


def upstream_version(version: str) -> str | None:
    """``1:3.11.2-6+deb12u8`` → ``3.11.2``; ``3.11.6-r0`` → ``3.11.6``; ``18.19.0+dfsg-6`` → ``18.19.0``.

    Distribution versions wrap the upstream one in an epoch and a packaging
    revision; only the leading dotted numbers are the interpreter's.
    """
    core = version.split(":", 1)[1] if re.match(r"^[0-9]+:", version) else version
    m = re.match(r"v?([0-9]+(?:\.[0-9]+){1,2})", core)
    return m.group(1) if m else None


# --------------------------------------------------------------------------- reading


@dataclasses.dataclass
class _Found:
    """What the walk over the components collects (mutable only while reading)."""

    packages: dict[str, list[Package]] = dataclasses.field(default_factory=dict)
    locks: list[LockedPackage] = dataclasses.field(default_factory=list)
    runtimes: dict[str, list[tuple[int, Runtime]]] = dataclasses.field(default_factory=dict)
    libc: list[tuple[int, str]] = dataclasses.field(default_factory=list)
    distros: dict[str, int] = dataclasses.field(default_factory=dict)
    arches: dict[str, int] = dataclasses.field(default_factory=dict)
    unversioned: int = 0


def _package_dir(locations: Sequence[str]) -> str | None:
    """The directory a package lives in, from the manifest a tool read (``…/x.dist-info/METADATA``)."""
    for loc in locations:
        p = PurePosixPath(loc)
        if p.name in ("METADATA", "PKG-INFO", "RECORD", "top_level.txt", "package.json"):
            return str(p.parent)
    if locations and PurePosixPath(locations[0]).suffix in (".dist-info", ".egg-info"):
        return locations[0]
    return None


def _ecosystem(c: Component, ptype: str | None) -> str | None:
    if ptype == "pypi" or (ptype is None and c.kind == "python"):
        return "python"
    if ptype == "npm" or (ptype is None and c.kind == "npm"):
        return "node"
    return None


def _package_name(ecosystem: str, c: Component, purl: PackageURL | None) -> str:
    if purl is not None:
        name = f"{purl.namespace}/{purl.name}" if ecosystem == "node" and purl.namespace else purl.name
    else:
        name = c.name
    if ecosystem == "python":
        from packaging.utils import canonicalize_name

        return str(canonicalize_name(name))
    return name


def _runtime_from_props(c: Component, found: _Found) -> bool:
    what = c.prop(P_RUNTIME)
    if what is None:
        return False
    if what in _RUNTIME_NAMES and c.version:
        rt = Runtime(version=c.version, implementation=c.prop(P_RUNTIME_IMPL), path=c.prop(P_RUNTIME_PATH))
        found.runtimes.setdefault(what, []).append((0, rt))
    return True


def _from_distribution(c: Component, ptype: str, purl: PackageURL, found: _Found) -> None:
    distro = purl.qualifiers.get("distro") if isinstance(purl.qualifiers, dict) else None
    if distro:
        # "debian-12", "alpine-3.19.1", "rhel-9.3" → "debian 12"
        name, _, ver = distro.partition("-")
        shown = f"{name} {ver}".strip()
        found.distros[shown] = found.distros.get(shown, 0) + 1
    arch = purl.qualifiers.get("arch") if isinstance(purl.qualifiers, dict) else None
    if arch and arch.lower() not in _NOT_AN_ARCH:
        found.arches[arch.lower()] = found.arches.get(arch.lower(), 0) + 1
    version = c.version or purl.version
    if not version:
        return
    for src in knowledge().runtimes:
        if src.purl != ptype or not any(p.fullmatch(purl.name) for p in src.names):
            continue
        upstream = upstream_version(version)
        if upstream is None:
            continue
        if src.what == "libc":
            found.libc.append((src.rank, f"{src.family} {'.'.join(upstream.split('.')[:2])}"))
        else:
            where = c.locations[0] if ptype == "generic" and c.locations else None
            found.runtimes.setdefault(src.what, []).append((src.rank, Runtime(version=upstream, path=where)))


def _walk(inv: Inventory, own: bool, kind: str, path: str | None) -> _Found:
    found = _Found()
    for i, c in enumerate(inv.components):
        if _runtime_from_props(c, found):
            continue
        ptype = purl_type(c.purl)
        eco = _ecosystem(c, ptype)
        if eco is None:
            # Other ecosystems only hint at the platform: a purl envcheck cannot
            # parse there is skipped, not fatal (one odd Go module must not make
            # a whole image's SBOM unreadable). Python/npm purls are parsed strictly.
            other = _try_purl(c.purl) if c.purl and ptype else None
            if other is not None and ptype is not None:
                _from_distribution(c, ptype, other, found)
            continue
        purl = parse_purl(c.purl, f"component {i} ({c.name})", path) if c.purl and ptype else None
        version = c.version or (purl.version if purl else None)
        if not version:
            found.unversioned += 1
            continue
        name = _package_name(eco, c, purl)
        lock_source = c.prop(P_LOCK_SOURCE)
        if own and kind == "project" and lock_source is not None:
            found.locks.append(
                LockedPackage(
                    ecosystem="python" if eco == "python" else "node",
                    name=name,
                    version=version,
                    source=lock_source,
                    dev=c.prop(P_LOCK_DEV) == "true",
                    path=c.prop(P_PATH),
                )
            )
            continue
        # envcheck:path survives where a store keeps component properties but not the document's.
        pkg_path = c.prop(P_PATH) or _package_dir(c.locations)
        found.packages.setdefault(eco, []).append(
            Package(
                name=name,
                version=version,
                path=pkg_path,
                active=c.prop(P_ACTIVE) != "false",
                editable=c.prop(P_EDITABLE) == "true",
            )
        )
    return found


def _project_roots(node: list[Package]) -> set[str]:
    """Directories holding a ``node_modules`` of their own and not inside one: a project, not a dependency.

    syft lists the ``package.json`` of the application itself (``/app``) as
    an npm package; envcheck reads it as the project, so an SBOM read as a
    snapshot leaves it out (as envcheck's own image scanner does).
    """
    dirs = {p.path for p in node if p.path}
    roots: set[str] = set()
    for d in dirs:
        if "/node_modules/" in f"{d}/" or d.endswith("node_modules"):
            continue
        prefix = f"{d.rstrip('/')}/node_modules/"
        if any(other.startswith(prefix) for other in dirs):
            roots.add(d)
    return roots


def _pick(cands: Iterable[tuple[int, Runtime]]) -> tuple[Runtime | None, list[str]]:
    """The best-ranked candidate; several versions at that rank mean "cannot say"."""
    ranked = sorted(cands, key=lambda c: c[0])
    if not ranked:
        return None, []
    best = [rt for rank, rt in ranked if rank == ranked[0][0]]
    versions = sorted({rt.version for rt in best})
    if len(versions) > 1:
        return None, versions
    with_path = [rt for rt in best if rt.path]
    return (with_path or best)[0], []


def _tools(node: list[Package]) -> dict[str, Runtime]:
    out: dict[str, Runtime] = {}
    for tool in knowledge().tools:
        hits = {
            p.version
            for p in node
            if p.name == tool.name and p.path and any(fnmatch.fnmatchcase(p.path, g) for g in tool.paths)
        }
        if len(hits) == 1:
            out[tool.what] = Runtime(version=hits.pop())
    return out


def _most_common(counts: Mapping[str, int]) -> str | None:
    return max(sorted(counts), key=lambda k: counts[k]) if counts else None


def _platform(inv: Inventory, found: _Found, own: bool) -> Platform | None:
    if own:
        plat = Platform(os=inv.prop(P_OS), arch=inv.prop(P_ARCH), distro=inv.prop(P_DISTRO), libc=inv.prop(P_LIBC))
        return plat if plat.to_dict() else None
    distro = inv.distro or _most_common(found.distros)
    arch = inv.arch or _most_common(found.arches)
    libc_versions = sorted({v for rank, v in found.libc})
    libc = libc_versions[0] if len(libc_versions) == 1 else None
    # Every distribution SBOM tools recognise by deb/rpm/apk is a Linux one.
    os_ = "linux" if distro or found.distros or libc else None
    plat = Platform(os=os_, arch=_ARCH.get(arch, arch) if arch else None, distro=distro, libc=libc)
    return plat if plat.to_dict() else None


def to_snapshot(inv: Inventory, path: str | None) -> Snapshot:
    """Any inventory as a snapshot; what it cannot say is in ``unknown`` and ``notes``."""
    own_kind = inv.prop(P_KIND)
    own = own_kind is not None
    if own_kind is not None and own_kind not in _KINDS:
        raise SbomError(f"{P_KIND}: must be one of host, image, project", path=path)
    kind = own_kind or inv.subject or "host"
    found = _walk(inv, own, kind, path)
    notes = [f"sbom: read {inv.format}" + (f" written by {inv.tool}" if inv.tool else "")]
    node = found.packages.get("node", [])
    if not own:
        roots = _project_roots(node)
        if roots:
            node = [p for p in node if p.path not in roots]
            found.packages["node"] = node
            notes.append(f"sbom: {', '.join(sorted(roots))}: the project's own package.json, not a dependency")
    if found.unversioned:
        notes.append(f"sbom: {found.unversioned} Python/npm component(s) without a version were skipped")
    runtimes: dict[str, Runtime] = _tools(node) if not own else {}
    for what, cands in found.runtimes.items():
        picked, versions = _pick(cands)
        if picked is not None:
            runtimes[what] = picked
        elif versions:
            notes.append(
                f"sbom: {what}: several interpreters ({', '.join(versions)}); the SBOM does not say which runs"
            )
    unknown: tuple[str, ...]
    env: dict[str, EnvVar] = {}
    if own:
        unknown = tuple(u for u in inv.props.get(P_UNKNOWN, ()) if u in (UNKNOWN_ENV, UNKNOWN_ACTIVE))
        env = {name: EnvVar(set=True) for name in inv.props.get(P_ENV, ())}
        notes.extend(n for n in inv.props.get(P_NOTE, ()))
    elif inv.env is not None:
        unknown = (UNKNOWN_ACTIVE,)
        env = dict(inv.env)
        notes.append("sbom: the active environment is not recorded in an SBOM; env from the image config it carries")
    else:
        unknown = (UNKNOWN_ENV, UNKNOWN_ACTIVE)
        notes.append("sbom: environment variables and the active environment are not recorded in an SBOM")
    image: dict[str, Any] | None = dict(inv.image) if inv.image else None
    if own:
        facts: dict[str, Any] = {k: inv.prop(P_IMAGE + k) for k in IMAGE_FACTS if inv.prop(P_IMAGE + k)}
        secret_env = list(inv.props.get(P_IMAGE + "secret_env", ()))
        if secret_env:
            facts["secret_env"] = secret_env
        image = facts or None
    packages = {eco: tuple(pkgs) for eco, pkgs in found.packages.items() if pkgs}
    return Snapshot(
        source=Source(
            kind=cast("SourceKind", kind),
            ref=inv.prop(P_REF) or inv.subject_ref or (f"sbom:{path}" if path else "sbom"),
            captured_at=_rfc3339(inv.captured_at),
        ),
        platform=_platform(inv, found, own),
        runtimes=runtimes,
        packages=packages,
        env=env,
        declared=Declared(locks=tuple(found.locks)) if found.locks else None,
        image=image,
        notes=tuple(dict.fromkeys(notes)),
        unknown=unknown,
    )


# --------------------------------------------------------------------------- writing


def document_properties(snap: Snapshot) -> list[tuple[str, str]]:
    """The snapshot-level facts an SBOM has no field for, as ``envcheck:*`` name/value pairs."""
    props: list[tuple[str, str]] = [(P_KIND, snap.kind), (P_REF, snap.source.ref)]
    if snap.platform is not None:
        for key, name in ((P_OS, "os"), (P_ARCH, "arch"), (P_DISTRO, "distro"), (P_LIBC, "libc")):
            value = getattr(snap.platform, name)
            if value:
                props.append((key, value))
    # Names only: a value, even an allowed one, never leaves envcheck through an SBOM.
    props.extend((P_ENV, name) for name, var in sorted(snap.env.items()) if var.set)
    props.extend((P_UNKNOWN, u) for u in snap.unknown)
    props.extend((P_NOTE, n) for n in snap.notes)  # what the scanner could not capture travels too
    if snap.image is not None:
        for k in IMAGE_FACTS:
            v = snap.image.get(k)
            if isinstance(v, str) and v:
                props.append((P_IMAGE + k, v))
        secret = snap.image.get("secret_env") or []
        props.extend((P_IMAGE + "secret_env", n) for n in sorted({n for n in secret if isinstance(n, str)}))
    return props


@record
class Entry:
    """One component to write: a package, a locked package or a runtime, with its properties."""

    name: str
    version: str
    purl: str
    kind: str  # "package" | "runtime"
    props: tuple[tuple[str, str], ...]
    ref: str  # unique within the document


def entries(snap: Snapshot) -> list[Entry]:
    """Every component a snapshot's SBOM lists, in a stable order."""
    out: list[Entry] = []
    for what, rt in sorted(snap.runtimes.items()):
        props = [(P_RUNTIME, what)]
        if rt.path:
            props.append((P_RUNTIME_PATH, rt.path))
        if rt.implementation:
            props.append((P_RUNTIME_IMPL, rt.implementation))
        out.append(Entry(what, rt.version, runtime_purl(what, rt.version), "runtime", tuple(props), f"runtime:{what}"))
    for eco, pkgs in sorted(snap.packages.items()):
        if eco not in ("python", "node"):
            continue
        for i, p in enumerate(sorted(pkgs, key=lambda p: (p.name, p.path or "", p.version))):
            props = [(P_ECOSYSTEM, eco)]
            if p.path:
                props.append((P_PATH, p.path))
            if not p.active:
                props.append((P_ACTIVE, "false"))
            if p.editable:
                props.append((P_EDITABLE, "true"))
            purl = package_purl(eco, p.name, p.version)
            out.append(Entry(p.name, p.version, purl, "package", tuple(props), f"{purl}#{i}"))
    if snap.declared is not None:
        for i, lock in enumerate(snap.declared.locks):
            props = [(P_ECOSYSTEM, lock.ecosystem), (P_LOCK_SOURCE, lock.source or "lock")]
            if lock.path:
                props.append((P_PATH, lock.path))
            if lock.dev:
                props.append((P_LOCK_DEV, "true"))
            purl = package_purl(lock.ecosystem, lock.name, lock.version)
            out.append(Entry(lock.name, lock.version, purl, "package", tuple(props), f"{purl}#lock{i}"))
    return out


def captured_datetime(captured_at: str) -> datetime | None:
    """``captured_at`` (RFC 3339) as an aware datetime; None when absent or unreadable."""
    if not captured_at:
        return None
    try:
        when = datetime.fromisoformat(captured_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _rfc3339(captured_at: str) -> str:
    """``2024-01-01T00:00:00+00:00`` → ``2024-01-01T00:00:00Z``, as envcheck writes it; other text as is."""
    when = captured_datetime(captured_at)
    if when is None:
        return captured_at
    return when.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def serial(snap: Snapshot) -> str:
    """A serial number that is the same for the same snapshot: reproducible SBOMs diff cleanly."""
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, "envcheck:" + snap.to_json()))
