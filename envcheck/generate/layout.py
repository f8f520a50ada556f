"""The generator's I/O edge: the few facts about a project's *layout* it needs.

A :class:`~envcheck.snapshot.Snapshot` says what a project declares (versions,
requirements, locks, env refs).  Choosing a ``CMD``, a port, or whether node
is a build step or a runtime also needs to know which entry files exist and
what ``package.json`` scripts say; :func:`read_layout` collects exactly that,
so :func:`envcheck.generate.dockerfile.generate` stays a pure function.

:func:`read_requires_dist` is the other edge: a host snapshot lists installed
distributions with the path of their ``*.dist-info``; their ``Requires-Dist``
lets the generator lock only what the project needs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from email.parser import HeaderParser
from pathlib import Path

from packaging.utils import canonicalize_name

from envcheck import _regex
from envcheck._io import read_text
from envcheck._toml import loads
from envcheck.errors import EnvcheckError, ParseError
from envcheck.generate.build_env import BuildEnv, read_build_env
from envcheck.generate.node_layout import (
    VersionDecl,
    Workspace,
    lifecycle_scripts,
    local_sources,
    netlify_publish,
    read_version_decls,
    read_workspace,
)
from envcheck.generate.procfile import Procfile, parse_procfile
from envcheck.record import field, record
from envcheck.snapshot import Package

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


_SOURCE_CAP = 256 * 1024  # entry files are read for hints only; a huge one is not an app entry point
_NODE_DIRS = ("frontend", "client", "web", "ui", "assets", "static_src")
_PY_DIRS = ("backend", "server", "api", "app", "service")
_PY_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "requirements.txt", "Pipfile", "manage.py", "uv.lock")
_PORT_PATTERNS = (
    _regex.compile(r"\.listen\(\s*(\d{2,5})\b"),
    _regex.compile(r"PORT\s*(?:\|\||\?\?|or|,)\s*['\"]?(\d{2,5})\b"),
    _regex.compile(r"\bport\s*=\s*(\d{2,5})\b"),
    _regex.compile(r"(?:--bind|-b)\s+[\w.]*:(\d{2,5})\b"),
    _regex.compile(r"--port[= ](\d{2,5})\b"),
)


@record
class NodeApp:
    """A ``package.json`` the image needs: ``dir`` is ``""`` for the project root."""

    dir: str
    scripts: Mapping[str, str] = field(default_factory=dict)
    main: str | None = None
    prod_dependencies: tuple[str, ...] = ()
    lock: str | None = None  # package-lock.json | npm-shrinkwrap.json | pnpm-lock.yaml | yarn.lock
    yarn_berry: bool = False
    pnpm_lock_version: str | None = None
    package_manager: str | None = None
    # Yarn berry's own files the install reads, relative to ``dir``: .yarnrc.yml
    # and the release (yarnPath) and plugins it names.
    yarn_files: tuple[str, ...] = ()
    yarn_node_linker: str | None = None  # .yarnrc.yml's nodeLinker; unset means Plug'n'Play
    # The project's .npmrc: "plain" settings (legacy-peer-deps, a registry…) the
    # install must see, or "credentials" that must never enter a layer.
    npmrc: str | None = None
    entry_files: tuple[str, ...] = ()
    port: int | None = None
    engines: str | None = None  # engines.node as written
    # Other node version declarations, as written, in precedence order (.nvmrc, volta, netlify.toml…).
    version_decls: tuple[VersionDecl, ...] = ()
    dev_dependencies: tuple[str, ...] = ()
    workspace: Workspace | None = None
    workspace_files: tuple[str, ...] = ()  # pnpm-workspace.yaml…, relative to ``dir``
    local_sources: tuple[str, ...] = ()  # what file:/link: dependencies name, relative to ``dir``
    # (member dir or "", script, command) of the project's own install-time lifecycle scripts.
    lifecycle: tuple[tuple[str, str, str], ...] = ()
    publish_dir: str | None = None  # where a static build lands, when the project says (netlify.toml)
    reads_port: bool = False  # the entry code reads process.env.PORT
    engines_pnpm: str | None = None  # engines.pnpm as written
    yarn_lock_version: str | None = None  # yarn.lock's __metadata version (Yarn berry's format)
    # Settings its build reads (.env.example, turbo.json, t3-env schemas, next.config): see build_env.
    build_env: BuildEnv = field(default_factory=BuildEnv)


@record
class ProjectLayout:
    """Layout facts read from the project directory (all paths relative to it)."""

    files: frozenset[str] = frozenset()  # top-level entries; directories end with "/"
    project_name: str | None = None
    scripts: tuple[tuple[str, str], ...] = ()  # [project.scripts] in file order
    procfile_web: str | None = None
    procfile: Procfile | None = None
    django_wsgi: str | None = None  # "mysite.wsgi"
    django_asgi: str | None = None  # "mysite.asgi"
    django_static_root: bool = False  # the settings module sets STATIC_ROOT
    asgi_app: str | None = None  # "main:app" when main.py builds a FastAPI/Starlette app
    asgi_app_dir: str = ""  # "src" when the ASGI app lives in src/<pkg>/main.py
    flask_app: str | None = None  # "app:app" / "api.app:app" where a module builds a Flask app
    flask_commands: tuple[tuple[str, str], ...] = ()  # (command, "file:line") of @app.cli.command()s
    python_port: int | None = None
    python_port_source: str | None = None  # the file the port was read from
    server_configs: frozenset[str] = frozenset()  # servers with a config file they read from the cwd
    dockerfile_pythons: tuple[tuple[str, str], ...] = ()  # ("Dockerfile:1", "3.6") from the project's own FROM
    index_urls: tuple[str, ...] = ()  # the project's own package indexes (Pipfile, poetry, requirements)
    script_files: tuple[str, ...] = ()  # top-level .py files of a project with no manifest
    # The requirement files `requirements.txt` reaches through -r (itself included),
    # relative to the project; None when there is no root requirements.txt.
    requirements_closure: frozenset[str] | None = None
    python_dir: str = ""  # the folder holding the Python app ("backend"), "" for the root
    py_files: frozenset[str] = frozenset()  # entries of python_dir
    node: NodeApp | None = None
    local_packages: frozenset[str] = frozenset()  # canonical names of the project's own distributions
    member_dirs: frozenset[str] = frozenset()  # workspace members (uv) whose declarations are the app's
    dockerignore: tuple[str, ...] | None = None  # the project's own .dockerignore patterns, if it has one

    @property
    def is_python(self) -> bool:
        return any(m in self.py_files for m in _PY_MARKERS) or bool(self.scripts) or bool(self.script_files)


def _read_capped(path: Path) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > _SOURCE_CAP:
            return None
        return read_text(path)
    except (EnvcheckError, OSError):
        return None  # a hint we cannot read is no hint


def _port(text: str | None) -> int | None:
    if not text:
        return None
    for pattern in _PORT_PATTERNS:
        m = pattern.search(text)
        if m and 1 <= int(m.group(1)) <= 65535:
            return int(m.group(1))
    return None


_READS_PORT = _regex.compile(r"process\.env\.PORT\b|process\.env\[['\"]PORT['\"]\]|\bPORT\b\s*(?:\|\||\?\?)")

# A path that can stand in a COPY line as it is: relative, inside the project, no shell or glob syntax.
_COPYABLE = _regex.compile(r"[\w.@+-][\w./@+-]*")


def _yarnrc(base: Path) -> tuple[tuple[str, ...], str | None]:
    """(files yarn berry reads besides the manifests, nodeLinker) from ``.yarnrc.yml``.

    Read line by line: only three top-level keys matter, and a full YAML
    parse of a file the project controls buys nothing here.
    """
    text = _read_capped(base / ".yarnrc.yml")
    if text is None:
        return (), None
    files = [".yarnrc.yml"]
    linker = None
    in_plugins = False
    for line in text.splitlines():
        if line[:1] not in (" ", "\t", "-", "#", ""):
            in_plugins = line.startswith("plugins:")
        m = re.match(r"^(yarnPath|nodeLinker):\s*(.*?)\s*$", line)
        if m is None and in_plugins:
            m = re.match(r"^\s*(?:-\s*)?(path):\s*(.*?)\s*$", line)
        if m is None:
            continue
        value = m.group(2).split(" #", 1)[0].strip().strip("\"'")
        if m.group(1) == "nodeLinker":
            linker = value or None
            continue
        value = value.removeprefix("./")
        if _COPYABLE.fullmatch(value) and ".." not in value.split("/") and (base / value).is_file():
            files.append(value)
    return tuple(dict.fromkeys(files)), linker


# npm's credential keys, bare or scoped to a registry (`//host/:_authToken=…`);
# an env reference (`${NPM_TOKEN}`) counts too: the build still needs the secret.
_NPMRC_CREDENTIALS = _regex.compile(
    r"^[ \t]*(?![#;])[^=\n]*?(?:_authToken|_auth|_password|username|certfile|keyfile|cafile)[ \t]*=",
    re.MULTILINE | re.IGNORECASE,
)


def _npmrc(base: Path) -> str | None:
    if not (base / ".npmrc").is_file():
        return None
    text = _read_capped(base / ".npmrc")
    if text is None or _NPMRC_CREDENTIALS.search(text):
        return "credentials"  # unreadable is treated as the worse case
    return "plain"


def _package_json(root: Path, rel: str) -> NodeApp | None:
    pj = root / rel / "package.json" if rel else root / "package.json"
    if not pj.is_file():
        return None
    where = str(pj)
    try:
        data: Any = json.loads(read_text(pj))
    except json.JSONDecodeError as exc:
        raise ParseError(f"malformed JSON: {exc.msg}", path=where, line=exc.lineno) from None
    except RecursionError:
        raise ParseError("malformed JSON: nested too deeply", path=where) from None
    if not isinstance(data, dict):
        raise ParseError("expected a JSON object", path=where)
    scripts = data.get("scripts")
    scripts_map = (
        {k: v for k, v in scripts.items() if isinstance(k, str) and isinstance(v, str)}
        if isinstance(scripts, dict)
        else {}
    )
    deps = data.get("dependencies")
    prod = tuple(sorted(k for k in deps if isinstance(k, str))) if isinstance(deps, dict) else ()
    main = data.get("main") if isinstance(data.get("main"), str) else None
    pm = data.get("packageManager") if isinstance(data.get("packageManager"), str) else None
    base = pj.parent
    lock = next(
        (
            n
            for n in ("package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml", "yarn.lock")
            if (base / n).is_file()
        ),
        None,
    )
    head = ""
    if lock in ("pnpm-lock.yaml", "yarn.lock"):
        try:
            with (base / lock).open("rb") as fh:
                head = fh.read(4096).decode("utf-8", "replace")
        except OSError:
            head = ""
    pnpm_version = None
    if lock == "pnpm-lock.yaml":
        m = re.search(r"^lockfileVersion:\s*['\"]?([\d.]+)", head, re.MULTILINE)
        pnpm_version = m.group(1) if m else None
    yarn_berry = lock == "yarn.lock" and "__metadata:" in head
    m = re.search(r"^__metadata:\s*\n\s+version:\s*['\"]?(\d+)", head, re.MULTILINE) if yarn_berry else None
    yarn_lock_version = m.group(1) if m else None
    yarn_files, yarn_linker = _yarnrc(base) if yarn_berry else ((), None)
    entries = tuple(n for n in ("server.js", "index.js", "app.js", "main.js") if (base / n).is_file())
    port = None
    reads_port = False
    for candidate in ([main] if main else []) + list(entries) + ["bin/www", "src/index.js", "src/server.js"]:
        text = _read_capped(base / candidate)
        reads_port = reads_port or bool(text and _READS_PORT.search(text))
        port = port or _port(text)
    engines_raw = data.get("engines")
    engines = engines_raw.get("node") if isinstance(engines_raw, dict) else None
    decls = read_version_decls(base, data)
    if rel:
        # A version file at the repository root applies to a front end in a folder too.
        root_data: dict[str, Any] = {}
        seen = {d.source for d in decls}
        decls += tuple(d for d in read_version_decls(root, root_data) if d.source not in seen)
    workspace, ws_files = read_workspace(base, data)
    devs = data.get("devDependencies")
    return NodeApp(
        dir=rel,
        scripts=scripts_map,
        main=main,
        prod_dependencies=prod,
        lock=lock,
        yarn_berry=yarn_berry,
        pnpm_lock_version=pnpm_version,
        package_manager=pm,
        yarn_files=yarn_files,
        yarn_node_linker=yarn_linker,
        npmrc=_npmrc(base),
        entry_files=entries,
        port=port,
        engines=engines.strip() if isinstance(engines, str) and engines.strip() else None,
        version_decls=decls,
        dev_dependencies=tuple(sorted(k for k in devs if isinstance(k, str))) if isinstance(devs, dict) else (),
        workspace=workspace,
        workspace_files=ws_files,
        local_sources=local_sources(base, data, workspace.members if workspace else ()),
        lifecycle=lifecycle_scripts(scripts_map, workspace.members if workspace else ()),
        publish_dir=netlify_publish(base),
        reads_port=reads_port,
        engines_pnpm=(
            engines_raw["pnpm"].strip()
            if isinstance(engines_raw, dict) and isinstance(engines_raw.get("pnpm"), str)
            else None
        ),
        yarn_lock_version=yarn_lock_version,
        build_env=read_build_env(base, [m.dir for m in workspace.members] if workspace else ()),
    )


def _pyproject(root: Path) -> tuple[str | None, tuple[tuple[str, str], ...], set[str], set[str]]:
    path = root / "pyproject.toml"
    dirs: set[str] = set()
    if not path.is_file():
        return None, (), set(), dirs
    data = loads(read_text(path), str(path))
    project = data.get("project")
    names: set[str] = set()
    name = None
    scripts: tuple[tuple[str, str], ...] = ()
    if isinstance(project, dict):
        if isinstance(project.get("name"), str):
            name = project["name"]
        raw = project.get("scripts")
        if isinstance(raw, dict):
            scripts = tuple((k, v) for k, v in raw.items() if isinstance(k, str) and isinstance(v, str))
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    if isinstance(poetry, dict):
        if name is None and isinstance(poetry.get("name"), str):
            name = poetry["name"]
        raw = poetry.get("scripts")
        if not scripts and isinstance(raw, dict):
            scripts = tuple((k, v) for k, v in raw.items() if isinstance(k, str) and isinstance(v, str))
    if name:
        names.add(canonicalize_name(name))
    # uv/hatch workspaces: members are the project's own code, never locked from an index.
    uv = tool.get("uv") if isinstance(tool, dict) else None
    ws = uv.get("workspace") if isinstance(uv, dict) else None
    members = ws.get("members") if isinstance(ws, dict) else None
    if isinstance(members, list):
        for member in members:
            if not isinstance(member, str) or any(c in member for c in "*?["):
                continue
            mp = root / member / "pyproject.toml"
            if mp.is_file():
                try:
                    md = loads(read_text(mp), str(mp))
                except EnvcheckError:
                    continue
                dirs.add(member.strip("/"))
                mproj = md.get("project")
                if isinstance(mproj, dict) and isinstance(mproj.get("name"), str):
                    names.add(canonicalize_name(mproj["name"]))
    return name, scripts, names, dirs


def read_layout(root: Path) -> ProjectLayout:
    """Read the layout facts of the project at ``root``.

    Raises :class:`~envcheck.errors.EnvcheckError` for a missing directory or
    a malformed ``pyproject.toml``/``package.json`` (the files it must parse).
    """
    if not root.is_dir():
        raise EnvcheckError("not a directory", path=str(root))
    try:
        entries = frozenset(p.name + ("/" if p.is_dir() else "") for p in root.iterdir())
    except OSError as exc:
        raise EnvcheckError(f"cannot list: {exc.strerror or exc}", path=str(root)) from None
    name, scripts, local, members = _pyproject(root)
    python_dir = ""
    if not any(m in entries for m in _PY_MARKERS):
        # A monorepo with the Python app in a folder beside the front end.
        for d in _PY_DIRS:
            if f"{d}/" in entries and any((root / d / m).is_file() for m in _PY_MARKERS):
                python_dir = d
                break
    base = root / python_dir if python_dir else root
    try:
        py_entries = (
            entries if not python_dir else frozenset(p.name + ("/" if p.is_dir() else "") for p in base.iterdir())
        )
    except OSError:
        py_entries = frozenset()
    procfile_text = _read_capped(base / "Procfile")
    procfile = parse_procfile(procfile_text) if procfile_text else None
    procfile_web = procfile.get("web") if procfile else None
    django_wsgi = django_asgi = None
    django_static_root = False
    if "manage.py" in py_entries:
        for entry in sorted(e for e in py_entries if e.endswith("/")):
            if (base / entry / "wsgi.py").is_file() and django_wsgi is None:
                django_wsgi = entry.rstrip("/") + ".wsgi"
            if (base / entry / "asgi.py").is_file() and django_asgi is None:
                django_asgi = entry.rstrip("/") + ".asgi"
        django_static_root = _django_static_root(base)
    asgi_app = None
    asgi_dir = ""
    flask_app = None
    py_port, port_source = _port(procfile_web), ("Procfile" if _port(procfile_web) else None)
    candidates: list[tuple[str, str]] = [("", f) for f in _APP_FILES if f in py_entries]
    for pkg in sorted(e.rstrip("/") for e in py_entries if e.endswith("/") and re.fullmatch(r"\w+/", e)):
        candidates.extend(("", f"{pkg}/{f}") for f in _APP_FILES if (base / pkg / f).is_file())
    if "src/" in py_entries:
        # src layout: src/<pkg>/main.py runs as <pkg>.main with src on the path.
        try:
            src_pkgs = sorted(p.name for p in (base / "src").iterdir() if p.is_dir() and re.fullmatch(r"\w+", p.name))
        except OSError:
            src_pkgs = []
        candidates.extend(
            ("src", f"{pkg}/{f}")
            for pkg in src_pkgs
            for f in (*_APP_FILES, "__init__.py")
            if (base / "src" / pkg / f).is_file()
        )
    flask_commands: list[tuple[str, str]] = []
    for prefix, fname in candidates:
        text = _read_capped(base / prefix / fname)
        if text is None:
            continue
        module = fname[:-3].replace("/", ".").removesuffix(".__init__")
        m = re.search(r"^(\w+)\s*=\s*(?:fastapi\.)?(?:FastAPI|Starlette)\(", text, re.MULTILINE)
        if m is None and re.search(r"^\s*(?:from|import)\s+(?:fastapi|starlette)\b", text, re.MULTILINE):
            # An app factory: `app = get_application()` in a module that imports FastAPI.
            m = re.search(r"^(app|application)\s*=\s*[A-Za-z_][\w.]*\(", text, re.MULTILINE)
        if m and asgi_app is None:
            asgi_app, asgi_dir = f"{module}:{m.group(1)}", prefix
        m = re.search(r"^(\w+)\s*=\s*(?:flask\.)?Flask\(", text, re.MULTILINE)
        if m and flask_app is None:
            flask_app = f"{module}:{m.group(1)}"
        if py_port is None and _port(text):
            py_port, port_source = _port(text), (f"{prefix}/{fname}" if prefix else fname)
    # Flask apps built by a factory (`app = create_app(…)`) in the module a
    # Procfile or FLASK_APP names, and the custom commands they register.
    for fname in sorted(e for e in py_entries if e.endswith(".py")):
        text = _read_capped(base / fname)
        if text is None:
            continue
        if flask_app is None and re.search(r"^\s*(?:from|import)\s+flask", text, re.MULTILINE | re.IGNORECASE):
            m = re.search(r"^(app|application)\s*=\s*create_app\(", text, re.MULTILINE)
            if m:
                flask_app = f"{fname[:-3]}:{m.group(1)}"
        for m in re.finditer(
            r"^@\w+\.cli\.command\((?:['\"]([\w-]+)['\"])?[^)]*\)\s*\n(?:@.*\n)*def\s+(\w+)", text, re.MULTILINE
        ):
            line = text.count("\n", 0, m.start()) + 1
            flask_commands.append((m.group(1) or m.group(2).replace("_", "-"), f"{fname}:{line}"))
    server_configs = frozenset({"gunicorn"} if "gunicorn.conf.py" in py_entries else set())
    dockerfile_pythons = _dockerfile_pythons(base, py_entries)
    script_files: tuple[str, ...] = ()
    if not any(m in py_entries for m in _PY_MARKERS) and not scripts:
        script_files = tuple(
            sorted(e for e in py_entries if e.endswith(".py") and not e.startswith(("test_", "setup")))
        )
    node = _package_json(root, "")
    if node is None or not ("build" in node.scripts or node.prod_dependencies):
        # A root package.json with only tooling (or workspaces) defers to the
        # front end folder that actually builds something.
        for d in _NODE_DIRS:
            if (root / d).is_dir():
                sub = _package_json(root, d)
                if sub is not None and (node is None or "build" in sub.scripts or sub.prod_dependencies):
                    node = sub
                    break
    return ProjectLayout(
        files=entries,
        project_name=name,
        scripts=scripts,
        procfile_web=procfile_web,
        procfile=procfile,
        django_wsgi=django_wsgi,
        django_asgi=django_asgi,
        django_static_root=django_static_root,
        asgi_app=asgi_app,
        asgi_app_dir=asgi_dir,
        flask_app=flask_app,
        flask_commands=tuple(flask_commands),
        python_port=py_port,
        python_port_source=port_source,
        server_configs=server_configs,
        dockerfile_pythons=dockerfile_pythons,
        index_urls=_index_urls(base, py_entries),
        requirements_closure=_requirements_closure(root, python_dir),
        script_files=script_files,
        python_dir=python_dir,
        py_files=py_entries,
        node=node,
        local_packages=frozenset(local),
        member_dirs=frozenset(members),
        dockerignore=_dockerignore(root),
    )


_APP_FILES = ("main.py", "app.py", "asgi.py", "wsgi.py", "server.py")


def _django_static_root(base: Path) -> bool:
    """Does the settings module manage.py names set STATIC_ROOT?"""
    manage = _read_capped(base / "manage.py") or ""
    m = re.search(r"DJANGO_SETTINGS_MODULE['\"]\s*,\s*['\"]([\w.]+)['\"]", manage)
    if m is None:
        return False
    rel = Path(*m.group(1).split("."))
    for path in (base / rel.with_suffix(".py"), *sorted((base / rel).glob("*.py"))):
        text = _read_capped(path)
        if text and re.search(r"^STATIC_ROOT\s*=", text, re.MULTILINE):
            return True
    return False


def _dockerfile_pythons(base: Path, entries: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """The python version each of the project's own Dockerfiles starts FROM."""
    from envcheck.parsers.dockerfile import image_runtime

    out: list[tuple[str, str]] = []
    for name in sorted(
        e
        for e in entries
        if not e.endswith("/") and (e == "Dockerfile" or e.endswith(".Dockerfile") or e.startswith("Dockerfile."))
    ):
        text = _read_capped(base / name)
        if text is None or text.startswith("# Generated by `envcheck dockerfile`"):
            continue  # our own output is not the project's declaration
        for number, line in enumerate(text.splitlines(), start=1):
            m = re.match(r"^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)", line, re.IGNORECASE)
            if m is None:
                continue
            ref = m.group(1)
            found = image_runtime(ref)
            version = found[1] if found is not None and found[0] == "python" else None
            if version is None:
                tag = ref.rsplit(":", 1)[-1] if ":" in ref.rsplit("/", 1)[-1] else ""
                t = re.search(r"python-?(\d+\.\d+(?:\.\d+)?)", tag)
                version = t.group(1) if t else None
            if version:
                out.append((f"{name}:{number}", version))
    return tuple(out)


