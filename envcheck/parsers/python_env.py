"""Environment variables Python source reads, found with :mod:`ast` (names only, never values).

``os.environ["X"]``, ``os.environ.get("X")``, ``os.getenv("X")``,
``os.environ.setdefault/pop("X")``, ``"X" in os.environ``, the same through
``from os import environ, getenv`` or ``import os as o``; django-environ's
``env = environ.Env(...)`` then ``env("X")``, ``env.bool("X")``; and
python-decouple's ``config("X")``.  A file that does not parse records
nothing: user code's syntax is not envcheck's concern.  Reached through
:func:`envcheck.parsers.env_refs.python_refs`, which skips modules that never
name the environment and remembers the rest, so most runs never import this.
"""

from __future__ import annotations

import ast
import warnings

from envcheck.parsers.env_refs import ENV_NAME, dedupe
from envcheck.snapshot import EnvRef

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


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
        if isinstance(key, ast.Constant) and isinstance(key.value, str) and ENV_NAME.match(key.value):
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


def refs(source: bytes | str, rel: str) -> tuple[EnvRef, ...]:
    """Every reference in ``source``, deduplicated, by line; none when it does not parse."""
    try:
        with warnings.catch_warnings():
            # User code's `"\d"` escapes would print SyntaxWarnings mid-scan.
            warnings.simplefilter("ignore")
            tree = ast.parse(source, filename=rel)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return ()
    visitor = _PyVisitor(rel)
    visitor.visit(tree)  # iterative: no recursion limit to hit
    return dedupe(iter(sorted(visitor.refs, key=lambda r: (int(r.source.rsplit(":", 1)[1]), r.name))))
