"""Dockerfiles (``Dockerfile``, ``*.Dockerfile``, ``Dockerfile.*``, ``Containerfile``).

What the static rules need from a Dockerfile, via ``dockerfile-parse``:

- every stage's base image after global ``ARG`` substitution (EC402, EC403),
  skipping ``FROM <earlier stage>`` and ``scratch``;
- the interpreter version a ``python:``/``node:`` base names, as a version
  file keyed ``Dockerfile:LINE`` (EC305);
- ``RUN`` package installs: pip / ``python -m pip`` / ``uv pip``, npm, yarn,
  pnpm, with packages, options and ``-r`` files told apart (EC404, EC405);
- ``ENV``/``ARG`` *names*, whether a value is baked in and whether it looks
  like a credential (EC503) — the value itself only when
  :func:`envcheck.secrets.keep_value` allows it;
- ``# envcheck: ignore[…]`` on the line before an instruction or on it.

Every ``source`` is ``relpath:LINE`` with the 1-based first line of the
instruction, which is where a finding points and a suppression matches.
"""

from __future__ import annotations

import functools
import io
import json
import os
import re
import shlex
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath

from envcheck import _regex
from envcheck._cache import by_content
from envcheck._io import read_text
from envcheck.errors import EnvcheckError, ParseError
from envcheck.parsers import relpath
from envcheck.parsers._suppress import suppressed_rules
from envcheck.parsers.version_files import NODE_LTS
from envcheck.record import record
from envcheck.secrets import keep_value, looks_secret
from envcheck.snapshot import (
    BaseImage,
    Declared,
    DeclaredRuntime,
    DockerfileVar,
    InstallCommand,
    Suppression,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Literal


_DIRECTIVE = _regex.compile(r"#\s*envcheck:\s*ignore(?:\[[^\]]*\])?", re.IGNORECASE)
_VAR = _regex.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-+])(?P<word>[^}]*))?\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)
_HEREDOC = _regex.compile(r"^<<-?\s*([\"']?)(?P<word>[A-Za-z_][A-Za-z0-9_]*)\1")
_ASSIGNMENT = _regex.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_NAME = _regex.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_LEADING_VERSION = _regex.compile(r"^v?(\d+(?:\.\d+){0,2})(?![\d])")

MAX_BYTES = 4 * 1024 * 1024


@record
class _Instruction:
    keyword: str
    value: str
    line: int  # 1-based first line
    end: int  # 1-based last line
    content: str


def parse(path: Path, root: Path) -> Declared:
    rel = relpath(path, root)
    return parse_text(read_text(path, limit=MAX_BYTES), rel)


def parse_text(text: str, rel: str) -> Declared:
    """Parse Dockerfile ``text``; ``rel`` names it in sources and errors."""
    instructions = _instructions(text, rel)
    lines = text.splitlines()

    global_args: dict[str, str | None] = {}
    stages: set[str] = set()
    seen_from = False
    base_images: list[BaseImage] = []
    installs: list[InstallCommand] = []
    variables: list[DockerfileVar] = []
    suppressions: list[Suppression] = []
    py_versions: dict[str, str] = {}
    node_versions: dict[str, str] = {}
    notes: list[str] = []

    skip_until = -1
    for index, ins in enumerate(instructions):
        if index <= skip_until or ins.keyword == "COMMENT":
            continue
        source = f"{rel}:{ins.line}"
        rules = _suppression_for(ins, lines)
        if rules is not None:
            suppressions.append(Suppression(source=source, rules=rules))
        value = _DIRECTIVE.sub("", ins.value).strip()

        if ins.keyword == "FROM":
            seen_from = True
            base = _from(value, rel, ins.line, global_args, stages)
            if base is None:
                continue
            base_images.append(base)
            runtime = image_runtime(base.ref)
            if runtime is not None:
                kind, version = runtime
                (py_versions if kind == "python" else node_versions)[source] = version
        elif ins.keyword in ("ARG", "ENV"):
            pairs = _key_values(value, ins.keyword, rel, ins.line)
            for name, val in pairs:
                if ins.keyword == "ARG" and not seen_from:
                    global_args[name] = val
                variables.append(_variable(name, val, ins.keyword, source))
        elif ins.keyword == "RUN":
            script, skip_until = _run_script(value, instructions, index)
            for found in _installs(script):
                if isinstance(found, str):
                    notes.append(f"{source}: {found}")
                    continue
                tool, action, packages, files = found
                installs.append(InstallCommand(tool=tool, action=action, packages=packages, files=files, source=source))

    return Declared(
        python=DeclaredRuntime(version_files=py_versions) if py_versions else None,
        node=DeclaredRuntime(version_files=node_versions) if node_versions else None,
        base_images=tuple(base_images),
        installs=tuple(installs),
        dockerfile_vars=tuple(variables),
        suppressions=tuple(suppressions),
        files=(rel,),
        notes=tuple(notes),
    )


