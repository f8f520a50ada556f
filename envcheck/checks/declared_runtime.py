"""``declared-runtime``: a version the project's files name exactly differs from the interpreter on a side (EC106, EC107).

Every exact declaration the parsers read counts: ``.python-version``,
``runtime.txt``, Pipfile ``[requires]``, ``.tool-versions``, conda's
``python=3.9``, ``.nvmrc``, ``.node-version``, ``volta.node`` and the
project's own ``FROM python:X`` / ``FROM node:X``.  A declaration is compared
as far as it goes, the way users mean it: ``3.11`` is any 3.11.x, so it
matches 3.11.7; ``3.6.5`` (``python-3.6.5`` in runtime.txt) does not.  Ranges
(``requires-python``, ``engines.node``) are EC302/EC303's business.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import PurePosixPath

from envcheck._typing import cast
from envcheck.checks._base import Check, Context, Param, finding, where
from envcheck.checks.runtime_version import first_difference, validate_level_severity
from envcheck.findings import Finding, Side

TYPE_CHECKING = False
if TYPE_CHECKING:
    from envcheck.findings import Severity
    from envcheck.rules import Rule
    from envcheck.snapshot import DeclaredRuntime


def _declarations(rt: DeclaredRuntime) -> list[tuple[str, str]]:
    """``(source, version)`` per declaration; a Pipfile.lock beside its Pipfile repeats it, so it is left out."""
    files = dict(rt.version_files)
    out: list[tuple[str, str]] = []
    for key, version in files.items():
        path = PurePosixPath(key.rsplit(":", 1)[0] if key.rsplit(":", 1)[-1].isdigit() else key)
        if path.name == "Pipfile.lock" and str(path.with_name("Pipfile")) in files:
            continue
        out.append((rt.version_source(key), version))
    return out


def check(rule: Rule, ctx: Context) -> Iterator[Finding]:
    if ctx.right is None or ctx.declared is None:
        return
    name = str(rule.params["runtime"])
    declared = ctx.declared.python if name == "python" else ctx.declared.node
    actual = ctx.right.runtime(name)
    if declared is None or actual is None:
        return
    label = str(rule.params.get("label") or name)
    overrides: Mapping[str, str] = rule.params.get("level-severity") or {}
    have = actual.version.lstrip("vV")
    for source, version in _declarations(declared):
        level = first_difference(version, have)
        if level is None:
            continue
        severity = cast("Severity", overrides[level]) if level in overrides else None
        file = source.rsplit(":", 1)[0] if source.rsplit(":", 1)[-1].isdigit() else source
        # The location carries the line; the message names the file as a user says it.
        yield finding(
            rule,
            f"{file} declares {label} {version} but {label} is {have} {where(ctx.right_label)} ({level} version differs)",
            subject=name,
            left=Side(source, version),
            right=Side(ctx.right_label, have),
            source=source,
            fix=f"run the project with {label} {version} {where(ctx.right_label)}, or update {file} to {have}"
            " if the project has moved on",
            severity=severity,
        )


CHECK = Check(
    run=check,
    modes=("target",),
    params={
        "runtime": Param("str", required=True, choices=("python", "node"), help="which runtime"),
        "level-severity": Param("str-map", default={}, help="severity per differing level, overriding the rule's"),
        "label": Param("str", default="", help="how the runtime is named in messages"),
    },
    doc="Exact versions the project's files declare against the interpreter a snapshot captured.",
    validate=validate_level_severity,
)
