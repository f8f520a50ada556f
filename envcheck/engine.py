"""The rule engine: plan which snapshots to compare, run the rules' checks, apply the project's config.

Data flows one way: snapshots in, sorted findings out.  Nothing here reads a
project's files (the scanners did) or formats output (the reporters do).

``envcheck scan`` compares every pair that makes sense:

- the project's declarations against each captured snapshot (host, image,
  ``--against``) — ``target`` contexts: requirements satisfied, lock matches
  what is installed, interpreter inside ``requires-python`` …;
- host against image and host against the stored snapshot — ``pair``
  contexts: version drift, missing packages, env differences;
- the project's files alone — the ``static`` context ``envcheck lint`` runs.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence

from envcheck._typing import cast
from envcheck.checks import CHECKS, MODES, Context
from envcheck.errors import ConfigError
from envcheck.findings import SEVERITY_ORDER, Finding
from envcheck.record import field, record, replace
from envcheck.rules import Rule
from envcheck.snapshot import UNKNOWN_ACTIVE, Snapshot, Source

TYPE_CHECKING = False
if TYPE_CHECKING:
    from envcheck.checks._base import Mode
    from envcheck.findings import Severity

FAIL_ON_DEFAULT = "error"


# --------------------------------------------------------------------------- planning


def label(snapshot: Snapshot, taken: Iterable[str] = (), name: str | None = None) -> str:
    """How a snapshot is named in messages: its kind, disambiguated when two share one."""
    base = snapshot.kind
    if base not in set(taken):
        return base
    return f"{base} ({name or snapshot.source.ref})"


def comparable(left: Snapshot, right: Snapshot) -> tuple[Snapshot, Snapshot]:
    """Both sides as drift rules should see them.

    When one side cannot say which environment would run the project (an
    SBOM lists the packages of every environment in an image), comparing
    its everything with the other side's active environment would report the
    other side's system site as missing.  Then both sides count every
    environment they hold.
    """
    if left.knows(UNKNOWN_ACTIVE) and right.knows(UNKNOWN_ACTIVE):
        return left, right
    return _every_environment(left), _every_environment(right)


def _every_environment(snap: Snapshot) -> Snapshot:
    if all(p.active for pkgs in snap.packages.values() for p in pkgs):
        return snap
    packages = {eco: tuple(replace(p, active=True) for p in pkgs) for eco, pkgs in snap.packages.items()}
    return replace(snap, packages=packages)


def plan_lint(project: Snapshot) -> list[Context]:
    return [Context(mode="static", project=project)]


def plan_scan(
    project: Snapshot | None,
    host: Snapshot | None,
    image: Snapshot | None = None,
    against: Snapshot | None = None,
    *,
    against_name: str | None = None,
    env_allow: Sequence[str] = (),
) -> list[Context]:
    """Every comparison that makes sense for the snapshots at hand (see the module docstring)."""
    allow = tuple(env_allow)
    contexts: list[Context] = []
    if project is not None:
        contexts.append(Context(mode="static", project=project, env_allow=allow))
    labelled: list[tuple[Snapshot, str]] = []
    for snap, name in ((host, None), (image, None), (against, against_name)):
        if snap is None:
            continue
        labelled.append((snap, label(snap, [lbl for _, lbl in labelled], name)))
    if host is not None and against is not None and against.kind == host.kind:
        # "3.11.7 on host but 3.9.2 on host (prod.json)" leaves the reader to
        # guess which host is which; the one just probed is this machine.
        labelled[0] = (host, f"this {host.kind}")
    for snap, lbl in labelled:
        if snap.kind == "project":
            continue
        contexts.append(Context(mode="target", project=project, right=snap, right_label=lbl, env_allow=allow))
    if host is not None:
        host_label = labelled[0][1]
        for snap, lbl in labelled[1:]:
            if snap.kind != "project":
                left, right = comparable(host, snap)
                contexts.append(
                    Context(
                        mode="pair",
                        project=project,
                        left=left,
                        right=right,
                        left_label=host_label,
                        right_label=lbl,
                        env_allow=allow,
                    )
                )
    return contexts


def diff_project(a: Snapshot, b: Snapshot) -> Snapshot | None:
    """The snapshot whose declarations describe the project in ``diff A B``.

    A project snapshot when one side is one; otherwise the declarations a
    host snapshot captured in the project's directory carries (``snapshot
    host`` records them): ``diff host.json image.json`` then judges the pair
    exactly as ``scan --image`` judged it on that machine.
    """
    project = next((s for s in (a, b) if s.kind == "project"), None)
    if project is not None:
        return project
    carrier = next((s for s in (a, b) if s.kind == "host" and s.declared is not None), None)
    if carrier is None:
        return None
    return Snapshot(
        source=Source(kind="project", ref=carrier.source.ref, captured_at=carrier.source.captured_at),
        declared=carrier.declared,
    )


def plan_diff(
    a: Snapshot, b: Snapshot, *, names: tuple[str, str] | None = None, env_allow: Sequence[str] = ()
) -> list[Context]:
    """Two stored snapshots: declared-vs-captured when one is a project snapshot, drift when neither is."""
    allow = tuple(env_allow)
    na, nb = names if names else (a.source.ref, b.source.ref)
    # Two snapshots of one kind are told apart by name: "host (laptop.json)" vs "host (server.json)".
    la, lb = (f"{a.kind} ({na})", f"{b.kind} ({nb})") if a.kind == b.kind else (a.kind, b.kind)
    project = diff_project(a, b)
    contexts: list[Context] = []
    if project is not None:
        contexts.append(Context(mode="static", project=project, env_allow=allow))
    captured = [(s, lbl) for s, lbl in ((a, la), (b, lb)) if s.kind != "project"]
    for snap, lbl in captured:
        contexts.append(Context(mode="target", project=project, right=snap, right_label=lbl, env_allow=allow))
    if len(captured) == 2:
        (left, ll), (right, rl) = captured
        left, right = comparable(left, right)
        contexts.append(
            Context(
                mode="pair", project=project, left=left, right=right, left_label=ll, right_label=rl, env_allow=allow
            )
        )
    return contexts


# --------------------------------------------------------------------------- selection and config


def _match_len(rule: Rule, patterns: Iterable[str]) -> int:
    """Length of the most specific pattern naming ``rule`` (-1: none); ``ALL`` is the least specific."""
    best = -1
    for pattern in patterns:
        p = pattern.strip().upper()
        if p == "ALL":
            best = max(best, 0)
        elif p and (rule.id.upper().startswith(p) or rule.name == pattern.strip().lower()):
            best = max(best, len(p))
    return best


def is_selected(rule: Rule, select: Sequence[str], ignore: Sequence[str]) -> bool:
    """ruff's semantics: the more specific of ``select`` and ``ignore`` wins (``EC4`` vs ``EC401``)."""
    chosen = _match_len(rule, select) if select else 0
    dropped = _match_len(rule, ignore)
    return chosen >= 0 and not (dropped >= 0 and dropped >= chosen)


