"""Environment variables a project refers to — names only, never values.

Sources, each giving ``EnvRef(name, "relpath:LINE")``:

- env templates ``.env.example`` / ``.env.sample`` / ``.env.template`` /
  ``.env.dist`` (``.env`` itself holds real values and is never opened);
- Python via :mod:`ast`: ``os.environ["X"]``, ``os.environ.get("X")``,
  ``os.getenv("X")``, ``os.environ.setdefault/pop("X")``, ``"X" in os.environ``,
  and the same through ``from os import environ, getenv`` or ``import os as o``.
  A file that does not parse records nothing: user code's syntax is not
  envcheck's concern;
- JavaScript/TypeScript via one compiled regex: ``process.env.X``,
  ``process.env["X"]``, ``const { A, B } = process.env``,
  ``import.meta.env.X``; comments and string literals are stepped over;
- Compose files: ``services.*.environment`` keys (list and mapping forms) and
  ``${VAR}`` interpolations, which compose fills from the host environment.
"""

from __future__ import annotations

import ast
import bisect
import re
import warnings
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

_ENV_NAME = _regex.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
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


def _dedupe(refs: Iterator[EnvRef]) -> tuple[EnvRef, ...]:
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

    return _dedupe(gen())


# --------------------------------------------------------------------------- python


# django-environ helpers that read a default variable when called without one.
_ENVIRON_DEFAULT_VARS = {
    "db": "DATABASE_URL",
    "db_url": "DATABASE_URL",
    "cache": "CACHE_URL",
    "cache_url": "CACHE_URL",
    "email": "EMAIL_URL",
    "email_url": "EMAIL_URL",
    "search_url": "SEARCH_URL",
}


