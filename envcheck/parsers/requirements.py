"""pip requirements files (``requirements*.txt``, pip-tools ``*.in``).

Follows pip's own reading rules (``pip/_internal/req/req_file.py``): ``\\``
continuations are joined first, then ``#`` comments (at the start of a line or
after whitespace) are dropped, then each logical line is either an option line
(``-r``, ``-c``, ``-e``, ``--index-url`` …) or a requirement followed by
per-requirement options (``--hash``).  ``-r``/``-c`` paths are relative to the
including file.  Every entry's ``source`` names the file that declares it, so a
finding on a chained include points at the right line.

Also home of the small PEP 508 helpers every Python manifest parser shares.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from envcheck import _regex
from envcheck._io import read_text
from envcheck._pep440 import PLAIN_OPERATORS, canonical_name, is_normal_version
from envcheck.errors import EnvcheckError, ParseError
from envcheck.parsers._suppress import suppressed_rules
from envcheck.record import record, replace
from envcheck.snapshot import Declared, Requirement, Suppression

__all__ = [
    "MAX_INCLUDE_DEPTH",
    "canonical",
    "parse",
    "parse_pep508",
    "parse_text",
    "read_manifest",
    "relpath",
    "scan_suppressions",
    "spec_str",
]

# pip has no limit and dies with a RecursionError; a real project never nests
# requirement files this deep, so deeper means a generated or hostile tree.
MAX_INCLUDE_DEPTH = 16

_COMMENT_RE = _regex.compile(r"(^|\s+)#.*$")
_URL_SCHEME_RE = _regex.compile(r"^(?:[a-z][a-z0-9+.-]*)://", re.IGNORECASE)
_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
_ARCHIVE_EXTS = (".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip")
_EGG_RE = _regex.compile(r"[#&]egg=([^&]+)")
_SDIST_NAME_RE = _regex.compile(r"^(?P<name>.+?)-(?P<version>\d[^-]*)$")
# Tokens of a requirements file name that mean "not needed at run time".
_DEV_WORDS = frozenset(
    {"dev", "develop", "development", "test", "tests", "testing", "lint", "linting", "doc", "docs", "typing", "ci"}
)
# Options pip accepts on a line of their own; they change where packages come
# from, not which, so envcheck reads past them.  Those taking a value:
_OPTS_WITH_VALUE = frozenset(
    {
        "-r",
        "--requirement",
        "-c",
        "--constraint",
        "-e",
        "--editable",
        "--hash",
        "--global-option",
        "--config-settings",
        "-C",
        "-i",
        "--index-url",
        "--extra-index-url",
        "-f",
        "--find-links",
        "--trusted-host",
        "--only-binary",
        "--no-binary",
        "--use-feature",
        "--progress-bar",
    }
)


# --------------------------------------------------------------------------- shared helpers


def canonical(name: str) -> str:
    return canonical_name(name)


def relpath(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` in POSIX form (``..`` when outside it)."""
    try:
        rel = path.resolve().relative_to(root.resolve())
    except ValueError:
        rel = Path(os.path.relpath(path.resolve(), root.resolve()))
    return rel.as_posix()


def read_manifest(path: Path, rel: str) -> str:
    """Read with envcheck's size cap, reporting errors under the project-relative name."""
    try:
        return read_text(path)
    except EnvcheckError as exc:
        raise ParseError(exc.message, path=rel) from None


def scan_suppressions(text: str, rel: str) -> tuple[Suppression, ...]:
    """``# envcheck: ignore[...]`` comments of a ``#``-commented file, one per line."""
    out: list[Suppression] = []
    for no, line in enumerate(text.splitlines(), 1):
        if "#" not in line:
            continue
        rules = suppressed_rules(line)
        if rules is not None:
            out.append(Suppression(source=f"{rel}:{no}", rules=rules))
    return tuple(out)


