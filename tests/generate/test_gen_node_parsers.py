"""Property tests for the node layout parsers: netlify.toml, .tool-versions, .nvmrc, pnpm-workspace.yaml, FROM node.

Each parser either returns a value or raises ParseError (one line for the
user) — never another exception — and reads back what a writer of the
format puts in.
"""

from __future__ import annotations

import json

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from envcheck.errors import ParseError
from envcheck.generate.node_layout import (
    node_from_dockerfile,
    parse_netlify_node,
    parse_netlify_publish,
    parse_nvmrc,
    parse_pnpm_workspace,
    parse_tool_versions,
    workspaces_field,
)

VERSION = st.one_of(
    st.from_regex(r"\A[0-9]{1,2}(\.[0-9]{1,2}){0,2}\Z"),
    st.sampled_from(["lts/*", "lts/gallium", "lts/-1", "v20.11.1", ">=18 <21", "node"]),
)
NAME = st.from_regex(r"\A(@[a-z][a-z0-9-]{0,8}/)?[a-z][a-z0-9._-]{0,12}\Z")
SPEC = st.one_of(st.from_regex(r"\A[~^]?[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{1,2}\Z"), st.sampled_from(["latest", "*"]))
GLOB = st.from_regex(r"\A!?[a-z]{1,6}(/[a-z*]{1,6}){0,2}\Z")


@given(st.text(max_size=300))
def test_netlify_never_raises_anything_but_parse_error(text: str) -> None:
    try:
        parse_netlify_node(text)
        parse_netlify_publish(text)
    except ParseError:
        pass


@given(VERSION, st.from_regex(r"\A[a-z]{1,8}(/[a-z]{1,8})?\Z"))
def test_netlify_reads_back_node_version_and_publish(version: str, publish: str) -> None:
    text = (
        f'[build]\ncommand = "npm run build"\npublish = {json.dumps(publish)}\n\n'
        f'[build.environment]\nNODE_VERSION = {json.dumps(version)}\nNPM_FLAGS = "--version"\n'
    )
    assert parse_netlify_node(text) == version.strip()
    assert parse_netlify_publish(text) == publish


@given(st.integers(min_value=4, max_value=40))
def test_netlify_number_is_a_version(major: int) -> None:
    assert parse_netlify_node(f"[build.environment]\nNODE_VERSION = {major}\n") == str(major)


@given(st.text(max_size=300))
def test_tool_versions_and_nvmrc_never_raise(text: str) -> None:
    parse_tool_versions(text)
    parse_nvmrc(text)
    node_from_dockerfile(text)


@given(
    st.lists(st.tuples(st.sampled_from(["python", "ruby", "golang"]), VERSION), max_size=3),
    st.sampled_from(["nodejs", "node"]),
    VERSION,
    VERSION,
)
def test_tool_versions_reads_the_first_node_version(
    others: list[tuple[str, str]], tool: str, version: str, fallback: str
) -> None:
    lines = [f"{t} {v}" for t, v in others] + [f"{tool} {version} {fallback}  # comment", "nodejs 0.1.0"]
    assert parse_tool_versions("\n".join(lines) + "\n") == version.split(maxsplit=1)[0]


@given(VERSION)
def test_nvmrc_reads_the_version_after_comments(version: str) -> None:
    assert parse_nvmrc(f"# the team's node\n\n{version}\n") == version.split(maxsplit=1)[0]


@given(st.from_regex(r"\A[0-9]{1,2}(\.[0-9]{1,2}){0,2}\Z"), st.sampled_from(["", "-alpine", "-bookworm-slim", "-slim"]))
def test_from_node_tag_gives_its_version(version: str, suffix: str) -> None:
    assert node_from_dockerfile(f"# syntax=docker/dockerfile:1\nFROM node:{version}{suffix} AS build\n") == version


@given(st.text(max_size=400))
@settings(max_examples=200)
def test_pnpm_workspace_never_raises_anything_but_parse_error(text: str) -> None:
    try:
        parse_pnpm_workspace(text)
    except ParseError:
        pass


@given(
    st.lists(GLOB, max_size=5),
    st.dictionaries(NAME, SPEC, max_size=5),
    st.dictionaries(
        st.from_regex(r"\A[a-z][a-z0-9]{0,8}\Z").filter(lambda n: n != "default"),
        st.dictionaries(NAME, SPEC, min_size=1, max_size=3),
        max_size=3,
    ),
)
def test_pnpm_workspace_reads_back_members_and_catalogs(
    packages: list[str], default: dict[str, str], named: dict[str, dict[str, str]]
) -> None:
    doc: dict[str, object] = {"packages": packages}
    if default:
        doc["catalog"] = default
    if named:
        doc["catalogs"] = named
    parsed = parse_pnpm_workspace(yaml.safe_dump(doc))
    assert parsed.packages == tuple(packages)
    expected = ({"default": default} if default else {}) | named
    assert {k: dict(v) for k, v in parsed.catalogs.items()} == expected


def test_pnpm_workspace_rejects_wrong_shapes() -> None:
    for text in ("packages: apps/*\n", "- a\n- b\n", "catalog: [react]\n", "catalogs:\n  x: 1\n"):
        try:
            parse_pnpm_workspace(text)
        except ParseError:
            continue
        raise AssertionError(f"accepted {text!r}")


@given(st.lists(GLOB, max_size=4), st.booleans())
def test_workspaces_field_reads_both_shapes(patterns: list[str], yarn1_object: bool) -> None:
    data = {"workspaces": {"packages": patterns, "nohoist": ["**/x"]} if yarn1_object else patterns}
    assert workspaces_field(data) == tuple(patterns)
    assert workspaces_field({"name": "x"}) is None