class _PyVisitor:
    """The references in one module's tree, found in source order.

    Nodes are visited depth-first, each before its children and children in
    field order — ast.NodeVisitor's order, so an import is seen before the
    code after it uses its alias — with a list for a stack and one dict
    lookup per node instead of NodeVisitor's name building and generator per
    node (its walk was most of the time on a module that reads the
    environment), and no recursion limit on deeply nested code.
    """

    def __init__(self, rel: str) -> None:
        self.rel = rel
        self.refs: list[EnvRef] = []
        self.os_names = {"os"}
        self.environ_names: set[str] = set()
        self.getenv_names: set[str] = set()
        # django-environ: `env = environ.Env(...)`, then `env("X")`, `env.bool("X")`, `env.db()`.
        self.environ_pkg_names: set[str] = set()
        self.env_class_names: set[str] = set()
        self.env_objects: set[str] = set()

    def visit(self, tree: ast.AST) -> None:
        handlers: dict[type[ast.AST], Any] = {
            ast.Import: self.visit_Import,
            ast.ImportFrom: self.visit_ImportFrom,
            ast.Assign: self.visit_Assign,
            ast.Subscript: self.visit_Subscript,
            ast.Call: self.visit_Call,
            ast.Compare: self.visit_Compare,
        }
        node_type = ast.AST
        stack: list[ast.AST] = [tree]
        pop, push = stack.pop, stack.append
        while stack:
            node = pop()
            handler = handlers.get(node.__class__)
            if handler is not None:
                handler(node)
            children: list[ast.AST] = []
            for field in node._fields:
                value = getattr(node, field, None)
                if value.__class__ is list:
                    children.extend(v for v in value if isinstance(v, node_type))
                elif isinstance(value, node_type):
                    children.append(value)
            for child in reversed(children):
                push(child)

    def _add(self, node: ast.AST, key: ast.AST | None) -> None:
        if isinstance(key, ast.Constant) and isinstance(key.value, str) and _ENV_NAME.match(key.value):
            self.refs.append(EnvRef(name=key.value, source=f"{self.rel}:{getattr(node, 'lineno', 0)}"))

    def _is_environ(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.environ_names
        return (
            isinstance(node, ast.Attribute)
            and node.attr in ("environ", "environb")
            and isinstance(node.value, ast.Name)
            and node.value.id in self.os_names
        )

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name == "os" and alias.asname:
                self.os_names.add(alias.asname)
            elif alias.name == "environ":
                self.environ_pkg_names.add(alias.asname or alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            bound = alias.asname or alias.name
            if node.module == "os" and alias.name == "environ":
                self.environ_names.add(bound)
            elif node.module == "os" and alias.name == "getenv":
                self.getenv_names.add(bound)
            elif node.module == "decouple" and alias.name == "config":
                self.getenv_names.add(bound)  # python-decouple: config("X", default=…)
            elif node.module == "environ" and alias.name == "Env":
                self.env_class_names.add(bound)

    def _is_env_class(self, func: ast.AST) -> bool:
        if isinstance(func, ast.Name):
            return func.id in self.env_class_names
        return (
            isinstance(func, ast.Attribute)
            and func.attr == "Env"
            and isinstance(func.value, ast.Name)
            and func.value.id in self.environ_pkg_names
        )

    def visit_Assign(self, node: ast.Assign) -> None:
        if isinstance(node.value, ast.Call) and self._is_env_class(node.value.func):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self.env_objects.add(target.id)
            for kw in node.value.keywords:  # Env(DEBUG=(bool, False)) declares DEBUG
                if kw.arg:
                    self._add(kw.value, ast.Constant(value=kw.arg))

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if self._is_environ(node.value):
            self._add(node, node.slice)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        first = node.args[0] if node.args else None
        if isinstance(func, ast.Attribute):
            if (func.attr in ("get", "setdefault", "pop") and self._is_environ(func.value)) or (
                func.attr in ("getenv", "getenvb")
                and isinstance(func.value, ast.Name)
                and func.value.id in self.os_names
            ):
                self._add(node, first)
        elif isinstance(func, ast.Name) and func.id in self.getenv_names | self.env_objects:
            self._add(node, first)
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in self.env_objects
            and not func.attr.startswith("_")
        ):
            default = _ENVIRON_DEFAULT_VARS.get(func.attr)
            self._add(node, first if first is not None or default is None else ast.Constant(value=default))

    def visit_Compare(self, node: ast.Compare) -> None:
        # `"X" in os.environ`
        if len(node.ops) == 1 and isinstance(node.ops[0], ast.In | ast.NotIn) and self._is_environ(node.comparators[0]):
            self._add(node, node.left)


def python_refs(source: bytes | str, rel: str) -> tuple[EnvRef, ...]:
    if not _may_refer(source):
        return ()
    try:
        with warnings.catch_warnings():
            # User code's `"\d"` escapes would print SyntaxWarnings mid-scan.
            warnings.simplefilter("ignore")
            tree = ast.parse(source, filename=rel)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return ()
    visitor = _PyVisitor(rel)
    try:
        visitor.visit(tree)
    except RecursionError:
        return ()
    return _dedupe(iter(sorted(visitor.refs, key=lambda r: (int(r.source.rsplit(":", 1)[1]), r.name))))


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


#: A word every reference :class:`_PyVisitor` recognises has in its source (a test keeps it so).
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
                if _ENV_NAME.match(name):
                    yield EnvRef(name=name, source=f"{rel}:{line_of(m.start())}")

    return _dedupe(gen())


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
                if isinstance(key, yaml.ScalarNode) and _ENV_NAME.match(str(key.value)):
                    refs.append(EnvRef(name=str(key.value), source=at(key)))
        elif isinstance(env, yaml.SequenceNode):
            for item in env.value:
                if isinstance(item, yaml.ScalarNode):
                    name = str(item.value).split("=", 1)[0].strip()
                    if _ENV_NAME.match(name):
                        refs.append(EnvRef(name=name, source=at(item)))
    return _dedupe(iter(sorted(refs, key=lambda r: (int(r.source.rsplit(":", 1)[1]), r.name))))


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
