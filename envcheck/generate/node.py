"""Node planning: the stages that install a ``package.json`` app, as a :class:`Plan`.

Also the node pieces a Python image borrows (a front end built in its own
stage, or node packages the app shells out to).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from envcheck.generate.layout import NodeApp, ProjectLayout
from envcheck.generate.options import DOCKERIGNORE, HEADER, REGENERATE, Options, source_label
from envcheck.generate.plan import Arg, Cmd, Copy, Env, Expose, Plan, Run, Stage, Step, User, Workdir
from envcheck.generate.settings import OWN_ENV, env_steps
from envcheck.generate.versions import Choice
from envcheck.snapshot import Snapshot


def is_node_runtime_needed(node: NodeApp) -> bool:
    return bool(node.prod_dependencies) or "start" in node.scripts


@dataclass(frozen=True, slots=True)
class NodeInstall:
    manifest_files: tuple[str, ...]
    setup: str | None  # a RUN line that installs the package manager
    full: str  # install everything (to build)
    prod: str  # install production dependencies only
    prune: str  # after a build, drop dev dependencies
    comment: str
    mirror_args: Arg  # the ARG lines (and their comment) a build behind a registry mirror sets
    warning: str | None = None
    npmrc_secret: bool = False
    warnings: tuple[
        str, ...
    ] = ()  # beside `warning`: what the project's .npmrc asks  # the install reads the project's credentialed .npmrc as a build secret


_PNPM_FOR_LOCK = {"5.3": "6.35.1", "5.4": "7.33.7", "6.0": "8.15.9", "6.1": "8.15.9", "7.0": "9.15.9", "9.0": "9.15.9"}
_EXACT = re.compile(r"^(\w[\w-]*)@(\d+\.\d+\.\d+)(?:\+.*)?$")
# corepack's own pin syntax, hash included (what `corepack use` writes); nothing here can reach a shell.
_COREPACK_PIN = re.compile(r"^yarn@\d+\.\d+\.\d+(?:\+sha(?:1|224|256|384|512)\.[0-9a-f]{40,128})?$")

# ARGs without a default stay unset unless given, so a plain build uses the public registries.
_NPM_ARG = Arg(
    ("NPM_CONFIG_REGISTRY",),
    ("# Registry mirrors: --build-arg NPM_CONFIG_REGISTRY=… (unset by default: the public registry).",),
)
# npm installs pnpm, and pnpm reads the same variable, upper or lower case.
_PNPM_ARG = Arg(
    ("NPM_CONFIG_REGISTRY",),
    (
        "# Registry mirrors: --build-arg NPM_CONFIG_REGISTRY=…, read by npm and pnpm (unset by default: the public registry).",
    ),
)
# Neither corepack nor yarn berry reads NPM_CONFIG_REGISTRY.  Given a registry,
# corepack fetches yarn from it (the @yarnpkg/cli-dist package) instead of
# from yarn's own release host, and yarn refuses plain http unless the host
# is whitelisted.
_YARN_BERRY_ARGS = Arg(
    ("COREPACK_NPM_REGISTRY", "YARN_NPM_REGISTRY_SERVER", "YARN_UNSAFE_HTTP_WHITELIST"),
    (
        "# Registry mirrors: --build-arg COREPACK_NPM_REGISTRY=… (where corepack gets yarn) and",
        "# YARN_NPM_REGISTRY_SERVER=…; an http:// mirror also needs YARN_UNSAFE_HTTP_WHITELIST=<its host>.",
        "# All unset by default: the public registries.",
    ),
)
# Yarn 1 reads its registry setting only to resolve what yarn.lock lacks: a
# frozen install fetches every tarball from the URL the lock records, so a
# mirror alone is never asked.  Given one, the install points the lock's
# registry URLs (.../NAME/-/FILE, whatever host and path come before) at it and
# puts yarn.lock back afterwards; git and file sources are left alone.
_YARN1_ARG = Arg(
    ("NPM_CONFIG_REGISTRY",),
    (
        "# Registry mirrors: --build-arg NPM_CONFIG_REGISTRY=… (unset by default: the public registry).",
        "# Yarn 1 fetches from the URLs yarn.lock records whatever the registry setting: given a",
        "# mirror, the install points them at it, then puts yarn.lock back.",
    ),
)
_YARN1_LOCK_TO_MIRROR = (
    'if [ -n "$NPM_CONFIG_REGISTRY" ]; then \\\n'
    "      cp yarn.lock /tmp/yarn.lock.orig \\\n"
    '      && sed -E -i "s#^(  resolved .)https?://[^/ ]+(/[^@/ ][^/ ]*)*/((@[^/ ]+/)?[^/@ ]+/-/)'
    '#\\1${NPM_CONFIG_REGISTRY%/}/\\3#" yarn.lock; \\\n'
    "    fi"
)
_YARN1_LOCK_BACK = "if [ -f /tmp/yarn.lock.orig ]; then mv /tmp/yarn.lock.orig yarn.lock; fi"


def node_install(node: NodeApp, source: Snapshot | None) -> NodeInstall:
    pm = _EXACT.match(node.package_manager or "")
    if node.lock == "pnpm-lock.yaml":
        if pm and pm.group(1) == "pnpm":
            version, why = pm.group(2), "the packageManager field of package.json"
        elif source is not None and source.runtime("pnpm") is not None:
            version, why = source.runtimes["pnpm"].version, f"the {source_label(source)}"
        else:
            version = _PNPM_FOR_LOCK.get(node.pnpm_lock_version or "", "9.15.9")
            why = f"the pnpm release that writes lockfileVersion {node.pnpm_lock_version or '9.0'}"
        return NodeInstall(
            manifest_files=("package.json", "pnpm-lock.yaml"),
            setup=f"npm install --global --no-fund --no-audit pnpm@{version}",
            full="pnpm install --frozen-lockfile",
            prod="pnpm install --frozen-lockfile --prod",
            prune="pnpm prune --prod",
            comment=f"# pnpm {version}, from {why}; --frozen-lockfile fails instead of re-resolving.",
            mirror_args=_PNPM_ARG,
        )
    if node.lock == "yarn.lock" and node.yarn_berry:
        version = pm.group(2) if pm and pm.group(1) == "yarn" else "4.5.3"
        # With the hash packageManager records, corepack checks what it downloads.
        spec = node.package_manager if node.package_manager and _COREPACK_PIN.match(node.package_manager) else None
        linker = node.yarn_node_linker or "pnp"
        pnp = None
        if linker not in ("node-modules", "pnpm"):
            # Plug'n'Play installs no node_modules, and the runtime stage copies node_modules.
            pnp = (
                f"{node.dir + '/' if node.dir else ''}.yarnrc.yml: yarn installs with Plug'n'Play ({linker}); "
                "the image needs a node_modules folder: set `nodeLinker: node-modules`"
            )
        return NodeInstall(
            manifest_files=("package.json", "yarn.lock", *node.yarn_files),
            setup=f"corepack enable \\\n && corepack prepare {spec or f'yarn@{version}'} --activate",
            full="yarn install --immutable",
            # `workspaces focus` alone re-resolves a stale yarn.lock without a word
            # (even with enableImmutableInstalls): the checked install goes first.
            prod="yarn install --immutable \\\n && yarn workspaces focus --all --production",
            prune="yarn workspaces focus --all --production",
            comment=f"# Yarn {version} through corepack; --immutable fails instead of changing yarn.lock.",
            mirror_args=_YARN_BERRY_ARGS,
            warning=pnp,
        )
    if node.lock == "yarn.lock":
        return NodeInstall(
            manifest_files=("package.json", "yarn.lock"),
            setup=None,
            full=(
                f"{_YARN1_LOCK_TO_MIRROR} \\\n && yarn install --frozen-lockfile \\\n"
                f" && yarn cache clean \\\n && {_YARN1_LOCK_BACK}"
            ),
            prod=(
                f"{_YARN1_LOCK_TO_MIRROR} \\\n && yarn install --frozen-lockfile --production \\\n"
                f" && yarn cache clean \\\n && {_YARN1_LOCK_BACK}"
            ),
            # `COPY . /app` has brought the project's yarn.lock back, and the cache
            # is gone: the prune fetches again, through the mirror too.
            prune=(
                f"{_YARN1_LOCK_TO_MIRROR} \\\n"
                " && yarn install --frozen-lockfile --production --ignore-scripts --prefer-offline \\\n"
                f" && yarn cache clean \\\n && {_YARN1_LOCK_BACK}"
            ),
            comment="# Yarn 1 ships with the node image; --frozen-lockfile fails instead of changing yarn.lock.",
            mirror_args=_YARN1_ARG,
        )
    if node.lock in ("package-lock.json", "npm-shrinkwrap.json"):
        return NodeInstall(
            manifest_files=("package.json", node.lock),
            setup=None,
            full="npm ci --no-fund --no-audit",
            prod="npm ci --omit=dev --no-fund --no-audit",
            prune="npm prune --omit=dev --no-fund --no-audit",
            comment=f"# npm ci installs exactly what {node.lock} records.",
            mirror_args=_NPM_ARG,
        )
    return NodeInstall(
        manifest_files=("package.json",),
        setup=None,
        full="npm install --no-fund --no-audit",
        prod="npm install --omit=dev --no-fund --no-audit",
        prune="npm prune --omit=dev --no-fund --no-audit",
        comment="# No lock file: dependencies resolve at build time. Commit a package-lock.json and regenerate.",
        mirror_args=_NPM_ARG,
        warning=f"{node.dir + '/' if node.dir else ''}package.json has no lock file; node dependencies are not pinned",
    )


_NPMRC_MOUNT_NOTE = (
    "# .npmrc holds registry credentials: build with `--secret id=npmrc,src=.npmrc`; a secret",
    "# mount is read by npm, pnpm and yarn as the user config and never stored in a layer.",
)


def dockerignore_for(layout: ProjectLayout, warnings: list[str]) -> str:
    """The .dockerignore to write; a credentialed .npmrc must stay out of `COPY . /app`."""
    node = layout.node
    if node is None or node.npmrc != "credentials":
        return DOCKERIGNORE
    where = f"{node.dir}/.npmrc" if node.dir else ".npmrc"
    if layout.dockerignore is not None and not {where, f"/{where}", "**/.npmrc", ".npmrc"} & set(layout.dockerignore):
        warnings.append(f"the project's .dockerignore lets {where} into the build context: add `{where}` to it")
    return DOCKERIGNORE + f"{where}\n"


def npmrc_aware(node: NodeApp, install: NodeInstall) -> NodeInstall:
    """The project's .npmrc reaches the install: copied when it only holds settings,
    as a build secret when it holds credentials.  Yarn berry reads .yarnrc.yml instead."""
    if node.npmrc is None or ".yarnrc.yml" in install.manifest_files:
        return install
    where = f"{node.dir}/.npmrc" if node.dir else ".npmrc"
    if node.npmrc == "plain":
        # legacy-peer-deps, a scoped registry…: npm ci resolves differently without them.
        return replace(install, manifest_files=(*install.manifest_files, ".npmrc"))
    warning = (
        f"{where} holds registry credentials: not copied into the image (and left out of the build context); "
        "the install reads it as a build secret: docker build --secret id=npmrc,src=" + where
    )
    return replace(install, npmrc_secret=True, warnings=(*install.warnings, warning))


def run_install(install: NodeInstall, command: str) -> list[Step]:
    mounts = ("type=secret,id=npmrc,target=/root/.npmrc",) if install.npmrc_secret else ()
    secret = _NPMRC_MOUNT_NOTE if install.npmrc_secret else ()
    if install.setup:
        command = f"{install.setup} \\\n && {command}"
    return [install.mirror_args, Run(command, secret, mounts)]


def copy_manifests(node: NodeApp, install: NodeInstall, dest: str) -> list[Step]:
    prefix = f"{node.dir}/" if node.dir else ""
    top = [f for f in install.manifest_files if "/" not in f]
    steps: list[Step] = [Copy(tuple(prefix + f for f in top), dest, (install.comment,))]
    # A release or plugin .yarnrc.yml names must keep its path: yarn looks for it there.
    steps.extend(Copy((f"{prefix}{f}",), f"{dest}{f}") for f in install.manifest_files if "/" in f)
    return steps


def _node_cmd(node: NodeApp) -> tuple[list[str], str]:
    start = node.scripts.get("start")
    if start:
        m = re.fullmatch(r"node\s+([\w./@-]+)", start.strip())
        if m:
            return [
                "node",
                m.group(1),
            ], f'package.json "start" runs `{start.strip()}`; node as PID 1 gets signals directly'
        return ["npm", "start"], 'package.json "start" script'
    if node.main:
        return ["node", node.main], 'package.json "main"'
    if node.entry_files:
        return ["node", node.entry_files[0]], f"{node.entry_files[0]} is the project's entry file"
    return ["node"], "no start script, main or entry file found: set CMD for your app"


def plan_node(
    project: Snapshot,
    *,
    layout: ProjectLayout,
    node: NodeApp,
    source: Snapshot | None,
    options: Options,
    choice: Choice,
) -> Plan:
    warnings: list[str] = []
    image = f"node:{choice.version}-bookworm-slim"
    install = npmrc_aware(node, node_install(node, source))
    if install.warning:
        warnings.append(install.warning)
    warnings.extend(install.warnings)
    workdir = "/app" + (f"/{node.dir}" if node.dir else "")
    build = "build" in node.scripts
    header = (HEADER, REGENERATE, f"# Node: {choice.reason}.")
    stage = "build" if build else "deps"
    first: list[Step] = [Workdir(workdir), *copy_manifests(node, install, "./")]
    if build:
        first.extend(run_install(install, install.full))
        first.append(Copy((".",), "/app"))
        first.append(
            Run(
                f"npm run build \\\n && {install.prune}",
                ("# Build with dev dependencies, then drop them so only production ones reach the image.",),
            )
        )
    else:
        first.extend(run_install(install, install.prod))
    steps: list[Step] = []
    host_node_env = source.env.get("NODE_ENV") if source is not None else None
    node_env = host_node_env.value if host_node_env is not None and host_node_env.value else None
    if node_env and re.fullmatch(r"[\w.-]{1,40}", node_env):
        steps.append(
            Env(
                (("NODE_ENV", node_env),),
                (f"# NODE_ENV as the {source_label(source)} sets it, so the app behaves as it does there.",),
            )
        )
    else:
        steps.append(
            Env(
                (("NODE_ENV", "production"),),
                ("# production: frameworks drop dev-only behaviour (a host without NODE_ENV differs: EC501).",),
            )
        )
    steps.extend(env_steps(project, source, OWN_ENV))
    steps.append(Workdir(workdir))
    if build:
        steps.append(Copy(("/app",), "/app", from_stage="build"))
    else:
        steps.append(
            Copy(
                (".",),
                "/app",
                ("# Code first, then the installed dependencies: a stray local node_modules never wins.",),
            )
        )
        steps.append(Copy((f"{workdir}/node_modules",), "./node_modules", from_stage="deps"))
    steps.append(User(1000, ("# uid 1000 is the node image's unprivileged `node` user.",)))
    if node.port:
        steps.append(Expose(node.port))
    cmd, why = _node_cmd(node)
    steps.append(Cmd(tuple(cmd), (f"# CMD: {why}.",)))
    return Plan(
        header=header,
        stages=(
            Stage(image, tuple(first), stage),
            Stage(
                image,
                tuple(steps),
                why=("# Runtime: the same pinned node image, production dependencies only, non-root.",),
            ),
        ),
        warnings=tuple(warnings),
    )