def copy_sources(text: str, rel: str) -> tuple[str, ...]:
    """Paths ``COPY``/``ADD`` take from the build context (not ``--from`` stages, not URLs), as written.

    The project scanner uses them to see what a root Dockerfile builds:
    ``COPY backend/requirements.txt .`` makes ``backend/`` part of the project.
    """
    import json

    out: list[str] = []
    for ins in _instructions(text, rel):
        if ins.keyword not in ("COPY", "ADD"):
            continue
        value = _DIRECTIVE.sub("", ins.value).strip()
        words: list[str]
        if value.startswith("["):
            try:
                loaded = json.loads(value)
            except ValueError:
                continue
            words = [str(w) for w in loaded] if isinstance(loaded, list) else []
        else:
            words = value.split()
        if any(w.startswith("--from") for w in words):
            continue
        args = [w for w in words if not w.startswith("--")]
        for src in args[:-1]:
            if "://" in src or src.startswith("git@"):
                continue
            out.append(src.removeprefix("./").rstrip("/") or ".")
    return tuple(out)


# --------------------------------------------------------------------------- structure


# The project scanner reads a root Dockerfile's COPY sources before the parser reads the
# whole file: one parse serves both.  Across runs, the parse is remembered under the
# Dockerfile's text: importing dockerfile-parse (and the logging package it imports)
# was a sixth of every `envcheck lint`, for a Dockerfile that rarely changes (issue 15).
@functools.lru_cache(maxsize=4)
def _instructions(text: str, rel: str) -> tuple[_Instruction, ...]:
    salt = _parser_identity()
    try:
        rows = _parse_rows(text) if salt is None else by_content("dockerfile", text, salt, _parse_rows)
    except EnvcheckError:
        raise
    except Exception as exc:  # dockerfile-parse raises assorted types on garbage; a failure is not remembered
        raise ParseError(f"cannot parse Dockerfile: {type(exc).__name__}", path=rel) from None
    return tuple(
        _Instruction(keyword=keyword, value=value, line=line, end=end, content=content)
        for keyword, value, line, end, content in rows
    )


@functools.lru_cache(maxsize=1)
def _parser_identity() -> str | None:
    """envcheck's version and where dockerfile-parse's parser is, with its stat: what a remembered parse depends on.

    Found without importing it (that is the cost the cache saves); None, and no
    caching, when it is not a plain file on ``sys.path``.
    """
    from envcheck import __version__

    loaded = sys.modules.get("dockerfile_parse.parser")
    candidates = [loaded.__file__] if loaded is not None and loaded.__file__ else []
    candidates += [os.path.join(entry or os.curdir, "dockerfile_parse", "parser.py") for entry in sys.path]
    for candidate in candidates:
        try:
            st = os.stat(candidate)
        except OSError:
            continue
        return f"{__version__} {os.path.abspath(candidate)} {st.st_mtime_ns} {st.st_size}"
    return None


