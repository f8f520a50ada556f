"""Environment variables a project refers to — names only, never values.

Sources, each giving ``EnvRef(name, "relpath:LINE")``:

- env templates ``.env.example`` / ``.env.sample`` / ``.env.template`` /
  ``.env.dist`` (``.env`` itself holds real values and is never opened);
- Python via :mod:`ast` (:mod:`envcheck.parsers.python_env`):
  ``os.environ["X"]``, ``os.getenv("X")`` and the other forms it lists;
- JavaScript/TypeScript via one compiled regex: ``process.env.X``,
  ``process.env["X"]``, ``const { A, B } = process.env``,
  ``import.meta.env.X``; comments and string literals are stepped over;
- Compose files: ``services.*.environment`` keys (list and mapping forms) and
  ``${VAR}`` interpolations, which compose fills from the host environment.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from pathlib import Path

from envcheck import _regex
from envcheck._io import read_text
from envcheck.errors import ParseError
from envcheck.parsers import relpath
from envcheck.snapshot import Declared, EnvRef

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


TEMPLATE_NAMES = frozenset({".env.example", ".env.sample", ".env.template", ".env.dist"})
PYTHON_SUFFIXES = frozenset({".py"})
JS_SUFFIXES = frozenset({".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".mts", ".cts"})

# Source files larger than this are generated or vendored (bundles, minified
# code): skipped, they are not where a project declares what it reads.
MAX_SOURCE_BYTES = 1024 * 1024
MAX_MANIFEST_BYTES = 4 * 1024 * 1024

ENV_NAME = _regex.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TEMPLATE_LINE = _regex.compile(r"^\s*(?:export\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?:=|$)")


def parse(path: Path, root: Path) -> Declared:
    rel = relpath(path, root)
    name = path.name
    if name == ".env":
        return Declared()
    if is_template(name):
        refs = template_refs(read_text(path, limit=MAX_MANIFEST_BYTES), rel)
        return Declared(env_refs=refs, files=(rel,))
    if _is_compose(name):
        refs = compose_refs(read_text(path, limit=MAX_MANIFEST_BYTES), rel)
        return Declared(env_refs=refs, files=(rel,))
    suffix = path.suffix.lower()
    if suffix in PYTHON_SUFFIXES:
        data = _read_source(path)
        return Declared(env_refs=python_refs(data, rel)) if data is not None else Declared()
    if suffix in JS_SUFFIXES:
        if name.endswith((".min.js", ".d.ts")):
            return Declared()
        data = _read_source(path)
        if data is None:
            return Declared()
        return Declared(env_refs=js_refs(data.decode("utf-8", errors="replace"), rel))
    return Declared()


def is_template(name: str) -> bool:
    """A dotenv *template* (names to set), as opposed to a dotenv file with real values."""
    if name in TEMPLATE_NAMES or name in ("example.env", "sample.env"):
        return True
    return name.startswith(".env.") and name.endswith((".example", ".sample", ".template"))


def _is_compose(name: str) -> bool:
    return name.startswith(("docker-compose", "compose")) and name.endswith((".yml", ".yaml"))


def _read_source(path: Path) -> bytes | None:
    """User source code: unreadable or oversized files are skipped, not errors."""
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_SOURCE_BYTES + 1)
    except OSError:
        return None
    return None if len(data) > MAX_SOURCE_BYTES else data


def dedupe(refs: Iterator[EnvRef]) -> tuple[EnvRef, ...]:
    # `process.env.npm_lifecycle_event` reads what npm set for the script it
    # runs, not a setting the deployment must provide (envcheck/data/tool_env.toml).
    from envcheck.known_env import provided_by_tool

    return tuple(r for r in dict.fromkeys(refs) if provided_by_tool(r.name) is None)


# --------------------------------------------------------------------------- templates


def template_refs(text: str, rel: str) -> tuple[EnvRef, ...]:
    """Names in a dotenv template; commented-out lines are not declarations."""

    def gen() -> Iterator[EnvRef]:
        for number, line in enumerate(text.splitlines(), start=1):
            if line.lstrip().startswith("#"):
                continue
            m = _TEMPLATE_LINE.match(line)
            if m:
                yield EnvRef(name=m.group("name"), source=f"{rel}:{number}")

    return dedupe(gen())


# --------------------------------------------------------------------------- python


def python_refs(source: bytes | str, rel: str) -> tuple[EnvRef, ...]:
    """The variables Python ``source`` reads (:mod:`envcheck.parsers.python_env`), in source order.

    A module that never names the environment is not parsed at all
    (:func:`_may_refer`); one that does is remembered by its bytes
    (:mod:`envcheck.parsers.remembered`): the settings module of a project is
    parsed once, not on every host snapshot, and ``ast`` is not even imported.
    """
    if not _may_refer(source):
        return ()
    if isinstance(source, bytes):
        from envcheck.parsers import remembered

        return remembered.parse_bytes("env_refs.python", rel, source, lambda: _parsed(source, rel)).env_refs
    return _parsed(source, rel).env_refs


def _parsed(source: bytes | str, rel: str) -> Declared:
    from envcheck.parsers import python_env

    return Declared(env_refs=python_env.refs(source, rel))


def _may_refer(source: bytes | str) -> bool:
    """Whether the source can read the environment at all: most modules of a project never do.

    Every form the visitor knows names one of :data:`_PY_MARKERS`
    (``os.environ``, ``from os import getenv``, django-environ's
    ``environ.Env``, python-decouple's ``from decouple import config``), so a
    file with none of them has no reference and need not be parsed (ast.parse
    was most of a large project's scan).  Only for ASCII text: Python reads
    identifiers NFKC-normalised, so ``ｅnviron`` in full-width letters is
    ``environ`` too, and such a file is parsed.
    """
    if isinstance(source, str):
        return not source.isascii() or any(word in source for word in _PY_MARKERS)
    return not source.isascii() or any(word.encode() in source for word in _PY_MARKERS)


#: A word every reference :mod:`envcheck.parsers.python_env` recognises has in its source (a test keeps it so).
_PY_MARKERS = ("environ", "getenv", "decouple")


# --------------------------------------------------------------------------- javascript

# One pass: comments and quoted strings are matched (and ignored) where they
# start, so `// process.env.X` and "process.env.X" inside a string never count;
# template literals are not skipped because `${process.env.X}` is real code.
_JS = _regex.compile(
    r"(?P<skip>//[^\n]*|/\*.*?(?:\*/|\Z)|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*')"
    r"|(?:process\.env|import\.meta\.env)"
    r"(?:\??\.(?P<dot>[A-Za-z_$][\w$]*)|\[\s*(?P<q>[\"'`])(?P<idx>[A-Za-z_][\w]*)(?P=q)\s*\])"
    r"|(?:const|let|var)\s*\{(?P<names>[^{}]{0,2000})\}\s*=\s*process\.env\b",
    re.DOTALL,
)
_DESTRUCTURED = _regex.compile(r"^\s*(?:\.\.\.)?\s*([A-Za-z_$][\w$]*)")


def js_refs(text: str, rel: str) -> tuple[EnvRef, ...]:
    starts = [0]
    starts.extend(i + 1 for i, ch in enumerate(text) if ch == "\n")

    def line_of(pos: int) -> int:
        return bisect.bisect_right(starts, pos)

    def gen() -> Iterator[EnvRef]:
        for m in _JS.finditer(text):
            if m.group("skip") is not None:
                continue
            names: list[str] = []
            if m.group("dot"):
                names.append(m.group("dot"))
            elif m.group("idx"):
                names.append(m.group("idx"))
            elif m.group("names") is not None:
                for part in m.group("names").split(","):
                    if part.strip().startswith("..."):
                        continue
                    key = _DESTRUCTURED.match(part)
                    if key:
                        names.append(key.group(1))
            for name in names:
                if ENV_NAME.match(name):
                    yield EnvRef(name=name, source=f"{rel}:{line_of(m.start())}")

    return dedupe(gen())


# --------------------------------------------------------------------------- compose

_INTERPOLATION = _regex.compile(r"(?<!\$)\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")


def compose_refs(text: str, rel: str) -> tuple[EnvRef, ...]:
    import yaml

    from envcheck.parsers.conda_env import _check_depth

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        _check_depth(yaml.scan(text, Loader=loader), rel)  # deep nesting segfaults libyaml's composer
        root = yaml.compose(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ParseError(f"invalid YAML: {problem}", path=rel, line=line) from None
    except (RecursionError, ValueError) as exc:
        raise ParseError(f"invalid YAML: {type(exc).__name__}", path=rel) from None
    if root is None:
        return ()
    refs: list[EnvRef] = []

    def at(node: Any) -> str:
        return f"{rel}:{node.start_mark.line + 1}"

    # ${VAR} anywhere in the file is read from the host by compose.
    seen: set[int] = set()
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue  # aliases share nodes; never walk one twice (billion laughs)
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            for m in _INTERPOLATION.finditer(str(node.value)):
                refs.append(EnvRef(name=m.group("braced") or m.group("plain"), source=at(node)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                stack.extend((k, v))

    for service in _mapping_values(_get(root, "services")):
        env = _get(service, "environment")
        if isinstance(env, yaml.MappingNode):
            for key, _ in env.value:
                if isinstance(key, yaml.ScalarNode) and ENV_NAME.match(str(key.value)):
                    refs.append(EnvRef(name=str(key.value), source=at(key)))
        elif isinstance(env, yaml.SequenceNode):
            for item in env.value:
                if isinstance(item, yaml.ScalarNode):
                    name = str(item.value).split("=", 1)[0].strip()
                    if ENV_NAME.match(name):
                        refs.append(EnvRef(name=name, source=at(item)))
    return dedupe(iter(sorted(refs, key=lambda r: (int(r.source.rsplit(":", 1)[1]), r.name))))


def _get(node: Any, key: str) -> Any:
    import yaml

    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    return None


def _mapping_values(node: Any) -> list[Any]:
    import yaml

    if isinstance(node, yaml.MappingNode):
        return [v for _, v in node.value]
    return []
