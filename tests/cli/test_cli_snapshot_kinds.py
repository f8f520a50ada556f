"""`envcheck snapshot KIND` builds only that kind's parser (issue 15), and nothing a user sees changes."""

from __future__ import annotations

import contextlib
import io

import pytest

from envcheck.cli import build_parser
from envcheck.commands.snapshot import KINDS


def _help(parser: object, argv: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        parser.parse_args(argv)  # type: ignore[attr-defined]
    return out.getvalue()


@pytest.mark.parametrize("kind", KINDS)
def test_a_kinds_help_is_the_same_as_from_the_whole_parser(kind: str) -> None:
    argv = ["snapshot", kind, "--help"]
    assert _help(build_parser("snapshot", kind), argv) == _help(build_parser(), argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["snapshot", "host", "--no-node", "."],
        ["snapshot", "host", "ssh://deploy@server/srv/app", "--unit", "app", "-o", "x.json"],
        ["snapshot", "project", "src", "--format", "cyclonedx"],
        ["snapshot", "image", "docker-archive:a.tar", "--verify-layers", "blobs", "--insecure-registry", "h:5000"],
    ],
)
def test_arguments_parse_the_same(argv: list[str]) -> None:
    narrow = vars(build_parser("snapshot", argv[1]).parse_args(argv))
    whole = vars(build_parser().parse_args(argv))
    assert narrow == whole


def test_an_unknown_kind_still_gets_the_whole_parsers_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser("snapshot", "hots").parse_args(["snapshot", "hots"])
    assert exit_.value.code == 2
    assert "hots" in capsys.readouterr().err  # one line naming it, whatever argparse's words are
