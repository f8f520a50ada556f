"""The snapshot data model and its JSON form, schema ``envcheck.snapshot/1``.

Every scanner (host, image, project) returns a :class:`Snapshot`; rules only
ever see snapshots, so a snapshot saved on a server today can be diffed against
a laptop next week.  Absent things are absent keys or empty lists, never
invented values: optional fields default to ``None``/empty and are omitted from
the JSON.

Beyond the keys the design shows, ``declared`` carries a few more facts the
static rules need (Dockerfile install commands, the *names* of Dockerfile
``ENV``/``ARG`` and whether their value looks secret, inline suppressions, the
manifest files read).  Readers ignore keys they do not know, so these are
compatible additions to ``envcheck.snapshot/1``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence

from envcheck._typing import cast
from envcheck.errors import EnvcheckError
from envcheck.record import field, record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Literal

    # Only snapshots that carry native facts need the module (lint and most diffs do not).
    from envcheck.native import Native

    SourceKind = Literal["host", "image", "project"]
    Ecosystem = Literal["python", "node"]

SCHEMA = "envcheck.snapshot/1"

_KINDS: tuple[str, ...] = ("host", "image", "project")

# What a snapshot's source could not capture (``Snapshot.unknown``), so rules
# say nothing instead of reading an empty value as "missing": an SBOM records
# no environment variables and not which environment would run the project.
UNKNOWN_ENV = "env"
UNKNOWN_ACTIVE = "active"


class SnapshotError(EnvcheckError):
    """A snapshot file is malformed or of another schema."""


def now_rfc3339() -> str:
    """The current UTC time to the second, ``2026-11-29T21:00:00Z`` (no ``datetime`` import)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# --------------------------------------------------------------------------- helpers


