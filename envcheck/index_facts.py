"""The package index's answers EC214 needs, gathered at the edge before the checks run.

Checks are pure functions of snapshots; the one rule that needs the package
index (``wheel-availability``) gets its answers as data in
``Context.index``.  This module decides which pair contexts need asking
(the right side could lose a wheel the left side has), asks the indexes pip
would ask — the project's own first — through the one client the
Dockerfile generator uses (:mod:`envcheck.pyindex`, cached on disk), in
parallel, and attaches the answers.  No pair to check, no request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from envcheck.record import field, record, replace

TYPE_CHECKING = False
if TYPE_CHECKING:
    from envcheck.checks._base import Context
    from envcheck.pyindex import IndexClient, ProjectPage
    from envcheck.rules import Rule

_WORKERS = 8  # index pages are small; the wait is round trips, not bandwidth


@record
class IndexFacts:
    """Project pages by canonical name; ``unchecked`` says why a name has none."""

    pages: Mapping[str, ProjectPage] = field(default_factory=dict)
    unchecked: Mapping[str, str] = field(default_factory=dict)


def project_index_urls(root: Path | None) -> tuple[str, ...]:
    """The indexes the project's own files name (Pipfile sources, poetry/uv, ``--index-url`` lines)."""
    if root is None:
        return ()
    from envcheck.errors import EnvcheckError
    from envcheck.generate.layout import read_layout

    try:
        return read_layout(root).index_urls
    except (EnvcheckError, OSError):
        return ()


def fetch(names: Sequence[str], client: IndexClient) -> IndexFacts:
    from concurrent.futures import ThreadPoolExecutor

    from envcheck.pyindex import ProjectPage

    pages: dict[str, ProjectPage] = {}
    unchecked: dict[str, str] = {}
    if not names:
        return IndexFacts()
    with ThreadPoolExecutor(max_workers=min(_WORKERS, len(names))) as pool:
        for name, answer in zip(names, pool.map(client.page, names), strict=True):
            if isinstance(answer, ProjectPage):
                pages[name] = answer
            else:
                unchecked[name] = answer.reason
    return IndexFacts(pages, unchecked)


def with_index_facts(
    contexts: Sequence[Context],
    rules: Mapping[str, Rule],
    *,
    root: Path | None = None,
    client: IndexClient | None = None,
) -> list[Context]:
    """``contexts`` with the index's answers attached where a selected EC214-kind rule will use them."""
    from envcheck.checks.wheel_availability import KIND, sides, subjects

    kinds = [r for r in rules.values() if r.check == KIND]
    if not kinds:
        return list(contexts)
    wanted: dict[int, list[str]] = {}
    for i, ctx in enumerate(contexts):
        if sides(ctx) is None:
            continue
        names = sorted({s.name for s in subjects(ctx)})
        if names:
            wanted[i] = names
    if not wanted:
        return list(contexts)
    if client is None:
        from envcheck.pyindex import IndexClient, index_config

        client = IndexClient(index_config(project_index_urls(root)))
    facts = fetch(sorted({n for names in wanted.values() for n in names}), client)
    return [replace(ctx, index=facts) if i in wanted else ctx for i, ctx in enumerate(contexts)]
