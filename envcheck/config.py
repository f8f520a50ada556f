"""Project configuration: ``[tool.envcheck]`` in pyproject.toml, or ``envcheck.toml``.

Keys (kebab-case, as in ruff and pre-commit configs)::

    select = ["EC1", "EC201"]          # rule ids or prefixes; default: all
    ignore = ["EC203"]
    fail-on = "warning"                # error | warning | info | never
    rules-dir = "envcheck-rules"       # the project's own rule files
    env-allow = ["APP_MODE"]           # variables whose values may be recorded
    baseline = ".envcheck-baseline.json"
    [severity]                         # per-rule overrides
    EC401 = "error"
    [per-path-ignores]                 # glob -> rule ids
    "legacy/*" = ["EC401"]
    include = ["deploy/requirements.txt"]  # paths beyond the project boundary that belong to it
    exclude = ["legacy", "**/old/*.txt"]   # paths inside it that do not
    allow-empty = true                 # no project files here is intended, not a mistake
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from envcheck._io import read_text
from envcheck._toml import loads
from envcheck.errors import ConfigError
from envcheck.record import field, record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


SEVERITIES = ("error", "warning", "info")
FAIL_ON = ("error", "warning", "info", "never")
_KNOWN = {
    "select",
    "ignore",
    "fail-on",
    "rules-dir",
    "env-allow",
    "baseline",
    "severity",
    "per-path-ignores",
    "include",
    "exclude",
    "allow-empty",
    "dockerfile-read-only-code",
    "dockerfile-as-of",
}


@record
class Config:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_on: str | None = None
    rules_dir: Path | None = None
    env_allow: tuple[str, ...] = ()
    baseline: Path | None = None
    severity: Mapping[str, str] = field(default_factory=dict)
    per_path_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # The project boundary (docs/configuration.md): globs relative to the project root.
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    allow_empty: bool = False
    # `envcheck dockerfile`: keep the app's folder owned by root (the app cannot write beside its code).
    dockerfile_read_only_code: bool = False
    # The project's date for `envcheck dockerfile` (YYYY-MM-DD or ISO 8601): open
    # requirements and node are chosen as of it (docs/dockerfile.md).
    dockerfile_as_of: str | None = None
    path: str | None = None  # where it was read from, for messages


def find_config(root: Path) -> tuple[Path, dict[str, Any]] | None:
    """The project's config table, or None when the project has none."""
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        data = loads(read_text(pyproject), str(pyproject))
        tool = data.get("tool")
        if isinstance(tool, dict) and isinstance(tool.get("envcheck"), dict):
            return pyproject, tool["envcheck"]
    standalone = root / "envcheck.toml"
    if standalone.is_file():
        data = loads(read_text(standalone), str(standalone))
        # Accept both a bare table and one nested like pyproject's.
        table = data.get("tool", {}).get("envcheck") if isinstance(data.get("tool"), dict) else None
        return standalone, table if isinstance(table, dict) else data
    return None


def load_config(root: Path, explicit: str | None = None) -> Config:
    if explicit is not None:
        path = Path(explicit)
        data = loads(read_text(path), str(path))
        tool = data.get("tool")
        nested = tool.get("envcheck") if isinstance(tool, dict) else None
        return parse_config(nested if isinstance(nested, dict) else data, path)
    found = find_config(root)
    if found is None:
        return Config()
    return parse_config(found[1], found[0])


def _ids(value: Any, key: str, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key}: expected a list of rule ids", path=where)
    return tuple(v.strip().upper() for v in value)


def parse_config(table: Mapping[str, Any], path: Path) -> Config:
    where = str(path)
    unknown = sorted(set(table) - _KNOWN)
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r} in envcheck config", path=where)
    fail_on = table.get("fail-on")
    if fail_on is not None and fail_on not in FAIL_ON:
        raise ConfigError(f"fail-on: must be one of {', '.join(FAIL_ON)}", path=where)
    severity_raw = table.get("severity", {})
    if not isinstance(severity_raw, dict):
        raise ConfigError("severity: expected a table of RULE = severity", path=where)
    severity: dict[str, str] = {}
    for rule_id, sev in severity_raw.items():
        if sev not in SEVERITIES:
            raise ConfigError(f"severity.{rule_id}: must be one of {', '.join(SEVERITIES)}", path=where)
        severity[str(rule_id).upper()] = sev
    ppi_raw = table.get("per-path-ignores", {})
    if not isinstance(ppi_raw, dict):
        raise ConfigError("per-path-ignores: expected a table of glob = [rule ids]", path=where)
    ppi = {str(glob): _ids(ids, f"per-path-ignores.{glob}", where) for glob, ids in ppi_raw.items()}
    env_allow = table.get("env-allow", [])
    if not isinstance(env_allow, list) or not all(isinstance(v, str) for v in env_allow):
        raise ConfigError("env-allow: expected a list of variable names", path=where)

    def globs(key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise ConfigError(f"{key}: expected a list of paths or globs relative to the project", path=where)
        return tuple(v.strip() for v in value)

    allow_empty = table.get("allow-empty", False)
    if not isinstance(allow_empty, bool):
        raise ConfigError("allow-empty: expected true or false", path=where)

    read_only = table.get("dockerfile-read-only-code", False)
    if not isinstance(read_only, bool):
        raise ConfigError("dockerfile-read-only-code: expected true or false", path=where)

    as_of = table.get("dockerfile-as-of")
    if as_of is not None:
        import datetime as _dt

        if isinstance(as_of, (_dt.date, _dt.datetime)):
            as_of = as_of.isoformat()
        if not isinstance(as_of, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ].+)?", as_of.strip()):
            raise ConfigError("dockerfile-as-of: expected a date (YYYY-MM-DD)", path=where)

    def rel(key: str) -> Path | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a path", path=where)
        return (path.parent / value).resolve()

    return Config(
        select=_ids(table.get("select", []), "select", where),
        ignore=_ids(table.get("ignore", []), "ignore", where),
        fail_on=fail_on,
        rules_dir=rel("rules-dir"),
        env_allow=tuple(env_allow),
        baseline=rel("baseline"),
        severity=severity,
        per_path_ignores=ppi,
        include=globs("include"),
        exclude=globs("exclude"),
        allow_empty=allow_empty,
        dockerfile_read_only_code=read_only,
        dockerfile_as_of=as_of.strip() if isinstance(as_of, str) else None,
        path=where,
    )