def _opt(d: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` only when there is something to say (absent, not invented)."""
    if value is None or (isinstance(value, (tuple, list, dict)) and not value):
        return
    d[key] = value


class _Reader:
    """Typed access to a JSON object with errors that name the key path."""

    def __init__(self, data: Any, where: str, path: str | None) -> None:
        if not isinstance(data, dict):
            raise SnapshotError(f"{where}: expected an object", path=path)
        self.data: dict[str, Any] = data
        self.where = where
        self.path = path

    def _fail(self, key: str, expected: str) -> SnapshotError:
        return SnapshotError(f"{self.where}.{key}: expected {expected}", path=self.path)

    def string(self, key: str) -> str:
        v = self.data.get(key)
        if not isinstance(v, str):
            raise self._fail(key, "a string")
        return v

    def opt_str(self, key: str) -> str | None:
        v = self.data.get(key)
        if v is None:
            return None
        if not isinstance(v, str):
            raise self._fail(key, "a string")
        return v

    def flag(self, key: str, default: bool) -> bool:
        v = self.data.get(key, default)
        if not isinstance(v, bool):
            raise self._fail(key, "true or false")
        return v

    def array(self, key: str) -> list[Any]:
        v = self.data.get(key, [])
        if not isinstance(v, list):
            raise self._fail(key, "a list")
        return v

    def str_tuple(self, key: str) -> tuple[str, ...]:
        items = self.array(key)
        if not all(isinstance(i, str) for i in items):
            raise self._fail(key, "a list of strings")
        return tuple(items)

    def obj(self, key: str) -> _Reader | None:
        v = self.data.get(key)
        if v is None:
            return None
        return _Reader(v, f"{self.where}.{key}", self.path)

    def str_map(self, key: str) -> dict[str, str]:
        v = self.data.get(key, {})
        if not isinstance(v, dict) or not all(isinstance(k, str) and isinstance(x, str) for k, x in v.items()):
            raise self._fail(key, "an object of strings")
        return dict(v)

    def child(self, value: Any, where: str) -> _Reader:
        return _Reader(value, f"{self.where}.{where}", self.path)


# --------------------------------------------------------------------------- model


@record
class Source:
    kind: SourceKind
    ref: str
    captured_at: str = field(default_factory=now_rfc3339)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "ref": self.ref, "captured_at": self.captured_at}

    @classmethod
    def from_reader(cls, r: _Reader) -> Source:
        kind = r.string("kind")
        if kind not in _KINDS:
            raise SnapshotError(f"{r.where}.kind: must be one of host, image, project", path=r.path)
        return cls(kind=cast("SourceKind", kind), ref=r.string("ref"), captured_at=r.opt_str("captured_at") or "")


@record
class Platform:
    os: str | None = None
    arch: str | None = None
    distro: str | None = None
    libc: str | None = None  # "glibc 2.36", "musl 1.2.4"

    @property
    def libc_family(self) -> str | None:
        return self.libc.split()[0] if self.libc else None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        for key in ("os", "arch", "distro", "libc"):
            _opt(d, key, getattr(self, key))
        return d

    @classmethod
    def from_reader(cls, r: _Reader) -> Platform:
        return cls(os=r.opt_str("os"), arch=r.opt_str("arch"), distro=r.opt_str("distro"), libc=r.opt_str("libc"))


@record
class Runtime:
    version: str
    implementation: str | None = None
    path: str | None = None
    # Python only (issue 18): the interpreter's ABI tag ("cp311", "cp37m") and
    # the platform tags of the wheels it accepts, most preferred first
    # ("manylinux_2_36_x86_64", …, "linux_x86_64"); see envcheck.platform_tags.
    abi: str | None = None
    wheel_platforms: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"version": self.version}
        _opt(d, "implementation", self.implementation)
        _opt(d, "path", self.path)
        _opt(d, "abi", self.abi)
        _opt(d, "wheel_platforms", list(self.wheel_platforms))
        return d

    @classmethod
    def from_reader(cls, r: _Reader) -> Runtime:
        return cls(
            version=r.string("version"),
            implementation=r.opt_str("implementation"),
            path=r.opt_str("path"),
            abi=r.opt_str("abi"),
            wheel_platforms=r.str_tuple("wheel_platforms"),
        )


@record
class Package:
    """One installed distribution at one place.

    ``active`` is False for environments that would not run the project (a
    system site beside the venv the image's PATH selects, a global npm
    install): context, not drift.
    """

    name: str
    version: str
    path: str | None = None
    active: bool = True
    editable: bool = False

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "version": self.version}
        _opt(d, "path", self.path)
        if not self.active:
            d["active"] = False
        if self.editable:
            d["editable"] = True
        return d

    @classmethod
    def from_reader(cls, r: _Reader) -> Package:
        return cls(
            name=r.string("name"),
            version=r.string("version"),
            path=r.opt_str("path"),
            active=r.flag("active", True),
            editable=r.flag("editable", False),
        )


@record
class EnvVar:
    """Presence of a variable; ``value`` only under the rules in :mod:`envcheck.secrets`."""

    set: bool
    value: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"set": self.set}
        _opt(d, "value", self.value)
        return d

    @classmethod
    def from_reader(cls, r: _Reader) -> EnvVar:
        return cls(set=r.flag("set", False), value=r.opt_str("value"))


@record
class DeclaredRuntime:
    """What the project's files say about an interpreter.

    ``requires`` is ``requires-python`` (python) or ``engines.node`` (node);
    ``version_files`` maps a file (``.python-version``, ``runtime.txt``,
    ``.tool-versions``, ``.nvmrc``, ``Dockerfile:1`` …) to the version it names.
    """

    requires: str | None = None
    requires_source: str | None = None
    version_files: Mapping[str, str] = field(default_factory=dict)
    package_manager: str | None = None  # package.json "packageManager", e.g. "pnpm@8.11.0"
    # The line of a version file that names the version ({"runtime.txt": 1}), so
    # a finding can point at it; keys already written "path:line" need none.
    version_lines: Mapping[str, int] = field(default_factory=dict)

    def version_source(self, key: str) -> str:
        """``Pipfile`` → ``Pipfile:14`` when the parser recorded the line."""
        line = self.version_lines.get(key)
        return f"{key}:{line}" if line else key

    def to_dict(self, requires_key: str) -> dict[str, Any]:
        d: dict[str, Any] = {}
        _opt(d, requires_key, self.requires)
        _opt(d, "requires_source", self.requires_source)
        _opt(d, "version_files", dict(self.version_files))
        _opt(d, "version_lines", dict(self.version_lines))
        _opt(d, "package_manager", self.package_manager)
        return d

    @classmethod
    def from_reader(cls, r: _Reader, requires_key: str) -> DeclaredRuntime:
        return cls(
            requires=r.opt_str(requires_key),
            requires_source=r.opt_str("requires_source"),
            version_files=r.str_map("version_files"),
            package_manager=r.opt_str("package_manager"),
            version_lines=_int_map(r, "version_lines"),
        )


@record
class Requirement:
    """A declared dependency, as written (``source`` is ``file:line``).

    ``specifier`` is a PEP 440 specifier for python and an npm range for node;
    URL, VCS and editable requirements keep ``url`` and an empty specifier.
    ``group`` names where it was declared: ``None`` for the main set, ``dev``,
    ``optional:NAME``, ``group:NAME`` (PEP 735 / Poetry), ``constraint``.
    """

    ecosystem: Ecosystem
    name: str
    specifier: str = ""
    source: str = ""
    extras: tuple[str, ...] = ()
    marker: str | None = None
    url: str | None = None
    editable: bool = False
    hashes: tuple[str, ...] = ()
    group: str | None = None

    def __post_init__(self) -> None:
        # A requirement URL may carry a token (`git+https://oauth2:TOKEN@host`);
        # it is redacted here so no parser, check or reporter can pass it on.
        if self.url and "@" in self.url:
            from envcheck.secrets import redact_url

            object.__setattr__(self, "url", redact_url(self.url))

    @property
    def is_pinned(self) -> bool:
        """Exactly one version admitted (``==1.2.3``, ``===x``, npm ``1.2.3``)."""
        spec = self.specifier.strip()
        if self.ecosystem == "python":
            return (spec.startswith("==") and "*" not in spec and "," not in spec) or spec.startswith("===")
        return _is_exact_npm(spec)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"ecosystem": self.ecosystem, "name": self.name, "specifier": self.specifier}
        d["source"] = self.source
        _opt(d, "extras", list(self.extras))
        _opt(d, "marker", self.marker)
        _opt(d, "url", self.url)
        if self.editable:
            d["editable"] = True
        _opt(d, "hashes", list(self.hashes))
        _opt(d, "group", self.group)
        return d

    @classmethod
    def from_reader(cls, r: _Reader) -> Requirement:
        return cls(
            ecosystem=_ecosystem(r),
            name=r.string("name"),
            specifier=r.opt_str("specifier") or "",
            source=r.opt_str("source") or "",
            extras=r.str_tuple("extras"),
            marker=r.opt_str("marker"),
            url=r.opt_str("url"),
            editable=r.flag("editable", False),
            hashes=r.str_tuple("hashes"),
            group=r.opt_str("group"),
        )