@record
class Settings:
    """What config and command line decide about which findings are reported and how."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: Mapping[str, str] = field(default_factory=dict)
    per_path_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    env_allow: tuple[str, ...] = ()
    fail_on: str = FAIL_ON_DEFAULT
    baseline: frozenset[str] | None = None
    config_path: str | None = None


def settings_from(
    config: object | None = None,
    *,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    fail_on: str | None = None,
    baseline: frozenset[str] | None = None,
) -> Settings:
    """Config file values with the command line on top: ``--select`` replaces, ``--ignore`` extends."""
    from envcheck.config import Config

    cfg = config if isinstance(config, Config) else Config()
    return Settings(
        select=tuple(select) or cfg.select,
        ignore=(*cfg.ignore, *ignore),
        severity=dict(cfg.severity),
        per_path_ignores=dict(cfg.per_path_ignores),
        env_allow=cfg.env_allow,
        fail_on=fail_on or cfg.fail_on or FAIL_ON_DEFAULT,
        baseline=baseline,
        config_path=cfg.path,
    )


def select_rules(rules: Mapping[str, Rule], settings: Settings) -> dict[str, Rule]:
    for key in settings.severity:
        if key not in rules:
            raise ConfigError(f"severity.{key}: no such rule", path=settings.config_path)
    return {rid: rule for rid, rule in rules.items() if is_selected(rule, settings.select, settings.ignore)}


# --------------------------------------------------------------------------- running


def run_checks(rules: Mapping[str, Rule], contexts: Sequence[Context]) -> list[Finding]:
    """Every selected rule over every context its check kind runs in; deduplicated and sorted."""
    found: set[Finding] = set()
    for ctx in contexts:
        for rule in rules.values():
            check = CHECKS[rule.check]
            if ctx.mode in check.modes:
                found.update(check.run(rule, ctx))
    return _one_per_absence(sorted(found, key=Finding.sort_key))


def _absent_side(f: Finding) -> str | None:
    sides = [s for s in (f.left, f.right) if s is not None]
    missing = [s.kind for s in sides if s.value is None]
    return missing[0] if len(sides) == 2 and len(missing) == 1 else None


def _one_per_absence(findings: list[Finding]) -> list[Finding]:
    """One "missing" finding per package, place and side lacking it.

    ``scan --against`` sees a package missing on the host twice: the project
    requires it, and the stored snapshot has it. Same rule, same file line,
    same fix; the comparison that names a concrete version on the other side
    says more, so it is the one kept.
    """
    best: dict[tuple[str, str, str, str], Finding] = {}
    for f in findings:
        absent = _absent_side(f)
        if absent is None or f.subject is None or f.location is None:
            continue
        key = (f.rule, f.subject, str(f.location), absent)
        kept = best.get(key)
        if kept is None or (_other_kind(kept, absent) == "declared" and _other_kind(f, absent) != "declared"):
            best[key] = f
    return [f for f in findings if (k := _key(f)) is None or best.get(k) is f]


def _other_kind(f: Finding, absent: str) -> str:
    sides = [s for s in (f.left, f.right) if s is not None and s.kind != absent]
    return sides[0].kind if sides else ""


def _key(f: Finding) -> tuple[str, str, str, str] | None:
    absent = _absent_side(f)
    if absent is None or f.subject is None or f.location is None:
        return None
    return (f.rule, f.subject, str(f.location), absent)


def _suppressed(finding: Finding, suppressions: Mapping[str, tuple[str, ...]]) -> bool:
    if finding.location is None or finding.location.line is None:
        return False
    rules = suppressions.get(str(finding.location))
    return rules is not None and (not rules or finding.rule in rules)


def _path_ignored(finding: Finding, per_path: Mapping[str, tuple[str, ...]]) -> bool:
    if finding.location is None:
        return False
    path = finding.location.path
    for glob, ids in per_path.items():
        matches = fnmatch.fnmatchcase(path, glob) or fnmatch.fnmatchcase(path, glob.rstrip("/") + "/*")
        if matches and any(i == "ALL" or finding.rule.startswith(i) for i in ids):
            return True
    return False


def apply_settings(findings: Iterable[Finding], settings: Settings, project: Snapshot | None = None) -> list[Finding]:
    """Inline ignores, per-path ignores, severity overrides and the baseline, in that order."""
    suppressions: dict[str, tuple[str, ...]] = {}
    if project is not None and project.declared is not None:
        for s in project.declared.suppressions:
            prev = suppressions.get(s.source)
            # Two directives on one line: "all" wins over a list.
            suppressions[s.source] = () if prev == () or not s.rules else (*(prev or ()), *s.rules)
    out: list[Finding] = []
    for f in findings:
        if _suppressed(f, suppressions) or _path_ignored(f, settings.per_path_ignores):
            continue
        override = settings.severity.get(f.rule)
        if override is not None:
            f = replace(f, severity=cast("Severity", override))
        out.append(f)
    if settings.baseline is not None:
        out = [f for f in out if f.fingerprint() not in settings.baseline]
    return sorted(out, key=Finding.sort_key)


def evaluate(
    rules: Mapping[str, Rule],
    contexts: Sequence[Context],
    settings: Settings,
    project: Snapshot | None = None,
) -> list[Finding]:
    """Select rules, run them, apply the settings: the whole engine in one call."""
    return apply_settings(run_checks(select_rules(rules, settings), contexts), settings, project)


def exit_code(findings: Iterable[Finding], fail_on: str) -> int:
    """0 when nothing is at or above ``fail_on``, 1 otherwise (DESIGN.md, exit codes)."""
    if fail_on == "never":
        return 0
    threshold = SEVERITY_ORDER[fail_on]
    return 1 if any(SEVERITY_ORDER[f.severity] <= threshold for f in findings) else 0


def rules_for_modes(rules: Mapping[str, Rule], modes: Iterable[Mode]) -> dict[str, Rule]:
    """Only the rules whose check runs in one of ``modes`` (``envcheck lint`` wants ``static``)."""
    wanted = set(modes)
    return {rid: r for rid, r in rules.items() if wanted & set(MODES[r.check])}
