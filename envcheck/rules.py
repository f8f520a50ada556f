"""Rule definitions: one TOML file per rule under ``rules/`` (and a project's ``rules-dir``).

A rule names a check kind (implemented in :mod:`envcheck.checks`) and carries
the text a user reads: ``summary``, ``why``, ``fix``, ``example``.  ``envcheck
rules ID``, SARIF ``fullDescription`` and ``docs/rules.md`` are all generated
from these fields.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Mapping
from pathlib import Path

from envcheck._typing import cast
from envcheck.errors import ConfigError
from envcheck.record import field, record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from envcheck.checks import Check, Param
    from envcheck.findings import Severity

# Where docs/ is published; a built-in rule's help link is its anchor there.
DOCS_ROOT = "https://envcheck.readthedocs.io/"
DOCS_URL = f"{DOCS_ROOT}en/latest/rules/"


@record
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

# Pattern strings, compiled (and kept by re) the first time a rule file is parsed:
# a run that takes its rules from the cache compiles none of them (issue 15).
_ID = r"^[A-Z][A-Z0-9]*[0-9]{2,}$"  # EC201, ACME001
_NAME = r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$"
_TEXT_KEYS = ("summary", "why", "fix", "example")
_KNOWN_KEYS = frozenset({"id", "name", "severity", "check", "params", "help_uri", *_TEXT_KEYS})
_HTTP_URL = r"^https?://[^\s/]+\S*$"
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


def _fresh(value: Any) -> Any:
    """A copy of a parameter's default (TOML data: lists, tables, scalars) that a rule may change without changing the next."""
    if isinstance(value, dict):
        return {k: _fresh(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_fresh(v) for v in value]
    return value


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
            out[key] = _fresh(spec.default)
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
    if not re.match(_ID, rule_id):
        raise ConfigError(f"id: {rule_id!r} is not a rule id (letters then digits, like EC201 or ACME001)", path=where)
    name = text("name", required=True)
    if not re.match(_NAME, name):
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
    if help_url is not None and not re.match(_HTTP_URL, help_url):
        raise ConfigError(f"help_uri: {help_url!r} is not an http(s) URL", path=where)
    return Rule(
        id=rule_id,
        name=name,
        severity=cast("Severity", severity),
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
    """envcheck's own rules: from the cache while their files and the check modules are unchanged.

    Parsing 26 TOML files and importing every check kind to validate their
    parameters is most of what ``envcheck lint`` spent before looking at a
    project (issue 15); the result only changes when those files do.
    """
    import os

    from envcheck import _cache
    from envcheck.rules_path import builtin_rules_dir

    directory = builtin_rules_dir()
    home = _cache.cache_home(os.environ, "rules")
    key = _builtin_key(directory) if home is not None else None
    # One entry per rule directory: two checkouts or installs do not take turns overwriting one file.
    entry_path = home / f"{_cache.fnv64(str(directory)):016x}.json" if home is not None else None
    if key is not None and entry_path is not None:
        cached = _rules_from_entry(_cache.read_entry(entry_path), key)
        if cached is not None:
            return cached
    started = time.time()
    rules = load_rule_dir(directory, builtin=True)
    _check_unique(rules)
    if key is not None and entry_path is not None and key == _builtin_key(directory):
        newest = max((sig[0] for sig in key["files"].values()), default=0)
        if newest / 1e9 <= started - _cache.RACY_SECONDS:
            entry = {"key": key, "rules": [_rule_entry(r) for r in rules]}
            if _rules_from_entry(entry, key) == tuple(rules):  # only what survives JSON unchanged is cached
                _cache.write_entry(entry_path, entry)
    return tuple(rules)


_RULE_CACHE_FORMAT = 1
_RULE_FIELDS = ("id", "name", "severity", "check", "summary", "why", "fix", "example", "path", "help_url")


def _builtin_key(directory: Path) -> dict[str, Any] | None:
    """What decides the built-in rules: envcheck's version, each rule file and each check module (their defaults)."""
    import os

    from envcheck import __version__

    checks_dir = Path(__file__).resolve().parent / "checks"
    files: dict[str, list[int]] = {}
    try:
        for folder, suffix in ((directory, ".toml"), (checks_dir, ".py")):
            with os.scandir(folder) as entries:
                for item in entries:
                    if item.name.endswith(suffix):
                        st = item.stat()
                        files[item.path] = [st.st_mtime_ns, st.st_size, st.st_ino, st.st_dev]
    except OSError:
        return None
    return {"format": _RULE_CACHE_FORMAT, "version": __version__, "directory": str(directory), "files": files}


def _rule_entry(rule: Rule) -> dict[str, Any]:
    entry: dict[str, Any] = {name: getattr(rule, name) for name in _RULE_FIELDS}
    entry["params"] = dict(rule.params)
    return entry


def _rules_from_entry(entry: Any, key: Mapping[str, Any]) -> tuple[Rule, ...] | None:
    """The rules an entry holds when it was made under ``key`` and is well formed, else None."""
    if not isinstance(entry, dict) or entry.get("key") != key or not isinstance(entry.get("rules"), list):
        return None
    rules: list[Rule] = []
    for item in entry["rules"]:
        if not isinstance(item, dict) or set(item) != {*_RULE_FIELDS, "params"}:
            return None
        texts = [item[name] for name in _RULE_FIELDS if name != "help_url"]
        if not all(isinstance(t, str) for t in texts) or item["severity"] not in _SEVERITIES:
            return None
        if not (item["help_url"] is None or isinstance(item["help_url"], str)) or not isinstance(item["params"], dict):
            return None
        if item["check"] not in _check_kinds():
            return None
        rules.append(Rule(**{**item, "builtin": True}))
    return tuple(rules)


def _check_kinds() -> frozenset[str]:
    from envcheck.checks import MODES

    return frozenset(MODES)


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
