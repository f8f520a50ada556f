"""requirements.txt / *.in: pip's line rules, includes, hashes, URLs, errors with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from envcheck.errors import ParseError
from envcheck.parsers import requirements
from envcheck.snapshot import Suppression


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_pins_ranges_extras_markers_and_comments() -> None:
    d = requirements.parse_text(
        "# top comment\n"
        "Django[argon2]==6.1  # trailing comment\n"
        "requests >= 2.8.1, < 3 ; python_version < '3.12'\n"
        "\n"
        "Flask_Login\n",
        "requirements.txt",
    )
    assert [(r.name, r.specifier, r.source) for r in d.requirements] == [
        ("django", "==6.1", "requirements.txt:2"),
        ("requests", ">=2.8.1,<3", "requirements.txt:3"),
        ("flask-login", "", "requirements.txt:5"),
    ]
    assert d.requirements[0].extras == ("argon2",)
    assert d.requirements[1].marker == 'python_version < "3.12"'
    assert d.requirements[0].is_pinned and not d.requirements[2].is_pinned


def test_continuations_and_hashes_keep_the_first_line() -> None:
    d = requirements.parse_text(
        "alembic==1.18.5 \\\n"
        "    --hash=sha256:06d8 \\\n"
        "    --hash sha256:1554\n"
        "    # via -r main.in\n"
        "six==1.16.0 --hash=SHA256:ab\n",
    )
    assert [(r.name, r.source, r.hashes) for r in d.requirements] == [
        ("alembic", "requirements.txt:1", ("sha256:06d8", "sha256:1554")),
        ("six", "requirements.txt:5", ("sha256:ab",)),
    ]


def test_global_options_are_read_past() -> None:
    d = requirements.parse_text(
        "--index-url https://index.invalid/simple\n"
        "-i https://index.invalid/simple\n"
        "--extra-index-url=https://other.invalid\n"
        "--find-links ./wheels\n"
        "--trusted-host index.invalid\n"
        "--pre\n--require-hashes\n--no-binary :all:\n--only-binary=:none:\n"
        "--some-future-option\n"
        "attrs==23.1.0\n"
    )
    assert [r.name for r in d.requirements] == ["attrs"]


def test_editable_vcs_and_bare_urls_are_named_from_the_reference() -> None:
    d = requirements.parse_text(
        "-e git+https://github.com/org/proj.git@v1#egg=Proj_Name[extra]\n"
        "git+https://github.com/org/other-repo.git@main\n"
        "https://files.invalid/packages/foo_bar-2.0-py3-none-any.whl\n"
        "./vendor/pkg-1.2.3.tar.gz\n"
        "https://github.com/pallets/click/archive/refs/heads/main.tar.gz\n"
        "pkg @ https://x.invalid/pkg-1.0.zip ; sys_platform == 'linux'\n"
    )
    got = [(r.name, r.editable, r.url, r.marker) for r in d.requirements]
    assert got == [
        ("proj-name", True, "git+https://github.com/org/proj.git@v1#egg=Proj_Name[extra]", None),
        ("other-repo", False, "git+https://github.com/org/other-repo.git@main", None),
        ("foo-bar", False, "https://files.invalid/packages/foo_bar-2.0-py3-none-any.whl", None),
        ("pkg", False, "./vendor/pkg-1.2.3.tar.gz", None),
        ("click", False, "https://github.com/pallets/click/archive/refs/heads/main.tar.gz", None),
        ("pkg", False, "https://x.invalid/pkg-1.0.zip", 'sys_platform == "linux"'),
    ]
    assert d.requirements[0].extras == ("extra",)
    assert all(r.specifier == "" for r in d.requirements)


def test_editable_local_project_takes_its_declared_name(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "My_App"\nversion = "1"\n',
            "requirements-dev.txt": "-e .\npytest\n",
        },
    )
    d = requirements.parse(tmp_path / "requirements-dev.txt", tmp_path)
    assert [(r.name, r.editable, r.url, r.group) for r in d.requirements] == [
        ("my-app", True, ".", "dev"),
        ("pytest", False, None, "dev"),
    ]


def test_includes_resolve_relative_to_the_including_file(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "requirements.txt": "-r requirements/prod.txt\n-c constraints.txt\n",
            "requirements/prod.txt": "-r base.txt\ngunicorn==21.2\n",
            "requirements/base.txt": "django>=4.2,<5\n",
            "requirements/dev.txt": "-r base.txt\n-rtests.txt\n",
            "requirements/tests.txt": "--requirement=base.txt\npytest\n",
            "constraints.txt": "urllib3<2\n",
        },
    )
    d = requirements.parse(tmp_path / "requirements.txt", tmp_path)
    assert d.files == ("requirements.txt", "requirements/prod.txt", "requirements/base.txt", "constraints.txt")
    assert [(r.name, r.source, r.group) for r in d.requirements] == [
        ("django", "requirements/base.txt:1", None),
        ("gunicorn", "requirements/prod.txt:2", None),
        ("urllib3", "constraints.txt:1", "constraint"),
    ]
    dev = requirements.parse(tmp_path / "requirements/dev.txt", tmp_path)
    # a diamond (dev → base, dev → tests → base) reads base once
    assert dev.files == ("requirements/dev.txt", "requirements/base.txt", "requirements/tests.txt")
    assert [(r.name, r.group) for r in dev.requirements] == [("django", None), ("pytest", "dev")]


def test_include_cycle_is_reported_at_the_including_line(tmp_path: Path) -> None:
    _write(tmp_path, {"a.txt": "six\n-r b.txt\n", "b.txt": "-r a.txt\n"})
    with pytest.raises(ParseError) as err:
        requirements.parse(tmp_path / "a.txt", tmp_path)
    assert str(err.value).startswith("b.txt:1: ")
    assert "a.txt -> b.txt -> a.txt" in str(err.value)


def test_include_depth_is_capped(tmp_path: Path) -> None:
    depth = requirements.MAX_INCLUDE_DEPTH + 3
    _write(tmp_path, {f"r{i}.txt": f"-r r{i + 1}.txt\n" for i in range(depth)})
    _write(tmp_path, {f"r{depth}.txt": "six\n"})
    with pytest.raises(ParseError, match="nested deeper"):
        requirements.parse(tmp_path / "r0.txt", tmp_path)


def test_missing_include_names_the_including_line(tmp_path: Path) -> None:
    _write(tmp_path, {"requirements.txt": "six\n-r missing.txt\n"})
    with pytest.raises(ParseError) as err:
        requirements.parse(tmp_path / "requirements.txt", tmp_path)
    assert str(err.value) == "requirements.txt:2: included requirements file not found: missing.txt"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("six\nfoo==>1\n", 2, "invalid requirement 'foo==>1'"),
        ("foo bar baz\n", 1, "invalid requirement"),
        ("six \\\n  --hash=nocolon\n", 1, "invalid --hash value"),
        ("-r\n", 1, "option -r needs a value"),
        ("https://example.invalid/\n", 1, "cannot tell the package name"),
        ("six; python_version <<< '3'\n", 1, "invalid requirement"),
    ],
)
def test_invalid_lines_are_parse_errors_with_file_and_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(ParseError) as err:
        requirements.parse_text(text, "reqs/base.txt")
    assert str(err.value).startswith(f"reqs/base.txt:{line}: ")
    assert fragment in str(err.value)


def test_unsafe_section_commented_entries_are_not_requirements() -> None:
    d = requirements.parse_text(
        "six==1.16.0\n\n# The following packages are considered to be unsafe in a requirements file:\n# setuptools\n"
    )
    assert [r.name for r in d.requirements] == ["six"]


def test_suppression_comments_are_collected(tmp_path: Path) -> None:
    _write(tmp_path, {"requirements.txt": "numpy  # envcheck: ignore[EC401]\n# envcheck: ignore\nsix\n"})
    d = requirements.parse(tmp_path / "requirements.txt", tmp_path)
    assert d.suppressions == (
        Suppression(source="requirements.txt:1", rules=("EC401",)),
        Suppression(source="requirements.txt:2", rules=()),
    )


@pytest.mark.parametrize(
    ("name", "group"),
    [
        ("requirements.txt", None),
        ("requirements-dev.txt", "dev"),
        ("dev-requirements.txt", "dev"),
        ("requirements_test.txt", "dev"),
        ("requirements/base.txt", None),
        ("requirements/production.txt", None),
        ("requirements/docs-blog.in", "dev"),
        ("requirements/tests-min.txt", "dev"),
        ("requirements3.txt", None),
    ],
)
def test_file_names_that_mean_development(name: str, group: str | None) -> None:
    assert requirements.group_for_filename(name) == group


def test_file_errors_name_the_relative_path(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_bytes(b"six\n\xff\xfe\n")
    with pytest.raises(ParseError) as err:
        requirements.parse(tmp_path / "requirements.txt", tmp_path)
    assert str(err.value).startswith("requirements.txt: not UTF-8")
