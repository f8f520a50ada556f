"""``dockerfile-install``: package installs in a Dockerfile ``RUN`` (EC404 unpinned, EC405 npm install with a lock).

``report = "unpinned"``: ``pip install flask`` / ``npm install express`` name
packages without an exact version, so every build can install something new.
Installs from ``-r`` files, local paths (``.``), wheels and URLs are not
judged here (their pins live elsewhere).  ``report = "npm-install-with-lock"``:
a bare ``npm install`` where the project has a ``package-lock.json``, which
may rewrite the lock; ``npm ci`` installs exactly what it says.
"""

from __future__ import annotations

from collections.abc import Iterator

from envcheck import _regex
from envcheck.checks._base import Check, Context, Param, finding
from envcheck.findings import Finding, Location, Side
from envcheck.parsers.requirements import simple_requirement

TYPE_CHECKING = False
if TYPE_CHECKING:
    from envcheck.rules import Rule
    from envcheck.snapshot import Declared

_INSTALL_ACTIONS = {"install", "i", "add", "isntall", "in", "ins", "inst", "insta", "instal"}
_NPM_EXACT = _regex.compile(r"^v?=?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?$")


def _is_local(arg: str) -> bool:
    return (
        arg.startswith((".", "/", "~", "$", "-"))
        or "://" in arg
        or arg.startswith(("git+", "file:", "git@", "github:"))
        or arg.endswith((".whl", ".tar.gz", ".zip", ".tgz"))
    )


def pip_unpinned(arg: str) -> str | None:
    """The package name when a pip argument names a package without an exact ``==`` pin."""
    if _is_local(arg):
        return None
    simple = simple_requirement(arg)
    if simple is not None:
        # `flask`, `flask==3.0.3`, `gunicorn>=22`: what Dockerfiles install, read as packaging
        # would read it without importing its grammar (~25 ms of a lint; issue 15).
        name, _extras, specifier = simple
        clauses = specifier.split(",") if specifier else []
        return None if len(clauses) == 1 and clauses[0].startswith("==") else name
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(arg)
    except InvalidRequirement:
        return None
    if req.url:
        return None
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        return None
    return req.name


def npm_unpinned(arg: str) -> str | None:
    if _is_local(arg) or (not arg.startswith("@") and "/" in arg):
        return None  # "user/repo" is GitHub shorthand, not a registry package
    at = arg.find("@", 1)  # "@scope/name@1.2.3"
    name, version = (arg[:at], arg[at + 1 :]) if at > 0 else (arg, "")
    if version and _NPM_EXACT.match(version):
        return None
    return name


def _has_npm_lock(declared: Declared) -> bool:
    files = [*declared.files, *(lock.source for lock in declared.locks if lock.ecosystem == "node")]
    names = {(Location.parse(f) or Location("")).path.rsplit("/", 1)[-1] for f in files}
    return bool(names & {"package-lock.json", "npm-shrinkwrap.json"})


def check(rule: Rule, ctx: Context) -> Iterator[Finding]:
    declared = ctx.declared
    if declared is None:
        return
    report = rule.params["report"]
    tools = set(rule.params["tools"])
    if report == "npm-install-with-lock":
        if not _has_npm_lock(declared):
            return
        for cmd in declared.installs:
            if cmd.tool == "npm" and cmd.action in _INSTALL_ACTIONS and not cmd.packages and "npm" in tools:
                yield finding(
                    rule,
                    "npm install in a Dockerfile with a package-lock.json; npm ci installs exactly the lock",
                    subject="npm install",
                    right=Side("dockerfile", "npm install"),
                    source=cmd.source,
                    fix="RUN npm ci (add --omit=dev for production images)",
                )
        return
    for cmd in declared.installs:
        if cmd.tool not in tools or cmd.action not in _INSTALL_ACTIONS:
            continue
        judge = pip_unpinned if cmd.tool == "pip" else npm_unpinned
        for arg in cmd.packages:
            name = judge(arg)
            if name is None:
                continue
            yield finding(
                rule,
                f"{cmd.tool} {cmd.action} {arg} installs whatever version is newest at build time",
                subject=name,
                right=Side("dockerfile", arg),
                source=cmd.source,
                fix=f"pin it: {name}==X.Y.Z" if cmd.tool == "pip" else f"pin it: {name}@X.Y.Z",
            )


CHECK = Check(
    run=check,
    modes=("static",),
    params={
        "report": Param("str", required=True, choices=("unpinned", "npm-install-with-lock")),
        "tools": Param("str-list", default=["pip", "npm", "yarn", "pnpm"], choices=("pip", "npm", "yarn", "pnpm")),
    },
    doc="Install commands in Dockerfile RUN instructions.",
)
