"""Settings a Node build reads, and the throw-away values that let it run (issue 13).

A Next.js or Vite build often validates its environment (t3-env's
``createEnv``, a ``next.config`` that throws on a missing ``process.env.X``)
or loads a ``.env`` file that a clone does not have.  In a Docker build there
is no ``.env`` and no secret, so the build fails before it compiles a line.

What the build needs is found where projects declare it:

- ``.env.example`` / ``.env.sample`` / ``.env.template`` at the root or in the
  app's folder (names only — values there are examples, never copied);
- ``turbo.json`` ``globalEnv`` and each task's ``env`` (turbo hashes them
  because builds read them);
- t3-env ``createEnv`` schemas in ``env.ts``/``env.mjs``/``env.js``
  (``server``, ``client``, ``shared`` keys, and the type each key must
  parse as);
- ``process.env.X`` in ``next.config.*``.

The build stage gets placeholders fitting each schema type (a URL where a URL
is validated), as ``ARG``s with defaults — visible to that stage's ``RUN``s
only, never to the runtime image, and overridable with ``--build-arg``.  When
the project's ``skipValidation`` reads ``SKIP_ENV_VALIDATION`` (create-t3-app's
convention), that switch is used instead of inventing values.  The parsers are
pure; :func:`read_build_env` is the I/O edge.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from envcheck import _regex
from envcheck.record import record

_NAME = _regex.compile(r"^[A-Z_][A-Z0-9_]*$")
_EXAMPLES = (".env.example", ".env.sample", ".env.template", ".env.dist", ".env.defaults")
_SCHEMAS = ("env.ts", "env.mjs", "env.js", "src/env.ts", "src/env.mjs", "src/env.js", "src/env/server.mjs")
# Set by the image or the toolchain itself: never a placeholder.
_OWN = frozenset({"NODE_ENV", "PORT", "CI", "PATH", "HOME", "HOSTNAME", "npm_lifecycle_event"})
_MAX = 256 * 1024


@record
class BuildSetting:
    name: str
    kind: str  # "url" | "postgres" | "email" | "number" | "boolean" | "enum:<value>" | "string"
    where: str  # the file that names it


def parse_env_example(text: str) -> tuple[str, ...]:
    """The variable names a ``.env.example`` lists (``NAME=…``, ``export NAME=…``), in order, once each."""
    out: dict[str, None] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        name, sep, _ = line.partition("=")
        name = name.strip()
        if sep and _NAME.match(name):
            out[name] = None
    return tuple(out)


def parse_turbo_env(text: str) -> tuple[str, ...]:
    """``globalEnv`` and every task's ``env`` of a turbo.json (wildcards and negations skipped)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return ()
    if not isinstance(data, dict):
        return ()
    names: list[object] = list(data.get("globalEnv") or [])
    tasks = data.get("tasks") or data.get("pipeline") or {}
    if isinstance(tasks, dict):
        for task in tasks.values():
            if isinstance(task, dict) and isinstance(task.get("env"), list):
                names.extend(task["env"])
    return tuple(dict.fromkeys(n for n in names if isinstance(n, str) and _NAME.match(n)))


def _kind(expr: str) -> str:
    e = expr.replace(" ", "")
    enum = re.search(r"enum\(\[\s*[\"']([^\"']+)[\"']", expr)
    if enum:
        return f"enum:{enum.group(1)}"
    if re.search(r"\.url\(|z\.url\(", e):
        return "url"
    if "email(" in e:
        return "email"
    if re.search(r"number\(|\.int\(|coerce\.number", e):
        return "number"
    if re.search(r"boolean\(|stringbool\(", e):
        return "boolean"
    return "string"


def _block(text: str, start: int) -> str:
    """The balanced ``{…}`` starting at ``text[start]``."""
    depth = 0
    for i in range(start, min(len(text), start + _MAX)):
        c = text[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i]
    return text[start + 1 :]


_KEY = _regex.compile(r"([A-Z_][A-Z0-9_]*)\s*:")  # an env schema key: SCREAMING_CASE, then a colon


def _top_keys(body: str) -> list[tuple[str, str]]:
    """(KEY, its expression) of an object literal's top level."""
    out: list[tuple[str, str]] = []
    depth = 0
    i = 0
    while i < len(body):
        c = body[i]
        if c in "{([":
            depth += 1
        elif c in "})]":
            depth -= 1
        elif depth == 0:
            m = _KEY.match(body, i)
            if m and (i == 0 or not (body[i - 1].isalnum() or body[i - 1] == "_")):
                end = m.end()
                d = 0
                j = end
                while j < len(body):
                    ch = body[j]
                    if ch in "{([":
                        d += 1
                    elif ch in "})]":
                        d -= 1
                    elif ch == "," and d == 0:
                        break
                    j += 1
                out.append((m.group(1), body[end:j]))
                i = j
                continue
        i += 1
    return out


