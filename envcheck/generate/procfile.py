"""Procfile: ``name: command`` process types (Heroku, Dokku, foreman, honcho).

``web`` is what serves HTTP and receives ``$PORT``; ``release`` runs once
before a new release starts.  Lines that are not ``name: command`` (blank,
``#`` comments, garbage) are skipped, as the platforms that read Procfiles do.
"""

from __future__ import annotations

from envcheck import _regex
from envcheck.record import record

_LINE = _regex.compile(r"^([A-Za-z0-9_-]+)[ \t]*:[ \t]*(.*?)[ \t]*$")


@record
class Procfile:
    processes: tuple[tuple[str, str], ...] = ()  # (name, command) in file order, first of a name wins

    def get(self, name: str) -> str | None:
        return next((cmd for n, cmd in self.processes if n == name), None)


def parse_procfile(text: str) -> Procfile:
    seen: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip("\ufeff")
        if line.lstrip().startswith("#"):
            continue
        m = _LINE.match(line)
        if m is None or not m.group(2):
            continue
        seen.setdefault(m.group(1), m.group(2))
    return Procfile(tuple(seen.items()))