def _is_exact_npm(spec: str) -> bool:
    s = spec.strip().lstrip("=v")
    if not s or any(c in s for c in "^~<>*| xX"):
        return False
    parts = s.split("-")[0].split("+")[0].split(".")
    return len(parts) == 3 and all(p.isdigit() for p in parts)


@record
class LockedPackage:
    """One entry of a lock file (``package-lock.json``, ``poetry.lock``, …).

    ``path`` distinguishes nested node copies (``node_modules/a/node_modules/b``).
    ``specifiers`` are the manifest ranges the lock recorded as resolving to
    this entry (yarn.lock keys, pnpm importer specifiers, package-lock's root
    manifest), so lock-vs-manifest checks need no file access.
    """

    ecosystem: Ecosystem
    name: str
    version: str
    source: str = ""
    hashes: tuple[str, ...] = ()
    dev: bool = False
    marker: str | None = None
    path: str | None = None
    specifiers: tuple[str, ...] = ()
    # Extras of this distribution the locked graph asks for (uv.lock's
    # `{ name = "uvicorn", extra = ["standard"] }`): pip's hash mode needs a
    # lock line naming each.
    extras: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"ecosystem": self.ecosystem, "name": self.name, "version": self.version}
        d["source"] = self.source
        _opt(d, "hashes", list(self.hashes))
        if self.dev:
            d["dev"] = True
        _opt(d, "marker", self.marker)
        _opt(d, "path", self.path)
        _opt(d, "specifiers", list(self.specifiers))
        _opt(d, "extras", list(self.extras))
        return d

    @classmethod
    def from_reader(cls, r: _Reader) -> LockedPackage:
        return cls(
            ecosystem=_ecosystem(r),
            name=r.string("name"),
            version=r.string("version"),
            source=r.opt_str("source") or "",
            hashes=r.str_tuple("hashes"),
            dev=r.flag("dev", False),
            marker=r.opt_str("marker"),
            path=r.opt_str("path"),
            specifiers=r.str_tuple("specifiers"),
            extras=r.str_tuple("extras"),
        )


