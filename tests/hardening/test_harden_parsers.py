"""Regressions for what the fuzzers and the hostile-repository review found in the parsers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envcheck.errors import EnvcheckError, ParseError
from envcheck.parsers import requirements
from envcheck.secrets import redact, redact_url
from envcheck.snapshot import Requirement

TOKEN = "ghp_" + "Q" * 12 + "w" * 12 + "9" * 12


@pytest.mark.parametrize("target", ["/proc/self/environ", "/etc/passwd", "../outside.txt", "~/.netrc"])
def test_includes_outside_the_project_are_refused_not_read(tmp_path: Path, target: str) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (tmp_path / "outside.txt").write_text("secret-looking==1\n")
    (project / "requirements.txt").write_text(f"requests==2.31.0\n-r {target}\n")
    with pytest.raises(ParseError, match=r"requirements\.txt:2: -r/-c .*outside the project directory"):
        requirements.parse(project / "requirements.txt", project)


def test_includes_inside_the_project_still_work(tmp_path: Path) -> None:
    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs" / "base.txt").write_text("flask==3.0.0\n")
    (tmp_path / "requirements.txt").write_text("-r reqs/base.txt\n")
    declared = requirements.parse(tmp_path / "requirements.txt", tmp_path)
    assert [r.name for r in declared.requirements] == ["flask"]


def test_a_nul_byte_in_a_path_is_an_error_not_a_crash(tmp_path: Path) -> None:
    for line in ("-r a\x00b.txt", "-e ./a\x00b", "./x\x00y"):
        (tmp_path / "requirements.txt").write_text(line + "\n")
        with pytest.raises(EnvcheckError):
            requirements.parse(tmp_path / "requirements.txt", tmp_path)


def test_malformed_bracketed_url_host_is_an_error_not_a_crash() -> None:
    # Found by the `python` fuzz target: urlsplit raises ValueError on "[so\x00…".
    try:
        requirements.parse_text("https://[so\x00\x00]]/x\n")
    except EnvcheckError:
        pass


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        (f"git+https://oauth2:{TOKEN}@github.com/a/b.git", "git+https://****@github.com/a/b.git"),
        (f"https://{TOKEN}@github.com/a/b/archive/v1.tar.gz", "https://****@github.com/a/b/archive/v1.tar.gz"),
        ("git+ssh://git@github.com/a/b.git", "git+ssh://git@github.com/a/b.git"),
        ("https://files.example/pkg-1.0.tar.gz", "https://files.example/pkg-1.0.tar.gz"),
    ],
)
def test_requirement_urls_never_keep_credentials(url: str, redacted: str) -> None:
    assert redact_url(url) == redacted
    assert Requirement("python", "b", url=url).url == redacted
    declared = requirements.parse_text(f"b @ {url}\n")
    assert [r.url for r in declared.requirements] == [redacted]


def test_error_messages_quoting_a_line_redact_credentials() -> None:
    with pytest.raises(ParseError) as info:
        requirements.parse_text(f"foo ==1.0 ; https://u:{TOKEN}@x\n")
    assert TOKEN not in str(info.value) and "****" in str(info.value)
    assert "AKIA" + "A" * 16 not in redact("key AKIA" + "A" * 16 + " here")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_redaction_is_total_and_idempotent(text: str) -> None:
    once = redact(text)
    assert redact(once) == once
    assert not re.search(r"(?i)[a-z][a-z0-9+.-]*://[^/\s@:*]+:[^/\s@]+@", once), once