_INCLUDE = _regex.compile(r"^\s*(?:-r|--requirement)[\s=]+(\S+)", re.MULTILINE)


def _requirements_closure(root: Path, python_dir: str) -> frozenset[str] | None:
    """Files `requirements.txt` includes with -r, transitively (Heroku and pip read only these)."""
    start = f"{python_dir}/requirements.txt" if python_dir else "requirements.txt"
    if not (root / start).is_file():
        return None
    seen: set[str] = set()
    todo = [start]
    while todo and len(seen) < 100:
        rel = todo.pop()
        if rel in seen:
            continue
        seen.add(rel)
        text = _read_capped(root / rel) or ""
        for inc in _INCLUDE.findall(text):
            target = (Path(rel).parent / inc).as_posix()
            parts: list[str] = []
            for part in target.split("/"):
                if part == "..":
                    if parts:
                        parts.pop()
                elif part and part != ".":
                    parts.append(part)
            todo.append("/".join(parts))
    return frozenset(seen)


_INDEX_OPT = _regex.compile(r"^\s*(?:-i|--index-url|--extra-index-url)[\s=]+(\S+)", re.MULTILINE)


def _index_urls(base: Path, entries: frozenset[str]) -> tuple[str, ...]:
    """The package indexes the project's own files name, primary ones first."""
    urls: list[str] = []
    for name in sorted(e for e in entries if e.startswith("requirements") and e.endswith(".txt")):
        urls.extend(_INDEX_OPT.findall(_read_capped(base / name) or ""))
    for name, table in (("Pipfile", "source"), ("pyproject.toml", None)):
        text = _read_capped(base / name) if name in entries else None
        if not text:
            continue
        try:
            data = loads(text, str(base / name))
        except EnvcheckError:
            continue
        if table is not None:
            sources = data.get(table)
        else:
            tool: Any = data.get("tool")
            tool = tool if isinstance(tool, dict) else {}
            poetry: Any = tool.get("poetry") if isinstance(tool.get("poetry"), dict) else {}
            uv: Any = tool.get("uv") if isinstance(tool.get("uv"), dict) else {}
            found = [poetry.get("source"), uv.get("index")]
            sources = [s for group in found if isinstance(group, list) for s in group]
        for src in sources if isinstance(sources, list) else []:
            if isinstance(src, dict) and isinstance(src.get("url"), str):
                urls.append(src["url"])
    return tuple(dict.fromkeys(u for u in urls if "${" not in u))


def _dockerignore(root: Path) -> tuple[str, ...] | None:
    text = _read_capped(root / ".dockerignore") if (root / ".dockerignore").is_file() else None
    if text is None:
        return None
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))


def read_requires_dist(packages: Iterable[Package]) -> Mapping[str, tuple[str, ...]] | None:
    """``Requires-Dist`` of each installed distribution, by canonical name.

    Reads ``METADATA`` (``*.dist-info``) or ``PKG-INFO`` (``*.egg-info``) at
    each package's ``path``.  Returns ``None`` when no package has a readable
    path, so the caller can fall back to "every active package".  A package
    whose metadata cannot be read is left out; the caller treats a missing
    entry as unknown, not as "no dependencies".
    """
    out: dict[str, tuple[str, ...]] = {}
    for pkg in packages:
        if not pkg.path:
            continue
        base = Path(pkg.path)
        for meta in (base / "METADATA", base / "PKG-INFO", base):
            try:
                if not meta.is_file() or meta.stat().st_size > 4 * 1024 * 1024:
                    continue
                text = meta.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            headers = HeaderParser().parsestr(text)
            out[canonicalize_name(pkg.name)] = tuple(str(v) for v in headers.get_all("Requires-Dist") or ())
            break
    return out or None