def parse_pep508(
    text: str,
    *,
    rel: str,
    line: int | None,
    group: str | None = None,
    hashes: tuple[str, ...] = (),
    editable: bool = False,
) -> Requirement:
    """One PEP 508 string as a :class:`Requirement`; invalid → ``ParseError`` at ``rel:line``."""
    simple = simple_requirement(text)
    if simple is not None:
        # `name`, `name==1.2`, `name[extra]>=1.0,<2`: what requirements files
        # are mostly made of.  The Requirement packaging would make, without
        # importing its parser (tens of ms of a snapshot's or lint's start-up;
        # issue 15).  tests/unit/test_unit_pep508_fast_path.py holds this to
        # packaging's answer.
        name, extras, specifier = simple
        return Requirement(
            ecosystem="python",
            name=canonical(name),
            specifier=specifier,
            source=_src(rel, line),
            extras=extras,
            editable=editable,
            hashes=hashes,
            group=group,
        )
    return _parse_with_packaging(text, rel=rel, line=line, group=group, hashes=hashes, editable=editable)


# PEP 508's name (ASCII letters and digits, inner . _ -), optional extras, and
# version clauses whose version is in normal form, with the spaces and tabs
# packaging's tokenizer allows around them.  Anything else — markers, URLs,
# wildcards, ~=, ===, parentheses — is packaging's to parse.
_IDENT = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_CLAUSE = rf"(?:{PLAIN_OPERATORS})[ \t]*[^ \t,]+"
# Matched on the text stripped of spaces and tabs: every run of them left is
# followed by a fixed character, so no input makes the match backtrack.  The
# versions are checked afterwards (is_normal_version): one small pattern here
# compiles in a third of the time one with the version grammar in it took.
_SIMPLE_REQ = _regex.compile(
    rf"({_IDENT})(?:[ \t]*\[[ \t]*({_IDENT}(?:[ \t]*,[ \t]*{_IDENT})*)[ \t]*\])?"
    rf"(?:[ \t]*({_CLAUSE}(?:[ \t]*,[ \t]*{_CLAUSE})*))?"
)
_CLAUSE_SPLIT = _regex.compile(rf"({PLAIN_OPERATORS})[ \t]*([^ \t,]+)")
_SEPARATORS = _regex.LazyPattern(r"[-_.]+")
_OPERATOR = _regex.LazyPattern(r"^(===|==|~=|>=|<=|!=|>|<)")
_DIRECT_REFERENCE = _regex.LazyPattern(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@")


def simple_requirement(text: str) -> tuple[str, tuple[str, ...], str] | None:
    """``(name, extras, specifier)`` as packaging would give them, or None when packaging must decide."""
    m = _SIMPLE_REQ.fullmatch(text.strip(" \t"))
    if m is None:
        return None
    name, raw_extras, raw_spec = m.groups()
    extras = tuple(sorted({e.strip() for e in raw_extras.split(",")})) if raw_extras else ()
    if not raw_spec:
        return name, extras, ""
    clauses = _CLAUSE_SPLIT.findall(raw_spec)
    ops = [op for op, _ in clauses]
    if len(set(ops)) != len(ops):
        # Two clauses of one operator: packaging keeps one of two equal
        # versions (1.0 and 1.0.0) by its own rule.
        return None
    for op, version in clauses:
        if not is_normal_version(version):
            return None
        if "+" in version and op not in ("==", "!="):
            return None  # a local version is an error with an ordering operator
    return name, extras, spec_str(op + version for op, version in clauses)


def _parse_with_packaging(
    text: str,
    *,
    rel: str,
    line: int | None,
    group: str | None = None,
    hashes: tuple[str, ...] = (),
    editable: bool = False,
) -> Requirement:
    from packaging.requirements import InvalidRequirement
    from packaging.requirements import Requirement as Pep508

    try:
        req = Pep508(text)
    except InvalidRequirement as exc:
        raise ParseError(f"invalid requirement {text.strip()!r}: {_first_line(exc)}", path=rel, line=line) from None
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"invalid requirement {text.strip()!r}: {_first_line(exc)}", path=rel, line=line) from None
    return Requirement(
        ecosystem="python",
        name=canonical(req.name),
        specifier=spec_str(req.specifier),
        source=_src(rel, line),
        extras=tuple(sorted(req.extras)),
        marker=str(req.marker) if req.marker is not None else None,
        url=req.url or None,
        editable=editable,
        hashes=hashes,
        group=group,
    )


_OP_RANK = {"===": 0, "==": 0, "~=": 1, ">=": 2, ">": 2, "!=": 3, "<=": 4, "<": 4}


def spec_str(spec: Iterable[object]) -> str:
    """A SpecifierSet as text, lower bounds first (``>=3.10,<4``), the way people write it."""
    items = [str(s) for s in spec]

    def key(item: str) -> tuple[int, str]:
        op = _OPERATOR.match(item)
        return (_OP_RANK.get(op.group(1), 5) if op else 5, item)

    return ",".join(sorted(items, key=key))


