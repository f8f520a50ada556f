"""``--format text``: grouped by severity, each finding with its fix, one summary line.

Plain text needs no third-party import (``envcheck lint`` runs on every
commit); ``rich`` is imported only when colour is wanted.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from envcheck.findings import Finding, summarize
from envcheck.record import record

_HEADINGS = {"error": "Errors", "warning": "Warnings", "info": "Info"}
_STYLES = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def want_color() -> bool:
    # https://no-color.org: any non-empty NO_COLOR disables colour.
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


def summary_line(findings: Sequence[Finding]) -> str:
    counts = summarize(findings)
    if not findings:
        return "No findings."

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    return f"Found {plural(counts['error'], 'error')}, {plural(counts['warning'], 'warning')}, {counts['info']} info."


# Names and versions come from scanned images and repositories: a hostile
# package name must not move the cursor or recolour the terminal.
_CONTROL = {c: " " if c in (9, 10, 13) else "?" for c in (*range(32), 127, *range(128, 160))}


def clean(text: str) -> str:
    """One printable line: control characters (ANSI escapes, newlines) neutralised."""
    return text.translate(_CONTROL)


def _where(f: Finding) -> str:
    return f"{clean(str(f.location))}: " if f.location else ""


# Findings of one rule between the same two sides, in the same file, are one
# cause when there are this many: a venv not installed from the lock is 32
# EC304 lines that say one thing. Text shows one headline with the details
# below it; JSON, SARIF and the other formats keep every finding.
GROUP_AT = 4


@record
class Group:
    findings: tuple[Finding, ...]

    @property
    def first(self) -> Finding:
        return self.findings[0]

    def headline(self) -> str:
        f = self.first
        sides = [s.kind for s in (f.left, f.right) if s is not None]
        between = f" ({' vs '.join(clean(s) for s in sides)})" if sides else ""
        where = f"{clean(f.location.path)}: " if f.location else ""
        head = f"{where}{f.rule} [{clean(f.name)}] {len(self.findings)} findings{between}, one cause"
        return head + (f": {clean(f.fix)}" if f.fix else "")


def _key(f: Finding) -> tuple[str, str, str, str, str]:
    # The same fix for all of them is what makes many findings one cause
    # ("reinstall from poetry.lock on host"); per-package fixes stay separate.
    left = f.left.kind if f.left else ""
    right = f.right.kind if f.right else ""
    return (f.rule, left, right, f.location.path if f.location else "", f.fix or "")


def grouped(findings: Sequence[Finding]) -> list[Finding | Group]:
    """Findings in order, with runs sharing rule, sides and file folded into a :class:`Group`."""
    by_key: dict[tuple[str, str, str, str, str], list[Finding]] = {}
    for f in findings:
        by_key.setdefault(_key(f), []).append(f)
    out: list[Finding | Group] = []
    emitted: set[tuple[str, str, str, str, str]] = set()
    for f in findings:
        key = _key(f)
        members = by_key[key]
        if len(members) < GROUP_AT:
            out.append(f)
        elif key not in emitted:
            emitted.add(key)
            out.append(Group(tuple(members)))
    return out


def render(findings: Sequence[Finding], *, color: bool = False, quiet: bool = False) -> str:
    if color:
        return _render_rich(findings, quiet=quiet)
    lines: list[str] = []
    for severity in ("error", "warning", "info"):
        group = [f for f in findings if f.severity == severity]
        if not group:
            continue
        if not quiet:
            lines.append(f"{_HEADINGS[severity]} ({len(group)})")
        for item in grouped(group) if not quiet else group:
            if isinstance(item, Group):
                lines.append(f"  {item.headline()}")
                for f in item.findings:
                    lines.append(f"      {_where(f)}{clean(f.message)}")
                continue
            f = item
            lines.append(f"  {_where(f)}{f.rule} [{clean(f.name)}] {clean(f.message)}")
            if f.fix and not quiet:
                lines.append(f"      fix: {clean(f.fix)}")
        if not quiet:
            lines.append("")
    if not quiet:
        lines.append(summary_line(findings))
    return "\n".join(lines) + ("\n" if lines else "")


def _render_rich(findings: Sequence[Finding], *, quiet: bool) -> str:
    from io import StringIO

    from rich.console import Console
    from rich.markup import escape

    buf = StringIO()
    console = Console(file=buf, force_terminal=True, color_system="standard", width=_width(), highlight=False)
    for severity in ("error", "warning", "info"):
        group = [f for f in findings if f.severity == severity]
        if not group:
            continue
        style = _STYLES[severity]
        if not quiet:
            console.print(f"[{style}]{_HEADINGS[severity]} ({len(group)})[/]")
        for item in grouped(group) if not quiet else group:
            if isinstance(item, Group):
                console.print(f"  [{style}]{escape(item.headline())}[/]")
                for f in item.findings:
                    console.print(f"      [dim]{escape(_where(f))}[/]{escape(clean(f.message))}")
                continue
            f = item
            where = f"[bold]{escape(clean(str(f.location)))}[/]: " if f.location else ""
            console.print(
                f"  {where}[{style}]{f.rule}[/] [dim]\\[{escape(clean(f.name))}][/] {escape(clean(f.message))}"
            )
            if f.fix and not quiet:
                console.print(f"      [green]fix:[/] {escape(clean(f.fix))}")
        if not quiet:
            console.print()
    if not quiet:
        counts = summarize(findings)
        style = "bold red" if counts["error"] else "yellow" if counts["warning"] else "green"
        console.print(f"[{style}]{escape(summary_line(findings))}[/]")
    return buf.getvalue()


def _width() -> int:
    try:
        return max(60, os.get_terminal_size().columns)
    except OSError:
        return 100
