"""Write docs/cli.md from the command parser (``--check``: exit 1 if the committed file is stale).

The reference is each command's own ``--help`` (with its examples), so the
doc and the tool cannot disagree; the prose at the top lives here.

    python scripts/gen_cli_doc.py          # regenerate
    python scripts/gen_cli_doc.py --check  # CI / test: is docs/cli.md up to date?
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "cli.md"

HEADER = """\
# Command reference

`envcheck COMMAND --help` prints the same text. Exit codes everywhere: `0`
nothing at or above `--fail-on`, `1` findings at or above it, `2` a usage
error or unreadable input (one line on stderr naming the file, never a
traceback).

## At a terminal

- Colour and grouping when stdout is a terminal; plain text in pipes, files
  and CI logs. `NO_COLOR=1` turns colour off, `FORCE_COLOR=1` forces it.
- Long scans (`envcheck scan`, `envcheck snapshot host|image`) show a status
  line on stderr, only when stderr is a terminal and `-q` was not given.
- `-q/--quiet` prints only the findings (no headings, fixes or summary);
  `-v/--verbose` adds what was scanned and skipped, on stderr.
- `--explain ID` on `scan`, `lint` and `diff` prints a rule's text (what it
  checks, why, how to fix) and exits without scanning: `envcheck scan --explain EC201`.

## Shell completion

```sh
envcheck completion bash > ~/.local/share/bash-completion/completions/envcheck
envcheck completion zsh > "${fpath[1]}/_envcheck"     # then run compinit
envcheck completion fish > ~/.config/fish/completions/envcheck.fish
eval "$(envcheck completion bash)"                    # just this shell
```

The script is generated from the command parser, so every option completes,
with the values of `--format` and `--fail-on`.


"""


def _help(parser: object) -> str:
    return parser.format_help().rstrip() + "\n"  # type: ignore[attr-defined]


def render() -> str:
    sys.path.insert(0, str(ROOT))
    # argparse wraps to $COLUMNS: fix it so the file does not depend on the terminal.
    os.environ["COLUMNS"] = "100"
    from envcheck.cli import COMMANDS, build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    parts = [HEADER]
    for name in COMMANDS:
        command = subparsers.choices[name]  # type: ignore[attr-defined]
        parts.append(f"## envcheck {name}\n\n```text\n{_help(command)}```\n")
        nested = [a for a in command._actions if a.__class__.__name__ == "_SubParsersAction"]
        for action in nested:
            for kind, sub in action.choices.items():
                parts.append(f"### envcheck {name} {kind}\n\n```text\n{_help(sub)}```\n")
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from gen_rules_doc import write_or_check

    return write_or_check(DOC, render(), "gen_cli_doc.py", argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
