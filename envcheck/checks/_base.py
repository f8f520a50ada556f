"""What every check kind shares: the context it runs in, its parameter schema, finding helpers.

A check is a pure function ``(rule, context) -> Iterable[Finding]``.  It never
touches the file system: everything it knows comes from the snapshots in the
:class:`Context`.  Which contexts a check runs in is its ``mode``:

``static``
    only the project's declared files (``envcheck lint``);
``target``
    the project's declarations against one captured snapshot (host, image or
    a stored one) — "declared vs installed";
``pair``
    two captured snapshots, left and right (host vs image, A vs B) — drift.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from envcheck.findings import Finding, Location, Side
from envcheck.record import field, record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Literal

    from envcheck.findings import Severity
    from envcheck.index_facts import IndexFacts
    from envcheck.rules import Rule
    from envcheck.snapshot import Declared, Package, Requirement, Snapshot

    Mode = Literal["static", "target", "pair"]
    ParamType = Literal["str", "bool", "str-list", "str-map"]


@record
class Param:
    """One parameter a rule file may set under ``[params]``."""

    type: ParamType
    default: Any = None
    choices: tuple[str, ...] = ()  # for "str" and the items of "str-list"
    required: bool = False
    help: str = ""


@record
class Context:
    """The snapshots one run of the checks sees.

    ``project`` is the snapshot whose ``declared`` describes the project (or
    None when diffing two captured snapshots without one); ``left``/``right``
    are the captured snapshots being compared (``right`` alone in ``target``
    mode).  Labels name the sides in messages ("host", "image", a file name).
    """

    mode: Mode
    project: Snapshot | None = None
    left: Snapshot | None = None
    right: Snapshot | None = None
    left_label: str = ""
    right_label: str = ""
    env_allow: tuple[str, ...] = ()
    # What the package index says about the distributions EC214 asks about,
    # gathered by the command before the checks run (None: not asked).
    index: IndexFacts | None = None

    @property
    def declared(self) -> Declared | None:
        return self.project.declared if self.project is not None else None


CheckFn = Callable[["Rule", Context], Iterable[Finding]]


@record
class Check:
    """A check kind: the function, the contexts it runs in and the parameters it takes."""

    run: CheckFn
    modes: tuple[Mode, ...]
    params: Mapping[str, Param] = field(default_factory=dict)
    doc: str = ""
    # Checks parameters beyond their types; returns an error message or None.
    validate: Callable[[Mapping[str, Any]], str | None] | None = None


# --------------------------------------------------------------------------- helpers


def finding(
    rule: Rule,
    message: str,
    *,
    subject: str | None = None,
    left: Side | None = None,
    right: Side | None = None,
    source: str | None = None,
    fix: str | None = None,
    severity: Severity | None = None,
) -> Finding:
    return Finding(
        rule=rule.id,
        name=rule.name,
        severity=severity or rule.severity,
        message=message,
        subject=subject,
        left=left,
        right=right,
        location=Location.parse(source),
        fix=fix,
    )


def where(label: str) -> str:
    """``on host`` / ``in image`` / ``in server.json`` — how a side reads in a sentence."""
    on = label in ("host", "this host") or label.startswith("host ")
    return f"on {label}" if on else f"in {label}"


def canonical(ecosystem: str, name: str) -> str:
    """PEP 503 for python; node names are exact (DESIGN.md)."""
    if ecosystem == "python":
        return re.sub(r"[-_.]+", "-", name).lower()
    return name


def installed_versions(snapshot: Snapshot, ecosystem: str, ignore: Iterable[str] = ()) -> dict[str, list[Package]]:
    """Active packages by canonical name (several entries for node's nested copies).

    ``ignore`` drops installer tooling (pip, setuptools, wheel) that every
    environment carries at its own version and the project never imports.
    """
    skip = {canonical(ecosystem, n) for n in ignore}
    out: dict[str, list[Package]] = {}
    for pkg in snapshot.active_packages(ecosystem):
        name = canonical(ecosystem, pkg.name)
        if name not in skip:
            out.setdefault(name, []).append(pkg)
    return out


IGNORE_PARAM = Param(
    "str-list",
    default=[],
    help="package names never compared (installer tooling such as pip, setuptools, wheel)",
)


def version_list(pkgs: Iterable[Package]) -> str:
    return ", ".join(sorted({p.version for p in pkgs}, key=_natural))


def _natural(v: str) -> list[Any]:
    # ASCII digits only: str.isdigit() accepts "²", which int() rejects.
    return [(0, int(p), "") if p.isascii() and p.isdigit() else (1, 0, p) for p in re.split(r"([0-9]+)", v)]


def marker_environment(snapshot: Snapshot) -> dict[str, str]:
    """PEP 508 marker variables as the *target* snapshot's interpreter and platform would report them.

    Only what the snapshot knows is filled in; packaging falls back to its
    own interpreter for the rest, which is why callers skip marker checks on
    snapshots without a python runtime.
    """
    env: dict[str, str] = {}
    py = snapshot.runtime("python")
    if py is not None:
        parts = py.version.split(".")
        env["python_full_version"] = py.version
        env["python_version"] = ".".join(parts[:2])
        impl = (py.implementation or "cpython").lower()
        env["implementation_name"] = impl
        env["platform_python_implementation"] = {"cpython": "CPython", "pypy": "PyPy"}.get(impl, impl)
        env["implementation_version"] = py.version
    plat = snapshot.platform
    if plat is not None:
        os_ = (plat.os or "").lower()
        if os_:
            env["sys_platform"] = {"windows": "win32", "macos": "darwin"}.get(os_, os_)
            env["platform_system"] = {
                "linux": "Linux",
                "darwin": "Darwin",
                "macos": "Darwin",
                "windows": "Windows",
            }.get(os_, os_.capitalize())
            env["os_name"] = "nt" if os_ in ("windows", "win32") else "posix"
        if plat.arch:
            env["platform_machine"] = plat.arch
    return env


def marker_applies(marker: str | None, snapshot: Snapshot) -> bool:
    """Does a requirement's environment marker hold on this snapshot? Unparseable markers count as applying."""
    if not marker:
        return True
    from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName

    try:
        return bool(Marker(marker).evaluate(marker_environment(snapshot)))
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName, ValueError, TypeError):
        return True


