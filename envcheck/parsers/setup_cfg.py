"""setuptools' declarative ``setup.cfg``.

``[options] install_requires`` is the main set, ``[options.extras_require]
NAME`` is ``optional:NAME``, ``python_requires`` is the interpreter range.
As in setuptools, a multi-line value holds one requirement per line; a
single-line value may separate requirements with ``;`` (only where that does
not cut a marker off its requirement).  ``file:`` values are read as
requirements files.  A ``setup.cfg`` with only tool sections (flake8, …)
declares nothing.
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

from envcheck.errors import ParseError
from envcheck.parsers import requirements as reqfile
from envcheck.parsers.requirements import parse_pep508, read_manifest, relpath, scan_suppressions, spec_str
from envcheck.snapshot import Declared, DeclaredRuntime, Requirement

__all__ = ["parse", "parse_text"]


def parse(path: Path, root: Path) -> Declared:
    rel = relpath(path, root)
    return _parse(read_manifest(path, rel), rel, path.parent, root)


def parse_text(text: str, source_name: str = "setup.cfg") -> Declared:
    return _parse(text, source_name, None, None)


def _parse(text: str, rel: str, base_dir: Path | None, root: Path | None) -> Declared:
    cfg = configparser.ConfigParser(interpolation=None, strict=False, delimiters=("=", ":"))
    try:
        cfg.read_string(text, source=rel)
    except configparser.MissingSectionHeaderError as exc:
        raise ParseError("text before the first [section] header", path=rel, line=exc.lineno) from None
    except configparser.ParsingError as exc:
        line = exc.errors[0][0] if exc.errors else None
        raise ParseError("cannot parse line", path=rel, line=line) from None
    except configparser.Error as exc:
        raise ParseError(f"invalid setup.cfg: {exc.message}", path=rel, line=getattr(exc, "lineno", None)) from None
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"invalid setup.cfg: {exc}", path=rel) from None

    lines = text.splitlines()
    reqs: list[Requirement] = []
    files: list[str] = [rel]
    python: DeclaredRuntime | None = None
    if cfg.has_section("options"):
        value = cfg.get("options", "install_requires", fallback=None)
        if value is not None:
            reqs.extend(
                _requirements(
                    value,
                    rel=rel,
                    lines=lines,
                    section="options",
                    key="install_requires",
                    group=None,
                    base_dir=base_dir,
                    root=root,
                    files=files,
                )
            )
        pr = cfg.get("options", "python_requires", fallback=None)
        if pr is not None and pr.strip():
            line = _key_line(lines, "options", "python_requires")
            python = DeclaredRuntime(requires=_specifier(pr.strip(), rel, line), requires_source=_src(rel, line))
    if cfg.has_section("options.extras_require"):
        for extra, value in cfg.items("options.extras_require"):
            reqs.extend(
                _requirements(
                    value,
                    rel=rel,
                    lines=lines,
                    section="options.extras_require",
                    key=extra,
                    group=f"optional:{extra}",
                    base_dir=base_dir,
                    root=root,
                    files=files,
                )
            )
    return Declared(
        python=python, requirements=tuple(reqs), suppressions=scan_suppressions(text, rel), files=tuple(files)
    )


def _src(rel: str, line: int | None) -> str:
    return rel if line is None else f"{rel}:{line}"


def _specifier(value: str, rel: str, line: int | None) -> str:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return spec_str(SpecifierSet(value))
    except InvalidSpecifier:
        raise ParseError(f"invalid python_requires {value!r}", path=rel, line=line) from None


def _key_line(lines: list[str], section: str, key: str) -> int | None:
    """Line of ``key =`` in ``[section]`` (configparser keeps no positions)."""
    current = None
    key_re = re.compile(rf"^{re.escape(key)}\s*[=:]", re.IGNORECASE)
    for no, line in enumerate(lines, 1):
        m = re.match(r"^\s*\[([^\]]+)\]", line)
        if m:
            current = m.group(1).strip()
            continue
        if current == section and key_re.match(line):
            return no
    return None


def _requirements(
    value: str,
    *,
    rel: str,
    lines: list[str],
    section: str,
    key: str,
    group: str | None,
    base_dir: Path | None,
    root: Path | None,
    files: list[str],
) -> list[Requirement]:
    key_line = _key_line(lines, section, key)
    stripped = value.strip()
    if stripped.startswith("file:"):
        return _from_files(stripped[5:], rel=rel, line=key_line, group=group, base_dir=base_dir, root=root, files=files)
    if "\n" in stripped:
        items = [x.strip() for x in stripped.splitlines()]
    else:
        items = [stripped] if _parses(stripped) else [x.strip() for x in stripped.split(";")]
    out: list[Requirement] = []
    cursor = key_line or 1
    for item in items:
        item = re.sub(r"\s+#.*$", "", item).strip()
        if not item or item.startswith("#"):
            continue
        line = _find(lines, item, cursor) or key_line
        cursor = line or cursor
        out.append(parse_pep508(item, rel=rel, line=line, group=group))
    return out


def _parses(text: str) -> bool:
    from packaging.requirements import InvalidRequirement
    from packaging.requirements import Requirement as Pep508

    try:
        Pep508(text)
    except (InvalidRequirement, ValueError, RecursionError):
        return False
    return True


def _find(lines: list[str], item: str, start: int) -> int | None:
    for no in range(start, len(lines) + 1):
        if item in lines[no - 1]:
            return no
    return None


def _from_files(
    spec: str,
    *,
    rel: str,
    line: int | None,
    group: str | None,
    base_dir: Path | None,
    root: Path | None,
    files: list[str],
) -> list[Requirement]:
    if base_dir is None or root is None:
        return []
    out: list[Requirement] = []
    for name in (n.strip() for n in spec.split(",")):
        if not name:
            continue
        path = base_dir / name
        if not path.is_file():
            raise ParseError(f"file: {name} not found", path=rel, line=line)
        declared = reqfile.parse(path, root)
        files.extend(f for f in declared.files if f not in files)
        out.extend(reqfile.with_group(declared.requirements, group))
    return out