def parse_env_schema(text: str) -> tuple[tuple[tuple[str, str], ...], frozenset[str]]:
    """t3-env ``createEnv``: ((KEY, kind) of server/client/shared schemas), env names ``skipValidation`` reads."""
    keys: dict[str, str] = {}
    skip: set[str] = set()
    if "createEnv" not in text:
        return (), frozenset()
    text = re.sub(r"/\*.*?\*/", "", text[:_MAX], flags=re.DOTALL)
    text = re.sub(r"(?m)^\s*//.*$", "", text)
    for m in re.finditer(r"\b(server|client|shared)\s*:\s*\{", text):
        for key, expr in _top_keys(_block(text, m.end() - 1)):
            keys.setdefault(key, _kind(expr))
    for m in re.finditer(r"\bskipValidation\s*:([^\n]*(?:\n\s*[|&!?(][^\n]*)*)", text):
        skip.update(re.findall(r"process\.env\.([A-Za-z_][A-Za-z0-9_]*)", m.group(1)))
        skip.update(re.findall(r"process\.env\[[\"']([A-Za-z_][A-Za-z0-9_]*)[\"']\]", m.group(1)))
    return tuple(keys.items()), frozenset(skip)


def process_env_names(text: str) -> tuple[str, ...]:
    """``process.env.X`` / ``process.env["X"]`` names a config file reads."""
    found = re.findall(r"process\.env\.([A-Z_][A-Z0-9_]*)|process\.env\[[\"']([A-Z_][A-Z0-9_]*)[\"']\]", text)
    return tuple(dict.fromkeys(a or b for a, b in found))


def _name_kind(name: str) -> str:
    if re.search(r"(POSTGRES|DATABASE|DB)_?(URL|URI)|^DATABASE_URL$", name):
        return "postgres"
    if name.endswith(("_URL", "_URI")):
        return "url"
    if name.endswith("_PORT"):
        return "number"
    if name.endswith("_EMAIL"):
        return "email"
    return "string"


_VALUES = {
    "url": "http://localhost/",
    "postgres": "postgres://placeholder:placeholder@localhost:5432/placeholder",
    "email": "build@example.invalid",
    "number": "0",
    "boolean": "false",
    "string": "build-time-placeholder",
}


def placeholder(setting: BuildSetting) -> str:
    """A value that passes the setting's validation and is plainly not real."""
    if setting.kind.startswith("enum:"):
        return setting.kind[5:]
    if setting.kind == "url" and _name_kind(setting.name) == "postgres":
        return _VALUES["postgres"]
    return _VALUES.get(setting.kind, _VALUES["string"])


@record
class BuildEnv:
    settings: tuple[BuildSetting, ...] = ()
    skip_switch: str | None = None  # SKIP_ENV_VALIDATION, when the project's skipValidation reads it

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.settings)


def plan_build_env(sources: Iterable[tuple[str, str]]) -> BuildEnv:
    """From (relative path, text) of the files above, the settings a build needs."""
    settings: dict[str, BuildSetting] = {}
    skip: str | None = None

    def add(name: str, kind: str, where: str) -> None:
        if name in _OWN or not _NAME.match(name):
            return
        old = settings.get(name)
        if old is None or (old.kind == "string" and kind != "string"):
            settings[name] = BuildSetting(name, kind, old.where if old else where)

    for where, text in sources:
        base = where.rsplit("/", 1)[-1]
        if base in _EXAMPLES:
            for n in parse_env_example(text):
                add(n, _name_kind(n), where)
        elif base == "turbo.json":
            for n in parse_turbo_env(text):
                add(n, _name_kind(n), where)
        elif base.startswith("next.config."):
            for n in process_env_names(text):
                add(n, _name_kind(n), where)
        else:
            keys, skips = parse_env_schema(text)
            for n, kind in keys:
                add(n, kind if kind != "string" else _name_kind(n), where)
            if "SKIP_ENV_VALIDATION" in skips:
                skip = "SKIP_ENV_VALIDATION"
    return BuildEnv(tuple(sorted(settings.values(), key=lambda s: s.name)), skip)


def _read(path: Path) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > _MAX:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def read_build_env(root: Path, dirs: Iterable[str]) -> BuildEnv:
    """Read the files :func:`plan_build_env` looks at: the root and each app or member folder given."""
    seen: set[str] = set()
    found: list[tuple[str, str]] = []
    for d in ("", *dirs):
        if d in seen:
            continue
        seen.add(d)
        base = root / d if d else root
        names = [*_EXAMPLES, "turbo.json", *_SCHEMAS]
        names.extend(p.name for p in base.glob("next.config.*") if p.is_file())
        for n in names:
            text = _read(base / n)
            if text is not None:
                found.append(((f"{d}/{n}" if d else n), text))
    return plan_build_env(found)


def placeholders(env: BuildEnv) -> Mapping[str, str]:
    """NAME -> placeholder, or only the skip switch when the project has one."""
    if env.skip_switch:
        return {env.skip_switch: "1"}
    return {s.name: placeholder(s) for s in env.settings}