def required_names(declared: Declared | None, ecosystem: str, snapshot: Snapshot | None = None) -> dict[str, str]:
    """Names the project requires (declared + locked) → where, markers evaluated against ``snapshot``."""
    out: dict[str, str] = {}
    if declared is None:
        return out
    for req in declared.requirements:
        if req.ecosystem != ecosystem or req.group == "constraint":
            continue
        if snapshot is not None and not marker_applies(req.marker, snapshot):
            continue
        out.setdefault(canonical(ecosystem, req.name), req.source)
    for lock in declared.locks:
        if lock.ecosystem != ecosystem:
            continue
        if lock.path and lock.path.count("node_modules/") > 1:
            continue  # nested copies are required by their parent, not by the project
        if snapshot is not None and not marker_applies(lock.marker, snapshot):
            continue
        out.setdefault(canonical(ecosystem, lock.name), lock.source)
    return out


def requirement_source(declared: Declared | None, ecosystem: str, name: str) -> str | None:
    """Where the project declares ``name`` (the first declaration), for a finding's location."""
    if declared is None:
        return None
    key = canonical(ecosystem, name)
    for req in declared.requirements:
        if req.ecosystem == ecosystem and canonical(ecosystem, req.name) == key and req.source:
            return req.source
    return None


def is_local_requirement(req: Requirement) -> bool:
    """URL, VCS, path and editable requirements carry no version to compare."""
    spec = req.specifier.strip()
    return bool(req.url) or req.editable or spec.startswith(("file:", "link:", "workspace:", "portal:", "git", "http"))