def _src(rel: str, line: int | None) -> str:
    return rel if line is None else f"{rel}:{line}"


def _first_line(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()
    return msg[0] if msg else type(exc).__name__


def group_for_filename(rel: str) -> str | None:
    """``dev`` for files whose name says they are not run-time deps.

    ``requirements-dev.txt``, ``dev-requirements.txt``, ``requirements/tests.txt``,
    ``requirements/docs-blog.in`` are; ``requirements.txt``,
    ``requirements/base.txt``, ``requirements/production.txt`` are not.
    """
    p = PurePosixPath(rel)
    stem = p.name.split(".")[0].lower()
    words = [w for w in _SEPARATORS.split(stem) if w and w not in ("requirements", "requirement", "reqs", "req")]
    if not words and p.parent.name.lower() in ("requirements", "reqs"):
        words = [stem]
    return "dev" if any(w in _DEV_WORDS for w in words[:1]) else None


# --------------------------------------------------------------------------- logical lines


@record
class _Line:
    number: int  # first physical line
    last: int  # last physical line
    text: str  # comments removed, stripped


def logical_lines(text: str) -> Iterator[_Line]:
    """pip's ``join_lines`` + ``ignore_comments``, keeping physical line numbers."""
    start: int | None = None
    parts: list[str] = []
    no = 0
    for no, raw in enumerate(text.splitlines(), 1):
        is_comment = raw.lstrip().startswith("#")
        if not raw.endswith("\\") or is_comment:
            if is_comment:
                raw = " " + raw
            if parts:
                parts.append(raw)
                yield _finish(start or no, no, parts)
                parts = []
                start = None
            else:
                yield _finish(no, no, [raw])
        else:
            if not parts:
                start = no
            parts.append(raw[:-1])
    if parts:
        yield _finish(start or no, no, parts)


def _finish(first: int, last: int, parts: list[str]) -> _Line:
    joined = "".join(parts)
    return _Line(first, last, _COMMENT_RE.sub("", joined).strip())


# --------------------------------------------------------------------------- the parser


class _State:
    """What one parse collects while it follows ``-r``/``-c`` includes (working state, not a record)."""

    __slots__ = ("done", "files", "requirements", "root", "suppressions")

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.requirements: list[Requirement] = []
        self.suppressions: list[Suppression] = []
        self.files: list[str] = []
        self.done: set[str] = set()


def parse(path: Path, root: Path) -> Declared:
    """Parse a requirements file and everything it ``-r``/``-c`` includes."""
    state = _State(root=root)
    _parse_file(path, state, stack=(), group=None, depth=0, include_line=None)
    return Declared(
        requirements=tuple(state.requirements),
        suppressions=tuple(state.suppressions),
        files=tuple(state.files),
    )


def parse_text(text: str, source_name: str = "requirements.txt", *, group: str | None = None) -> Declared:
    """Parse text without a file system: ``-r``/``-c`` lines are checked, not followed."""
    state = _State(root=None)
    rel = source_name
    _parse_lines(text, rel, None, state, stack=(rel,), group=group, depth=0)
    state.suppressions.extend(scan_suppressions(text, rel))
    return Declared(requirements=tuple(state.requirements), suppressions=tuple(state.suppressions), files=(rel,))


def parse_lines_into(
    lines: Iterable[tuple[int, str]],
    rel: str,
    base_dir: Path | None,
    root: Path | None,
    *,
    group: str | None = None,
) -> Declared:
    """Requirement lines that live inside another file (conda's ``pip:`` list)."""
    state = _State(root=root)
    for number, text in lines:
        item = _Line(number, number, _COMMENT_RE.sub("", text).strip())
        _parse_line(item, rel, base_dir, state, stack=(rel,), group=group, depth=0)
    return Declared(requirements=tuple(state.requirements), files=tuple(state.files))


def _parse_file(
    path: Path,
    state: _State,
    *,
    stack: tuple[str, ...],
    group: str | None,
    depth: int,
    include_line: tuple[str, int] | None,
) -> None:
    root = state.root or path.parent
    rel = relpath(path, root)
    if rel in stack:
        where = include_line or (rel, None)
        chain = " -> ".join((*stack[stack.index(rel) :], rel))
        raise ParseError(f"requirement files include each other in a cycle: {chain}", path=where[0], line=where[1])
    if depth > MAX_INCLUDE_DEPTH:
        where = include_line or (rel, None)
        raise ParseError(
            f"requirement files nested deeper than {MAX_INCLUDE_DEPTH} levels", path=where[0], line=where[1]
        )
    if rel in state.done:  # a diamond (dev → base, tests → base) reads base once
        return
    if include_line is not None and not path.is_file():
        raise ParseError(f"included requirements file not found: {rel}", path=include_line[0], line=include_line[1])
    text = read_manifest(path, rel)
    state.done.add(rel)
    state.files.append(rel)
    state.suppressions.extend(scan_suppressions(text, rel))
    file_group = group if group is not None else group_for_filename(rel)
    _parse_lines(text, rel, path.parent, state, stack=(*stack, rel), group=file_group, depth=depth)


def _parse_lines(
    text: str,
    rel: str,
    base_dir: Path | None,
    state: _State,
    *,
    stack: tuple[str, ...],
    group: str | None,
    depth: int,
) -> None:
    for item in logical_lines(text):
        if item.text:
            _parse_line(item, rel, base_dir, state, stack=stack, group=group, depth=depth)


def _split_options(item: _Line, rel: str) -> tuple[str, list[str]]:
    """pip's ``break_args_options``: the requirement, then ``-``-prefixed options."""
    tokens = item.text.split(" ")
    args: list[str] = []
    rest = list(tokens)
    while rest:
        tok = rest[0]
        if tok.startswith("-") or tok.startswith("--"):
            break
        args.append(rest.pop(0))
    return " ".join(args).strip(), _shell_words(" ".join(rest), rel, item.number)


# What makes shlex.split differ from str.split on ASCII text: quoting, escapes, and
# the separators str.split takes for whitespace and shlex does not.
_SHLEX_SPECIAL = frozenset("'\"\\\x0b\x0c\x1c\x1d\x1e\x1f")


def _shell_words(text: str, rel: str, line: int) -> list[str]:
    """``shlex.split(text)``; without quotes or escapes (nearly every line) the plain split it equals."""
    if text.isascii() and _SHLEX_SPECIAL.isdisjoint(text):
        return text.split()
    import shlex

    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError as exc:
        raise ParseError(f"cannot read options: {exc}", path=rel, line=line) from None


def _parse_line(
    item: _Line,
    rel: str,
    base_dir: Path | None,
    state: _State,
    *,
    stack: tuple[str, ...],
    group: str | None,
    depth: int,
) -> None:
    req_text, options = _split_options(item, rel)
    hashes: list[str] = []
    editable: str | None = None
    i = 0
    while i < len(options):
        opt = options[i]
        name, eq, inline = opt.partition("=")
        value: str | None = inline if eq else None
        if not opt.startswith("--") and len(opt) > 2 and opt[:2] in ("-r", "-c", "-e", "-i", "-f"):
            name, value = opt[:2], opt[2:]
        if value is None and name in _OPTS_WITH_VALUE:
            if i + 1 >= len(options):
                raise ParseError(f"option {name} needs a value", path=rel, line=item.number)
            i += 1
            value = options[i]
        target = value or ""
        if name in ("-r", "--requirement", "-c", "--constraint"):
            if req_text:
                raise ParseError(f"{name} cannot follow a requirement on the same line", path=rel, line=item.number)
            # Constraints stay constraints down the include chain (as in pip);
            # otherwise each included file's own name says whether it is dev.
            is_constraint = name in ("-c", "--constraint") or group == "constraint"
            _include(
                target,
                rel=rel,
                line=item.number,
                base_dir=base_dir,
                state=state,
                stack=stack,
                group="constraint" if is_constraint else None,
                depth=depth,
            )
        elif name in ("-e", "--editable"):
            editable = target
        elif name == "--hash":
            algo, colon, digest = target.partition(":")
            if not colon or not algo or not digest or not re.fullmatch(r"[A-Za-z0-9]+", algo):
                raise ParseError(
                    f"invalid --hash value {target!r} (expected ALGORITHM:DIGEST)", path=rel, line=item.number
                )
            hashes.append(f"{algo.lower()}:{digest}")
        # every other option (--pre, --no-index, --require-hashes, options of
        # a newer pip) is read past: it cannot change which packages are named.
        i += 1

    if editable is not None and req_text:
        raise ParseError(f"unexpected text after the editable requirement: {req_text!r}", path=rel, line=item.number)
    target = editable if editable is not None else req_text
    if not target:
        return
    if editable is not None or _looks_like_url_or_path(target):
        found = _url_requirement(
            target,
            rel=rel,
            line=item.number,
            base_dir=base_dir,
            root=state.root,
            group=group,
            hashes=tuple(hashes),
            editable=editable is not None,
        )
        if found is not None:
            state.requirements.append(found)
        return
    state.requirements.append(parse_pep508(req_text, rel=rel, line=item.number, group=group, hashes=tuple(hashes)))


def _include(
    target: str,
    *,
    rel: str,
    line: int,
    base_dir: Path | None,
    state: _State,
    stack: tuple[str, ...],
    group: str | None,
    depth: int,
) -> None:
    if _URL_SCHEME_RE.match(target):
        return  # pip can fetch remote requirement files; envcheck reads no network
    if base_dir is None:
        return  # text-only parsing: nothing to follow
    if "\x00" in target:
        raise ParseError("include path contains a NUL byte", path=rel, line=line)
    try:
        path = Path(target).expanduser()
    except RuntimeError:  # `~nosuchuser/...`
        raise ParseError(f"-r/-c {target}: no such home directory", path=rel, line=line) from None
    if not path.is_absolute():
        path = base_dir / path
    if state.root is not None and not _contained(path, state.root):
        # Like a symlink out of the project during discovery: a hostile
        # repository must not make envcheck read /proc/self/environ or ~/.netrc.
        raise ParseError(f"-r/-c {target}: outside the project directory, not read", path=rel, line=line)
    _parse_file(path, state, stack=stack, group=group, depth=depth + 1, include_line=(rel, line))


def _contained(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


# --------------------------------------------------------------------------- URL and path requirements


def _looks_like_url_or_path(text: str) -> bool:
    head = text.split(";", 1)[0].strip()
    if " @ " in text or _DIRECT_REFERENCE.match(text):
        return False  # PEP 508 direct reference, handled by packaging
    if head.startswith(_VCS_PREFIXES) or _URL_SCHEME_RE.match(head):
        return True
    if head.startswith((".", "/", "~")) or "/" in head.split("[", 1)[0] or "\\" in head:
        return True
    return head.lower().endswith(_ARCHIVE_EXTS)


def _url_requirement(
    text: str,
    *,
    rel: str,
    line: int,
    base_dir: Path | None,
    root: Path | None,
    group: str | None,
    hashes: tuple[str, ...],
    editable: bool,
) -> Requirement | None:
    # pip separates a URL's marker with "; " (a bare ";" can be part of a URL).
    url, sep, marker_text = (
        text.partition("; ") if ("://" in text or text.startswith(_VCS_PREFIXES)) else text.partition(";")
    )
    url = url.strip()
    marker: str | None = None
    if sep and marker_text.strip():
        marker = _check_marker(marker_text.strip(), rel, line)
    extras: tuple[str, ...] = ()
    m = re.match(r"^(?P<url>.*?)\[(?P<extras>[A-Za-z0-9._,\s-]*)\]$", url)
    if m and not _URL_SCHEME_RE.match(url):
        url = m.group("url")
        extras = tuple(sorted(canonical(e) for e in m.group("extras").split(",") if e.strip()))
    if not url:
        raise ParseError("empty URL or path requirement", path=rel, line=line)
    egg = _EGG_RE.search(url)
    if egg and not extras:
        m = re.search(r"\[(?P<extras>[A-Za-z0-9._,\s-]*)\]", unquote(egg.group(1)))
        if m:
            extras = tuple(sorted(canonical(e) for e in m.group("extras").split(",") if e.strip()))
    name = _name_from_url(url, base_dir, root)
    if name is None and base_dir is None and not _URL_SCHEME_RE.match(url) and not url.startswith(_VCS_PREFIXES):
        return None  # a local project ("-e .") read without its folder: nothing to name it by
    if name is None:
        raise ParseError(
            f"cannot tell the package name of {url!r}; add '#egg=NAME' or write 'NAME @ URL'", path=rel, line=line
        )
    return Requirement(
        ecosystem="python",
        name=canonical(name),
        specifier="",
        source=f"{rel}:{line}",
        extras=extras,
        marker=marker,
        url=url,
        editable=editable,
        hashes=hashes,
        group=group,
    )


def _check_marker(text: str, rel: str, line: int) -> str:
    from packaging.markers import InvalidMarker, Marker

    try:
        return str(Marker(text))
    except (InvalidMarker, ValueError, RecursionError) as exc:
        raise ParseError(f"invalid environment marker {text!r}: {_first_line(exc)}", path=rel, line=line) from None


def _name_from_url(url: str, base_dir: Path | None, root: Path | None) -> str | None:
    """The distribution a bare URL or path installs, as pip would learn it.

    pip builds the package to find out; envcheck reads the name from what the
    reference itself says: ``#egg=``, a wheel or sdist file name, a local
    project's ``pyproject.toml``/``setup.cfg``, or the repository name of a
    VCS URL or a forge archive link.
    """
    egg = _EGG_RE.search(url)
    if egg:
        name = unquote(egg.group(1)).split("[")[0].strip()
        return name if _valid_name(name) else None
    is_url = bool(_URL_SCHEME_RE.match(url)) or url.startswith(_VCS_PREFIXES)
    try:
        path_part = urlsplit(url.split("+", 1)[1] if url.startswith(_VCS_PREFIXES) else url).path if is_url else url
    except ValueError:  # urlsplit rejects a malformed "[host]"; such a URL names nothing
        return None
    path_part = unquote(path_part).rstrip("/")
    filename = path_part.rsplit("/", 1)[-1]
    low = filename.lower()
    if low.endswith(".whl"):
        name = filename.split("-", 1)[0]
        return name if _valid_name(name) else None
    for ext in _ARCHIVE_EXTS:
        if low.endswith(ext):
            stem = filename[: -len(ext)]
            m = _SDIST_NAME_RE.match(stem)
            if m and _valid_name(m.group("name")):
                return m.group("name")
            break
    if not is_url:
        local = _local_project_name(path_part, base_dir, root)
        if local:
            return local
    segments = [s for s in path_part.split("/") if s]
    if is_url and "archive" in segments:
        idx = segments.index("archive")
        if idx >= 1 and _valid_name(segments[idx - 1]):
            return segments[idx - 1]  # https://FORGE/OWNER/REPO/archive/REF.tar.gz
    if segments:
        last = segments[-1]
        if "@" in last and url.startswith(_VCS_PREFIXES):
            last = last.split("@", 1)[0]
        last = last.removesuffix(".git")
        if _valid_name(last) and last not in (".", ".."):
            return last
    return None


def _valid_name(name: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]", name))


def _local_project_name(path_text: str, base_dir: Path | None, root: Path | None) -> str | None:
    if base_dir is None:
        return None
    try:
        directory = Path(path_text).expanduser()
        if not directory.is_absolute():
            directory = base_dir / directory
        directory = directory.resolve()
        if directory.is_dir():
            name = _declared_name(directory)
            if name:
                return name
        base = directory.name or (root.resolve().name if root else "")
    except (OSError, ValueError, RuntimeError):  # a NUL byte in the path; `~nosuchuser`
        return None
    return base if _valid_name(base) else None


def _declared_name(directory: Path) -> str | None:
    """``[project].name`` / ``[tool.poetry].name`` / setup.cfg ``[metadata] name``; errors mean unknown."""
    from envcheck import _toml

    pyproject = directory / "pyproject.toml"
    try:
        if pyproject.is_file():
            data = _toml.loads(read_text(pyproject, limit=4 * 1024 * 1024), str(pyproject))
            for table in (
                data.get("project"),
                data.get("tool", {}).get("poetry") if isinstance(data.get("tool"), dict) else None,
            ):
                if isinstance(table, dict) and isinstance(table.get("name"), str) and _valid_name(table["name"]):
                    return str(table["name"])
        setup_cfg = directory / "setup.cfg"
        if setup_cfg.is_file():
            m = re.search(
                r"^\[metadata\][^\[]*?^name\s*[=:]\s*(\S+)", read_text(setup_cfg, limit=1024 * 1024), re.M | re.S
            )
            if m and _valid_name(m.group(1)):
                return m.group(1)
    except (EnvcheckError, OSError):
        return None
    return None


def with_group(reqs: Iterable[Requirement], group: str | None) -> tuple[Requirement, ...]:
    return tuple(replace(r, group=group) for r in reqs)