def _parse_rows(text: str) -> list[list[Any]]:
    """dockerfile-parse's instructions as ``[keyword, value, first line, last line, content]`` rows."""
    from dockerfile_parse import DockerfileParser

    parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")), env_replace=False)
    structure: list[dict[str, Any]] = parser.structure
    return [
        [
            str(item["instruction"]).upper(),
            str(item.get("value", "")),
            int(item["startline"]) + 1,
            int(item["endline"]) + 1,
            str(item.get("content", "")),
        ]
        for item in structure
    ]


def _suppression_for(ins: _Instruction, lines: Sequence[str]) -> tuple[str, ...] | None:
    found: list[tuple[str, ...]] = []
    before = ins.line - 2
    if 0 <= before < len(lines) and lines[before].lstrip().startswith("#"):
        rules = suppressed_rules(lines[before])
        if rules is not None:
            found.append(rules)
    for number in range(ins.line - 1, min(ins.end, len(lines))):
        rules = suppressed_rules(lines[number])
        if rules is not None:
            found.append(rules)
    if not found:
        return None
    if any(r == () for r in found):
        return ()
    return tuple(sorted({r for group in found for r in group}))


# --------------------------------------------------------------------------- FROM


def expand(word: str, variables: Mapping[str, str | None]) -> str:
    """Docker's ``$VAR``/``${VAR}``/``${VAR:-default}``/``${VAR:+alt}`` substitution.

    A variable without a value (``ARG BASE`` with no default) is left as
    written: its value comes from ``--build-arg``, which a static read cannot know.
    """

    def sub(m: re.Match[str]) -> str:
        name = m.group("braced") or m.group("plain")
        op = m.group("op")
        word_ = m.group("word") or ""
        value = variables.get(name)
        if op is None:
            return value if value is not None else m.group(0)
        if op in (":-", "-"):
            if value is None or (op == ":-" and value == ""):
                return word_
            return value
        # `:+` / `+`: the alternative when set
        if value is not None and (op == "+" or value != ""):
            return word_
        return "" if name in variables else m.group(0)

    return _VAR.sub(sub, word)


def _from(value: str, rel: str, line: int, args: Mapping[str, str | None], stages: set[str]) -> BaseImage | None:
    words = value.split()
    while words and words[0].startswith("--"):
        words.pop(0)  # --platform=…
    if not words:
        raise ParseError("FROM without an image", path=rel, line=line)
    raw = words[0]
    stage = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
    ref = expand(raw, args)
    is_stage = ref.lower() in stages
    if stage is not None:
        stages.add(stage.lower())
    if is_stage or ref.lower() == "scratch":
        return None
    return BaseImage(ref=ref, source=f"{rel}:{line}", stage=stage, raw=raw if ref != raw else None)


def split_image_ref(ref: str) -> tuple[str, str | None, str | None]:
    """``(repository, tag, digest)``; ``docker.io/library/`` prefixes are dropped from the repository."""
    digest: str | None = None
    if "@" in ref:
        ref, digest = ref.split("@", 1)
    tag: str | None = None
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        ref, tag = ref[:colon], ref[colon + 1 :]
    repo = ref.lower()
    for prefix in ("docker.io/", "index.docker.io/", "registry-1.docker.io/"):
        if repo.startswith(prefix):
            repo = repo[len(prefix) :]
    repo = repo.removeprefix("library/")
    return repo, tag, digest


def image_runtime(ref: str) -> tuple[Literal["python", "node"], str] | None:
    """The interpreter version an official ``python``/``pypy``/``node`` image tag names."""
    repo, tag, _ = split_image_ref(ref)
    if tag is None:
        return None
    if repo in ("python", "pypy"):
        m = _LEADING_VERSION.match(tag)
        return ("python", m.group(1)) if m else None
    if repo == "node":
        m = _LEADING_VERSION.match(tag)
        if m:
            return ("node", m.group(1))
        codename = tag.split("-")[0].lower()
        if codename == "lts" and "-" in tag:
            codename = tag.split("-")[1].lower()
        major = NODE_LTS.get(codename)
        return ("node", major) if major else None
    return None


