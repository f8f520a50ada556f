"""Reporters: one module per output format, one entry point.

Like pip-audit's format interface, the set of formats is an enum and
:func:`render` dispatches with an exhaustive ``match`` ending in
``assert_never``, so adding a format without a renderer fails type checking;
a test renders every member.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence

from envcheck._typing import assert_never
from envcheck.findings import Finding
from envcheck.rules import Rule


class Format(str, enum.Enum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    GITHUB = "github"
    GITLAB = "gitlab"


def render(
    findings: Sequence[Finding],
    fmt: str | Format,
    *,
    rules: Mapping[str, Rule],
    root: str | None = None,
    color: bool | None = None,
    quiet: bool = False,
    default_path: str | None = None,
) -> str:
    """Render findings as one document.

    ``default_path`` is where findings with no file of their own (host vs image
    drift) are anchored for formats whose consumers insist on a file (SARIF
    upload, GitLab code quality); typically the project's main manifest.
    """
    ordered = sorted(findings, key=Finding.sort_key)
    match Format(fmt):
        case Format.TEXT:
            from envcheck.report import text

            return text.render(ordered, color=text.want_color() if color is None else color, quiet=quiet)
        case Format.JSON:
            from envcheck.report import json_

            return json_.render(ordered)
        case Format.SARIF:
            from envcheck.report import sarif

            return sarif.render(ordered, rules, default_path=default_path)
        case Format.GITHUB:
            from envcheck.report import github

            return github.render(ordered, default_path=default_path)
        case Format.GITLAB:
            from envcheck.report import gitlab

            return gitlab.render(ordered, default_path=default_path)
        case _ as unreachable:  # pragma: no cover
            assert_never(unreachable)
