"""``setup.py``, read statically with :mod:`ast` — never executed.

Many legacy projects declare their dependencies only in the ``setup()`` call.
This parser finds that call (``setup``, ``setuptools.setup``,
``distutils.core.setup``) and reads the keywords that are *literals*:

- ``install_requires`` → the main requirements;
- ``extras_require={"NAME": [...]}`` → ``optional:NAME``;
- ``tests_require`` → ``group:tests``; ``setup_requires`` → ``build``;
- ``python_requires`` → the interpreter range (EC302).

A keyword's value may also be a module-level name bound once to a literal
(``REQUIRES = [...]`` … ``install_requires=REQUIRES``), a literal list
concatenation, or a ``**kwargs`` dict literal.  Anything computed when the
script runs — reading ``requirements.txt``, a comprehension, a function call —
is "cannot say": nothing is recorded for that keyword rather than a guess.  A
``setup.py`` that is not valid Python 3 (a Python 2 ``print`` statement) says
nothing either: it is listed as read, and no requirement is invented.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

from envcheck.parsers.requirements import parse_pep508, read_manifest, relpath, scan_suppressions, spec_str
from envcheck.record import replace
from envcheck.snapshot import Declared, DeclaredRuntime, Requirement

__all__ = ["parse", "parse_text"]

_SETUP_NAMES = frozenset({"setup"})
_GROUPS: Mapping[str, str | None] = {
    "install_requires": None,
    "tests_require": "group:tests",
    "setup_requires": "build",
}


class CannotSay(Exception):
    """The value is computed at run time; a static reader cannot know it."""


def parse(path: Path, root: Path) -> Declared:
    rel = relpath(path, root)
    return parse_text(read_manifest(path, rel), rel)


def parse_text(text: str, source_name: str = "setup.py") -> Declared:
    rel = source_name
    try:
        tree = ast.parse(text, filename=rel)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return Declared(files=(rel,))
    call = _setup_call(tree)
    if call is None:
        return Declared(files=(rel,))
    bindings = _module_bindings(tree)
    keywords = _keywords(call, bindings)
    reqs: list[Requirement] = []
    for key, group in _GROUPS.items():
        node = keywords.get(key)
        if node is None:
            continue
        for value, line in _strings(node, bindings):
            reqs.extend(_requirements(value, rel, line, group))
    extras = keywords.get("extras_require")
    if extras is not None:
        reqs.extend(_extras(extras, bindings, rel))
    python: DeclaredRuntime | None = None
    requires = keywords.get("python_requires")
    if requires is not None:
        try:
            spec: str | None = _string(requires, bindings)
        except CannotSay:
            spec = None
        if spec and spec.strip():
            python = _python_requires(spec.strip(), rel, requires.lineno)
    return Declared(python=python, requirements=tuple(reqs), suppressions=scan_suppressions(text, rel), files=(rel,))


# --------------------------------------------------------------------------- finding the call


def _is_setup(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in _SETUP_NAMES
    return isinstance(func, ast.Attribute) and func.attr in _SETUP_NAMES


def _setup_call(tree: ast.Module) -> ast.Call | None:
    """The last ``setup(...)`` call anywhere in the module (inside ``if __name__ == "__main__":`` too)."""
    found: ast.Call | None = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _is_setup(node.func):
            found = node
    return found


def _module_bindings(tree: ast.Module) -> dict[str, ast.expr]:
    """Names bound exactly once at module level to a value (a name bound twice is not known statically)."""
    seen: dict[str, ast.expr | None] = {}
    for node in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            seen[node.target.id] = None
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                seen[target.id] = None if target.id in seen else value
    return {k: v for k, v in seen.items() if v is not None}


def _keywords(call: ast.Call, bindings: Mapping[str, ast.expr]) -> dict[str, ast.expr]:
    out: dict[str, ast.expr] = {}
    for kw in call.keywords:
        if kw.arg is not None:
            out[kw.arg] = kw.value
            continue
        # `setup(**metadata)` with `metadata = {...}` or `dict(...)` bound once at module level.
        value = _resolve(kw.value, bindings)
        if isinstance(value, ast.Dict):
            for k, v in zip(value.keys, value.values):
                if isinstance(k, ast.Constant) and isinstance(k.value, str):
                    out.setdefault(k.value, v)
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict":
            for inner in value.keywords:
                if inner.arg is not None:
                    out.setdefault(inner.arg, inner.value)
    return out


# --------------------------------------------------------------------------- literal values


def _resolve(node: ast.expr, bindings: Mapping[str, ast.expr], depth: int = 0) -> ast.expr:
    while isinstance(node, ast.Name) and node.id in bindings and depth < 10:
        node = bindings[node.id]
        depth += 1
    return node


def _string(node: ast.expr, bindings: Mapping[str, ast.expr]) -> str:
    node = _resolve(node, bindings)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    raise CannotSay


def _strings(node: ast.expr, bindings: Mapping[str, ast.expr], depth: int = 0) -> list[tuple[str, int]]:
    """``(value, line)`` for each string a literal list/tuple holds; [] when the value is computed."""
    node = _resolve(node, bindings)
    if depth > 10:
        return []
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        # setuptools accepts one string of requirements, one per line.
        return [(line.strip(), node.lineno + i) for i, line in enumerate(node.value.splitlines()) if line.strip()]
    if isinstance(node, (ast.List, ast.Tuple)):
        out: list[tuple[str, int]] = []
        for elt in node.elts:
            value = _resolve(elt, bindings)
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                out.append((value.value, elt.lineno))
            else:
                return []  # one computed element: the list as a whole cannot be said
        return out
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _strings(node.left, bindings, depth + 1), _strings(node.right, bindings, depth + 1)
        return left + right if left and right else []
    return []


def _requirements(value: str, rel: str, line: int, group: str | None) -> list[Requirement]:
    text = value.split("#", 1)[0].strip()
    if not text:
        return []
    return [parse_pep508(text, rel=rel, line=line, group=group)]


def _extras(node: ast.expr, bindings: Mapping[str, ast.expr], rel: str) -> list[Requirement]:
    node = _resolve(node, bindings)
    if not isinstance(node, ast.Dict):
        return []
    out: list[Requirement] = []
    for key, value in zip(node.keys, node.values):
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            continue
        # `"test:python_version<'3.8'"`: setuptools' extra with a marker.
        name, _, marker = key.value.partition(":")
        for text, line in _strings(value, bindings):
            for req in _requirements(text, rel, line, f"optional:{name.strip()}"):
                if marker.strip() and req.marker is None:
                    req = replace(req, marker=marker.strip())
                out.append(req)
    return out


def _python_requires(value: str, rel: str, line: int) -> DeclaredRuntime | None:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        spec = spec_str(SpecifierSet(value))
    except InvalidSpecifier:
        return None  # pip would refuse it too; EC302 cannot judge against it
    return DeclaredRuntime(requires=spec, requires_source=f"{rel}:{line}")
