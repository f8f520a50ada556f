"""The ``envcheck`` command: a thin shell over the library.

Each sub-command lives in ``envcheck/commands/<name>.py`` and exposes
``register(subparsers)``; this module only wires them up, turns
:class:`~envcheck.errors.EnvcheckError` into one line on stderr with exit 2, and
keeps start-up cheap (heavy modules are imported inside the commands).
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from collections.abc import Sequence

from envcheck import __version__
from envcheck.errors import EnvcheckError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any


# An explicit registry, in the order `--help` lists them.
COMMANDS: tuple[str, ...] = ("scan", "snapshot", "diff", "lint", "dockerfile", "rules", "completion")

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


@functools.cache
def _parser_class() -> type[argparse.ArgumentParser]:
    """envcheck's ArgumentParser, argparse imported when a parser is first built.

    Not when this module is: argparse imports gettext, which compiles its
    plural-forms pattern (~0.5 ms) as it loads, and :func:`entry` puts that
    pattern in re's cache first (:func:`envcheck._regex.prime`).  ``envcheck
    --version`` no longer imports argparse at all.
    """
    import argparse

    if _Collector.program:
        from envcheck import _process

        _process.english_argparse()

    class _Parser(argparse.ArgumentParser):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            # argparse makes a formatter for every add_argument, and a formatter without a
            # width imports shutil (bz2, lzma) to ask the terminal: ~7M instructions of each lint.
            formatter = kwargs.pop("formatter_class", argparse.HelpFormatter)
            kwargs["formatter_class"] = functools.partial(formatter, width=_help_width())
            super().__init__(*args, **kwargs)

        def error(self, message: str) -> None:  # type: ignore[override]
            # argparse's default prints the whole usage; the contract is one line + exit 2.
            self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")

    return _Parser


def _help_width() -> int:
    """What argparse would use: the terminal's columns as shutil.get_terminal_size() finds them, less 2."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return (columns or 80) - 2


def build_parser(only: str | None = None, kind: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with ``only``, just that command's (the others' modules stay unimported).

    ``envcheck lint`` on every commit should not pay for importing the image,
    registry and report machinery of six other commands (issue 15).  A
    command with kinds (``snapshot host|project|image``) declares them as
    ``KINDS``; with ``kind`` one of them, only that kind's parser is built.
    """
    parser_class = _parser_class()
    parser = parser_class(
        prog="envcheck",
        description="Capture the runtime a project really runs on, diff it, and pin it.",
        epilog="Run 'envcheck COMMAND --help' for a command's options and examples.",
    )
    parser.add_argument("--version", action="version", version=f"envcheck {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=parser_class)
    for name in (only,) if only in COMMANDS else COMMANDS:
        module = importlib.import_module(f"envcheck.commands.{name}")
        if kind is not None and name == only and kind in getattr(module, "KINDS", ()):
            module.register(sub, kinds=(kind,))
        else:
            module.register(sub)
    return parser


class _Collector:
    """What :func:`entry` changed for its process: the collector paused for start-up; argparse's words."""

    paused = False
    program = False


def entry() -> int:
    """The ``envcheck`` program (console script, ``python -m envcheck``): :func:`main` for a process of its own.

    What start-up makes (modules, classes, functions, the parser) lives as
    long as the process, so the collector's passes over it while it is made,
    and over and over after, find nothing: 12M instructions, 7% of a lint or a
    host snapshot (issue 15).  The collector is paused until the command's
    parser is built, then those objects are frozen out of its view
    (:func:`gc.freeze`, made for this: long-lived objects before a fork) and it
    runs as usual over what the command itself allocates.  Only here, not in
    :func:`main`: a library or test calling :func:`main` keeps its collector as it is.

    First, before argparse and json are imported, the standard library's
    start-up patterns are put into re's cache from envcheck's compiled-code
    cache (:func:`envcheck._regex.prime`): ~18 compiles, ~2.7 ms of a host
    snapshot, become cache hits.  The process also starts and ends through
    :mod:`envcheck._process` (standard library modules nobody uses left
    unloaded, argparse's words as written, no interpreter shutdown when
    nothing is left for it to do).
    """
    import gc

    from envcheck import _process, _regex

    _process.prepare()  # first: finding the regex cache imports pathlib
    _regex.prime()
    _Collector.program = True
    if gc.isenabled():
        gc.disable()
        _Collector.paused = True
    return _process.end(main())


def _started() -> None:
    from envcheck import _regex

    _regex.started()  # what start-up compiled is the standard library's, to prime the next run with
    if _Collector.paused:
        import gc

        _Collector.paused = False
        gc.freeze()
        gc.enable()


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    # `--version` is on every commit path (pre-commit); answer it before
    # building the full parser.
    if args_list in (["--version"], ["-V"]):
        print(f"envcheck {__version__}")
        return EXIT_OK
    try:
        # Building the parser imports the command's module: an interrupt can land there too.
        parser = build_parser(_command_named(args_list), args_list[1] if len(args_list) > 1 else None)
        args = parser.parse_args(args_list)
        _started()
        func = getattr(args, "func", None)
        if func is None:
            parser.print_help()
            return EXIT_ERROR
        if getattr(args, "explain", None):
            return _explain(args.explain, getattr(args, "config", None))
        result: int = func(args)
        return result
    except EnvcheckError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("envcheck: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_ERROR


def _command_named(args: list[str]) -> str | None:
    """The sub-command when it is the first argument (the top-level options all end the run)."""
    return args[0] if args and args[0] in COMMANDS else None


def _explain(rule_id: str, config_path: str | None) -> int:
    """``envcheck scan --explain EC201``: the rule's text, without scanning anything."""
    from pathlib import Path

    from envcheck.commands.rules import explain, find
    from envcheck.config import load_config
    from envcheck.rules import load_rules

    rules = load_rules(load_config(Path("."), config_path).rules_dir)
    sys.stdout.write(explain(find(rules, rule_id)))
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
