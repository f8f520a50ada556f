"""Rule definitions: one TOML file per rule under ``rules/`` (and a project's ``rules-dir``).

A rule names a check kind (implemented in :mod:`envcheck.checks`) and carries
the text a user reads: ``summary``, ``why``, ``fix``, ``example``.  ``envcheck
rules ID``, SARIF ``fullDescription`` and ``docs/rules.md`` are all generated
from these fields.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from envcheck.errors import ConfigError
from envcheck.findings import Severity

if TYPE_CHECKING:
    from envcheck.checks import Check, Param

# Where docs/ is published; a built-in rule's help link is its anchor there.
DOCS_ROOT = "https://envcheck.readthedocs.io/"
DOCS_URL = f"{DOCS_ROOT}en/latest/rules/"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str  # "EC201"
    name: str  # "python-package-version-drift"
    severity: Severity
    check: str  # check kind, a key of envcheck.checks.CHECKS
    summary: str
    why: str
    fix: str
    example: str
    params: Mapping[str, Any] = field(default_factory=dict)
    path: str | None = None  # the file it was loaded from
    builtin: bool = True
    help_url: str | None = None  # the rule file's own `help_uri`

    @property
    def help_uri(self) -> str | None:
        """The page explaining this rule: the file's ``help_uri``, else envcheck's docs for its own rules.

        A project rule without one has none — envcheck's site knows nothing of it.
        """
        if self.help_url:
            return self.help_url
        return f"{DOCS_URL}#{self.id.lower()}-{self.name}" if self.builtin else None


# --------------------------------------------------------------------------- loading

_ID = re.compile(r"^[A-Z][A-Z0-9]*[0-9]{2,}$")  # EC201, ACME001
_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
_TEXT_KEYS = ("summary", "why", "fix", "example")
_KNOWN_KEYS = frozenset({"id", "name", "severity", "check", "params", "help_uri", *_TEXT_KEYS})
_HTTP_URL = re.compile(r"^https?://[^\s/]+\S*$")
_SEVERITIES = ("error", "warning", "info")


def _param_value(spec: Param, key: str, value: Any) -> str | None:
    """An error message when ``value`` does not fit the parameter's schema."""
    if spec.type == "str":
        if not isinstance(value, str):
            return f"params.{key}: expected a string"
        if spec.choices and value not in spec.choices:
            return f"params.{key}: {value!r} is not one of {', '.join(spec.choices)}"
    elif spec.type == "bool":
        if not isinstance(value, bool):
            return f"params.{key}: expected true or false"
    elif spec.type == "str-list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"params.{key}: expected a list of strings"
        bad = [v for v in value if spec.choices and v not in spec.choices]
        if bad:
            return f"params.{key}: {bad[0]!r} is not one of {', '.join(spec.choices)}"
    elif spec.type == "str-map" and (
        not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values())
    ):
        return f"params.{key}: expected a table of strings"
    return None


def _resolve_params(check: Check, raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ConfigError("params: expected a table", path=where)
    unknown = sorted(set(raw) - set(check.params))
    if unknown:
        known = ", ".join(sorted(check.params)) or "none"
        raise ConfigError(f"params.{unknown[0]}: unknown parameter (this check takes: {known})", path=where)
    out: dict[str, Any] = {}
    for key, spec in check.params.items():
        if key not in raw:
            if spec.required:
                raise ConfigError(f"params.{key}: required by this check", path=where)
            out[key] = copy.deepcopy(spec.default)
            continue
        error = _param_value(spec, key, raw[key])
        if error:
            raise ConfigError(error, path=where)
        out[key] = raw[key]
    if check.validate is not None:
        error = check.validate(out)
        if error:
            raise ConfigError(error, path=where)
    return out


def parse_rule(data: Mapping[str, Any], where: str, *, builtin: bool) -> Rule:
    """Validate one rule file's table; every problem is a ConfigError naming the file."""
    from envcheck.checks import CHECKS

    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r} in rule file", path=where)

    def text(key: str, *, required: bool) -> str:
        value = data.get(key, "")
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string", path=where)
        if required and not value.strip():
            raise ConfigError(f"{key}: missing", path=where)
        return value.strip()

    rule_id = text("id", required=True)
    if not _ID.match(rule_id):
        raise ConfigError(f"id: {rule_id!r} is not a rule id (letters then digits, like EC201 or ACME001)", path=where)
    name = text("name", required=True)
    if not _NAME.match(name):
        raise ConfigError(f"name: {name!r} must be kebab-case, like python-package-version-drift", path=where)
    severity = text("severity", required=True)
    if severity not in _SEVERITIES:
        raise ConfigError(f"severity: {severity!r} is not one of {', '.join(_SEVERITIES)}", path=where)
    kind = text("check", required=True)
    check = CHECKS.get(kind)
    if check is None:
        raise ConfigError(f"check: unknown check kind {kind!r} (known: {', '.join(sorted(CHECKS))})", path=where)
    params = _resolve_params(check, data.get("params", {}), where)
    help_url = text("help_uri", required=False) or None
    if help_url is not None and not _HTTP_URL.match(help_url):
        raise ConfigError(f"help_uri: {help_url!r} is not an http(s) URL", path=where)
    return Rule(
        id=rule_id,
        name=name,
        severity=cast(Severity, severity),
        check=kind,
        summary=text("summary", required=True),
        why=text("why", required=builtin),
        fix=text("fix", required=builtin),
        example=text("example", required=builtin),
        params=params,
        path=where,
        builtin=builtin,
        help_url=help_url,
    )


def load_rule_file(path: Path, *, builtin: bool = False) -> Rule:
    from envcheck._io import read_text
    from envcheck._toml import loads

    where = str(path)
    return parse_rule(loads(read_text(path), where), where, builtin=builtin)


def load_rule_dir(directory: Path, *, builtin: bool = False) -> list[Rule]:
    if not directory.is_dir():
        raise ConfigError("rules-dir: not a directory", path=str(directory))
    return [load_rule_file(p, builtin=builtin) for p in sorted(directory.glob("*.toml"))]


@functools.lru_cache(maxsize=1)
def builtin_rules() -> tuple[Rule, ...]:
    from envcheck.rules_path import builtin_rules_dir

    rules = load_rule_dir(builtin_rules_dir(), builtin=True)
    _check_unique(rules)
    return tuple(rules)


def _check_unique(rules: list[Rule]) -> dict[str, Rule]:
    by_id: dict[str, Rule] = {}
    by_name: dict[str, Rule] = {}
    for rule in rules:
        if rule.id in by_id:
            raise ConfigError(f"duplicate rule id {rule.id} (also defined in {by_id[rule.id].path})", path=rule.path)
        if rule.name in by_name:
            other = by_name[rule.name]
            raise ConfigError(f"duplicate rule name {rule.name} (also {other.id} in {other.path})", path=rule.path)
        by_id[rule.id] = rule
        by_name[rule.name] = rule
    return by_id


def load_rules(rules_dir: Path | None = None) -> dict[str, Rule]:
    """Built-in rules plus a project's own, by id (sorted); duplicates are an error naming the file."""
    rules = list(builtin_rules())
    if rules_dir is not None:
        rules.extend(load_rule_dir(rules_dir))
    by_id = _check_unique(rules)
    return dict(sorted(by_id.items()))
