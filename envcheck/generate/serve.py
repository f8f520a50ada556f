"""How a Python image starts and serves (issue 13, items 3, 7 and 8).

:func:`plan_serving` decides, from the layout and the locked distributions:

* the CMD — the Procfile's ``web:`` line adapted to bind ``0.0.0.0:$PORT``, or
  a production server that is locked (gunicorn, uvicorn, hypercorn, daphne,
  waitress; see ``data/python_servers.toml``) for the Django, FastAPI/Starlette
  or Flask app found, or the development server with a warning;
* the port: ``ENV PORT`` holds a default (the app's own, else its server's)
  that the CMD listens on, and ``EXPOSE`` names it;
* build-time steps (Django's ``collectstatic`` when ``STATIC_ROOT`` is set);
* once-before-start steps (migrations, a Procfile ``release:`` line, a
  ``flask deploy`` command) — named for a deployer, never run by the image.

The CMD's program must exist in the image: a console script of a locked
distribution, the interpreter, a shell builtin or a file of the project;
otherwise :class:`~envcheck.generate.options.GenerateError`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

from packaging.version import InvalidVersion, Version

from envcheck import _regex
from envcheck.generate.knowledge import Server, python_servers
from envcheck.generate.layout import ProjectLayout
from envcheck.generate.options import GenerateError
from envcheck.generate.procfile import Procfile
from envcheck.record import record, replace

# Programs every python image has, besides console scripts.
_ALWAYS = frozenset(
    {"python", "python3", "sh", "bash", "exec", "env", "cd", "echo", "test", "true", "[", "set", "export", "sleep"}
)
_LOCAL = ("127.0.0.1", "localhost")


@record
class Serving:
    argv: tuple[str, ...]
    why: str
    port: int | None = None
    port_why: str = ""
    env: tuple[tuple[str, str], ...] = ()  # set in the runtime stage (PORT default, FLASK_APP)
    build: tuple[tuple[str, str], ...] = ()  # (command, why) run in the image at build time
    release: tuple[tuple[str, str], ...] = ()  # (command, why) a deployer runs once before start
    warnings: tuple[str, ...] = ()
    pythonpath: str | None = None  # a folder to add to PYTHONPATH (src layouts)


def _server(name: str) -> Server:
    return next(s for s in python_servers() if s.name == name)


def _by_script(script: str) -> Server | None:
    return next((s for s in python_servers() if s.script == script), None)


def _version(locked: Mapping[str, str], dist: str) -> Version | None:
    raw = locked.get(dist)
    if not raw:
        return None
    try:
        return Version(raw)
    except InvalidVersion:
        return None


def _sh_word(word: str) -> str:
    if "{port}" in word:
        return '"' + word.replace("{port}", "${PORT}") + '"'
    return shlex.quote(word)


def _exec_argv(words: list[str]) -> tuple[str, ...]:
    """Exec form when no word needs $PORT; else ``sh -c 'exec …'`` so the server is PID 1."""
    if not any("{port}" in w for w in words):
        return tuple(words)
    return ("/bin/sh", "-c", "exec " + " ".join(_sh_word(w) for w in words))


def _server_argv(server: Server, app: str) -> list[str]:
    return [server.script, app, *server.bind]


def _pick(kinds: tuple[str, ...], locked: Mapping[str, str]) -> Server | None:
    for s in python_servers():
        if s.dist in locked and set(kinds) & set(s.serves):
            return s
    return None


def _default_port(layout: ProjectLayout, fallback: int, fallback_why: str) -> tuple[int, str]:
    if layout.python_port:
        return layout.python_port, f"the app's own default port ({layout.python_port_source or 'its code'})"
    return fallback, fallback_why


def _port_note(port: int, why: str) -> str:
    return f"{why}; the CMD listens on 0.0.0.0:${{PORT:-{port}}}, so `docker run -e PORT=…` moves it"


# --------------------------------------------------------------------------- Procfile


_SEGMENT = _regex.compile(r"\s*(?:;|&&|\|\|)\s*")
_BIND_FLAGS = {
    "gunicorn": ("-b", "--bind"),
    "uvicorn": ("--port", "--host", "--uds", "--fd"),
    "hypercorn": ("-b", "--bind"),
    "daphne": ("-b", "--bind", "-p", "--port", "-u", "--unix-socket", "-e", "--endpoint"),
    "waitress": ("--listen", "--port", "--host"),
}


def _words(segment: str) -> list[str]:
    try:
        return shlex.split(segment)
    except ValueError:
        return segment.split()


def _program(words: list[str]) -> tuple[int, str | None]:
    """Index and name of the program a simple command runs (after ``exec`` and ``X=y``)."""
    for i, w in enumerate(words):
        if w == "exec" or re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", w):
            continue
        return i, w
    return len(words), None


def _has_flag(words: list[str], flags: tuple[str, ...]) -> bool:
    return any(
        w == f or w.startswith(f + "=") or (len(f) == 2 and w.startswith(f) and len(w) > 2)
        for w in words
        for f in flags
    )


def _localhost_to_all(segment: str) -> tuple[str, bool]:
    out = segment
    for host in _LOCAL:
        out = re.sub(rf"(?<=[\s=]){re.escape(host)}(?=:|\s|$)", "0.0.0.0", out)  # noqa: S104 - the container's interfaces
    return out, out != segment


def _adapt_web(
    web: str, locked: Mapping[str, str], layout: ProjectLayout
) -> tuple[str, Server | None, list[str], bool]:
    """(command, its server, notes, listens on $PORT) for a Procfile web: line."""
    segments = [s for s in _SEGMENT.split(web.strip()) if s]
    last = segments[-1] if segments else web
    notes: list[str] = []
    last, moved = _localhost_to_all(last)
    if moved:
        notes.append("its bind address 127.0.0.1 became 0.0.0.0, so the container answers from outside")
    words = _words(last)
    idx, prog = _program(words)
    server = _by_script(prog) if prog else None
    bare = server is not None and not _has_flag(words[idx + 1 :], _BIND_FLAGS.get(server.name, ()))
    if server is not None and bare:
        bind = " ".join(_sh_word(b) for b in server.bind)
        last = " ".join([*map(shlex.quote, words[: idx + 1]), bind, *map(shlex.quote, words[idx + 1 :])])
        notes.append(
            f"`{' '.join(server.bind).replace('{port}', '$PORT')}` added: {server.script} binds 127.0.0.1 without it"
        )
    uses_port = "$PORT" in last or "${PORT" in last
    command = _rejoin(web, [*segments[:-1], last] if segments else [last])
    return command, server, notes, uses_port


def _rejoin(original: str, segments: list[str]) -> str:
    """The web line with its last segment replaced, separators kept."""
    seps = _SEGMENT.findall(original.strip())
    out = segments[0]
    for sep, seg in zip(seps, segments[1:], strict=False):
        out += sep + seg
    return out


def _needs_shell(command: str) -> bool:
    return any(c in command for c in "$&|;<>`()*?~\n")


def _procfile_cmd(command: str) -> tuple[str, ...]:
    if not _needs_shell(command):
        try:
            words = shlex.split(command)
        except ValueError:
            words = []
        if words:
            return tuple(words)
    segments = [s for s in _SEGMENT.split(command.strip()) if s]
    last = segments[-1] if segments else command
    if not last.startswith("exec "):
        # The server becomes PID 1 and receives `docker stop`'s SIGTERM.
        command = _rejoin(command, [*segments[:-1], "exec " + last])
    return ("/bin/sh", "-c", command)


# --------------------------------------------------------------------------- executables


def check_executables(
    argv: tuple[str, ...],
    *,
    scripts: Mapping[str, str] | None,
    locked: Mapping[str, str],
    files: frozenset[str],
) -> str | None:
    """None when every program the CMD starts exists in the image, else why not."""
    if argv[:2] == ("/bin/sh", "-c"):
        commands = [s for s in _SEGMENT.split(argv[2]) if s]
    else:
        commands = [" ".join(shlex.quote(a) for a in argv)]
    known = {s.script: s.dist for s in python_servers()} | {"flask": "flask", "django-admin": "django"}
    for segment in commands:
        _, prog = _program(_words(segment))
        if prog is None or prog in _ALWAYS or prog.startswith(("/", "./")):
            continue
        if "/" in prog:
            if prog.split("/", 1)[0] + "/" in files:
                continue
            return f"`{prog}` is not a file of the project"
        if scripts is not None and prog in scripts:
            dist = scripts[prog]
            if dist in locked:
                continue
            return f"`{prog}` comes from {dist}, which the lock does not install"
        if known.get(prog) in locked:
            continue
        if scripts is None and prog not in known:
            continue  # no metadata to tell: pip may install it (warned by the caller)
        return f"`{prog}` is not a console script of any locked distribution"
    return None


# --------------------------------------------------------------------------- the plan


def procfile_of(layout: ProjectLayout) -> Procfile:
    if layout.procfile is not None:
        return layout.procfile
    return Procfile((("web", layout.procfile_web),) if layout.procfile_web else ())


def _release_steps(layout: ProjectLayout, locked: Mapping[str, str], django: bool) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    release = procfile_of(layout).get("release")
    if release:
        out.append((release, "the Procfile's release: line"))
    for name, where in layout.flask_commands:
        if name in ("deploy", "init-db", "init_db", "initdb", "create-db", "create_db", "setup", "bootstrap"):
            out.append((f"flask {name}", f"a custom Flask command ({where})"))
    if django:
        out.append(("python manage.py migrate --noinput", "Django applies its migrations"))
    elif "migrations/" in layout.py_files and "flask-migrate" in locked:
        out.append(("flask db upgrade", "Flask-Migrate migrations in migrations/"))
    elif "alembic.ini" in layout.py_files and "alembic" in locked:
        out.append(("alembic upgrade head", "Alembic migrations (alembic.ini)"))
    seen: set[str] = set()
    uniq = []
    for i, (cmd, why) in enumerate(out):
        covered = bool(release) and i > 0 and cmd in (release or "")
        if cmd not in seen and not covered:
            seen.add(cmd)
            uniq.append((cmd, why))
    return uniq


def _flask_app_env(layout: ProjectLayout, env_names: frozenset[str]) -> tuple[tuple[str, str], ...]:
    target = layout.flask_app
    if not target or "FLASK_APP" in env_names:
        return ()
    module, _, attr = target.partition(":")
    # A top-level module as a file path works with every Flask release's `flask` command.
    value = f"{module}.py" if "." not in module and attr == "app" else target
    return (("FLASK_APP", value),)


def plan_serving(
    layout: ProjectLayout,
    locked: Mapping[str, str],
    env_names: frozenset[str] = frozenset(),
) -> Serving:
    """The start command, port, and the steps around it; see the module docstring.

    The port's default lives in the command (``${PORT:-8000}``), not in an
    ``ENV PORT``: a PORT baked into the image would differ from the host's
    environment for every app that reads PORT (EC501), and the platform's own
    PORT still wins at run time.
    """
    got = _plan_serving(layout, locked, env_names)
    if got.port is None:
        return got
    default = "${PORT:-" + str(got.port) + "}"
    argv = got.argv
    if argv[:2] == ("/bin/sh", "-c"):
        argv = (*argv[:2], re.sub(r"\$\{PORT\}|\$PORT\b", lambda _: default, argv[2]), *argv[3:])
    env = tuple((n, v) for n, v in got.env if n != "PORT")
    return replace(got, argv=argv, env=env)


def _plan_serving(
    layout: ProjectLayout,
    locked: Mapping[str, str],
    env_names: frozenset[str],
) -> Serving:
    warnings: list[str] = []
    django = "manage.py" in layout.py_files
    release = tuple(_release_steps(layout, locked, django))
    flask_env = _flask_app_env(layout, env_names) if "flask" in locked else ()
    build: list[tuple[str, str]] = []
    if django and layout.django_static_root:
        build.append(
            (
                "python manage.py collectstatic --noinput",
                "STATIC_ROOT is set in the settings: static files are collected into the image",
            )
        )
    web = procfile_of(layout).get("web")
    if web:
        command, server, notes, uses_port = _adapt_web(web, locked, layout)
        argv = _procfile_cmd(command)
        why = "the web: line of the Procfile" + (f" ({'; '.join(notes)})" if notes else "")
        port: int | None
        if uses_port:
            fallback = server.default_port if server else 8000
            port, port_why = _default_port(layout, fallback, f"{server.name}'s default port" if server else "8000")
            return Serving(
                argv,
                why,
                port,
                _port_note(port, port_why),
                (("PORT", str(port)), *flask_env),
                tuple(build),
                release,
                tuple(warnings),
            )
        port = layout.python_port
        return Serving(
            argv,
            why,
            port,
            f"the port the web: line names ({port})" if port else "",
            flask_env,
            tuple(build),
            release,
            tuple(warnings),
        )

    if django:
        wsgi, asgi = layout.django_wsgi, layout.django_asgi
        server = _pick(("wsgi",), locked) if wsgi else None
        app = f"{wsgi}:application" if wsgi else ""
        if server is None and asgi:
            server = _pick(("asgi",), locked)
            app = f"{asgi}:application"
        if server is not None:
            port, port_why = _default_port(layout, server.default_port, f"{server.name}'s default port")
            argv = _exec_argv(_server_argv(server, app))
            return Serving(
                argv,
                f"a Django project (manage.py) served by {server.name}, which the lock installs",
                port,
                _port_note(port, port_why),
                (("PORT", str(port)),),
                tuple(build),
                release,
            )
        warnings.append(
            "Django will run on its development server (runserver): no production server "
            "(gunicorn, uvicorn, daphne, waitress) is in the lock; add one to the requirements"
        )
        port, port_why = _default_port(layout, 8000, "runserver's default port")
        return Serving(
            _exec_argv(["python", "manage.py", "runserver", "0.0.0.0:{port}", "--noreload"]),
            "a Django project (manage.py); only the development server is available (see the warning)",
            port,
            _port_note(port, port_why),
            (("PORT", str(port)),),
            tuple(build),
            release,
            tuple(warnings),
        )

    if layout.asgi_app:
        server = _pick(("asgi",), locked)
        where = layout.asgi_app.split(":")[0].replace(".", "/") + ".py"
        if layout.asgi_app_dir:
            where = f"{layout.asgi_app_dir}/{where}"
        if server is not None:
            port, port_why = _default_port(layout, server.default_port, f"{server.name}'s default port")
            return Serving(
                _exec_argv(_server_argv(server, layout.asgi_app)),
                f"{where} builds an ASGI app and {server.name} is locked",
                port,
                _port_note(port, port_why),
                (("PORT", str(port)),),
                tuple(build),
                release,
                pythonpath=layout.asgi_app_dir or None,
            )
        raise GenerateError(
            f"{where} builds an ASGI app, but no ASGI server (uvicorn, hypercorn, daphne) is locked, "
            "so the image could not start it: add one to the project's requirements"
        )

    if layout.flask_app and "flask" in locked:
        where = layout.flask_app.split(":")[0].replace(".", "/") + ".py"
        server = _pick(("wsgi",), locked)
        if server is not None:
            port, port_why = _default_port(layout, server.default_port, f"{server.name}'s default port")
            return Serving(
                _exec_argv(_server_argv(server, layout.flask_app)),
                f"{where} builds a Flask app and {server.name} is locked",
                port,
                _port_note(port, port_why),
                (("PORT", str(port)), *flask_env),
                tuple(build),
                release,
            )
        warnings.append(
            f"{where}: the Flask app will run on Flask's development server (flask run): "
            "no production server (gunicorn, waitress) is in the lock"
        )
        port, port_why = _default_port(layout, 5000, "Flask's default port")
        return Serving(
            # FLASK_APP (set below) rather than --app, which Flask before 2.2 does not know.
            _exec_argv(["flask", "run", "--host", "0.0.0.0", "--port", "{port}"]),  # noqa: S104 - see _LOCAL
            f"{where} builds a Flask app; only Flask's development server is available (see the warning)",
            port,
            _port_note(port, port_why),
            (("PORT", str(port)), *(flask_env or (("FLASK_APP", layout.flask_app),))),
            tuple(build),
            release,
            tuple(warnings),
        )

    port = layout.python_port
    port_why = f"the port the app's code names ({layout.python_port_source})" if port else ""
    for entry in ("app.py", "main.py", "server.py", "run.py"):
        if entry in layout.py_files:
            env = (("PORT", str(port)),) if port and "PORT" in env_names else ()
            return Serving(
                ("python", entry), f"{entry} is the project's entry file", port, port_why, env, tuple(build), release
            )
    if layout.scripts:
        name, target = layout.scripts[0]
        module, _, func = target.partition(":")
        func = func.split("[")[0].strip()
        module = module.strip()
        if module and func and re.fullmatch(r"[\w.]+", module) and re.fullmatch(r"[\w.]+", func):
            head = func.split(".")[0]
            code = f"import sys; from {module} import {head}; sys.exit({func}())"
            return Serving(
                ("python", "-c", code),
                f"the [project.scripts] entry `{name}`, run from the source so the image needs no build backend",
                port,
                port_why,
                build=tuple(build),
                release=release,
                pythonpath="src" if "src/" in layout.py_files else None,
            )
    return Serving(
        ("python",),
        "no entry point found (manage.py, app.py, main.py, Procfile, [project.scripts]): set CMD",
        port,
        port_why,
        build=tuple(build),
        release=release,
    )