@record
class BaseImage:
    ref: str  # after ARG substitution, as the engine would resolve it
    source: str  # "Dockerfile:1"
    stage: str | None = None  # "AS builder" name
    raw: str | None = None  # as written, when ARG substitution changed it

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"ref": self.ref, "source": self.source}
        _opt(d, "stage", self.stage)
        _opt(d, "raw", self.raw)
        return d

    @classmethod
    def from_reader(cls, r: _Reader) -> BaseImage:
        return cls(ref=r.string("ref"), source=r.string("source"), stage=r.opt_str("stage"), raw=r.opt_str("raw"))


@record
class EnvRef:
    name: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source}

    @classmethod
    def from_reader(cls, r: _Reader) -> EnvRef:
        return cls(name=r.string("name"), source=r.string("source"))


@record
class InstallCommand:
    """A package install inside a Dockerfile ``RUN`` (for EC404/EC405).

    ``tool`` is ``pip``, ``npm``, ``yarn`` or ``pnpm``; ``action`` is the
    sub-command (``install``, ``ci``, ``add``); ``packages`` are the package
    arguments as written (``flask``, ``flask==3.0.0``, ``express@4``);
    ``files`` are ``-r``/``-c`` files it installs from.
    """

    tool: str
    action: str
    packages: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"tool": self.tool, "action": self.action}
        _opt(d, "packages", list(self.packages))
        _opt(d, "files", list(self.files))
        d["source"] = self.source
        return d

    @classmethod
    def from_reader(cls, r: _Reader) -> InstallCommand:
        return cls(
            tool=r.string("tool"),
            action=r.string("action"),
            packages=r.str_tuple("packages"),
            files=r.str_tuple("files"),
            source=r.opt_str("source") or "",
        )


@record
class DockerfileVar:
    """A Dockerfile ``ENV``/``ARG`` by *name*; the value is never stored.

    ``secret`` records whether the value baked in looks like a credential
    (:func:`envcheck.secrets.looks_secret`), which is all EC503 needs.
    ``value`` is kept only when :func:`envcheck.secrets.keep_value` allows it.
    """

    name: str
    kind: Literal["ENV", "ARG"]
    source: str
    has_value: bool = False
    secret: bool = False
    value: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "kind": self.kind, "source": self.source}
        if self.has_value:
            d["has_value"] = True
        if self.secret:
            d["secret"] = True
        _opt(d, "value", self.value)
        return d

    @classmethod
    def from_reader(cls, r: _Reader) -> DockerfileVar:
        kind = r.string("kind")
        if kind not in ("ENV", "ARG"):
            raise SnapshotError(f"{r.where}.kind: must be ENV or ARG", path=r.path)
        return cls(
            name=r.string("name"),
            kind=cast('Literal["ENV", "ARG"]', kind),
            source=r.string("source"),
            has_value=r.flag("has_value", False),
            secret=r.flag("secret", False),
            value=r.opt_str("value"),
        )


@record
class Suppression:
    """``# envcheck: ignore[EC401,EC402]`` at ``source`` (``file:line``); empty ``rules`` = all."""

    source: str
    rules: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"source": self.source}
        _opt(d, "rules", list(self.rules))
        return d

    @classmethod
    def from_reader(cls, r: _Reader) -> Suppression:
        return cls(source=r.string("source"), rules=r.str_tuple("rules"))


