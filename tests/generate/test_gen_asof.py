"""Open requirements pinned as of the project's date: dating, the era's interpreter, resolution.

The index is faked (pages and Requires-Dist in memory); dating uses a real
git and real file times.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest
from gen_testutil import host, project, req
from hypothesis import given
from hypothesis import strategies as st

from envcheck.generate.asof import (
    CONFLICT,
    AsOf,
    ProjectDate,
    era_line,
    era_python,
    git_date,
    parse_date,
    project_date,
    resolve,
)
from envcheck.generate.dockerfile import Options, generate, plan
from envcheck.generate.layout import ProjectLayout
from envcheck.generate.pylock import marker_environment
from envcheck.pyindex import (
    IndexFile,
    ProjectPage,
    Target,
    Unchecked,
    _archive_requires,
    newest_as_of,
    parse_page,
    release_dates,
    requires_dist,
    sdist_requires,
)

PY = ProjectLayout(py_files=frozenset({"requirements.txt"}))
JAN_2018 = parse_date("2018-01-05T12:56:33+01:00")
T36 = Target("3.6.15", "bullseye")
ENV36 = marker_environment("3.6.15", "x86_64")


def _f(filename: str, when: str, rp: str | None = None, yanked: bool = False) -> IndexFile:
    return IndexFile(filename, rp, yanked, upload_time=when, url=f"https://files.example/{filename}")


PAGES: dict[str, ProjectPage] = {
    "wtforms": ProjectPage(
        "wtforms",
        (
            _f("WTForms-2.1.zip", "2015-12-15T10:00:00Z"),
            _f("WTForms-2.2.tar.gz", "2018-06-07T10:00:00Z"),
            _f("wtforms-3.1.0-py3-none-any.whl", "2023-10-10T10:00:00Z", ">=3.8"),
        ),
    ),
    "flask": ProjectPage(
        "flask",
        (
            _f("Flask-0.12.2-py2.py3-none-any.whl", "2017-05-16T10:00:00Z"),
            _f("Flask-1.0-py2.py3-none-any.whl", "2018-04-26T10:00:00Z"),
            # A wheel added years later does not move the release's date.
            _f("Flask-0.12.2.tar.gz", "2020-01-01T10:00:00Z"),
        ),
    ),
    "werkzeug": ProjectPage(
        "werkzeug",
        (
            _f("Werkzeug-0.13-py2.py3-none-any.whl", "2017-12-07T10:00:00Z"),
            _f("Werkzeug-0.14-py2.py3-none-any.whl", "2017-12-31T10:00:00Z", yanked=True),
            _f("Werkzeug-0.14.1rc1-py2.py3-none-any.whl", "2018-01-01T10:00:00Z"),
            _f("Werkzeug-0.14.1-py2.py3-none-any.whl", "2018-01-01T12:00:00Z"),
        ),
    ),
    "futures": ProjectPage("futures", (_f("futures-3.2.0-py2-none-any.whl", "2017-11-30T10:00:00Z"),)),
    "newonly": ProjectPage("newonly", (_f("newonly-1.0-py3-none-any.whl", "2024-01-01T10:00:00Z"),)),
}
REQUIRES: dict[tuple[str, str], tuple[str, ...] | None] = {
    ("flask", "0.12.2"): ("Werkzeug>=0.7", "futures ; python_version < '3'"),
    ("flask", "1.0"): ("Werkzeug>=0.14",),
    ("wtforms", "2.1"): None,
}


def _page(name: str) -> ProjectPage | Unchecked:
    return PAGES.get(name) or Unchecked(f"no index lists {name}")


def _requires(page: ProjectPage, version: str) -> tuple[str, ...] | None:
    return REQUIRES.get((page.name, version), ())


def _resolve(roots: list[str], when: dt.datetime = JAN_2018, **kw: object) -> tuple[object, ...]:
    return resolve(roots, when=when, target=T36, env=ENV36, page=_page, requires=_requires, **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- resolution


def test_open_requirements_get_the_newest_release_before_the_date_and_their_dependencies_too() -> None:
    pins, unresolved, no_meta = _resolve(["Flask", "WTForms"])
    # Werkzeug 0.14 is yanked, 0.14.1rc1 a pre-release: 0.14.1 is the newest final one.
    assert pins == {"flask": "0.12.2", "werkzeug": "0.14.1", "wtforms": "2.1"}
    assert unresolved == []
    # WTForms' metadata could not be read: its own dependencies are unknown, and said so.
    assert no_meta == ["wtforms"]


def test_a_dependency_behind_a_marker_for_another_interpreter_is_left_out() -> None:
    pins, _, _ = _resolve(["Flask"])
    assert "futures" not in pins  # type: ignore[operator]


def test_a_declared_range_narrows_the_choice_and_a_later_date_moves_it() -> None:
    assert _resolve(["Flask<0.12"])[0] == {}
    assert _resolve(["Flask<0.12"])[1] == [
        ("flask", "no release of flask<0.12 before 2018-01-05 installs on python 3.6.15")
    ]
    later = parse_date("2018-05-01")
    assert _resolve(["Flask"], when=later)[0] == {"flask": "1.0", "werkzeug": "0.14.1"}


def test_requires_python_of_the_interpreter_is_honoured() -> None:
    # WTForms 3.1 is newer than the date anyway; with a date after it, it still needs python >= 3.8.
    pins, _, _ = _resolve(["WTForms"], when=parse_date("2024-06-01"))
    assert pins == {"wtforms": "2.2"}


def test_nothing_before_the_date_or_no_index_answer_leaves_the_requirement_open_with_why() -> None:
    pins, unresolved, _ = _resolve(["newonly", "private-pkg"])
    assert pins == {}
    assert dict(unresolved) == {  # type: ignore[arg-type]
        "newonly": "no release of newonly before 2018-01-05 installs on python 3.6.15",
        "private-pkg": "no index lists private-pkg",
    }


def test_a_fixed_pin_is_kept_and_not_resolved_again() -> None:
    pins, _, _ = _resolve(["Flask"], fixed={"Werkzeug": "0.12"})
    assert pins == {"flask": "0.12.2"}


def test_release_dates_take_the_first_upload_of_each_release() -> None:
    dates = release_dates(PAGES["flask"])
    assert {str(v): d.year for v, d in dates.items()} == {"0.12.2": 2017, "1.0": 2018}
    assert newest_as_of(PAGES["flask"], parse_date("2017-01-01"), T36) is None


def test_the_json_page_gives_upload_time_url_and_metadata() -> None:
    body = (
        b'{"meta": {"api-version": "1.1"}, "files": [{"filename": "a-1.0-py3-none-any.whl", '
        b'"url": "../../files/a-1.0-py3-none-any.whl", "upload-time": "2018-01-01T00:00:00.5Z", '
        b'"core-metadata": {"sha256": "x"}}]}'
    )
    page = parse_page("a", body, "application/vnd.pypi.simple.v1+json", base_url="https://idx.example/simple/a/")
    (f,) = page.files
    assert f.url == "https://idx.example/files/a-1.0-py3-none-any.whl"
    assert f.core_metadata and f.upload_time == "2018-01-01T00:00:00.5Z"


# --------------------------------------------------------------------------- reading dependencies


def test_requires_dist_from_a_wheel_and_from_an_sdists_egg_info() -> None:
    wheel = io.BytesIO()
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("a-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: a\nRequires-Dist: b (>=1)\n\nbody\n")
    assert _archive_requires("a-1.0-py3-none-any.whl", wheel.getvalue()) == ("b (>=1)",)
    sdist = io.BytesIO()
    with tarfile.open(fileobj=sdist, mode="w:gz") as tf:
        for name, text in {
            "a-1.0/PKG-INFO": "Metadata-Version: 1.1\nName: a\n",
            "a-1.0/a.egg-info/PKG-INFO": "Metadata-Version: 1.1\nName: a\n",
            "a-1.0/a.egg-info/requires.txt": "b>=1\n\n[:python_version < '3']\nc\n\n[tests]\npytest\n",
        }.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    assert _archive_requires("a-1.0.tar.gz", sdist.getvalue()) == ("b>=1", "c ; python_version < '3'")
    assert _archive_requires("a-1.0.tar.gz", b"not an archive") is None


_LINE = st.from_regex(r"[a-z][a-z0-9-]{0,8}(>=[0-9]{1,2})?", fullmatch=True)


@given(
    plain=st.lists(_LINE, max_size=5),
    sections=st.lists(
        st.tuples(st.sampled_from(["tests", ":python_version < '3'", "dev:sys_platform == 'win32'"]), st.lists(_LINE)),
        max_size=3,
    ),
)
def test_requires_txt_keeps_plain_lines_and_conditional_ones_never_extras(
    plain: list[str], sections: list[tuple[str, list[str]]]
) -> None:
    text = "\n".join(plain) + "\n" + "".join(f"\n[{h}]\n" + "\n".join(lines) + "\n" for h, lines in sections)
    files = {"x-1/x.egg-info/requires.txt": text.encode()}
    got = sdist_requires(list(files), files.__getitem__)
    assert got is not None
    want = list(plain) + [f"{ln} ; python_version < '3'" for h, lines in sections if h.startswith(":") for ln in lines]
    assert list(got) == want


@given(st.text(max_size=300))
def test_metadata_parsing_never_crashes(text: str) -> None:
    assert isinstance(requires_dist(text), tuple)
    files = {"x-1/x.egg-info/requires.txt": text.encode("utf-8", "replace")}
    assert isinstance(sdist_requires(list(files), files.__getitem__), tuple)


# --------------------------------------------------------------------------- the date and the era


def test_the_interpreter_of_the_era_replaces_only_a_younger_host() -> None:
    day = dt.date(2018, 1, 5)
    assert era_line(day) == "3.6"  # 3.7 came out in June 2018
    assert era_python(day, "3.11.2") == (
        "3.6.15",
        "python 3.6 was the current line on 2018-01-05 (python 3.11 of the host came later)",
    )
    assert era_python(day, "3.6.3") is None  # the host was there then: keep it
    assert era_line(dt.date(2000, 1, 1)) is None


def test_dates_parse_as_a_whole_day_or_a_timestamp() -> None:
    assert parse_date("2018-01-05") == dt.datetime(2018, 1, 5, 23, 59, 59, tzinfo=dt.timezone.utc)
    assert parse_date("2018-01-05T12:56:33+01:00").utcoffset() == dt.timedelta(hours=1)
    with pytest.raises(ValueError):
        parse_date("last tuesday")


def test_the_date_comes_from_the_option_then_git_then_file_times(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("flask\n")
    old = dt.datetime(2016, 3, 1, tzinfo=dt.timezone.utc).timestamp()
    os.utime(tmp_path / "requirements.txt", (old, old))
    by_mtime = project_date(tmp_path, None)
    assert by_mtime is not None and by_mtime.day == "2016-03-01" and "requirements.txt" in by_mtime.source
    env = {
        **os.environ,
        "GIT_COMMITTER_DATE": "2017-02-03T04:05:06+00:00",
        "GIT_AUTHOR_DATE": "2017-02-03T04:05:06+00:00",
    }
    for cmd in (
        ["git", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--no-gpg-sign", "-m", "x"],
    ):
        subprocess.run(cmd, cwd=tmp_path, env=env, check=True)
    assert git_date(tmp_path) == parse_date("2017-02-03T04:05:06+00:00")
    got = project_date(tmp_path, None)
    assert got is not None and got.day == "2017-02-03" and "git" in got.source
    explicit = project_date(tmp_path, parse_date("2015-01-01"), "dockerfile-as-of (envcheck.toml)")
    assert explicit == ProjectDate(parse_date("2015-01-01"), "dockerfile-as-of (envcheck.toml)")


# --------------------------------------------------------------------------- the plan


def _as_of(**kw: object) -> AsOf:
    return AsOf(ProjectDate(JAN_2018, "the project's last commit (git log)"), **kw)  # type: ignore[arg-type]


def test_the_lock_pins_open_requirements_as_of_the_date_and_the_era_interpreter_is_used() -> None:
    snap = project(requirements=(req("Flask"), req("WTForms"), req("six", "==1.10.0")))
    era = _as_of(
        python="3.6.15",
        python_why="python 3.6 was the current line on 2018-01-05",
        pins=(("flask", "0.12.2"), ("werkzeug", "0.14.1"), ("wtforms", "2.1")),
        no_metadata=("wtforms",),
    )
    files = generate(snap, PY, host("3.11.2"), Options(as_of=era))
    lock_text = files.locks["requirements.lock"]
    assert [ln for ln in lock_text.splitlines() if not ln.startswith("#")] == [
        "flask==0.12.2",
        "six==1.10.0",
        "werkzeug==0.14.1",
        "wtforms==2.1",
    ]
    assert "FROM python:3.6.15-slim-bullseye" in files.dockerfile
    assert "2018-01-05" in files.dockerfile  # the comment says which date, from where
    assert any("as of 2018-01-05" in w and "git log" in w for w in files.warnings)
    assert files.python_open == ()


def test_a_declared_interpreter_is_never_replaced_by_the_era() -> None:
    from envcheck.snapshot import DeclaredRuntime

    snap = project(requirements=(req("Flask"),), python=DeclaredRuntime(version_files={"runtime.txt": "python-3.9.18"}))
    got = plan(snap, PY, host("3.11.2"), Options(as_of=_as_of(python="3.6.15", pins=(("flask", "0.12.2"),))))
    assert got.python == ("3.9.18", True)


def test_without_the_index_the_requirements_stay_open_and_the_warning_says_why() -> None:
    snap = project(requirements=(req("Flask"),))
    first = plan(snap, PY, host("3.11.2"), Options())
    assert first.python_open == ("Flask",)
    got = plan(snap, PY, host("3.11.2"), Options(as_of=_as_of(offline="--offline: the package index was not asked")))
    assert got.python_open == ("Flask",)
    assert any("could not pin 1 open requirement(s) as of the project's date 2018-01-05" in w for w in got.warnings)


def test_requirers_that_conflict_are_reported_as_a_conflict_not_as_a_missing_release() -> None:
    pages = {
        "a": ProjectPage("a", (_f("a-1.0-py3-none-any.whl", "2017-01-01T00:00:00Z"),)),
        "b": ProjectPage("b", (_f("b-1.0-py3-none-any.whl", "2017-01-01T00:00:00Z"),)),
        "c": ProjectPage(
            "c",
            (
                _f("c-1.0-py3-none-any.whl", "2016-01-01T00:00:00Z"),
                _f("c-2.0-py3-none-any.whl", "2017-06-01T00:00:00Z"),
            ),
        ),
    }
    deps = {"a": ("c<2",), "b": ("c>=2",), "c": ()}
    _, unresolved, _ = resolve(
        ["a", "b"],
        when=JAN_2018,
        target=T36,
        env=ENV36,
        page=lambda n: pages.get(n) or Unchecked("none"),
        requires=lambda page, v: deps[page.name],
    )
    assert [n for n, _ in unresolved] == ["c"]
    assert unresolved[0][1].startswith(CONFLICT)


def test_the_date_can_be_set_in_config_or_on_the_command_line_and_a_bad_one_is_one_line(tmp_path: Path) -> None:
    import sys

    from envcheck.config import load_config
    from envcheck.errors import ConfigError

    (tmp_path / "envcheck.toml").write_text('dockerfile-as-of = "2018-01-05"\n')
    assert load_config(tmp_path).dockerfile_as_of == "2018-01-05"
    (tmp_path / "envcheck.toml").write_text('dockerfile-as-of = "soon"\n')
    with pytest.raises(ConfigError):
        load_config(tmp_path)
    (tmp_path / "envcheck.toml").unlink()
    (tmp_path / "requirements.txt").write_text("flask\n")
    proc = subprocess.run(
        [sys.executable, "-m", "envcheck", "dockerfile", str(tmp_path), "--as-of", "yesterday", "--offline"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "yesterday" in proc.stderr
    assert not (tmp_path / "Dockerfile").exists()
