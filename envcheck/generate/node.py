"""Node planning: the stages that install, build and run a ``package.json`` app, as a :class:`Plan`.

Decisions, each explained in the Dockerfile:

* **Which node** (:func:`choose_node_version`): from real release data
  (:mod:`.node_releases`) for what the project declares — ``engines.node``
  bounds, version files name what the developer runs; never below the
  declared range; the host's node only when the host really ran the project.
* **Which package manager release**: ``packageManager``, ``engines.pnpm``, the
  host, else the lock format's release (``envcheck/data/package_managers.toml``).
* **Install**: every manifest the install reads — the lock, ``.npmrc``, Yarn
  berry's files, the workspace file (pnpm catalogs live there) and each
  member's ``package.json`` at its path.  The project's own lifecycle scripts
  (``postinstall`` applying ``patches/``, a ``prepare`` calling husky) may read
  any file, so when it has any the install runs with scripts off and they run
  once the whole tree is in place.
* **Build, prune, run**: a ``build`` script runs in a stage with dev
  dependencies; a separate stage prunes to production dependencies; only that
  (or, for a static site, only the built files) reaches the runtime stage.
* **CMD and EXPOSE** (:func:`plan_serve`): ``start``, else a framework's own
  server, else a static server for a built site, else ``main``; bound to
  ``0.0.0.0`` and ``$PORT``, and ``EXPOSE`` names the port it really listens on.

Also the node pieces a Python image borrows (a front end built in its own
stage, or node packages the app shells out to).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib import resources

from envcheck import _regex
from envcheck._toml import loads
from envcheck.generate.build_env import placeholders
from envcheck.generate.layout import NodeApp, ProjectLayout
from envcheck.generate.node_layout import Member, VersionDecl
from envcheck.generate.node_releases import NodeReleases, version_key
from envcheck.generate.options import DOCKERIGNORE, HEADER, REGENERATE, GenerateError, Options, source_label
from envcheck.generate.plan import Arg, Cmd, Copy, Env, Expose, Note, Plan, Run, Stage, Step, User, Workdir
from envcheck.generate.settings import OWN_ENV, env_steps
from envcheck.generate.versions import Choice
from envcheck.npm_semver import satisfies
from envcheck.record import record, replace
from envcheck.snapshot import Declared, Snapshot

NODE_UID = 1000  # the node image's unprivileged `node` user
_FULL = _regex.compile(r"^v?(\d+\.\d+\.\d+)$")


def is_node_runtime_needed(node: NodeApp) -> bool:
    return bool(node.prod_dependencies) or "start" in node.scripts


# --------------------------------------------------------------------------- knowledge files


@record
class ManagerRelease:
    release: str
    node: str  # the node range the release's package.json engines accept


@record
class PackageManagers:
    """``envcheck/data/package_managers.toml``: lock format -> major -> release."""

    pnpm_lockfile: Mapping[str, int]
    pnpm: Mapping[int, ManagerRelease]
    yarn_lockfile: Mapping[str, int]
    yarn: Mapping[int, ManagerRelease]


@record
class Framework:
    name: str
    dependency: str
    kind: str  # "server" | "static"
    command: tuple[str, ...] = ()
    port: int | None = None
    output: str | None = None
    preview: tuple[str, ...] = ()


def _data(name: str) -> dict[str, object]:
    text = (resources.files("envcheck") / "data" / name).read_text(encoding="utf-8")
    return loads(text, f"envcheck/data/{name}")


def _bad(name: str, what: str) -> GenerateError:
    return GenerateError(f"envcheck/data/{name}: {what}")


@lru_cache(maxsize=1)
def package_managers() -> PackageManagers:
    name = "package_managers.toml"
    data = _data(name)

    def table(tool: str) -> tuple[dict[str, int], dict[int, ManagerRelease]]:
        section = data.get(tool)
        if not isinstance(section, dict):
            raise _bad(name, f"no [{tool}] table")
        lock = section.get("lockfile")
        majors = section.get("major")
        if not isinstance(lock, dict) or not isinstance(majors, dict):
            raise _bad(name, f"[{tool}] needs `lockfile` and `major` tables")
        releases: dict[int, ManagerRelease] = {}
        for key, value in majors.items():
            if not key.isdigit() or not isinstance(value, dict):
                raise _bad(name, f"[{tool}.major.{key}] must be a table under a major number")
            release, node = value.get("release"), value.get("node")
            if not isinstance(release, str) or not _FULL.match(release) or not release.startswith(f"{key}."):
                raise _bad(name, f"[{tool}.major.{key}] release must be a {key}.x.y version")
            if not isinstance(node, str):
                raise _bad(name, f"[{tool}.major.{key}] needs the node range it supports")
            releases[int(key)] = ManagerRelease(release, node)
        mapping: dict[str, int] = {}
        for key, value in lock.items():
            if not isinstance(value, int) or value not in releases:
                raise _bad(name, f"[{tool}.lockfile] {key!r} must name a major listed under [{tool}.major]")
            mapping[key] = value
        return mapping, releases

    pl, pr = table("pnpm")
    yl, yr = table("yarn")
    return PackageManagers(pl, pr, yl, yr)


@lru_cache(maxsize=1)
def frameworks() -> tuple[Framework, ...]:
    name = "node_frameworks.toml"
    raw = _data(name).get("framework")
    if not isinstance(raw, list):
        raise _bad(name, "no [[framework]] entries")
    out: list[Framework] = []
    for entry in raw:
        if not isinstance(entry, dict):
            raise _bad(name, "every [[framework]] must be a table")
        fname, dep, kind = entry.get("name"), entry.get("dependency"), entry.get("kind")
        if not isinstance(fname, str) or not isinstance(dep, str) or kind not in ("server", "static"):
            raise _bad(name, "a [[framework]] needs name, dependency and kind = server|static")
        command, preview = entry.get("command", []), entry.get("preview", [])
        port, output = entry.get("port"), entry.get("output")
        ok = (
            isinstance(command, list)
            and all(isinstance(c, str) for c in command)
            and isinstance(preview, list)
            and all(isinstance(c, str) for c in preview)
            and (port is None or (isinstance(port, int) and 0 < port < 65536))
            and (output is None or isinstance(output, str))
        )
        if not ok or (kind == "server" and (not command or port is None)) or (kind == "static" and not output):
            raise _bad(name, f"framework {fname}: a server needs command and port, a static site an output")
        out.append(Framework(fname, dep, str(kind), tuple(command), port, output, tuple(preview)))
    return tuple(out)


@lru_cache(maxsize=1)
def openssl_legacy() -> tuple[tuple[str, str], ...]:
    """``envcheck/data/node_compat.toml``: (package, first fixed version) of MD4-hashing bundlers."""
    name = "node_compat.toml"
    raw = _data(name).get("openssl_legacy")
    if not isinstance(raw, list):
        raise _bad(name, "no [[openssl_legacy]] entries")
    out: list[tuple[str, str]] = []
    for entry in raw:
        pkg = entry.get("package") if isinstance(entry, dict) else None
        below = entry.get("below") if isinstance(entry, dict) else None
        if not isinstance(pkg, str) or not isinstance(below, str) or not _FULL.match(below):
            raise _bad(name, "each [[openssl_legacy]] needs package and a below = X.Y.Z version")
        out.append((pkg, below))
    return tuple(out)


def needs_openssl_legacy(declared: Declared | None, node_version: str) -> tuple[str, ...]:
    """``name@version`` of locked packages that hash with MD4, when the chosen node has OpenSSL 3."""
    if declared is None or version_key(node_version)[0] < 17:
        return ()
    table = openssl_legacy()
    found = {
        f"{e.name}@{e.version}"
        for e in declared.locks
        if e.ecosystem == "node"
        for pkg, below in table
        if e.name == pkg and satisfies(e.version, f"<{below}") is True
    }
    return tuple(sorted(found))


# --------------------------------------------------------------------------- which node


def host_runs_project(source: Snapshot | None, declared: Declared | None) -> bool:
    """Did the snapshot's machine really run this project?

    It did when the project's dependencies are installed there (a node_modules
    the scanner saw) and none of them disagrees with the lock: then its node
    built and ran this very tree.  A node that merely exists on the machine
    says nothing about the project.
    """
    if source is None or source.runtime("node") is None:
        return False
    packages = source.active_packages("node")
    if not packages:
        return False
    by_path = {p.path: p.version for p in packages if p.path}
    by_name: dict[str, set[str]] = {}
    for p in packages:
        by_name.setdefault(p.name, set()).add(p.version)
    # Locks without install paths (yarn.lock, pnpm-lock.yaml) list every resolved version of a
    # name; the tree agrees when it holds at least one of them (a copy may be deduplicated away).
    pathless: dict[str, set[str]] = {}
    for e in declared.locks if declared else ():
        if e.ecosystem != "node" or e.dev:
            continue
        if e.path and e.path in by_path:
            if by_path[e.path] != e.version:
                return False
        elif not e.path:
            pathless.setdefault(e.name, set()).add(e.version)
    return all(not (name in by_name and not by_name[name] & versions) for name, versions in pathless.items())


def _lts_majors(releases: NodeReleases) -> list[int]:
    majors: list[int] = []
    for v in releases.versions:
        m = version_key(v)[0]
        if releases.is_lts(v) and m not in majors:
            majors.append(m)
    return majors


def resolve_spec(value: str, releases: NodeReleases) -> tuple[str | None, str | None]:
    """(an npm range, None) for a declared node version, or (None, why it names none).

    ``lts/*`` is the newest LTS line, ``lts/gallium`` a line by codename,
    ``lts/-1`` the LTS line before the newest; ``node``/``latest`` any release.
    """
    v = value.strip()
    low = v.lower()
    if low in ("system", "iojs"):
        return None, f"`{v}` names no release"
    if low in ("node", "latest", "current", "stable", "*"):
        return "*", None
    if low == "lts" or low.startswith(("lts/", "lts-")):
        rest = low[3:].lstrip("/-") if low != "lts" else "*"
        majors = _lts_majors(releases)
        major: int | None = None
        if rest in ("", "*"):
            major = majors[0] if majors else None
        elif low.startswith("lts/-") and rest.isdigit():
            major = majors[int(rest)] if int(rest) < len(majors) else None
        else:
            major = releases.codename_major(rest)
        if major is None:
            return None, f"`{v}` is no LTS line in the release data ({releases.source})"
        return f"{major}.x", None
    v = re.sub(r"(?<![\w.])[vV](?=\d)", "", v)
    if satisfies("1.0.0", v) is None:
        return None, f"`{value.strip()}` is not a version or range npm reads"
    return v, None


def era_releases(inside: Sequence[str], releases: NodeReleases, day: str) -> list[str]:
    """Releases in ``inside`` of the newest LTS line that had entered LTS by ``day`` (newest first)."""
    lines = [ln for ln in releases.lines.values() if ln.lts is not None and ln.lts <= day]
    for line in sorted(lines, key=lambda ln: ln.major, reverse=True):
        found = [v for v in inside if version_key(v)[0] == line.major]
        if found:
            return found
    return []


def choose_node_version(
    decls: Sequence[VersionDecl],
    engines: str | None,
    *,
    host: str | None,
    host_label: str,
    host_is_env: bool,
    releases: NodeReleases,
    era: tuple[str, str] | None = None,
) -> tuple[Choice, tuple[str, ...]]:
    """The node release to pin, why, and what the user should hear about it.

    ``era`` (YYYY-MM-DD, where that date comes from) is the project's own
    date: when no version file names a release and the host did not run the
    project, the newest release of the LTS line current on that date wins over
    today's LTS (a 2018 webpack 3 app on today's node fails), never outside
    ``engines``.

    Version files (in ``decls`` order) name what the developer runs; ``engines``
    bounds every choice; the newest release inside both wins, or the host's
    node when the host ran the project and it fits.  Nothing declared: the
    host's node when it ran the project, else the newest LTS release.
    """
    warnings: list[str] = [releases.warning] if releases.warning else []
    host_v = host.strip().lstrip("v") if host and _FULL.match(host.strip()) else None
    if engines and satisfies("1.0.0", engines) is None:
        warnings.append(f"engines.node `{engines}` is not a range npm reads; not used to choose node")
        engines = None

    def in_engines(v: str) -> bool:
        return engines is None or satisfies(v, engines) is True

    bound = f" inside engines.node {engines}" if engines else ""
    chosen: str | None = None
    reason = ""
    followed: tuple[VersionDecl, str] | None = None
    for decl in decls:
        spec, problem = resolve_spec(decl.value, releases)
        if spec is None:
            warnings.append(f"{decl.source}: {problem}; ignored")
            continue
        matching = [v for v in releases.versions if satisfies(v, spec)]
        if not matching:
            warnings.append(f"{decl.source} names node {decl.value}, which no release in the data matches; ignored")
            continue
        inside = [v for v in matching if in_engines(v)]
        if not inside:
            warnings.append(f"{decl.source} names node {decl.value}, outside engines.node {engines}; ignored")
            continue
        if host_v and host_is_env and host_v in inside:
            chosen = host_v
            reason = f"{decl.source} names node {decl.value}; the {host_label} runs {host_v}, which ran the project"
        else:
            chosen = inside[0]
            newest = "its newest release" if len(inside) > 1 else "that release"
            reason = f"{decl.source} names node {decl.value}; {chosen} is {newest}{bound}"
        followed = (decl, spec)
        break
    if chosen is None:
        inside = [v for v in releases.versions if in_engines(v)]
        if engines and not inside:
            raise GenerateError(f"engines.node {engines} matches no node release ({releases.source})")
        if host_v and host_is_env and in_engines(host_v):
            chosen = host_v
            what = f"engines.node {engines} allows it" if engines else "nothing declares a node version"
            reason = f"the {host_label} runs node {host_v}, which ran the project, and {what}"
        else:
            lts = [v for v in inside if releases.is_lts(v)]
            of_era = era_releases(inside, releases, era[0]) if era else []
            chosen = (of_era or lts or inside)[0]
            kind = "LTS release" if lts else "release"
            if of_era and era is not None and version_key(of_era[0])[0] != version_key((lts or inside)[0])[0]:
                line = version_key(chosen)[0]
                bound_text = f"engines.node {engines}" if engines else "nothing"
                reason = (
                    f"{bound_text} names only a lower bound; node {line} was the current LTS line on {era[0]}, "
                    f"the project's date from {era[1]}, and {chosen} is its newest release"
                    if engines
                    else f"nothing declares a node version; node {line} was the current LTS line on {era[0]}, "
                    f"the project's date from {era[1]}, and {chosen} is its newest release"
                )
                warnings.append(
                    f"node {chosen}: {reason} (today's LTS would be {(lts or inside)[0]}; "
                    "--as-of DATE or dockerfile-as-of sets the date)"
                )
            elif engines:
                reason = f"{chosen} is the newest {kind} satisfying engines.node {engines}"
            else:
                reason = f"nothing declares a node version; {chosen} is the newest {kind}"
                warnings.append(
                    f"no node version declared (engines.node, .nvmrc, .node-version…); pinned {chosen}, "
                    "the newest LTS release: declare the one you run"
                )
    if followed is not None:
        for other in decls:
            if other is followed[0]:
                continue
            spec, _ = resolve_spec(other.value, releases)
            if spec is not None and satisfies(chosen, spec) is False:
                warnings.append(
                    f"{other.source} names node {other.value} but {followed[0].source} names {followed[0].value}; "
                    f"followed {followed[0].source}"
                )
    if host_v and host_v != chosen:
        warnings.append(f"the {host_label} runs node {host_v}; the image pins {chosen} ({reason})")
    eol = releases.end_of_life(chosen)
    if eol:
        note = f"node {version_key(chosen)[0]} reached its end of life on {eol}: no more security fixes"
        if chosen == host_v and followed is None:
            # The machine's own node: said in the Dockerfile; the warnings are for declared versions.
            reason = f"{reason} ({note})"
        else:
            warnings.append(f"{note}; {chosen} is still pinned ({reason}) — plan an upgrade")
    return Choice(chosen, reason), tuple(warnings)


# --------------------------------------------------------------------------- install


@record
class NodeInstall:
    manifest_files: tuple[str, ...]
    setup: str | None  # a RUN line that installs the package manager
    full: str  # install everything (to build)
    prod: str  # install production dependencies only
    prune: str  # after a build, drop dev dependencies (runs no scripts)
    comment: str
    mirror_args: Arg  # the ARG lines (and their comment) a build behind a registry mirror sets
    warning: str | None = None
    npmrc_secret: bool = False  # the install reads the project's credentialed .npmrc as a build secret
    warnings: tuple[str, ...] = ()  # beside `warning`: what the project's .npmrc asks
    no_scripts: str = ""  # `full` with the project's and dependencies' scripts off
    rebuild: str = "npm rebuild"  # runs the dependencies' install scripts afterwards
    run: str = "npm run"
    tool: str = "npm"  # npm | pnpm | yarn (berry) | yarn1
    manager_node: str | None = None  # the node range the package manager release supports


_EXACT = _regex.compile(r"^(\w[\w-]*)@(\d+\.\d+\.\d+)(?:\+.*)?$")
# corepack's own pin syntax, hash included (what `corepack use` writes); nothing here can reach a shell.
_COREPACK_PIN = _regex.compile(r"^yarn@\d+\.\d+\.\d+(?:\+sha(?:1|224|256|384|512)\.[0-9a-f]{40,128})?$")

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


def _yarn1(flags: str) -> str:
    # --ignore-engines: Yarn 1 alone makes a dependency's `engines` fatal (npm warns); old locks hold
    # packages whose engines stop at a long-gone node (upath 1.0.4: <=9), while the node is chosen above.
    return (
        f"{_YARN1_LOCK_TO_MIRROR} \\\n && yarn install {flags} --ignore-engines \\\n"
        f" && yarn cache clean \\\n && {_YARN1_LOCK_BACK}"
    )


def _pnpm_release(node: NodeApp, source: Snapshot | None, pm: re.Match[str] | None) -> tuple[str, str, str | None]:
    """(version, why, supported node range) of the pnpm to install."""
    data = package_managers()

    def node_range(version: str) -> str | None:
        rel = data.pnpm.get(version_key(version)[0])
        return rel.node if rel else None

    if pm and pm.group(1) == "pnpm":
        return pm.group(2), "the packageManager field of package.json", node_range(pm.group(2))
    wanted = node.engines_pnpm
    if wanted:
        for known in sorted(data.pnpm, reverse=True):
            rel = data.pnpm[known]
            if satisfies(rel.release, wanted):
                return rel.release, f"the newest known release satisfying engines.pnpm {wanted}", rel.node
    host = source.runtime("pnpm") if source is not None else None
    if host is not None and _FULL.match(host.version):
        return host.version, f"the {source_label(source)}", node_range(host.version)
    lock_v = node.pnpm_lock_version or "9.0"
    major = data.pnpm_lockfile.get(lock_v) or data.pnpm_lockfile.get(lock_v.split(".")[0] + ".0")
    if major is None:
        major = max(data.pnpm)
    rel = data.pnpm[major]
    return (
        rel.release,
        f"pnpm {major} writes lockfileVersion {lock_v}; {rel.release} is its newest known release",
        rel.node,
    )


def node_install(node: NodeApp, source: Snapshot | None) -> NodeInstall:
    pm = _EXACT.match(node.package_manager or "")
    if node.lock == "pnpm-lock.yaml":
        version, why, node_range = _pnpm_release(node, source, pm)
        return NodeInstall(
            manifest_files=("package.json", "pnpm-lock.yaml"),
            setup=f"npm install --global --no-fund --no-audit pnpm@{version}",
            full="pnpm install --frozen-lockfile",
            prod="pnpm install --frozen-lockfile --prod",
            prune="pnpm prune --prod --ignore-scripts",
            comment=f"# pnpm {version}, from {why}; --frozen-lockfile fails instead of re-resolving.",
            mirror_args=_PNPM_ARG,
            no_scripts="pnpm install --frozen-lockfile --ignore-scripts",
            rebuild="pnpm rebuild",
            run="pnpm run",
            tool="pnpm",
            manager_node=node_range,
        )
    if node.lock == "yarn.lock" and node.yarn_berry:
        data = package_managers()
        major = data.yarn_lockfile.get(node.yarn_lock_version or "")
        if pm and pm.group(1) == "yarn":
            version, why = pm.group(2), "the packageManager field of package.json"
        elif major is not None:
            version = data.yarn[major].release
            why = f"yarn.lock format {node.yarn_lock_version} is Yarn {major}'s; {version} is its newest known release"
        else:
            version = data.yarn[max(data.yarn)].release
            why = "the newest known Yarn release (yarn.lock names no known format)"
        rel = data.yarn.get(version_key(version)[0])
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
            comment=f"# Yarn {version} through corepack, from {why}; --immutable fails instead of changing yarn.lock.",
            mirror_args=_YARN_BERRY_ARGS,
            warning=pnp,
            no_scripts="yarn install --immutable --mode=skip-build",
            rebuild="yarn rebuild",
            run="yarn run",
            tool="yarn",
            manager_node=rel.node if rel else None,
        )
    if node.lock == "yarn.lock":
        return NodeInstall(
            manifest_files=("package.json", "yarn.lock"),
            setup=None,
            full=_yarn1("--frozen-lockfile"),
            prod=_yarn1("--frozen-lockfile --production"),
            # `COPY . /app` has brought the project's yarn.lock back, and the cache
            # is gone: the prune fetches again, through the mirror too.
            prune=_yarn1("--frozen-lockfile --production --ignore-scripts --prefer-offline"),
            comment="# Yarn 1 ships with the node image; --frozen-lockfile fails instead of changing yarn.lock.",
            mirror_args=_YARN1_ARG,
            no_scripts=_yarn1("--frozen-lockfile --ignore-scripts"),
            rebuild="npm rebuild",
            run="yarn run",
            tool="yarn1",
        )
    if node.lock in ("package-lock.json", "npm-shrinkwrap.json"):
        return NodeInstall(
            manifest_files=("package.json", node.lock),
            setup=_npm_setup(pm),
            full="npm ci --no-fund --no-audit",
            prod="npm ci --omit=dev --no-fund --no-audit",
            prune="npm prune --omit=dev --ignore-scripts --no-fund --no-audit",
            comment=f"# npm ci installs exactly what {node.lock} records.",
            mirror_args=_NPM_ARG,
            no_scripts="npm ci --ignore-scripts --no-fund --no-audit",
        )
    return NodeInstall(
        manifest_files=("package.json",),
        setup=_npm_setup(pm),
        full="npm install --no-fund --no-audit",
        prod="npm install --omit=dev --no-fund --no-audit",
        prune="npm prune --omit=dev --ignore-scripts --no-fund --no-audit",
        comment="# No lock file: dependencies resolve at build time. Commit a package-lock.json and regenerate.",
        mirror_args=_NPM_ARG,
        warning=f"{node.dir + '/' if node.dir else ''}package.json has no lock file; node dependencies are not pinned",
        no_scripts="npm install --ignore-scripts --no-fund --no-audit",
    )


def _npm_setup(pm: re.Match[str] | None) -> str | None:
    """packageManager `npm@X.Y.Z`: that npm, not the one the node image ships."""
    if pm and pm.group(1) == "npm":
        return f"npm install --global --no-fund --no-audit npm@{pm.group(2)}"
    return None


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


def run_install(install: NodeInstall, command: str, why: tuple[str, ...] = ()) -> list[Step]:
    mounts = ("type=secret,id=npmrc,target=/root/.npmrc",) if install.npmrc_secret else ()
    secret = _NPMRC_MOUNT_NOTE if install.npmrc_secret else ()
    if install.setup:
        command = f"{install.setup} \\\n && {command}"
    return [install.mirror_args, Run(command, (*why, *secret), mounts)]


def copy_manifests(node: NodeApp, install: NodeInstall, dest: str) -> list[Step]:
    """COPY every file the install reads, each at its path: the lock and settings,
    the workspace file and every member's package.json."""
    prefix = f"{node.dir}/" if node.dir else ""
    top = [f for f in (*install.manifest_files, *node.workspace_files) if "/" not in f]
    steps: list[Step] = [Copy(tuple(prefix + f for f in dict.fromkeys(top)), dest, (install.comment,))]
    # A release or plugin .yarnrc.yml names must keep its path: yarn looks for it there.
    steps.extend(Copy((f"{prefix}{f}",), f"{dest}{f}") for f in install.manifest_files if "/" in f)
    members = node.workspace.members if node.workspace else ()
    for i, m in enumerate(members):
        why: tuple[str, ...] = ()
        if i == 0:
            kind = node.workspace.kind if node.workspace else "npm"
            why = (
                f"# The {kind} workspace's {len(members)} members: each manifest at its path, so the",
                "# install links the same tree as the lock (and this layer is reused until one changes).",
            )
        steps.append(Copy((f"{prefix}{m.dir}/package.json",), f"{dest}{m.dir}/", why))
    for i, path in enumerate(node.local_sources):
        why = ("# What file: dependencies name: the install reads them.",) if i == 0 else ()
        steps.append(Copy((f"{prefix}{path}",), f"{dest}{path}", why))
    return steps


# --------------------------------------------------------------------------- serving


@record
class Serve:
    """How the image starts the app, and the port it listens on."""

    argv: tuple[str, ...]
    why: str
    app_dir: str = ""  # the workspace member that runs ("" the project root)
    port: int | None = None
    port_why: str = ""
    sets_port: bool = False  # the CMD or the app reads $PORT: the image sets PORT to `port`
    static_dir: str | None = None  # only this built folder reaches the runtime stage
    needs_pnpm: bool = False  # the start script calls pnpm, so the runtime stage needs it
    bin_path: bool = False  # the CMD runs a tool from node_modules/.bin
    warnings: tuple[str, ...] = ()


# Serves a built static site with node's own http module: files under the
# folder given as argv[1], index.html for folders, and index.html for unknown
# paths (client-side routing, as Netlify's `/* /index.html 200` redirect does).
# Nothing outside the folder is reachable; SIGTERM stops it (PID 1 gets no
# default handler).
STATIC_SERVER = (
    "const http=require('http'),fs=require('fs'),path=require('path');"
    "const root=path.resolve(process.argv[1]||'.');"
    "const types={'.html':'text/html; charset=utf-8','.js':'text/javascript','.mjs':'text/javascript',"
    "'.css':'text/css','.json':'application/json','.svg':'image/svg+xml','.png':'image/png',"
    "'.jpg':'image/jpeg','.jpeg':'image/jpeg','.gif':'image/gif','.webp':'image/webp','.ico':'image/x-icon',"
    "'.woff':'font/woff','.woff2':'font/woff2','.txt':'text/plain; charset=utf-8',"
    "'.webmanifest':'application/manifest+json','.wasm':'application/wasm','.map':'application/json'};"
    "process.on('SIGTERM',()=>process.exit(0));"
    "http.createServer((req,res)=>{let p;"
    "try{p=decodeURIComponent(new URL(req.url,'http://localhost').pathname)}catch(e){res.writeHead(400);return res.end()}"
    "let file=path.join(root,p);if(file!==root&&!file.startsWith(root+path.sep))file=root;"
    "fs.stat(file,(err,st)=>{if(!err&&st.isDirectory())file=path.join(file,'index.html');"
    "else if(err)file=path.join(root,'index.html');"
    "fs.readFile(file,(err2,body)=>{if(err2){res.writeHead(404);return res.end('not found')}"
    "res.writeHead(200,{'content-type':types[path.extname(file)]||'application/octet-stream'});"
    "res.end(req.method==='HEAD'?undefined:body)})})})"
    ".listen(Number(process.env.PORT)||8080,'0.0.0.0')"
)
STATIC_PORT = 8080
_START_PORT = _regex.compile(r"(?:--port[= ]|-p\s+|\bPORT=)(\d{2,5})\b")


def _framework(deps: Sequence[str], kind: str | None = None) -> Framework | None:
    names = set(deps)
    return next((f for f in frameworks() if f.dependency in names and (kind is None or f.kind == kind)), None)


def _with_port(argv: Sequence[str]) -> tuple[str, ...]:
    """A framework command with `$PORT`: through a shell, so the port is the container's."""
    if "$PORT" not in argv:
        return tuple(argv)
    words = " ".join('"$PORT"' if a == "$PORT" else shlex.quote(a) for a in argv)
    return ("/bin/sh", "-c", f"exec {words}")


@record
class _App:
    dir: str
    scripts: Mapping[str, str]
    deps: tuple[str, ...]
    devs: tuple[str, ...]
    port: int | None
    reads_port: bool
    warnings: tuple[str, ...] = ()


def _pick_app(node: NodeApp) -> _App:
    """The package that runs: the root, or the workspace member that has the server."""
    root = _App("", node.scripts, node.prod_dependencies, node.dev_dependencies, node.port, node.reads_port)
    if "start" in node.scripts or node.main or node.workspace is None:
        return root
    runnable = [m for m in node.workspace.members if "start" in m.scripts]
    if not runnable:
        return root

    def rank(m: Member) -> tuple[int, int, str]:
        server = _framework(m.dependencies, "server") is not None
        return (0 if m.dir.startswith("apps/") else 1, 0 if server else 1, m.dir)

    runnable.sort(key=rank)
    app = runnable[0]
    warnings = []
    if len(runnable) > 1:
        others = ", ".join(m.dir for m in runnable[1:])
        warnings.append(
            f"the workspace has several apps with a start script; the image runs {app.dir} "
            f"(others: {others}): regenerate from an app's folder or set CMD for another"
        )
    return _App(app.dir, app.scripts, app.dependencies, app.dev_dependencies, app.port, app.reads_port, tuple(warnings))


def plan_serve(node: NodeApp) -> Serve:
    """CMD and port: ``start``, a framework's server, a static server for a built site, ``main``, an entry file."""
    app = _pick_app(node)
    app_dir, scripts, deps, devs, warnings = app.dir, app.scripts, app.deps, app.devs, list(app.warnings)
    where = f"{app_dir}/package.json" if app_dir else "package.json"
    start = scripts.get("start", "").strip()
    if start:
        m = re.fullmatch(r"node\s+([\w./@-]+)", start)
        argv: tuple[str, ...] = ("node", m.group(1)) if m else ("npm", "start")
        why = f'{where} "start" runs `{start}`; node as PID 1 gets signals directly' if m else f'{where} "start" script'
        fixed = _START_PORT.search(start)
        server = next(
            (
                f
                for f in frameworks()
                if f.kind == "server" and re.search(rf"\b{re.escape(f.command[0])}\b", start) and f.dependency in deps
            ),
            None,
        )
        if fixed:
            port, port_why, sets = int(fixed.group(1)), "the start script names it", False
        elif server is not None and server.port is not None:
            port, port_why, sets = server.port, f"{server.name} reads PORT (its default is {server.port})", True
        elif app.port:
            sets = app.reads_port
            port, port_why = app.port, "the app's code listens there" + (" unless PORT says otherwise" if sets else "")
        elif app.reads_port:
            port, port_why, sets = 3000, "the app reads PORT; the image sets it", True
        else:
            port, port_why, sets = None, "", False
        return Serve(
            argv,
            why,
            app_dir,
            port,
            port_why,
            sets,
            needs_pnpm=bool(re.search(r"\bpnpm\b", start)),
            warnings=tuple(warnings),
        )
    server = _framework(deps, "server")
    if server is not None and server.port is not None:
        return Serve(
            _with_port(server.command),
            f"no start script; {server.name} ({server.dependency} is a dependency) serves the build with its own server",
            app_dir,
            server.port,
            f"{server.name}'s default, set as PORT",
            True,
            bin_path=True,
            warnings=tuple(warnings),
        )
    static = _framework((*deps, *devs), "static")
    if static is not None and "build" in scripts:
        out = (node.publish_dir if not app_dir else None) or static.output or "dist"
        out_path = f"{app_dir}/{out}" if app_dir else out
        if static.preview and static.port and static.dependency in deps:
            return Serve(
                _with_port(static.preview),
                f"a {static.name} site with no server of its own; {static.dependency} is a production dependency, "
                "so its preview server serves the build",
                app_dir,
                static.port,
                f"{static.name} preview's default, set as PORT",
                True,
                bin_path=True,
                warnings=tuple(warnings),
            )
        source = "netlify.toml's publish" if node.publish_dir and not app_dir else f"{static.name}'s default"
        return Serve(
            ("node", "-e", STATIC_SERVER, out),
            f"a {static.name} site with no server of its own: its build ({out}/, {source}) is served by a few "
            "lines of node's own http module — no package to install, nothing fetched at start",
            app_dir,
            STATIC_PORT,
            "the static server's port, set as PORT",
            True,
            static_dir=out_path,
            warnings=tuple(warnings),
        )
    if node.main:
        sets = node.reads_port
        return Serve(
            ("node", node.main),
            'package.json "main"',
            "",
            node.port or (3000 if sets else None),
            "the app's code" if node.port else "the app reads PORT; the image sets it",
            sets,
            warnings=tuple(warnings),
        )
    if node.entry_files:
        sets = node.reads_port
        return Serve(
            ("node", node.entry_files[0]),
            f"{node.entry_files[0]} is the project's entry file",
            "",
            node.port or (3000 if sets else None),
            "the app's code" if node.port else "the app reads PORT; the image sets it",
            sets,
            warnings=tuple(warnings),
        )
    return Serve(
        ("node",),
        "no start script, main, entry file or known framework found: set CMD for your app",
        warnings=(*warnings, "no way to start the node app found (start script, main, entry file, framework): set CMD"),
    )


# --------------------------------------------------------------------------- the plan


def _build_env(node: NodeApp) -> tuple[str, tuple[str, ...]]:
    """(``export NAME=value`` for the build's RUN, its comment): placeholders the build validates or loads.

    Like Django's collectstatic placeholders they live in that one RUN: not an
    ENV or ARG (which would name secrets in the image's history), never in the
    runtime stage.
    """
    env = node.build_env
    values = placeholders(env)
    if not values:
        return "", ()
    names = ", ".join(env.names) or "none"
    wheres = ", ".join(sorted({s.where for s in env.settings}))
    why: tuple[str, ...]
    if env.skip_switch:
        why = (
            f"# The build validates its settings with t3-env, whose skipValidation reads {env.skip_switch}:",
            "# set for this RUN only, so the build runs without real values.",
        )
    else:
        why = (
            f"# Build-time placeholders for the settings the build reads ({wheres}): throw-away values",
            "# that pass its validation, set for this RUN only; none reaches the runtime image.",
        )
    note = (f"# The deployer passes the real ones at run time (docker run -e …): {names}.",) if env.settings else ()
    prefix = "export " + " ".join(f"{n}={shlex.quote(v)}" for n, v in sorted(values.items()))
    return prefix, (*why, *note)


def _lifecycle_builds(node: NodeApp) -> bool:
    """An install script of the root already runs the build (`"postinstall": "npm run build"`)."""
    return any(
        not member and re.search(r"\b(?:npm|pnpm|yarn)\s+(?:run\s+)?build\b", command)
        for member, _, command in node.lifecycle
    )


def _uses_git_hooks(node: NodeApp) -> bool:
    """husky (or a script calling it) would install git hooks during the install."""
    members = node.workspace.members if node.workspace else ()
    deps = {*node.dev_dependencies, *node.prod_dependencies, *(d for m in members for d in m.dev_dependencies)}
    return "husky" in deps or any(re.search(r"\bhusky\b", command) for _, _, command in node.lifecycle)


_ROOT_INSTALL = ("preinstall", "install", "postinstall")


def _lifecycle_run(node: NodeApp, install: NodeInstall) -> str | None:
    """The commands that run the install scripts once the tree is in place, each exactly once.

    What each package manager's rebuild covers (measured): ``npm rebuild`` runs
    the dependencies', the members' and — in npm 7 to 11 only — the root's
    install scripts, never the root's ``prepare``; ``pnpm rebuild -r`` runs all of them, ``prepare``
    included; Yarn berry's ``yarn rebuild`` only the dependencies', and its
    installs never run ``prepare``.
    """
    if not node.lifecycle:
        return None
    prepare = ("preprepare", "prepare", "postprepare")
    if install.tool == "pnpm":
        return "pnpm rebuild -r" if node.workspace is not None else "pnpm rebuild"
    steps = [install.rebuild]
    if install.tool in ("npm", "yarn1"):
        own = [n for m, n, _ in node.lifecycle if not m and n in _ROOT_INSTALL]
        if own:
            # `npm rebuild` runs the root's own install scripts in npm 7 to 11
            # only: npm 6 never did, and npm 12 blocks them (allow-scripts).
            # The image's npm decides, so each runs exactly once either way.
            run_own = " && ".join(f"{install.run} {n}" for n in sorted(own, key=_ROOT_INSTALL.index))
            steps.append(f'case "$(npm --version)" in [7-9].*|1[01].*) ;; *) {run_own} ;; esac')
    for member, name, _ in node.lifecycle:
        if install.tool in ("npm", "yarn1"):
            if not member and name in prepare:
                steps.append(f"{install.run} {name}")
        elif name not in prepare:
            steps.append(f"{install.run} {name}" if not member else f"(cd {member} && yarn run {name})")
    return " \\\n && ".join(steps)


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
    if install.manager_node and satisfies(choice.version, install.manager_node) is False:
        warnings.append(
            f"the package manager pinned for the lock supports node {install.manager_node}, not {choice.version}: "
            "set packageManager in package.json"
        )
    workdir = "/app" + (f"/{node.dir}" if node.dir else "")
    serve = plan_serve(node)
    warnings.extend(serve.warnings)
    build = "build" in node.scripts
    lifecycle = _lifecycle_run(node, install)
    header = (HEADER, REGENERATE, f"# Node: {choice.reason}.")
    husky_env = Env(
        (("HUSKY", "0"),),
        ("# Git hooks (husky and the like) have nothing to hook in an image; HUSKY=0 makes a `prepare` skip them.",),
    )
    stages: list[Stage] = []
    runtime_from: str
    if build or lifecycle:
        deps_steps: list[Step] = [Workdir(workdir)]
        if _uses_git_hooks(node):
            deps_steps.append(husky_env)
        deps_steps.extend(copy_manifests(node, install, "./"))
        if lifecycle:
            scripts = ", ".join(sorted({f"{m + ':' if m else ''}{n}" for m, n, _ in node.lifecycle}))
            why = (
                f"# All dependencies, dev ones included, with install scripts off: the project's own ({scripts})",
                "# may read any file of the tree, so they run below once it is all there.",
            )
            deps_steps.extend(run_install(install, install.no_scripts, why))
        else:
            deps_steps.extend(
                run_install(install, install.full, ("# All dependencies, dev ones included: the build needs them.",))
            )
        stages.append(
            Stage(
                image,
                tuple(deps_steps),
                "deps",
                ("# Dependencies: only the manifests, so this layer is reused until they change.",),
            )
        )
        build_steps: list[Step] = [Copy((".",), "/app")]
        commands: list[str] = []
        reasons: list[str] = []
        if lifecycle:
            commands.append(lifecycle)
            reasons.append("# The dependencies' install scripts, then the project's own, now that every file is here.")
        if build and not _lifecycle_builds(node):
            commands.append(f"{install.run} build")
            reasons.append("# The build runs with dev dependencies installed.")
        if commands:
            if build or _lifecycle_builds(node):
                prefix, build_why = _build_env(node)
                if prefix:
                    commands.insert(0, prefix)
                    reasons.extend(build_why)
            build_steps.append(Run(" \\\n && ".join(commands), tuple(reasons)))
        legacy = needs_openssl_legacy(project.declared, choice.version)
        if legacy:
            build_steps.insert(
                0,
                Env(
                    (("NODE_OPTIONS", "--openssl-legacy-provider"),),
                    (
                        f"# {', '.join(legacy)} hash with MD4, which node {version_key(choice.version)[0]}'s OpenSSL 3",
                        "# disables: the legacy provider brings it back for the build.",
                    ),
                ),
            )
            warnings.append(
                f"{', '.join(legacy)} {'needs' if len(legacy) == 1 else 'need'} OpenSSL's legacy provider on node {choice.version}: "
                "the build sets NODE_OPTIONS=--openssl-legacy-provider; upgrading them removes the need"
            )
        stages.append(Stage("deps", tuple(build_steps), "build"))
        if serve.static_dir is None:
            prune_why = "# Production dependencies only: dev ones are dropped, no script runs again."
            if node.dev_dependencies or any(
                m.dev_dependencies for m in (node.workspace.members if node.workspace else ())
            ):
                prune: tuple[Step, ...] = (Run(install.prune, (prune_why,)),)
                if install.tool == "yarn1":
                    prune = (install.mirror_args, *prune)  # Yarn 1's prune fetches again
                stages.append(Stage("build", prune, "prod"))
                runtime_from = "prod"
            else:
                runtime_from = "build"
        else:
            runtime_from = "build"
    else:
        stages.append(
            Stage(
                image,
                (
                    Workdir(workdir),
                    *copy_manifests(node, install, "./"),
                    *run_install(install, install.prod, ("# Production dependencies only.",)),
                ),
                "deps",
            )
        )
        runtime_from = "deps"

    steps: list[Step] = []
    host_node_env = source.env.get("NODE_ENV") if source is not None else None
    node_env = host_node_env.value if host_node_env is not None and host_node_env.value else None
    env_vars: list[tuple[str, str]] = []
    env_why: list[str] = []
    if node_env and re.fullmatch(r"[\w.-]{1,40}", node_env):
        env_vars.append(("NODE_ENV", node_env))
        env_why.append(f"# NODE_ENV as the {source_label(source)} sets it, so the app behaves as it does there.")
    else:
        env_vars.append(("NODE_ENV", "production"))
        env_why.append("# production: frameworks drop dev-only behaviour (a host without NODE_ENV differs: EC501).")
    app_workdir = workdir + (f"/{serve.app_dir}" if serve.app_dir else "")
    if serve.sets_port and serve.port:
        env_vars.append(("PORT", str(serve.port)))
        env_why.append(f"# PORT: where the app listens ({serve.port_why}); `docker run -e PORT=…` moves it.")
    if serve.bin_path:
        bins = dict.fromkeys((f"{app_workdir}/node_modules/.bin", f"{workdir}/node_modules/.bin"))
        env_vars.append(("PATH", ":".join((*bins, "$PATH"))))
        env_why.append("# The framework's own command, from the app's node_modules/.bin.")
    steps.append(Env(tuple(env_vars), tuple(env_why)))
    steps.extend(env_steps(project, source, OWN_ENV))
    if serve.needs_pnpm and install.tool == "pnpm" and install.setup:
        steps.append(install.mirror_args)
        steps.append(Run(install.setup, ("# The start script calls pnpm: the same pinned release as the install.",)))
    chown = None if options.read_only_code else f"{NODE_UID}:{NODE_UID}"
    owner = (
        "owned by root, so the app cannot rewrite its code (read-only code was asked for)"
        if chown is None
        else "owned by the app user, as buildpacks do: caches, uploads and logs under it stay writable"
    )
    steps.append(Workdir(workdir))
    if serve.static_dir is not None:
        steps.append(
            Copy(
                (f"{workdir}/{serve.static_dir}",),
                f"{workdir}/{serve.static_dir}",
                (f"# Only the built site reaches the image, {owner}.",),
                from_stage="build",
                chown=chown,
            )
        )
    elif runtime_from == "deps":
        steps.append(
            Copy(
                (".",),
                "/app",
                (f"# Code first, then the installed dependencies: a stray local node_modules never wins; {owner}.",),
                chown=chown,
            )
        )
        steps.append(Copy((f"{workdir}/node_modules",), "./node_modules", from_stage="deps", chown=chown))
    else:
        what = "the built app and production dependencies" if runtime_from == "prod" else "the app and its dependencies"
        steps.append(
            Copy(("/app",), "/app", (f"# {what[0].upper()}{what[1:]}, {owner}.",), from_stage=runtime_from, chown=chown)
        )
    if serve.app_dir:
        steps.append(Workdir(app_workdir, (f"# The workspace member that runs: {serve.app_dir}.",)))
    steps.append(User(NODE_UID, ("# uid 1000 is the node image's unprivileged `node` user.",)))
    if serve.port:
        steps.append(Expose(serve.port, (f"# The port the CMD listens on: {serve.port_why}.",)))
    else:
        steps.append(Note(("# No EXPOSE: no port found in the start command or the code; add one for a server.",)))
    cmd_why = [f"# CMD: {serve.why}."]
    if serve.static_dir is not None:
        cmd_why.append("# It binds 0.0.0.0:$PORT, answers index.html for unknown paths and never leaves the folder.")
    steps.append(Cmd(serve.argv, tuple(cmd_why)))
    stages.append(
        Stage(
            image,
            tuple(steps),
            why=("# Runtime: the same pinned node image, production dependencies only, non-root.",),
        )
    )
    return Plan(header=header, stages=tuple(stages), warnings=tuple(warnings))


def choose_for(
    node: NodeApp,
    declared: Declared,
    source: Snapshot | None,
    host_label: str,
    releases: NodeReleases,
    *,
    era: tuple[str, str] | None = None,
) -> tuple[Choice, tuple[str, ...]]:
    """:func:`choose_node_version` with the layout's declarations and the project scanner's."""
    decls = list(node.version_decls)
    dn = declared.node
    if dn is not None:
        seen = {d.source for d in decls}
        for where, value in sorted(dn.version_files.items()):
            name = where.split(":", 1)[0]
            if name.rsplit("/", 1)[-1].startswith("Dockerfile"):
                continue  # read by the layout (and skipped when this generator wrote it)
            if not any(s == name or s.startswith(name + " ") for s in seen):
                decls.append(VersionDecl(name, value))
    engines = node.engines or (dn.requires if dn is not None else None)
    rt = source.runtime("node") if source is not None else None
    return choose_node_version(
        decls,
        engines,
        host=rt.version if rt else None,
        host_label=host_label,
        host_is_env=host_runs_project(source, declared),
        releases=releases,
        era=era,
    )