@record
class Declared:
    python: DeclaredRuntime | None = None
    node: DeclaredRuntime | None = None
    requirements: tuple[Requirement, ...] = ()
    locks: tuple[LockedPackage, ...] = ()
    base_images: tuple[BaseImage, ...] = ()
    env_refs: tuple[EnvRef, ...] = ()
    installs: tuple[InstallCommand, ...] = ()
    dockerfile_vars: tuple[DockerfileVar, ...] = ()
    suppressions: tuple[Suppression, ...] = ()
    files: tuple[str, ...] = ()  # every manifest/lock/version file read, relative to the project
    # What a parser read but could not say ("Dockerfile:7: RUN … not a plain install; skipped").
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.python is not None:
            d["python"] = self.python.to_dict("requires")
        if self.node is not None:
            d["node"] = self.node.to_dict("engines")
        d["requirements"] = [x.to_dict() for x in self.requirements]
        d["locks"] = [x.to_dict() for x in self.locks]
        d["base_images"] = [x.to_dict() for x in self.base_images]
        d["env_refs"] = [x.to_dict() for x in self.env_refs]
        _opt(d, "installs", [x.to_dict() for x in self.installs])
        _opt(d, "dockerfile_vars", [x.to_dict() for x in self.dockerfile_vars])
        _opt(d, "suppressions", [x.to_dict() for x in self.suppressions])
        _opt(d, "files", list(self.files))
        _opt(d, "notes", list(self.notes))
        return d

    @classmethod
    def from_dict(cls, data: Any, *, path: str | None = None) -> Declared:
        """A ``declared`` object as :meth:`to_dict` writes it (:class:`SnapshotError` when it is not one)."""
        if not isinstance(data, dict):
            raise SnapshotError("declared: expected an object", path=path)
        return cls.from_reader(_Reader(data, "declared", path))

    @classmethod
    def from_reader(cls, r: _Reader) -> Declared:
        py = r.obj("python")
        node = r.obj("node")

        def items(key: str) -> list[_Reader]:
            return [r.child(v, f"{key}[{i}]") for i, v in enumerate(r.array(key))]

        return cls(
            python=DeclaredRuntime.from_reader(py, "requires") if py else None,
            node=DeclaredRuntime.from_reader(node, "engines") if node else None,
            requirements=tuple(Requirement.from_reader(x) for x in items("requirements")),
            locks=tuple(LockedPackage.from_reader(x) for x in items("locks")),
            base_images=tuple(BaseImage.from_reader(x) for x in items("base_images")),
            env_refs=tuple(EnvRef.from_reader(x) for x in items("env_refs")),
            installs=tuple(InstallCommand.from_reader(x) for x in items("installs")),
            dockerfile_vars=tuple(DockerfileVar.from_reader(x) for x in items("dockerfile_vars")),
            suppressions=tuple(Suppression.from_reader(x) for x in items("suppressions")),
            files=r.str_tuple("files"),
            notes=r.str_tuple("notes"),
        )