# --------------------------------------------------------------------------- ENV / ARG


def _key_values(value: str, keyword: str, rel: str, line: int) -> list[tuple[str, str | None]]:
    try:
        words = shlex.split(value, posix=True)
    except ValueError:
        raise ParseError(f"{keyword}: unbalanced quotes", path=rel, line=line) from None
    if not words:
        return []
    if keyword == "ENV" and "=" not in words[0]:
        # Legacy `ENV NAME value with spaces`: one variable, the rest is its value.
        rest = value.strip()[len(value.split(maxsplit=1)[0]) :].strip()
        try:
            legacy_value = " ".join(shlex.split(rest, posix=True))
        except ValueError:
            legacy_value = rest
        return [(words[0], legacy_value)] if _NAME.match(words[0]) else []
    out: list[tuple[str, str | None]] = []
    for word in words:
        name, eq, val = word.partition("=")
        if not _NAME.match(name):
            continue
        out.append((name, val if eq else None))
    return out


def _variable(name: str, value: str | None, kind: str, source: str) -> DockerfileVar:
    has_value = value is not None and value != ""
    secret = bool(value) and looks_secret(name, value or "")
    kept = value if value and not secret and keep_value(name, value) else None
    return DockerfileVar(
        name=name,
        kind="ENV" if kind == "ENV" else "ARG",
        source=source,
        has_value=has_value,
        secret=secret,
        value=kept,
    )


# --------------------------------------------------------------------------- RUN


def _run_script(value: str, instructions: Sequence[_Instruction], index: int) -> tuple[str, int]:
    """The shell text a RUN executes, and the last instruction index it consumed (heredocs)."""
    words = value.split(None, 1)
    while words and words[0].startswith("--"):
        value = words[1] if len(words) > 1 else ""  # --mount=…, --network=…
        words = value.split(None, 1)
    value = value.strip()
    if value.startswith("["):
        try:
            argv = json.loads(value)
        except (ValueError, RecursionError):
            return value, index
        if isinstance(argv, list) and all(isinstance(a, str) for a in argv):
            return shlex.join(argv), index
        return "", index
    m = _HEREDOC.match(value)
    if m is None:
        return value, index
    # dockerfile-parse does not know heredocs: the body arrives as bogus
    # instructions; gather their raw text until the terminator.
    word = m.group("word")
    body: list[str] = []
    last = index
    for j in range(index + 1, len(instructions)):
        last = j
        content = instructions[j].content
        if content.strip() == word:
            break
        body.append(content)
    return "\n".join(body), last


_SEPARATORS = frozenset({"&&", "||", ";", "|", "&", "(", ")", ";;", "|&", "\n"})
_REDIRECTS = frozenset({">", ">>", "<", "<<", ">&", "<&", "&>", "&>>", "<<<", ">|"})
_WRAPPERS = frozenset({"sudo", "exec", "time", "nice", "nohup", "command", "builtin", "then", "do", "else", "!"})
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh"})


