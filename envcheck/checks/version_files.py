"""``version-files``: the project's own files name different interpreter versions (EC305).

``.python-version``, ``runtime.txt``, ``.tool-versions``, ``.nvmrc``, the
Dockerfile's ``FROM python:X``/``node:X`` and ``requires-python`` /
``engines.node`` should tell one story.  Two versions agree when one is a
prefix of the other (``3.11`` and ``3.11.7``); a version outside the declared
range disagrees with it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from envcheck import _regex
from envcheck.checks._base import Check, Context, Param, finding
from envcheck.checks._versions import partial_satisfies
from envcheck.findings import Finding, Side

TYPE_CHECKING = False
if TYPE_CHECKING:
    from envcheck.rules import Rule
    from envcheck.snapshot import Declared

_PRIORITY = (".python-version", ".node-version", ".nvmrc", ".tool-versions", "runtime.txt")
_TAG_VERSION = _regex.compile(r"^v?(\d+(?:\.\d+){0,2})(?:$|[-_])")


def agree(a: str, b: str) -> bool:
    pa, pb = a.split("."), b.split(".")
    n = min(len(pa), len(pb))
    return pa[:n] == pb[:n]


def _image_versions(declared: Declared, runtime: str, known: Mapping[str, str]) -> dict[str, str]:
    """``FROM python:3.11-slim`` → ``{"Dockerfile:1": "3.11"}`` unless the Dockerfile parser already said so."""
    out: dict[str, str] = {}
    for image in declared.base_images:
        if image.source in known:
            continue
        ref = image.ref.split("@", 1)[0]
        repo, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "")
        if repo.rsplit("/", 1)[-1] != runtime or not tag:
            continue
        m = _TAG_VERSION.match(tag)
        if m:
            out[image.source] = m.group(1)
    return out


def _order(item: tuple[str, str]) -> tuple[int, str]:
    name = item[0].rsplit("/", 1)[-1]
    return (_PRIORITY.index(name) if name in _PRIORITY else len(_PRIORITY), item[0])


def check(rule: Rule, ctx: Context) -> Iterator[Finding]:
    if ctx.declared is None:
        return
    for runtime in rule.params["runtimes"]:
        declared = ctx.declared.python if runtime == "python" else ctx.declared.node
        files: dict[str, str] = dict(declared.version_files) if declared else {}
        files.update(_image_versions(ctx.declared, runtime, files))
        items = sorted(files.items(), key=_order)
        for i, (source, version) in enumerate(items):
            for other, other_version in items[:i]:
                if not agree(version, other_version):
                    yield finding(
                        rule,
                        f"{source} says {runtime} {version} but {other} says {other_version}",
                        subject=runtime,
                        left=Side(other, other_version),
                        right=Side(source, version),
                        source=source,
                        fix=f"make every version file name the same {runtime} version",
                    )
                    break
        requires = declared.requires if declared else None
        if not requires:
            continue
        field_name = "requires-python" if runtime == "python" else "engines.node"
        for source, version in items:
            if partial_satisfies(runtime, version, requires) is False:
                yield finding(
                    rule,
                    f"{source} says {runtime} {version}, outside {field_name} {requires}",
                    subject=runtime,
                    left=Side(declared.requires_source or field_name, requires) if declared else None,
                    right=Side(source, version),
                    source=source,
                    fix=f"pick a {runtime} version that satisfies {requires}, or update {field_name}",
                )


CHECK = Check(
    run=check,
    modes=("static",),
    params={"runtimes": Param("str-list", default=["python", "node"], choices=("python", "node"))},
    doc="Version files, Dockerfile FROM tags and declared ranges against each other.",
)