@record
class Snapshot:
    source: Source
    platform: Platform | None = None
    runtimes: Mapping[str, Runtime] = field(default_factory=dict)  # "python", "node", "npm", "yarn", "pnpm"
    packages: Mapping[str, tuple[Package, ...]] = field(default_factory=dict)  # "python", "node"
    env: Mapping[str, EnvVar] = field(default_factory=dict)
    declared: Declared | None = None
    # Image-only facts (config User/WorkingDir/Entrypoint/Cmd/labels); absent elsewhere.
    image: Mapping[str, Any] | None = None
    # Things the scanner could not capture, one line each (e.g. "node: not found").
    notes: tuple[str, ...] = ()
    # Aspects the source cannot say anything about (UNKNOWN_ENV, UNKNOWN_ACTIVE).
    unknown: tuple[str, ...] = ()
    # Native code the environment loads (envcheck.native); None = not recorded.
    native: Native | None = None

    @property
    def kind(self) -> SourceKind:
        return self.source.kind

    def knows(self, aspect: str) -> bool:
        """False when the source cannot say (``UNKNOWN_ENV``: an SBOM's env is not empty, it is unknown)."""
        return aspect not in self.unknown

    def runtime(self, name: str) -> Runtime | None:
        return self.runtimes.get(name)

    def active_packages(self, ecosystem: str) -> tuple[Package, ...]:
        """Packages of the environment that would run the project (DESIGN.md)."""
        return tuple(p for p in self.packages.get(ecosystem, ()) if p.active)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"schema": SCHEMA, "source": self.source.to_dict()}
        if self.platform is not None:
            d["platform"] = self.platform.to_dict()
        d["runtimes"] = {k: v.to_dict() for k, v in sorted(self.runtimes.items())}
        d["packages"] = {
            eco: [p.to_dict() for p in sorted(pkgs, key=_package_key)] for eco, pkgs in sorted(self.packages.items())
        }
        d["env"] = {k: v.to_dict() for k, v in sorted(self.env.items())}
        if self.declared is not None:
            d["declared"] = self.declared.to_dict()
        if self.image is not None:
            d["image"] = dict(self.image)
        if self.native is not None:
            d["native"] = self.native.to_dict()
        _opt(d, "notes", list(self.notes))
        _opt(d, "unknown", list(self.unknown))
        return d

    def to_json(self) -> str:
        # json.dumps(indent=2)'s text, written by the C encoder (issue 15).
        from envcheck._json_text import dumps_indent2

        return dumps_indent2(self.to_dict()) + "\n"

    @classmethod
    def from_dict(cls, data: Any, *, path: str | None = None) -> Snapshot:
        if not isinstance(data, dict):
            raise SnapshotError(f"not an envcheck snapshot (expected a JSON object with schema {SCHEMA!r})", path=path)
        r = _Reader(data, "snapshot", path)
        schema = r.data.get("schema")
        if schema != SCHEMA:
            raise SnapshotError(f"not an envcheck snapshot (schema {schema!r}, expected {SCHEMA!r})", path=path)
        src = r.obj("source")
        if src is None:
            raise SnapshotError("snapshot.source: missing", path=path)
        plat = r.obj("platform")
        runtimes_r = r.obj("runtimes")
        packages_r = r.obj("packages")
        env_r = r.obj("env")
        declared_r = r.obj("declared")
        image = r.data.get("image")
        if image is not None and not isinstance(image, dict):
            raise SnapshotError("snapshot.image: expected an object", path=path)
        runtimes = (
            {k: Runtime.from_reader(runtimes_r.child(v, k)) for k, v in runtimes_r.data.items()} if runtimes_r else {}
        )
        packages: dict[str, tuple[Package, ...]] = {}
        if packages_r:
            for eco, items in packages_r.data.items():
                if not isinstance(items, list):
                    raise SnapshotError(f"snapshot.packages.{eco}: expected a list", path=path)
                packages[eco] = tuple(
                    Package.from_reader(packages_r.child(v, f"{eco}[{i}]")) for i, v in enumerate(items)
                )
        env = {k: EnvVar.from_reader(env_r.child(v, k)) for k, v in env_r.data.items()} if env_r else {}
        native: Native | None = None
        if r.data.get("native") is not None:
            from envcheck.native import Native

            try:
                native = Native.from_dict(r.data["native"])
            except ValueError as exc:
                raise SnapshotError(str(exc), path=path) from None
        return cls(
            source=Source.from_reader(src),
            platform=Platform.from_reader(plat) if plat else None,
            runtimes=runtimes,
            packages=packages,
            env=env,
            declared=Declared.from_reader(declared_r) if declared_r else None,
            image=image,
            notes=r.str_tuple("notes"),
            unknown=r.str_tuple("unknown"),
            native=native,
        )

    @classmethod
    def from_json(cls, text: str, *, path: str | None = None) -> Snapshot:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SnapshotError(f"malformed JSON: {exc.msg}", path=path, line=exc.lineno) from None
        except RecursionError:
            raise SnapshotError("malformed JSON: nested too deeply", path=path) from None
        return cls.from_dict(data, path=path)


def load_snapshot(path: str) -> Snapshot:
    """A stored snapshot: envcheck JSON, ``sbom:PATH``, or a JSON file that turns out to be an SBOM."""
    from envcheck.stored import load_stored

    return load_stored(path)


def _package_key(p: Package) -> tuple[str, str, str]:
    return (p.name, p.path or "", p.version)


def _int_map(r: _Reader, key: str) -> dict[str, int]:
    v = r.data.get(key, {})
    if not isinstance(v, dict) or not all(isinstance(k, str) and type(x) is int for k, x in v.items()):
        raise SnapshotError(f"{r.where}.{key}: expected an object of line numbers", path=r.path)
    return dict(v)


def _ecosystem(r: _Reader) -> Ecosystem:
    eco = r.string("ecosystem")
    if eco not in ("python", "node"):
        raise SnapshotError(f"{r.where}.ecosystem: must be python or node", path=r.path)
    return cast("Ecosystem", eco)


def merge_notes(*groups: Sequence[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for g in groups:
        for n in g:
            seen.setdefault(n, None)
    return tuple(seen)
