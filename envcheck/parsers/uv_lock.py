"""``uv.lock`` (lock ``version = 1``).

The project itself and its workspace members (``source = { editable = … }``
or ``{ virtual = … }``, or named in ``[manifest] members``) are local code,
not locks of third-party packages, so they are not reported; they are the
roots of the dependency graph instead.  A package is ``dev`` when it is
reachable only through the roots' ``dev-dependencies`` (PEP 735 groups, uv's
dev group) and not through their dependencies or extras — what
``uv sync --no-dev`` would leave out.  Hashes are the sdist's and the wheels'.
A package chosen only in some resolution forks carries those forks'
``resolution-markers`` as its marker.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from pathlib import Path

from envcheck import _toml
from envcheck.errors import ParseError
from envcheck.parsers.pyproject import TomlLines
from envcheck.parsers.requirements import canonical, read_manifest, relpath
from envcheck.snapshot import Declared, LockedPackage

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


__all__ = ["SUPPORTED_VERSIONS", "parse", "parse_text"]

SUPPORTED_VERSIONS = (1,)
_LOCAL_SOURCES = ("editable", "virtual")


def parse(path: Path, root: Path) -> Declared:
    rel = relpath(path, root)
    return parse_text(read_manifest(path, rel), rel)


def parse_text(text: str, source_name: str = "uv.lock") -> Declared:
    rel = source_name
    data = _toml.loads(text, rel)
    lines = TomlLines(text)
    version = data.get("version")
    if version is None:
        raise ParseError("no top-level 'version': not a uv.lock file", path=rel, line=1)
    if version not in SUPPORTED_VERSIONS:
        raise ParseError(
            f"unsupported uv.lock version {version!r} (envcheck reads version 1)",
            path=rel,
            line=lines.key_line((), "version") or 1,
        )
    packages = data.get("package", [])
    if not isinstance(packages, list):
        raise ParseError(
            "'package' must be an array of tables ([[package]])", path=rel, line=lines.key_line((), "package")
        )
    manifest = data.get("manifest")
    manifest = manifest if isinstance(manifest, dict) else {}
    members = {canonical(m) for m in manifest.get("members", []) if isinstance(m, str)}

    by_name: dict[str, list[dict[str, Any]]] = {}
    entries: list[tuple[dict[str, Any], int | None]] = []
    for i, pkg in enumerate(packages):
        line = lines.key_line(("package",), "name", i)
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str) or not pkg["name"]:
            raise ParseError("each [[package]] needs a string name", path=rel, line=line)
        if pkg.get("version") is not None and not isinstance(pkg["version"], str):
            raise ParseError(f"{pkg['name']}: version must be a string", path=rel, line=line)
        by_name.setdefault(canonical(pkg["name"]), []).append(pkg)
        entries.append((pkg, line))

    roots = [p for p, _ in entries if _is_local(p, members)]
    main_seeds: list[Any] = []
    dev_seeds: list[Any] = []
    for r in roots:
        main_seeds.extend(_deps(r.get("dependencies")))
        optional = r.get("optional-dependencies")
        if isinstance(optional, dict):
            for deps in optional.values():
                main_seeds.extend(_deps(deps))
        dev = r.get("dev-dependencies")
        if isinstance(dev, dict):
            for deps in dev.values():
                dev_seeds.extend(_deps(deps))
    groups = manifest.get("dependency-groups")
    if isinstance(groups, dict):
        for deps in groups.values():
            dev_seeds.extend(_deps(deps))
    main_reach, main_extras = _reach(main_seeds, by_name)
    dev_reach, dev_extras = _reach(dev_seeds, by_name)

    locks: list[LockedPackage] = []
    for pkg, line in entries:
        if _is_local(pkg, members) or not isinstance(pkg.get("version"), str):
            continue
        name = canonical(pkg["name"])
        locks.append(
            LockedPackage(
                ecosystem="python",
                name=name,
                version=pkg["version"],
                source=rel if line is None else f"{rel}:{line}",
                hashes=_hashes(pkg),
                dev=name in dev_reach and name not in main_reach,
                marker=_marker(pkg.get("resolution-markers")),
                extras=tuple(sorted(main_extras.get(name, set()) | dev_extras.get(name, set()))),
            )
        )
    return Declared(locks=tuple(locks), files=(rel,))


def _is_local(pkg: Mapping[str, Any], members: set[str]) -> bool:
    source = pkg.get("source")
    if isinstance(source, dict) and any(k in source for k in _LOCAL_SOURCES):
        return True
    return canonical(str(pkg.get("name"))) in members


def _deps(value: Any) -> list[dict[str, Any]]:
    return (
        [d for d in value if isinstance(d, dict) and isinstance(d.get("name"), str)] if isinstance(value, list) else []
    )


def _reach(
    seeds: Iterable[dict[str, Any]], by_name: Mapping[str, list[dict[str, Any]]]
) -> tuple[set[str], dict[str, set[str]]]:
    """Names reachable from ``seeds`` (following extras only where requested), and the extras asked of each."""
    seen: set[tuple[str, str | None]] = set()
    queue: deque[tuple[str, str | None]] = deque()

    def push(dep: Mapping[str, Any]) -> None:
        name = canonical(dep["name"])
        extras = dep.get("extra")
        for item in [None, *(e for e in extras if isinstance(e, str))] if isinstance(extras, list) else [None]:
            key = (name, item)
            if key not in seen:
                seen.add(key)
                queue.append(key)

    for s in seeds:
        push(s)
    while queue:
        name, extra = queue.popleft()
        for pkg in by_name.get(name, []):
            if extra is None:
                deps = _deps(pkg.get("dependencies"))
            else:
                optional = pkg.get("optional-dependencies")
                deps = _deps(optional.get(extra)) if isinstance(optional, dict) else []
            for d in deps:
                push(d)
    extras: dict[str, set[str]] = {}
    for name, extra in seen:
        if extra is not None:
            extras.setdefault(name, set()).add(extra)
    return {name for name, _ in seen}, extras


def _hashes(pkg: Mapping[str, Any]) -> tuple[str, ...]:
    out: list[str] = []
    sdist = pkg.get("sdist")
    artifacts: list[Any] = [sdist] if isinstance(sdist, dict) else []
    wheels = pkg.get("wheels")
    if isinstance(wheels, list):
        artifacts.extend(wheels)
    for a in artifacts:
        if isinstance(a, dict) and isinstance(a.get("hash"), str) and a["hash"] not in out:
            out.append(a["hash"])
    return tuple(out)


def _marker(value: Any) -> str | None:
    if not isinstance(value, list):
        return None
    alts = [v for v in value if isinstance(v, str) and v]
    if not alts:
        return None
    if len(alts) == 1:
        return alts[0]
    return " or ".join(f"({a})" if " and " in a or " or " in a else a for a in alts)
