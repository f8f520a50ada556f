"""``base-image``: a Dockerfile ``FROM`` that can change under you (EC402 floating tag, EC403 no digest).

``scratch`` and references to earlier build stages are not images anyone can
pin; references still holding an unresolved ``$ARG`` are skipped — we cannot
know what they resolve to.
"""

from __future__ import annotations

from collections.abc import Iterator

from envcheck import _regex
from envcheck.checks._base import Check, Context, Param, finding
from envcheck.findings import Finding, Side

TYPE_CHECKING = False
if TYPE_CHECKING:
    from envcheck.rules import Rule

_LOOSE = _regex.compile(r"^v?\d+$")  # "3", "20", "v18": looser than major.minor


def split_ref(ref: str) -> tuple[str, str | None, str | None]:
    """``registry:5000/ns/python:3.11@sha256:…`` → (``registry:5000/ns/python``, ``3.11``, ``sha256:…``)."""
    name, _, digest = ref.partition("@")
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        repo, _, tag = name.rpartition(":")
        return repo, tag, digest or None
    return name, None, digest or None


def check(rule: Rule, ctx: Context) -> Iterator[Finding]:
    if ctx.declared is None:
        return
    require = rule.params["require"]
    floating = {t.lower() for t in rule.params["floating-tags"]}
    stages: dict[str, set[str]] = {}
    for image in ctx.declared.base_images:
        path = image.source.rpartition(":")[0] or image.source
        known = stages.setdefault(path, set())
        ref = image.ref.strip()
        if image.stage:
            known.add(image.stage.lower())
        if not ref or "$" in ref or ref.lower() == "scratch" or ref.lower() in known - {(image.stage or "").lower()}:
            continue
        repo, tag, digest = split_ref(ref)
        if require == "digest":
            if digest is None:
                yield finding(
                    rule,
                    f"FROM {ref} is not pinned by digest; the tag can be re-pushed with other contents",
                    subject=ref,
                    right=Side("dockerfile", ref),
                    source=image.source,
                    fix=f"pin the digest: FROM {repo}:{tag or 'X.Y'}@sha256:… (docker buildx imagetools inspect)",
                )
            continue
        if digest is not None:
            continue
        head = (tag or "").split("-", 1)[0].lower()
        if tag is None:
            why = "has no tag, so it means :latest"
        elif head in floating:
            why = f"uses the floating tag {tag!r}"
        elif _LOOSE.match(head):
            why = f"tag {tag!r} is looser than major.minor"
        else:
            continue
        yield finding(
            rule,
            f"FROM {ref} {why}",
            subject=ref,
            right=Side("dockerfile", ref),
            source=image.source,
            fix=f"name an exact version, e.g. FROM {repo}:X.Y.Z-slim (and pin the digest)",
        )


CHECK = Check(
    run=check,
    modes=("static",),
    params={
        "require": Param("str", required=True, choices=("tag", "digest"), help="what a FROM must pin"),
        "floating-tags": Param(
            "str-list",
            default=["latest", "stable", "lts", "current", "edge", "mainline", "rolling", "nightly", "slim", "alpine"],
            help="tags (or tag prefixes before '-') that move",
        ),
    },
    doc="Dockerfile FROM lines against a pinning requirement.",
)
