"""conda's ``environment.yml`` / ``environment.yaml``.

The ``python`` entry of ``dependencies`` names the interpreter: an exact or
series pin (``python=3.9``, ``python==3.10.4``, ``python 3.12.*``) goes to
``version_files`` under the file's path, a range (``python>=3.8,<3.11``) to
``requires``.  The ``pip:`` list holds pip requirement lines and becomes
``requirements`` (its ``-r`` lines are followed relative to the file).  Other
conda packages are conda's, named in conda's namespace, and are not reported
as Python requirements.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from envcheck import _regex
from envcheck.errors import ParseError
from envcheck.parsers import requirements as reqfile
from envcheck.parsers.requirements import read_manifest, relpath, scan_suppressions, spec_str
from envcheck.snapshot import Declared, DeclaredRuntime, Requirement

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


__all__ = ["parse", "parse_text"]

_PYTHON_RE = _regex.compile(r"^(?:[\w./-]+::)?python(?P<rest>(?:\s|[=<>!~]).*)?$", re.IGNORECASE)


def parse(path: Path, root: Path) -> Declared:
    rel = relpath(path, root)
    return _parse(read_manifest(path, rel), rel, path.parent, root)


def parse_text(text: str, source_name: str = "environment.yml") -> Declared:
    return _parse(text, source_name, None, None)


def _compose(text: str, rel: str) -> Any:
    import yaml

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        _check_depth(yaml.scan(text, Loader=loader), rel)
        return yaml.compose(text, Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and mark is not None and mark.index >= len(text.rstrip()):
            mark = exc.context_mark  # libyaml notices at end of input; the construct began here
        msg = exc.problem or exc.context or "invalid YAML"
        raise ParseError(f"invalid YAML: {msg}", path=rel, line=mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise ParseError(
            f"invalid YAML: {str(exc).splitlines()[0] if str(exc) else 'cannot parse'}", path=rel
        ) from None
    except (RecursionError, ValueError, MemoryError):
        raise ParseError("invalid YAML: nested too deeply or too large", path=rel) from None


# libyaml's composer recurses in C: a few ten thousand nested "[" crash the
# interpreter instead of raising.  The scanner is iterative, so nesting is
# measured on its tokens first; no real environment file comes close.
MAX_NESTING = 64


def _check_depth(tokens: Iterable[Any], rel: str) -> None:
    import yaml

    opening = (
        yaml.FlowSequenceStartToken,
        yaml.FlowMappingStartToken,
        yaml.BlockSequenceStartToken,
        yaml.BlockMappingStartToken,
    )
    closing = (yaml.FlowSequenceEndToken, yaml.FlowMappingEndToken, yaml.BlockEndToken)
    depth = 0
    for token in tokens:
        if isinstance(token, opening):
            depth += 1
            if depth > MAX_NESTING:
                raise ParseError(
                    f"YAML nested deeper than {MAX_NESTING} levels", path=rel, line=token.start_mark.line + 1
                )
        elif isinstance(token, closing):
            depth -= 1


def _parse(text: str, rel: str, base_dir: Path | None, root: Path | None) -> Declared:
    import yaml

    doc = _compose(text, rel)
    if doc is None:
        return Declared(files=(rel,))
    if not isinstance(doc, yaml.MappingNode):
        raise ParseError("expected a mapping with 'dependencies'", path=rel, line=doc.start_mark.line + 1)
    deps_node = None
    for key, value in doc.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "dependencies":
            deps_node = value
    python: DeclaredRuntime | None = None
    reqs: list[Requirement] = []
    files = [rel]
    if deps_node is None or (isinstance(deps_node, yaml.ScalarNode) and deps_node.value in ("", "~", "null")):
        return Declared(files=(rel,), suppressions=scan_suppressions(text, rel))
    if not isinstance(deps_node, yaml.SequenceNode):
        raise ParseError("'dependencies' must be a list", path=rel, line=deps_node.start_mark.line + 1)
    for item in deps_node.value:
        line = item.start_mark.line + 1
        if isinstance(item, yaml.ScalarNode):
            found = _python(str(item.value).strip(), rel, line)
            if found is not None:
                python = found
        elif isinstance(item, yaml.MappingNode):
            for key, value in item.value:
                if not (isinstance(key, yaml.ScalarNode) and key.value == "pip"):
                    continue
                if not isinstance(value, yaml.SequenceNode):
                    raise ParseError(
                        "'pip' must be a list of requirement lines", path=rel, line=value.start_mark.line + 1
                    )
                pip_lines: list[tuple[int, str]] = []
                for entry in value.value:
                    if not isinstance(entry, yaml.ScalarNode):
                        raise ParseError("'pip' entries must be strings", path=rel, line=entry.start_mark.line + 1)
                    pip_lines.append((entry.start_mark.line + 1, str(entry.value)))
                declared = reqfile.parse_lines_into(pip_lines, rel, base_dir, root)
                reqs.extend(declared.requirements)
                files.extend(f for f in declared.files if f not in files)
        else:
            raise ParseError("'dependencies' entries must be strings or a 'pip:' list", path=rel, line=line)
    return Declared(
        python=python, requirements=tuple(reqs), suppressions=scan_suppressions(text, rel), files=tuple(files)
    )


def _python(spec: str, rel: str, line: int) -> DeclaredRuntime | None:
    """``python=3.9`` → version file 3.9; ``python>=3.8`` → requires; ``python`` alone → nothing."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    m = _PYTHON_RE.match(spec)
    if not m:
        return None
    rest = (m.group("rest") or "").strip()
    if not rest:
        return None
    # conda match spec: "=3.9" (that series), "==3.9.7", "3.9.*", "=3.9=h123_0" (with a build string)
    exact = re.fullmatch(r"(?:==?)?\s*(?P<v>\d+(?:\.\d+)*)(?:\.\*)?(?:[=\s]\S*)?", rest)
    if exact:
        return DeclaredRuntime(version_files={rel: exact.group("v")}, version_lines={rel: line})
    try:
        return DeclaredRuntime(requires=spec_str(SpecifierSet(rest.replace(" ", ""))), requires_source=f"{rel}:{line}")
    except InvalidSpecifier:
        return None  # conda syntax PEP 440 cannot say (e.g. "3.8|3.9"): no claim rather than a wrong one
