"""Read runtimes, packages, platform and config off a merged image view.

Everything here is a pure function of a :class:`~.walker.MergedView` and the
image config.  Versions come from what is actually installed — the
interpreter binary or libpython, headers, the distro's package database —
and the official images' ``PYTHON_VERSION``/``NODE_VERSION`` variables are
only a cross-check: a variable can lie, a binary cannot.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping

from packaging.utils import canonicalize_name

from envcheck import _regex
from envcheck.record import record
from envcheck.secrets import is_sensitive_name, keep_value, looks_secret, looks_secret_value
from envcheck.snapshot import EnvVar, Package, Platform, Runtime

from .walker import MergedView

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
REDACTED = "<redacted>"
_ARCH = {"amd64": "x86_64", "arm64": "aarch64", "386": "i686", "arm": "armv7l", "ppc64le": "ppc64le", "s390x": "s390x"}
_LOADER_ARCH = _regex.compile(r"ld-(?:linux|musl)-([a-z0-9_-]+?)\.so")
_MULTIARCH = _regex.compile(r"(?:^|/)([a-z0-9_]+)-linux-gnu[a-z]*/")
_MULTIARCH_NAMES = {"i386": "i686", "powerpc64le": "ppc64le", "arm": "armv7l"}
_LOADER_ARCH_NAMES = {"x86-64": "x86_64", "x86_64": "x86_64", "aarch64": "aarch64", "armhf": "armv7l", "i386": "i686"}


@record
class Detected:
    platform: Platform
    runtimes: dict[str, Runtime]
    packages: dict[str, tuple[Package, ...]]
    env: dict[str, EnvVar]
    image: dict[str, Any]
    notes: tuple[str, ...]


def config_section(config: Mapping[str, Any]) -> dict[str, Any]:
    section = config.get("config") or config.get("Config") or {}
    return section if isinstance(section, dict) else {}


def env_pairs(config: Mapping[str, Any]) -> dict[str, str]:
    env = config_section(config).get("Env") or []
    out: dict[str, str] = {}
    if isinstance(env, list):
        for item in env:
            if isinstance(item, str) and item:
                name, _, value = item.partition("=")
                out[name] = value
    return out


def detect(view: MergedView, config: Mapping[str, Any], env_allow: Iterable[str] = ()) -> Detected:
    notes: list[str] = []
    env = env_pairs(config)
    section = config_section(config)
    path_dirs = [d for d in (env.get("PATH") or DEFAULT_PATH).split(":") if d]
    workdir = _clean(str(section.get("WorkingDir") or "/"))
    user = str(section.get("User") or "")
    distro = _distro(view)
    dpkg = _dpkg_versions(view)
    apk = _apk_versions(view)

    runtimes: dict[str, Runtime] = {}
    py_runtime, py_packages, py_notes = detect_python(view, path_dirs=path_dirs, env=env, user=user, dpkg=dpkg, apk=apk)
    notes += py_notes
    if py_runtime is not None:
        runtimes["python"] = py_runtime
    node_runtimes, node_packages, node_notes = detect_node(
        view, path_dirs=path_dirs, env=env, workdir=workdir, dpkg=dpkg, apk=apk
    )
    notes += node_notes
    runtimes.update(node_runtimes)

    packages: dict[str, tuple[Package, ...]] = {}
    if py_packages:
        packages["python"] = py_packages
    if node_packages:
        packages["node"] = node_packages

    platform = Platform(
        os=_str(config.get("os")) or ("linux" if view.entries else None),
        arch=_arch(config, view),
        distro=distro,
        libc=_libc(view, dpkg, apk),
    )
    if "python" in runtimes:
        from envcheck.platform_tags import with_wheel_facts

        py = runtimes["python"]
        # A free-threaded build is installed as python3.13t (PEP 703's "t" ABI flag).
        runtimes["python"] = with_wheel_facts(py, platform, abiflags="t" if (py.path or "").endswith("t") else None)
    env_vars = {
        name: EnvVar(set=True, value=value if keep_value(name, value, env_allow) else None)
        for name, value in env.items()
    }
    image = image_facts(config, user, workdir)
    if "node" in runtimes and section.get("WorkingDir"):  # no WORKDIR (or no config, dir:): cannot say
        # A node image whose working directory holds no package.json runs no
        # node project there (a static site served from its build output):
        # its node packages are not the project's, so none are missing.
        image["node_project"] = view.is_file(f"{workdir}/package.json" if workdir else "package.json")
    return Detected(platform, runtimes, packages, env_vars, image, tuple(notes))


# --------------------------------------------------------------------------- helpers


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _clean(path: str) -> str:
    return posixpath.normpath("/" + path).lstrip("/")


def _upstream(version: str) -> str:
    """Debian/Alpine package version → upstream (``1:3.11.2-6+deb12u1`` → ``3.11.2``)."""
    v = version.split(":", 1)[-1]
    v = re.split(r"-(?=[^-]*$)", v)[0] if "-" in v else v
    return re.split(r"[+~]", v)[0]


def _dpkg_versions(view: MergedView) -> dict[str, str]:
    out: dict[str, str] = {}
    # Distroless images keep one stanza file per package in status.d.
    for path, fact in view.facts("dpkg"):
        if path != "var/lib/dpkg/status" and isinstance(fact, dict):
            out.update(fact)
    status = view.fact("var/lib/dpkg/status", "dpkg")
    if isinstance(status, dict):
        out.update(status)
    return out


def _apk_versions(view: MergedView) -> dict[str, str]:
    fact = view.fact("lib/apk/db/installed", "apk")
    return dict(fact) if isinstance(fact, dict) else {}


def find_on_path(view: MergedView, names: Iterable[str], path_dirs: Iterable[str]) -> tuple[str, str] | None:
    """First ``name`` on PATH that is a file in the image: (path as found, real path)."""
    names = tuple(names)
    for d in path_dirs:
        for name in names:
            candidate = _clean(posixpath.join(d, name))
            if view.is_file(candidate):
                real = view.resolve(candidate)
                if real is not None:
                    return candidate, real
    return None


# --------------------------------------------------------------------------- python

_MINOR = _regex.compile(r"python(3\.\d{1,2})")


def detect_python(
    view: MergedView,
    *,
    path_dirs: list[str],
    env: Mapping[str, str],
    user: str,
    dpkg: Mapping[str, str],
    apk: Mapping[str, str],
) -> tuple[Runtime | None, tuple[Package, ...], list[str]]:
    notes: list[str] = []
    found = find_on_path(view, ("python3", "python"), path_dirs) or _versioned_python(view, path_dirs)
    active_sites: set[str] = set()
    runtime: Runtime | None = None
    if found is None:
        if any(True for _ in view.facts("pydist")):
            notes.append("python: packages found but no python3/python on the image PATH; none marked active")
    else:
        onpath, real = found
        venv_root = posixpath.dirname(posixpath.dirname(onpath))
        cfg = view.fact(posixpath.join(venv_root, "pyvenv.cfg"), "pyvenv")
        cfg = cfg if isinstance(cfg, dict) else None
        prefix = posixpath.dirname(posixpath.dirname(real))
        minor = _minor_of(view, real, prefix, cfg)
        version = (
            _python_version(view, real=real, prefix=prefix, minor=minor, cfg=cfg, dpkg=dpkg, apk=apk) if minor else None
        )
        if minor is None:
            notes.append(f"python: cannot tell the version of /{real} statically; --probe asks the interpreter")
        else:
            if version is None:
                version = minor
                notes.append(
                    f"python: patch level of /{real} unknown from static reading; --probe asks the interpreter"
                )
            runtime = Runtime(version=version, implementation="cpython", path="/" + real)
            declared = env.get("PYTHON_VERSION")
            if declared and runtime.version.count(".") == 2 and declared != runtime.version:
                notes.append(f"python: PYTHON_VERSION says {declared} but the interpreter is {runtime.version}")
            if cfg is not None:
                active_sites.update(_venv_sites(venv_root, minor))
                if cfg.get("include-system-site-packages", "false").strip().lower() == "true":
                    active_sites.update(_system_sites(prefix, minor, user))
            else:
                active_sites.update(_system_sites(prefix, minor, user))
    resolved_active = {r for r in (view.resolve(s) for s in active_sites) if r is not None}
    return runtime, _python_packages(view, resolved_active), notes


def _versioned_python(view: MergedView, path_dirs: list[str]) -> tuple[str, str] | None:
    """No ``python3``/``python``, but a ``python3.X`` on PATH: the newest one."""
    for d in path_dirs:
        real_dir = view.resolve(_clean(d))
        if real_dir is None:
            continue
        prefix = f"{real_dir}/" if real_dir else ""
        names = [
            p[len(prefix) :]
            for p in view.entries
            if p.startswith(prefix)
            and "/" not in p[len(prefix) :]
            and re.fullmatch(r"python3\.\d{1,2}", p[len(prefix) :])
        ]
        if names:
            best = max(names, key=lambda n: int(n.split(".")[1]))
            return find_on_path(view, (best,), [d])
    return None


def _minor_of(view: MergedView, real: str, prefix: str, cfg: Mapping[str, str] | None) -> str | None:
    m = _MINOR.match(posixpath.basename(real))
    if m:
        return m.group(1)
    if cfg is not None:
        v = cfg.get("version") or cfg.get("version_info") or ""
        m2 = re.match(r"(3\.\d{1,2})", v)
        if m2:
            return m2.group(1)
    # "python3" is itself the binary: its sibling libraries say which minor it is.
    minors = {
        m3.group(1)
        for path in view.dirs
        if path.startswith(f"{prefix}/lib/python3.") and path.count("/") == prefix.count("/") + 2
        for m3 in [_MINOR.search(path)]
        if m3
    }
    return minors.pop() if len(minors) == 1 else None


def _python_version(
    view: MergedView,
    *,
    real: str,
    prefix: str,
    minor: str,
    cfg: Mapping[str, str] | None,
    dpkg: Mapping[str, str],
    apk: Mapping[str, str],
) -> str | None:
    def fits(v: Any) -> str | None:
        return v if isinstance(v, str) and (v == minor or v.startswith(minor + ".")) and v.count(".") >= 2 else None

    # 1. the interpreter binary itself, then libpython beside it
    if v := fits(view.fact(real, "pybin")):
        return v
    for path, fact in view.facts("libpython"):
        if path.startswith(prefix + "/") and (v := fits(fact)):
            return v
    # 2. the headers installed with it
    for suffix in ("", "m", "d", "t"):
        if v := fits(view.fact(f"{prefix}/include/python{minor}{suffix}/patchlevel.h", "patchlevel")):
            return v
    # 3. the distro's package database, for distro pythons
    for name in (f"python{minor}-minimal", f"libpython{minor}-minimal", f"python{minor}", f"libpython{minor}-stdlib"):
        if name in dpkg and (v := fits(_upstream(dpkg[name]))):
            return v
    for name in ("python3", f"python{minor}"):
        if name in apk and (v := fits(_upstream(apk[name]))):
            return v
    # 4. what the venv recorded when it was created
    if cfg is not None:
        for key in ("version", "version_info"):
            if v := fits(cfg.get(key, "").split("final")[0].strip(". ")):
                return v
    return None


def _system_sites(prefix: str, minor: str, user: str) -> list[str]:
    sites = [f"{prefix}/lib/python{minor}/site-packages", f"{prefix}/lib64/python{minor}/site-packages"]
    if prefix == "usr":
        # Debian's interpreter: pip installs land in /usr/local, apt's in dist-packages.
        sites += [
            f"usr/local/lib/python{minor}/dist-packages",
            "usr/lib/python3/dist-packages",
            f"usr/lib/python{minor}/dist-packages",
        ]
    if user in ("", "root", "0", "0:0", "root:root"):
        sites.append(f"root/.local/lib/python{minor}/site-packages")
    return sites


def _venv_sites(venv_root: str, minor: str) -> list[str]:
    return [f"{venv_root}/lib/python{minor}/site-packages", f"{venv_root}/lib64/python{minor}/site-packages"]


def _python_packages(view: MergedView, active_sites: set[str]) -> tuple[Package, ...]:
    out: list[Package] = []
    site_cache: dict[str, bool] = {}
    for path, fact in view.facts("pydist"):
        if not (isinstance(fact, tuple) and len(fact) == 2):
            continue
        name, version = fact
        dist_dir = path if path.endswith(".egg-info") else posixpath.dirname(path)
        site = posixpath.dirname(dist_dir)
        if site not in site_cache:
            site_cache[site] = view.resolve(site) in active_sites
        editable = view.fact(f"{dist_dir}/direct_url.json", "direct_url") is True
        out.append(
            Package(
                name=canonicalize_name(name),
                version=version,
                path="/" + dist_dir,
                active=site_cache[site],
                editable=editable,
            )
        )
    return tuple(out)


# --------------------------------------------------------------------------- node


def detect_node(
    view: MergedView,
    *,
    path_dirs: list[str],
    env: Mapping[str, str],
    workdir: str,
    dpkg: Mapping[str, str],
    apk: Mapping[str, str],
) -> tuple[dict[str, Runtime], tuple[Package, ...], list[str]]:
    notes: list[str] = []
    runtimes: dict[str, Runtime] = {}
    found = find_on_path(view, ("node", "nodejs"), path_dirs)
    prefix = ""
    if found is not None:
        _onpath, real = found
        prefix = posixpath.dirname(posixpath.dirname(real))
        version = _node_version(view, real, prefix, dpkg, apk)
        if version is None:
            notes.append(f"node: version of /{real} unknown from static reading; --probe asks node")
        else:
            runtimes["node"] = Runtime(version=version, path="/" + real)
            declared = env.get("NODE_VERSION", "").lstrip("v")
            if declared and declared != version:
                notes.append(f"node: NODE_VERSION says {declared} but the binary is {version}")
    npm = _npm_version(view, path_dirs, prefix, dpkg, apk)
    if npm is not None:
        runtimes["npm"] = Runtime(version=npm)
    # The official node images ship Yarn 1 as /usr/local/bin/yarn -> /opt/yarn-v…/bin/yarn.
    yarn = _linked_package_version(view, path_dirs, "yarn")
    if yarn is not None:
        runtimes["yarn"] = Runtime(version=yarn)
    return runtimes, _node_packages(view, workdir), notes


def _node_version(
    view: MergedView, real: str, prefix: str, dpkg: Mapping[str, str], apk: Mapping[str, str]
) -> str | None:
    fact = view.fact(real, "nodebin")
    if isinstance(fact, str):
        return fact
    header = view.fact(f"{prefix}/include/node/node_version.h", "nodeversion")
    if isinstance(header, str):
        return header
    for db in (dpkg, apk):
        if "nodejs" in db:
            return _upstream(db["nodejs"])
    return None


def _linked_package_version(view: MergedView, path_dirs: list[str], tool: str) -> str | None:
    """The version of ``tool`` when the first one on PATH is a link into its package."""
    for d in path_dirs:
        candidate = _clean(posixpath.join(d, tool))
        link = view.resolve(candidate, follow_last=False)
        entry = view.entries.get(link) if link is not None else None
        if entry is None or entry.kind != "symlink":
            continue
        real = view.resolve(candidate)
        parent = posixpath.dirname(real) if real is not None else ""
        # Walk up from the linked script to the package.json that names the tool.
        while parent:
            fact = view.fact(f"{parent}/package.json", "nodepkg")
            if isinstance(fact, tuple) and fact[0] == tool:
                return str(fact[1])
            parent = posixpath.dirname(parent)
        return None
    return None


def _npm_version(
    view: MergedView, path_dirs: list[str], prefix: str, dpkg: Mapping[str, str], apk: Mapping[str, str]
) -> str | None:
    found = _linked_package_version(view, path_dirs, "npm")
    if found is not None:
        return found
    candidates: list[str] = []
    if prefix:
        candidates.append(f"{prefix}/lib/node_modules/npm/package.json")
    candidates += ["usr/local/lib/node_modules/npm/package.json", "usr/lib/node_modules/npm/package.json"]
    for c in candidates:
        fact = view.fact(c, "nodepkg")
        if isinstance(fact, tuple) and fact[0] == "npm":
            return str(fact[1])
    for db in (dpkg, apk):
        if "npm" in db:
            return _upstream(db["npm"])
    return None


def _node_packages(view: MergedView, workdir: str) -> tuple[Package, ...]:
    local = f"{workdir}/node_modules/" if workdir else "node_modules/"
    out: list[Package] = []
    for path, fact in view.facts("nodepkg"):
        tool_release = path.startswith("opt/") and path.count("/") == 2
        if ("node_modules/" not in path and not tool_release) or not (isinstance(fact, tuple) and len(fact) == 2):
            continue
        pkg_dir = posixpath.dirname(path)
        active = pkg_dir.startswith(local)
        shown = pkg_dir[len(workdir) + 1 :] if active and workdir else pkg_dir if active else "/" + pkg_dir
        out.append(Package(name=str(fact[0]), version=str(fact[1]), path=shown, active=active))
    return tuple(out)


# --------------------------------------------------------------------------- platform


def _distro(view: MergedView) -> str | None:
    for path in ("etc/os-release", "usr/lib/os-release"):
        fact = view.fact(path, "osrelease")
        if isinstance(fact, dict) and fact.get("ID"):
            version = fact.get("VERSION_ID") or fact.get("VERSION_CODENAME") or ""
            return f"{fact['ID']} {version}".strip()
    return None


def _libc(view: MergedView, dpkg: Mapping[str, str], apk: Mapping[str, str]) -> str | None:
    if "libc6" in dpkg:
        m = re.match(r"(\d+\.\d+)", _upstream(dpkg["libc6"]))
        if m:
            return f"glibc {m.group(1)}"
    if "musl" in apk:
        return f"musl {_upstream(apk['musl'])}"
    family = None
    for path, fact in view.facts("libc"):
        if isinstance(fact, str):
            return f"glibc {fact}"
        base = posixpath.basename(path)
        if "musl" in base:
            family = "musl"
        elif family is None:
            family = "glibc"
    return family


def _arch(config: Mapping[str, Any], view: MergedView) -> str | None:
    arch = _str(config.get("architecture"))
    if arch:
        if arch == "arm" and config.get("variant") in ("v6", "v5"):
            return f"arm{str(config['variant'])[1:]}l"
        return _ARCH.get(arch, arch)
    for path, _fact in view.facts("libc"):
        m = _LOADER_ARCH.search(posixpath.basename(path))
        if m:
            return _LOADER_ARCH_NAMES.get(m.group(1), m.group(1))
    for path, _fact in view.facts("libc"):
        # Debian's multiarch directory names the machine where the loader's
        # name does not (ld-linux.so.2 on i386, ld64.so.2 on ppc64el).
        m = _MULTIARCH.search(path)
        if m:
            return _MULTIARCH_NAMES.get(m.group(1), m.group(1))
    # Last, what the binaries themselves were built for (their ELF e_machine).
    for _path, entry in sorted(view.entries.items()):
        if entry.machine:
            return entry.machine
    return None


# --------------------------------------------------------------------------- config


def scrub(value: str) -> str:
    """A config string with anything credential-shaped replaced (never stored)."""
    if looks_secret_value(value):
        return REDACTED
    key, sep, rest = value.partition("=")
    if sep and rest and is_sensitive_name(key.lstrip("-")) and looks_secret(key.lstrip("-"), rest):
        return f"{key}={REDACTED}"
    return value


def _scrub_list(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [scrub(value)]
    if isinstance(value, list):
        return [scrub(v) for v in value if isinstance(v, str)]
    return None


def image_facts(config: Mapping[str, Any], user: str, workdir: str) -> dict[str, Any]:
    section = config_section(config)
    labels_raw = section.get("Labels") or {}
    labels = {}
    if isinstance(labels_raw, dict):
        for k, v in labels_raw.items():
            if isinstance(k, str) and isinstance(v, str):
                labels[k] = REDACTED if looks_secret(k, v) else scrub(v)
    env = env_pairs(config)
    facts: dict[str, Any] = {
        "user": user,
        "workdir": "/" + workdir,
        "entrypoint": _scrub_list(section.get("Entrypoint")),
        "cmd": _scrub_list(section.get("Cmd")),
        "labels": labels,
        "architecture": _str(config.get("architecture")),
        "os": _str(config.get("os")),
        "secret_env": sorted(name for name, value in env.items() if looks_secret(name, value)),
    }
    return facts
