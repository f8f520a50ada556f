"""Options shared by several commands (DESIGN.md, "Common options")."""

from __future__ import annotations

import argparse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


FORMATS = ("text", "json", "sarif", "github", "gitlab")
FAIL_ON = ("error", "warning", "info", "never")


def add_command(sub: Any, name: str, *, help: str, description: str, examples: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help,
        description=description,
        epilog="examples:\n" + examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write the report to FILE (atomically) instead of stdout"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print only findings, no summary")
    parser.add_argument("-v", "--verbose", action="store_true", help="say what was scanned and skipped")


def add_report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="text", help="report format (default: text)")
    add_output_options(parser)
    parser.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default=None,
        help="exit 1 when a finding at or above this severity remains (default: error, or the config's fail-on)",
    )
    parser.add_argument(
        "--select", metavar="IDS", help="only these rules (comma-separated ids or prefixes, e.g. EC2,EC301)"
    )
    parser.add_argument("--ignore", metavar="IDS", help="skip these rules (comma-separated ids or prefixes)")
    parser.add_argument(
        "--config", metavar="PATH", help="config file (default: [tool.envcheck] in pyproject.toml, or envcheck.toml)"
    )
    parser.add_argument(
        "--explain", metavar="ID", help="print what rule ID (e.g. EC201) checks, why, and how to fix it; then exit"
    )


def add_python_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--python",
        metavar="PATH",
        help="the project's interpreter (default: $VIRTUAL_ENV, then ./.venv, then python3 on PATH)",
    )


def split_ids(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(x.strip().upper() for x in value.split(",") if x.strip())


def add_service_options(parser: argparse.ArgumentParser) -> None:
    """``--pid``/``--unit``: the environment of a running service instead of the shell's (issue 16)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--pid", type=int, metavar="PID", help="take the environment from this running process (/proc/PID/environ)"
    )
    group.add_argument(
        "--unit", metavar="NAME", help="take the environment from this systemd unit (Environment=, EnvironmentFiles=)"
    )
