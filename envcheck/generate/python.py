"""Python planning: the builder and runtime stages of a Python app, as a :class:`Plan`."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

from envcheck.generate import pylock
from envcheck.generate.layout import ProjectLayout
from envcheck.generate.node import copy_manifests, is_node_runtime_needed, node_install, npmrc_aware, run_install
from envcheck.generate.options import HEADER, LOCK_HEADER, REGENERATE, GenerateError, Options, source_label
from envcheck.generate.plan import Arg, Cmd, Copy, Env, Expose, Plan, Run, Stage, Step, User, Workdir
from envcheck.generate.settings import OWN_ENV, env_steps
from envcheck.generate.versions import Choice, debian_codename
from envcheck.snapshot import Snapshot

APP_UID = 10001
VENV = "/opt/venv"


def _shell_words(command: str) -> list[str] | None:
    """Exec-form argv for a simple command; None when it needs a shell."""
    if any(c in command for c in "$&|;<>`()*?~\n"):
        return None
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    return words or None


def _cmd_from_shell(command: str) -> list[str]:
    words = _shell_words(command)
    return words if words is not None else ["/bin/sh", "-c", command]


def _python_cmd(layout: ProjectLayout, locked: frozenset[str]) -> tuple[list[str], int | None, str]:
    """(argv, port, why) for the final stage."""
    port = layout.python_port
    if layout.procfile_web:
        cmd = _cmd_from_shell(layout.procfile_web)
        if "$PORT" in layout.procfile_web or "${PORT" in layout.procfile_web:
            port = port or 8000
        return cmd, port, "the web: line of the Procfile"
    if "manage.py" in layout.py_files:
        port = port or 8000
        if "gunicorn" in locked and layout.django_wsgi:
            return (
                ["gunicorn", "--bind", f"0.0.0.0:{port}", f"{layout.django_wsgi}:application"],
                port,
                "a Django project (manage.py) with gunicorn installed",
            )
        return ["python", "manage.py", "runserver", f"0.0.0.0:{port}"], port, "a Django project (manage.py)"
    if layout.asgi_app and "uvicorn" in locked:
        port = port or 8000
        return (
            ["uvicorn", layout.asgi_app, "--host", "0.0.0.0", "--port", str(port)],  # noqa: S104 - a container serves on all its interfaces
            port,
            f"{layout.asgi_app.split(':')[0]}.py builds an ASGI app and uvicorn is installed",
        )
    if layout.flask_app and "flask" in locked:
        port = port or 5000
        where = layout.flask_app.split(":")[0].replace(".", "/") + ".py"
        if "gunicorn" in locked:
            argv = ["gunicorn", "--bind", f"0.0.0.0:{port}", layout.flask_app]
            return argv, port, f"{where} builds a Flask app and gunicorn is installed"
        argv = ["flask", "--app", layout.flask_app, "run", "--host", "0.0.0.0", "--port", str(port)]  # noqa: S104 - see above
        return argv, port, f"{where} builds a Flask app"
    for entry in ("app.py", "main.py"):
        if entry in layout.py_files:
            return ["python", entry], port, f"{entry} is the project's entry file"
    if layout.scripts:
        name, target = layout.scripts[0]
        module, _, func = target.partition(":")
        func = func.split("[")[0].strip()
        module = module.strip()
        if module and func and re.fullmatch(r"[\w.]+", module) and re.fullmatch(r"[\w.]+", func):
            head = func.split(".")[0]
            code = f"import sys; from {module} import {head}; sys.exit({func}())"
            return (
                ["python", "-c", code],
                port,
                f"the [project.scripts] entry `{name}`, run from the source so the image needs no build backend",
            )
    return ["python"], port, "no entry point found (manage.py, app.py, main.py, Procfile, [project.scripts]): set CMD"


def _render_lock(lock: pylock.PyLock, choice: Choice) -> str:
    out = [
        f"{LOCK_HEADER} for python {choice.version}; do not edit — regenerate instead.",
        f"# Pins: {lock.origin}.",
    ]
    if lock.lines and not lock.hashed and any(line.hashes for line in lock.lines):
        out.append("# Hashes left out: pip checks hashes for all lines or none, and some pins have none.")
    for line in lock.lines:
        text = line.requirement + (f" ; {line.marker}" if line.marker else "")
        if not line.pinned:
            out.append("# not pinned: nothing recorded a version for the next line")
        if lock.hashed:
            out.append(" \\\n".join([text, *(f"    --hash={h}" for h in line.hashes)]))
        else:
            out.append(text)
    return "\n".join(out) + "\n"


def _resolve_lock(
    project: Snapshot,
    *,
    layout: ProjectLayout,
    source: Snapshot | None,
    options: Options,
    env: Mapping[str, str],
    requires_dist: Mapping[str, tuple[str, ...]] | None,
) -> pylock.PyLock:
    declared = project.declared
    assert declared is not None
    local = layout.local_packages
    mode = options.version_source
    lock, stale = (None, None) if mode in ("host", "snapshot") else pylock.from_lock_file(declared, local, env)
    if lock is not None:
        return lock
    warnings = [f"not using the project's lock: {stale}"] if stale else []
    if mode == "lock":
        raise GenerateError(
            stale
            or "--from lock: the project has no Python lock file (poetry.lock, uv.lock, Pipfile.lock, pdm.lock, hashed requirements)"
        )
    if source is not None:
        got = pylock.from_snapshot(
            declared,
            snapshot=source,
            requires_dist=requires_dist,
            local=local,
            env=env,
            label=source_label(source) + " environment",
        )
        return pylock.PyLock(got.lines, got.origin, got.tooling, (*warnings, *got.warnings))
    got = pylock.declared_fallback(
        declared, local, env, "the project's declared requirements (no lock file and no snapshot)"
    )
    return pylock.PyLock(got.lines, got.origin, got.tooling, (*warnings, *got.warnings))


def plan_python(
    project: Snapshot,
    *,
    layout: ProjectLayout,
    source: Snapshot | None,
    options: Options,
    choice: Choice,
    node_choice: Choice | None,
    requires_dist: Mapping[str, tuple[str, ...]] | None,
) -> Plan:
    declared = project.declared
    assert declared is not None
    distro = source.platform.distro if source is not None and source.platform is not None else None
    codename = debian_codename(distro)
    arch = source.platform.arch if source is not None and source.platform is not None else None
    env = pylock.marker_environment(choice.version, arch)
    lock = _resolve_lock(project, layout=layout, source=source, options=options, env=env, requires_dist=requires_dist)
    warnings = list(lock.warnings)
    lock_text = _render_lock(lock, choice)
    image = f"python:{choice.version}-slim-{codename}"
    node = layout.node
    node_mode: str | None = None
    node_image = None
    install = None
    if node is not None and node_choice is not None:
        node_image = f"node:{node_choice.version}-bookworm-slim"
        install = npmrc_aware(node, node_install(node, source))
        if "build" in node.scripts:
            node_mode = "frontend"
        elif is_node_runtime_needed(node):
            node_mode = "runtime"
        if node_mode and install.warning:
            warnings.append(install.warning)
        if node_mode:
            warnings.extend(install.warnings)

    header = [HEADER, REGENERATE, f"# Python: {choice.reason}."]
    if node_choice is not None and node_mode:
        header.append(f"# Node: {node_choice.reason}.")
    header.append(f"# Packages: {options.lock_path} pins {len(lock.lines)} distributions from {lock.origin}.")
    if codename != "bookworm":
        header.append(f"# Debian {codename}: the release the {source_label(source)} runs.")
    if node is not None and node_mode is None:
        header.append("# package.json has no build script and no runtime dependencies: node is not part of the image.")

    stages: list[Stage] = []
    if node_mode == "frontend" and node is not None and install is not None and node_image is not None:
        workdir = "/src" + (f"/{node.dir}" if node.dir else "")
        stages.append(
            Stage(
                node_image,
                (
                    Workdir(workdir),
                    *copy_manifests(node, install, "./"),
                    *run_install(install, install.full),
                    Copy((".",), "/src"),
                    Run(
                        "npm run build \\\n && rm -rf node_modules",
                        ("# node_modules is build tooling here; the Python image needs only the built files.",),
                    ),
                ),
                "frontend",
                ("# Front end: built with the pinned node, then only its output travels on.",),
            )
        )
    elif node_mode == "runtime" and node is not None and install is not None and node_image is not None:
        stages.append(
            Stage(
                node_image,
                (
                    Workdir("/app" + (f"/{node.dir}" if node.dir else "")),
                    *copy_manifests(node, install, "./"),
                    *run_install(install, install.prod),
                ),
                "node",
                ("# Node packages the app runs with, installed by the pinned node.",),
            )
        )

    builder: list[Step] = [
        Env((("PIP_NO_CACHE_DIR", "1"), ("PIP_DISABLE_PIP_VERSION_CHECK", "1"), ("PYTHONDONTWRITEBYTECODE", "1"))),
        # ARGs without a default stay unset unless given, so pip uses its usual index.
        Arg(
            ("PIP_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX"),
            ("# Mirrors and offline builds: --build-arg PIP_INDEX_URL=… or PIP_FIND_LINKS=… PIP_NO_INDEX=1.",),
        ),
    ]
    if lock.tooling:
        pins = " ".join(f"{n}=={v}" for n, v in lock.tooling)
        builder.append(
            Run(
                f"python3 -m venv {VENV} \\\n && {VENV}/bin/pip install --no-cache-dir {pins}",
                (f"# The installer is pinned to the {source_label(source)}'s versions so the venv matches it.",),
            )
        )
    else:
        builder.append(Run(f"python3 -m venv {VENV}"))
    builder.append(Copy((options.lock_path,), "/tmp/requirements.lock"))
    flags = "--no-cache-dir"
    why: tuple[str, ...] = ()
    if lock.hashed:
        flags += " --require-hashes"
        why = ("# --require-hashes: every pin carries the hashes the project's lock recorded.",)
    builder.append(Run(f"{VENV}/bin/pip install {flags} -r /tmp/requirements.lock", why))
    stages.append(
        Stage(
            image,
            tuple(builder),
            "builder",
            ("# Builder: a virtual environment holding exactly the locked distributions.",),
        )
    )

    env_vars = [
        ("PYTHONDONTWRITEBYTECODE", "1"),
        ("PYTHONUNBUFFERED", "1"),
        ("PIP_NO_CACHE_DIR", "1"),
        ("VIRTUAL_ENV", VENV),
        ("PATH", f"{VENV}/bin:$PATH"),
    ]
    cmd, port, cmd_why = _python_cmd(layout, lock.names)
    src_layout = "src/" in layout.py_files and cmd[:2] == ["python", "-c"]
    if src_layout:
        env_vars.append(("PYTHONPATH", "/".join(filter(None, ["/app", layout.python_dir, "src"]))))
    if port and layout.procfile_web and "PORT" in layout.procfile_web:
        env_vars.append(("PORT", str(port)))
    final: list[Step] = [Env(tuple(env_vars))]
    final.extend(env_steps(project, source, OWN_ENV))
    final.append(
        Run(
            f"useradd --no-log-init --create-home --uid {APP_UID} --shell /usr/sbin/nologin app",
            ("# A fixed uid, so volume permissions and runAsUser policies can name it.",),
        )
    )
    final.append(Copy((VENV,), VENV, from_stage="builder"))
    if node_mode == "runtime" and node is not None:
        final.append(
            Copy(
                ("/usr/local/bin/node",),
                "/usr/local/bin/node",
                ("# The node binary from the same pinned node image, for the code that shells out to it.",),
                from_stage="node",
            )
        )
    final.append(Workdir("/app"))
    if node_mode == "frontend":
        final.append(
            Copy(
                ("/src",),
                "/app",
                ("# The source with the built front end; owned by root so the app cannot rewrite its code.",),
                from_stage="frontend",
            )
        )
    else:
        final.append(Copy((".",), "/app", ("# Owned by root, so the app can read its code but not rewrite it.",)))
    if node_mode == "runtime" and node is not None:
        nm = "/app" + (f"/{node.dir}" if node.dir else "") + "/node_modules"
        final.append(Copy((nm,), nm, from_stage="node"))
    if layout.python_dir:
        final.append(Workdir(f"/app/{layout.python_dir}"))
    final.append(User(APP_UID))
    if port:
        final.append(Expose(port))
    final.append(Cmd(tuple(cmd), (f"# CMD: {cmd_why}.",)))
    stages.append(
        Stage(
            image,
            tuple(final),
            why=("# Runtime: the same interpreter, the venv and the code; no build tools, not root.",),
        )
    )
    return Plan(
        header=tuple(header),
        stages=tuple(stages),
        warnings=tuple(warnings),
        locks={options.lock_path: lock_text},
    )