def _commands(script: str) -> Iterator[list[str]]:
    """Simple commands in a shell script, split at ``&&``, ``;``, ``|`` and newlines."""
    for chunk in script.replace("\\\n", " ").split("\n"):
        lexer = shlex.shlex(chunk, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        try:
            tokens = list(lexer)
        except ValueError:
            tokens = chunk.split()  # unbalanced quotes: the shell would fail; read what we can
        current: list[str] = []
        skip_next = False
        for tok in tokens:
            if skip_next:
                skip_next = False
                continue
            if tok in _REDIRECTS:
                skip_next = True
                if current and current[-1].isdigit():
                    current.pop()
                continue
            if tok in _SEPARATORS or (tok and set(tok) <= set("&|;()")):
                if current:
                    yield current
                current = []
                continue
            current.append(tok)
        if current:
            yield current


# Shell the parser does not follow: command and process substitution. A
# command using one computes its arguments at build time (`pip install -r
# <(pipenv lock -r)`), so its words are not package names.
_SUBSTITUTION = _regex.compile(r"\$\(|<\(|>\(|`")
_INSTALLERS = frozenset({"pip", "pip3", "npm", "yarn", "pnpm", "uv", "npx", "corepack"})

Install = tuple[str, str, tuple[str, ...], tuple[str, ...]]


def _installs(script: str, depth: int = 0) -> Iterator[Install | str]:
    """Install commands in a RUN script; a str is a note on one that is not a plain install (skipped)."""
    for chunk in script.replace("\\\n", " ").split("\n"):
        if _SUBSTITUTION.search(chunk):
            for cmd in _commands(chunk):
                if _mentions_installer(cmd):
                    yield f"RUN {' '.join(chunk.split())[:80]!r} computes its arguments in the shell; install not read"
                    break
            continue
        for cmd in _commands(chunk):
            while cmd and (cmd[0] in _WRAPPERS or _ASSIGNMENT.match(cmd[0]) or cmd[0] == "env"):
                cmd = cmd[1:]
            if not cmd:
                continue
            exe = PurePosixPath(cmd[0]).name
            if exe in _SHELLS and "-c" in cmd[1:] and depth < 3:
                i = cmd.index("-c")
                if i + 1 < len(cmd):
                    yield from _installs(cmd[i + 1], depth + 1)
                continue
            parsed = _install(exe, cmd[1:])
            if parsed is not None:
                yield parsed


def _mentions_installer(cmd: Sequence[str]) -> bool:
    # Words inside a quoted `bash -c "…"` argument count too.
    words = (PurePosixPath(w).name for tok in cmd for w in tok.split())
    return any(_PIP_EXE.match(w) or w in _INSTALLERS for w in words)


_PIP_EXE = _regex.compile(r"^pip(\d+(\.\d+)?)?$")
_PYTHON_EXE = _regex.compile(r"^python(\d+(\.\d+)?)?$")


def _install(exe: str, args: list[str]) -> tuple[str, str, tuple[str, ...], tuple[str, ...]] | None:
    if exe in ("npx", "corepack"):
        args = [a for a in args if not a.startswith("-")]
        if not args:
            return None
        exe, args = args[0].split("@", 1)[0] if not args[0].startswith("@") else args[0], args[1:]
    if _PIP_EXE.match(exe):
        return _pip(args)
    if _PYTHON_EXE.match(exe):
        for i, a in enumerate(args):
            if a == "-m" and i + 1 < len(args):
                return _pip(args[i + 2 :]) if args[i + 1] == "pip" else None
            if a == "-mpip":
                return _pip(args[i + 1 :])
            if not a.startswith("-"):
                return None
        return None
    if exe == "uv" and args[:1] == ["pip"]:
        return _pip(args[1:])
    if exe == "npm":
        return _npm(args)
    if exe == "yarn":
        return _yarn(args)
    if exe == "pnpm":
        return _pnpm(args)
    return None


# pip options that take a value (the next word unless written `--opt=value`).
_PIP_VALUE_OPTS = frozenset(
    {
        "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
        "--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix", "--root",
        "--platform", "--python-version", "--implementation", "--abi", "--trusted-host",
        "--global-option", "--install-option", "-C", "--config-settings", "--src",
        "--upgrade-strategy", "--progress-bar", "--cache-dir", "--log", "--log-file",
        "--timeout", "--retries", "--proxy", "--cert", "--client-cert", "--exists-action",
        "--no-binary", "--only-binary", "--report", "--root-user-action", "--python",
        "--keyring-provider", "--use-feature", "--use-deprecated", "--group", "-p",
    }
)  # fmt: skip


def _is_local(arg: str) -> bool:
    """A path, URL, archive or shell expansion: not a registry package name."""
    return (
        arg.startswith((".", "/", "~", "$", "file:", "git+", "hg+", "svn+", "bzr+", "http:", "https:", "github:"))
        or "://" in arg
        or arg.endswith((".whl", ".tar.gz", ".zip", ".tgz", ".tar.bz2"))
        or "$" in arg
        or "`" in arg
    )


def _pip(args: list[str]) -> tuple[str, str, tuple[str, ...], tuple[str, ...]] | None:
    # General options may precede the sub-command (`pip --no-cache-dir install`).
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in _PIP_VALUE_OPTS else 1
    if i >= len(args) or args[i] != "install":
        return None
    packages: list[str] = []
    files: list[str] = []
    rest = args[i + 1 :]
    j = 0
    while j < len(rest):
        a = rest[j]
        j += 1
        if a.startswith("-"):
            opt, eq, inline = a.partition("=")
            value: str | None = inline if eq else None
            if opt in ("-r", "--requirement", "-c", "--constraint", "-e", "--editable") or (
                len(opt) > 2 and opt[:2] in ("-r", "-c", "-e") and not opt.startswith("--")
            ):
                short = opt[:2] if not opt.startswith("--") else opt
                if value is None and len(opt) > 2 and not opt.startswith("--"):
                    value = opt[2:]  # -rrequirements.txt
                if value is None and j < len(rest):
                    value = rest[j]
                    j += 1
                if value is None:
                    continue
                if short in ("-r", "--requirement", "-c", "--constraint"):
                    files.append(value)
                elif not _is_local(value):
                    packages.append(value)
            elif opt in _PIP_VALUE_OPTS and not eq:
                j += 1
            continue
        if not _is_local(a):
            packages.append(a)
    return ("pip", "install", tuple(packages), tuple(files))


_NPM_INSTALL = frozenset(
    {"install", "i", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal", "isntall", "add"}
)
_NPM_CI = frozenset({"ci", "clean-install", "ic", "install-clean", "isntall-clean", "install-ci-test", "cit"})
_NPM_VALUE_OPTS = frozenset(
    {"--prefix", "-C", "--registry", "-w", "--workspace", "--omit", "--include", "--cache", "--tag", "--loglevel",
     "--userconfig", "--globalconfig", "--install-strategy", "--filter", "--dir", "--network-concurrency",
     "--cwd", "--modules-folder", "--mutex", "--store-dir", "--virtual-store-dir"}
)  # fmt: skip


def _positional(args: Sequence[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a.startswith("-"):
            skip = a in _NPM_VALUE_OPTS
            continue
        out.append(a)
    return out


def _node_packages(words: Sequence[str]) -> tuple[str, ...]:
    return tuple(w for w in words if not _is_local(w))


def _npm(args: list[str]) -> tuple[str, str, tuple[str, ...], tuple[str, ...]] | None:
    words = _positional(args)
    if not words:
        return None
    sub = words[0]
    if sub in _NPM_CI:
        return ("npm", "ci", (), ())
    if sub in _NPM_INSTALL:
        return ("npm", "install", _node_packages(words[1:]), ())
    return None


def _yarn(args: list[str]) -> tuple[str, str, tuple[str, ...], tuple[str, ...]] | None:
    words = _positional(args)
    if not words:
        return ("yarn", "install", (), ())  # bare `yarn` installs
    if words[0] == "global":
        words = words[1:]
    if not words:
        return None
    if words[0] == "install":
        return ("yarn", "install", _node_packages(words[1:]), ())
    if words[0] == "add":
        return ("yarn", "add", _node_packages(words[1:]), ())
    return None


def _pnpm(args: list[str]) -> tuple[str, str, tuple[str, ...], tuple[str, ...]] | None:
    words = _positional(args)
    if not words:
        return None
    if words[0] in ("install", "i"):
        return ("pnpm", "install", _node_packages(words[1:]), ())
    if words[0] == "add":
        return ("pnpm", "add", _node_packages(words[1:]), ())
    return None
