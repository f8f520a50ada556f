"""The labelled real corpus: a described host setup per project, and the findings a user would expect.

Each ``tests/labelled/<project>.toml`` names a real project (``corpus`` = the
copies in ``tests/data/corpus/``, ``legacy`` = ``$ENVCHECK_LEGACY_CORPUS``),
describes a host in ``[host]`` — which interpreter, what was installed from
which file (development groups too, as ``npm ci``, ``poetry install`` and
``uv sync`` do, unless ``main-only``), what was changed by hand afterwards,
which variables are set —
and lists every finding ``envcheck scan`` should give on that pair, each
labelled by a reviewer as ``true`` (real drift a user wants to hear about)
or ``false-alarm`` (kept so a change in either direction shows), plus the
drift it should find but does not (``[[missed]]``).

The host is built from the description, not probed, so the test is
deterministic; ``real-venv = true`` additionally creates a real virtual
environment and probes it (see test_labelled_corpus.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envcheck._toml import loads
from envcheck.checks._base import canonical
from envcheck.engine import Settings, evaluate, plan_scan
from envcheck.findings import Finding
from envcheck.rules import load_rules
from envcheck.scanners.project import scan_project
from envcheck.snapshot import EnvVar, Package, Platform, Runtime, Snapshot, Source

HERE = Path(__file__).parent
REPO = HERE.parents[1]
CORPUS = REPO / "tests" / "data" / "corpus"
LINUX = Platform(os="linux", arch="x86_64", distro="debian 12", libc="glibc 2.36")
# A venv made with `python -m venv` carries these; they must never be reported (issue 14).
VENV_TOOLING = {"pip": "23.2.1", "setuptools": "65.5.0"}


@dataclass(frozen=True)
class Label:
    rule: str
    subject: str
    at: str
    severity: str
    verdict: str  # "true" | "false-alarm"
    why: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.rule, self.subject, self.at, self.severity)


@dataclass(frozen=True)
class Case:
    name: str
    corpus: str
    project_dir: Path | None
    host: Mapping[str, Any]
    labels: tuple[Label, ...]
    missed: tuple[Mapping[str, str], ...] = field(default_factory=tuple)


def legacy_root() -> Path | None:
    value = os.environ.get("ENVCHECK_LEGACY_CORPUS", "").strip()
    return Path(value) if value else None


def load_cases() -> list[Case]:
    cases = []
    for path in sorted(HERE.glob("*.toml")):
        data = loads(path.read_text(encoding="utf-8"), str(path))
        corpus = data["corpus"]
        if corpus == "corpus":
            project_dir: Path | None = CORPUS / data["project"]
        else:
            root = legacy_root()
            project_dir = root / data["project"] if root else None
        labels = tuple(
            Label(f["rule"], f["subject"], f["at"], f["severity"], f["verdict"], f.get("why", ""))
            for f in data.get("finding", [])
        )
        cases.append(Case(path.stem, corpus, project_dir, data["host"], labels, tuple(data.get("missed", []))))
    return cases


def _declared_pins(project: Snapshot, sources: Iterable[str], ecosystem: str, dev: bool) -> dict[str, str]:
    """``name -> version`` for what installing from each named file would install (exact pins and locks)."""
    assert project.declared is not None
    wanted = set(sources)
    out: dict[str, str] = {}
    # Several versions of one name in a node lock: the top-level copy is the one
    # node_modules/NAME holds — the entry at that path, or the one the
    # manifest's range resolved to (yarn.lock and pnpm record no paths).
    declared = {r.name: r.specifier for r in project.declared.requirements if r.ecosystem == ecosystem}
    chosen: dict[str, tuple[int, str]] = {}
    for lock in project.declared.locks:
        path = lock.source.rsplit(":", 1)[0]
        if lock.ecosystem != ecosystem or path not in wanted or (lock.dev and not dev):
            continue
        if lock.path and lock.path.count("node_modules/") > 1:
            continue
        rank = 0 if lock.path == f"node_modules/{lock.name}" or declared.get(lock.name) in lock.specifiers else 1
        name = canonical(ecosystem, lock.name)
        if name not in chosen or rank < chosen[name][0]:
            chosen[name] = (rank, lock.version)
    out.update({n: v for n, (_, v) in chosen.items()})
    for req in project.declared.requirements:
        path = req.source.rsplit(":", 1)[0]
        if req.ecosystem != ecosystem or path not in wanted or req.group not in (None, "constraint"):
            continue
        if req.is_pinned:
            out.setdefault(canonical(ecosystem, req.name), req.specifier.lstrip("=").strip())
    return out


def build_host(project: Snapshot, host: Mapping[str, Any]) -> Snapshot:
    """The host snapshot a ``[host]`` description stands for."""
    runtimes: dict[str, Runtime] = {}
    packages: dict[str, tuple[Package, ...]] = {}
    if host.get("python"):
        runtimes["python"] = Runtime(host["python"], implementation="cpython", path="/home/dev/.venv/bin/python")
        py = {**VENV_TOOLING, **_declared_pins(project, host.get("install", []), "python", not host.get("main-only"))}
        py.update({canonical("python", k): v for k, v in host.get("upgrade", {}).items()})
        py.update({canonical("python", k): v for k, v in host.get("add", {}).items()})
        for name in host.get("remove", []):
            py.pop(canonical("python", name), None)
        packages["python"] = tuple(Package(n, v, path=f"/home/dev/.venv/lib/site-packages/{n}") for n, v in py.items())
    if host.get("node"):
        runtimes["node"] = Runtime(host["node"], path="/usr/local/bin/node")
        js = _declared_pins(project, host.get("install", []), "node", not host.get("main-only"))
        js.update(host.get("node_upgrade", {}))
        for name in host.get("node_remove", []):
            js.pop(name, None)
        if js:
            packages["node"] = tuple(Package(n, v, path=f"node_modules/{n}") for n, v in js.items())
    env = {k: EnvVar(set=True, value=None if v == "set" else v) for k, v in host.get("env", {}).items()}
    return Snapshot(
        source=Source(kind="host", ref="labelled host", captured_at="2026-01-01T00:00:00Z"),
        platform=LINUX,
        runtimes=runtimes,
        packages=packages,
        env=env,
    )


def run(case: Case, host: Snapshot | None = None) -> list[Finding]:
    assert case.project_dir is not None
    project = scan_project(case.project_dir)
    host = host if host is not None else build_host(project, case.host)
    return evaluate(load_rules(), plan_scan(project, host), Settings(), project)


def key(f: Finding) -> tuple[str, str, str, str]:
    return (f.rule, f.subject or "", str(f.location) if f.location else "", f.severity)


@dataclass(frozen=True)
class Score:
    true: int
    false_alarms: int
    missed: int

    @property
    def precision(self) -> float:
        return self.true / (self.true + self.false_alarms) if self.true + self.false_alarms else 1.0

    @property
    def recall(self) -> float:
        return self.true / (self.true + self.missed) if self.true + self.missed else 1.0


def score(cases: Iterable[Case]) -> Score:
    t = f = m = 0
    for c in cases:
        t += sum(1 for lb in c.labels if lb.verdict == "true")
        f += sum(1 for lb in c.labels if lb.verdict == "false-alarm")
        m += len(c.missed)
    return Score(t, f, m)
