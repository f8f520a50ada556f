"""Snapshot builders and assertions for rule tests: ``assert_fires("EC201", host=…, image=…)``.

``world()`` is a realistic, consistent trio — a Flask project, the laptop it
was developed on and the image built from it — on which no rule fires.  Each
test breaks one thing in it and checks that exactly the right rule notices.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from envcheck.config import Config
from envcheck.engine import Settings, evaluate, plan_diff, plan_lint, plan_scan, settings_from
from envcheck.findings import Finding
from envcheck.record import replace
from envcheck.rules import Rule, load_rules
from envcheck.snapshot import (
    BaseImage,
    Declared,
    DeclaredRuntime,
    DockerfileVar,
    EnvRef,
    EnvVar,
    InstallCommand,
    LockedPackage,
    Package,
    Platform,
    Requirement,
    Runtime,
    Snapshot,
    Source,
    Suppression,
)

LINUX = Platform(os="linux", arch="x86_64", distro="debian 12", libc="glibc 2.36")


def snap(
    kind: str = "host",
    *,
    python: str | None = "3.11.7",
    node: str | None = None,
    npm: str | None = None,
    py: Mapping[str, str] | None = None,
    js: Mapping[str, str] | None = None,
    env: Mapping[str, str | None] | None = None,
    platform: Platform | None = LINUX,
    image: Mapping[str, Any] | None = None,
    ref: str | None = None,
) -> Snapshot:
    """A captured snapshot; ``env`` maps a name to its value, or to None for "set, value not recorded"."""
    runtimes: dict[str, Runtime] = {}
    if python:
        runtimes["python"] = Runtime(python, implementation="cpython")
    if node:
        runtimes["node"] = Runtime(node)
    if npm:
        runtimes["npm"] = Runtime(npm)
    packages: dict[str, tuple[Package, ...]] = {}
    if py is not None:
        packages["python"] = tuple(Package(n, v) for n, v in py.items())
    if js is not None:
        packages["node"] = tuple(Package(n, v, path=f"node_modules/{n}") for n, v in js.items())
    return Snapshot(
        source=Source(kind=kind, ref=ref or kind, captured_at="2026-01-01T00:00:00Z"),  # type: ignore[arg-type]
        platform=platform,
        runtimes=runtimes,
        packages=packages,
        env={k: EnvVar(set=True, value=v) for k, v in (env or {}).items()},
        image=image,
    )


def req(text: str, source: str = "requirements.txt:1", *, eco: str = "python", group: str | None = None) -> Requirement:
    """``req("flask>=2; python_version<'3.12'")`` or ``req("express@^4.18.0", eco="node")``."""
    if eco == "node":
        at = text.find("@", 1)
        name, spec = (text[:at], text[at + 1 :]) if at > 0 else (text, "")
        return Requirement("node", name, spec, source=source, group=group)
    from packaging.requirements import Requirement as PepRequirement

    parsed = PepRequirement(text)
    return Requirement(
        "python",
        parsed.name,
        str(parsed.specifier),
        source=source,
        marker=str(parsed.marker) if parsed.marker else None,
        group=group,
    )


def with_runtime(s: Snapshot, name: str, version: str) -> Snapshot:
    return replace(s, runtimes={**s.runtimes, name: Runtime(version)})


def project(**declared: Any) -> Snapshot:
    return Snapshot(
        source=Source(kind="project", ref=".", captured_at="2026-01-01T00:00:00Z"), declared=Declared(**declared)
    )


def declared(p: Snapshot) -> Declared:
    assert p.declared is not None
    return p.declared


def with_declared(p: Snapshot, **changes: Any) -> Snapshot:
    return replace(p, declared=replace(declared(p), **changes))


@dataclass(frozen=True)
class World:
    project: Snapshot
    host: Snapshot
    image: Snapshot


def world() -> World:
    """A Flask + small-frontend project, pinned and locked, with a host and an image that agree with it."""
    p = project(
        python=DeclaredRuntime(
            requires=">=3.10",
            requires_source="pyproject.toml:5",
            version_files={".python-version": "3.11.7", "Dockerfile:1": "3.11.7"},
        ),
        node=DeclaredRuntime(requires=">=20", requires_source="package.json:4", version_files={".nvmrc": "20"}),
        requirements=(
            req("flask==3.0.0", "requirements.txt:1"),
            req("requests==2.31.0", "requirements.txt:2"),
            req("gunicorn==21.2.0", "requirements.txt:3"),
            req("pywin32==306; sys_platform == 'win32'", "requirements.txt:4"),
            req("express@4.18.2", "package.json:7", eco="node"),
        ),
        locks=(LockedPackage("node", "express", "4.18.2", source="package-lock.json", path="node_modules/express"),),
        base_images=(
            BaseImage(
                "python:3.11.7-slim-bookworm@sha256:" + "a" * 64,
                source="Dockerfile:1",
            ),
        ),
        env_refs=(EnvRef("DATABASE_URL", "app/settings.py:12"), EnvRef("APP_ENV", "app/settings.py:13")),
        installs=(
            InstallCommand("pip", "install", files=("requirements.txt",), source="Dockerfile:6"),
            InstallCommand("npm", "ci", source="Dockerfile:8"),
        ),
        dockerfile_vars=(DockerfileVar("APP_ENV", "ENV", "Dockerfile:3", has_value=True, value="production"),),
        files=("requirements.txt", "package.json", "package-lock.json", ".python-version", ".nvmrc", "Dockerfile"),
    )
    installed = {"flask": "3.0.0", "requests": "2.31.0", "gunicorn": "21.2.0", "werkzeug": "3.0.1"}
    host = snap(
        "host",
        node="20.20.2",
        npm="11.19.1",
        py=installed,
        js={"express": "4.18.2"},
        env={"DATABASE_URL": None, "APP_ENV": "production", "PATH": "/usr/bin"},
    )
    image = snap(
        "image",
        node="20.20.2",
        npm="11.19.1",
        py=installed,
        js={"express": "4.18.2"},
        env={"DATABASE_URL": None, "APP_ENV": "production", "PATH": "/usr/local/bin:/usr/bin"},
        image={"workdir": "/app", "user": "app", "secret_env": []},
    )
    return World(p, host, image)


def rules() -> dict[str, Rule]:
    return load_rules()


def scan(
    *,
    project: Snapshot | None = None,
    host: Snapshot | None = None,
    image: Snapshot | None = None,
    against: Snapshot | None = None,
    settings: Settings | None = None,
    extra_rules: Mapping[str, Rule] | None = None,
) -> list[Finding]:
    all_rules = {**rules(), **(extra_rules or {})}
    s = settings or Settings()
    return evaluate(all_rules, plan_scan(project, host, image, against, env_allow=s.env_allow), s, project)


def lint(p: Snapshot, settings: Settings | None = None) -> list[Finding]:
    return evaluate(rules(), plan_lint(p), settings or Settings(), p)


def diff(a: Snapshot, b: Snapshot, settings: Settings | None = None) -> list[Finding]:
    s = settings or Settings()
    return evaluate(rules(), plan_diff(a, b, names=("a.json", "b.json")), s, a if a.kind == "project" else None)


def ids(findings: Iterable[Finding]) -> list[str]:
    return sorted({f.rule for f in findings})


def of(rule_id: str, findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.rule == rule_id]


def assert_fires(rule_id: str, **snapshots: Any) -> list[Finding]:
    """Scan (``project=``, ``host=``, ``image=``, ``against=``) and return ``rule_id``'s findings, asserting some."""
    found = scan(**snapshots)
    hits = of(rule_id, found)
    assert hits, f"{rule_id} did not fire; findings were: {[(f.rule, f.message) for f in found]}"
    return hits


def assert_silent(rule_id: str, **snapshots: Any) -> None:
    found = of(rule_id, scan(**snapshots))
    assert not found, f"{rule_id} fired: {[f.message for f in found]}"


def settings(**config: Any) -> Settings:
    return settings_from(Config(**config))


def messages(findings: Sequence[Finding]) -> list[str]:
    return [f.message for f in findings]


__all__ = [
    "LINUX",
    "BaseImage",
    "DeclaredRuntime",
    "DockerfileVar",
    "EnvRef",
    "InstallCommand",
    "LockedPackage",
    "Platform",
    "Suppression",
    "World",
    "assert_fires",
    "assert_silent",
    "declared",
    "diff",
    "ids",
    "lint",
    "messages",
    "of",
    "project",
    "req",
    "rules",
    "scan",
    "settings",
    "snap",
    "with_declared",
    "with_runtime",
    "world",
]
