"""The settings (environment variables) a project reads: baked, runtime-only, or secret."""

from __future__ import annotations

import re

from envcheck import _regex
from envcheck.generate.options import quote_env, source_label
from envcheck.generate.plan import Env, Note, Step
from envcheck.secrets import is_sensitive_name, keep_value, looks_secret
from envcheck.snapshot import Snapshot

_ENV_VALUE_UNSAFE = _regex.compile(r"[\x00-\x1f\x7f]")
# Variables that describe the machine they were captured on, not the project.
MACHINE_VARS = frozenset(
    {"PATH", "HOME", "USER", "SHELL", "TERM", "PWD", "HOSTNAME", "VIRTUAL_ENV", "PYTHONPATH", "LANG", "LANGUAGE", "TZ"}
)
OWN_ENV = frozenset({"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PIP_NO_CACHE_DIR", "NODE_ENV", "PORT"})


def env_steps(project: Snapshot, source: Snapshot | None, own: frozenset[str]) -> list[Step]:
    """ENV for non-secret project settings; secrets listed as runtime-only."""
    declared = project.declared
    if declared is None or not declared.env_refs:
        return []
    first_ref: dict[str, str] = {}
    for ref in declared.env_refs:
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", ref.name):
            first_ref.setdefault(ref.name, ref.source)
    baked: list[tuple[str, str]] = []
    runtime: list[tuple[str, str]] = []
    secrets: list[tuple[str, str]] = []
    host_env = source.env if source is not None else {}
    for name in sorted(first_ref):
        if name in own or name in MACHINE_VARS:
            continue
        where = first_ref[name]
        if is_sensitive_name(name):
            secrets.append((name, where))
            continue
        var = host_env.get(name)
        value = var.value if var is not None else None
        if (
            value is not None
            and keep_value(name, value)
            and not looks_secret(name, value)
            and not _ENV_VALUE_UNSAFE.search(value)
            and len(value) <= 200
        ):
            baked.append((name, value))
        else:
            runtime.append((name, where))
    out: list[Step] = []
    if baked:
        label = source_label(source)
        out.append(
            Env(
                tuple((n, quote_env(v)) for n, v in baked),
                (f"# Settings the project reads, with their values in the {label} (none is a secret).",),
            )
        )
    if runtime:
        out.append(
            Note(
                (
                    "# Settings the project reads with no known value: set them at run time.",
                    *(f"#   {n}  ({w})" for n, w in runtime),
                )
            )
        )
    if secrets:
        out.append(
            Note(
                (
                    "# Secrets the project reads. They are runtime-only and never baked into the image:",
                    "# pass them with `docker run -e NAME`, `--env-file`, or your orchestrator's secrets.",
                    *(f"#   {n}  ({w})" for n, w in secrets),
                )
            )
        )
    return out
