"""Property tests: arbitrary input never raises anything but EnvcheckError, and never leaks a value."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envcheck.errors import EnvcheckError
from envcheck.parsers import dockerfile, env_refs, version_files
from envcheck.scanners.project import merge, scan_project
from envcheck.snapshot import Declared

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KEYWORDS = [
    "FROM",
    "RUN",
    "ENV",
    "ARG",
    "COPY",
    "CMD",
    "# envcheck: ignore[EC402]",
    "#",
    "USER",
    "ONBUILD RUN",
    "LABEL",
]
WORDS = [
    "python:3.11", "node:20", "${PY}", "$A", "--platform=x", "AS", "base", "pip", "install", "-r", "npm", "ci", "i",
    "yarn", "pnpm", "add", "&&", ";", "|", "\\\n", "'", '"', "[", "]", '["pip", "install"]', "<<EOF", "EOF", "=",
    "SECRET_KEY=abc", "A=1", "-m", "python", "sh", "-c", "@sha256:", "scratch", "\n",
]  # fmt: skip

dockerfile_text = st.lists(
    st.tuples(st.sampled_from(KEYWORDS), st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=8)), max_size=8)),
    max_size=12,
).map(lambda lines: "\n".join(k + " " + " ".join(ws) for k, ws in lines))


def _only_envcheck_errors(func: object, *args: object) -> None:
    try:
        func(*args)  # type: ignore[operator]
    except EnvcheckError:
        pass


@SETTINGS
@given(st.text())
def test_version_file_readers_never_crash(text: str) -> None:
    version_files.parse_python_version_file(text)
    version_files.parse_tool_versions(text)
    version_files.parse_nvmrc(text)
    _only_envcheck_errors(version_files.parse_runtime_txt, text)


@SETTINGS
@given(
    st.sampled_from([".python-version", "runtime.txt", ".tool-versions", ".nvmrc", ".node-version"]),
    st.binary(max_size=300),
)
def test_version_files_from_bytes(name: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            declared = version_files.parse(path, Path(tmp))
        except EnvcheckError as exc:
            assert name in str(exc)
            return
        for rt in (declared.python, declared.node):
            if rt is not None:
                assert all(v[0].isdigit() for v in rt.version_files.values())


@SETTINGS
@given(st.one_of(dockerfile_text, st.text(max_size=400)))
def test_dockerfile_never_crashes_and_sources_are_real_lines(text: str) -> None:
    try:
        d = dockerfile.parse_text(text, "Dockerfile")
    except EnvcheckError as exc:
        assert str(exc).startswith("Dockerfile")
        return
    n_lines = max(1, len(text.splitlines()))
    sources = [x.source for x in d.base_images] + [x.source for x in d.installs]
    sources += [x.source for x in d.dockerfile_vars] + [x.source for x in d.suppressions]
    for source in sources:
        line = int(source.rsplit(":", 1)[1])
        assert 1 <= line <= n_lines + 1


@SETTINGS
@given(st.from_regex(r"[A-Z_]{1,12}", fullmatch=True), st.text(min_size=1, max_size=60))
def test_dockerfile_never_stores_a_secret_looking_value(name: str, value: str) -> None:
    from envcheck.secrets import keep_value

    quoted = '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'
    try:
        d = dockerfile.parse_text(f"FROM python:3.11\nENV {name}={quoted}\n", "Dockerfile")
    except EnvcheckError:
        return
    for v in d.dockerfile_vars:
        if v.value is not None:
            assert keep_value(v.name, v.value)
            assert not v.secret


@SETTINGS
@given(st.text(max_size=500))
def test_env_ref_readers_never_crash(text: str) -> None:
    for refs in (
        env_refs.template_refs(text, ".env.example"),
        env_refs.python_refs(text, "app.py"),
        env_refs.js_refs(text, "app.js"),
    ):
        for r in refs:
            assert r.name and r.name.replace("_", "a").isalnum()
    _only_envcheck_errors(env_refs.compose_refs, text, "compose.yml")


@SETTINGS
@given(st.binary(max_size=400))
def test_python_refs_on_bytes(data: bytes) -> None:
    env_refs.python_refs(data, "x.py")


@SETTINGS
@given(
    st.dictionaries(
        st.sampled_from(
            ["Dockerfile", "requirements.txt", ".python-version", ".nvmrc", "app.py", "compose.yml", ".env.example"]
        ),
        st.binary(max_size=200),
        max_size=5,
    )
)
def test_scan_project_on_arbitrary_files(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in files.items():
            (Path(tmp) / name).write_bytes(data)
        try:
            snap = scan_project(Path(tmp))
        except EnvcheckError:
            return
        assert snap.declared is not None
        assert merge([snap.declared]) == snap.declared  # merging is idempotent


def test_merge_of_nothing_is_empty() -> None:
    assert merge([]) == Declared()
