"""What a Node build reads from its environment, and the placeholders it gets; node by the project's era."""

from __future__ import annotations

import json
from pathlib import Path

from gen_testutil import write_tree
from hypothesis import given
from hypothesis import strategies as st

from envcheck.generate.build_env import (
    BuildSetting,
    parse_env_example,
    parse_env_schema,
    parse_turbo_env,
    placeholder,
    plan_build_env,
    process_env_names,
    read_build_env,
)
from envcheck.generate.dockerfile import generate
from envcheck.generate.layout import read_layout
from envcheck.generate.node import choose_node_version
from envcheck.generate.node_releases import NodeLine, NodeReleases
from envcheck.generate.options import Options
from envcheck.scanners.project import scan_project

T3_SCHEMA = """
import { createEnv } from "@t3-oss/env-nextjs";
import { z } from "zod";
export const env = createEnv({
  shared: { NODE_ENV: z.enum(["development", "production"]).default("development") },
  server: {
    DATABASE_URL: z.string().url(),
    AUTH_SECRET: process.env.NODE_ENV === "production" ? z.string().min(1) : z.string().optional(),
    MODE: z.enum(["blue", "green"]),
    WORKERS: z.coerce.number().int(),
    // COMMENTED_OUT: z.string(),
  },
  client: { NEXT_PUBLIC_SITE: z.url() },
  runtimeEnv: { DATABASE_URL: process.env.DATABASE_URL },
  skipValidation: !!process.env.SKIP_ENV_VALIDATION,
});
"""


def test_a_t3_schema_gives_each_key_a_value_its_type_accepts() -> None:
    keys, skip = parse_env_schema(T3_SCHEMA)
    assert dict(keys) == {
        "NODE_ENV": "enum:development",
        "DATABASE_URL": "url",
        "AUTH_SECRET": "string",
        "MODE": "enum:blue",
        "WORKERS": "number",
        "NEXT_PUBLIC_SITE": "url",
    }
    assert skip == {"SKIP_ENV_VALIDATION"}
    env = plan_build_env([("src/env.ts", T3_SCHEMA)])
    # The project's own switch is used rather than invented values; NODE_ENV is the image's.
    assert env.skip_switch == "SKIP_ENV_VALIDATION"
    assert "NODE_ENV" not in env.names
    assert placeholder(BuildSetting("DATABASE_URL", "url", "x")).startswith("postgres://")
    assert placeholder(BuildSetting("MODE", "enum:blue", "x")) == "blue"


def test_names_come_from_env_examples_turbo_and_next_config_but_never_their_values() -> None:
    example = "# comment\nexport API_URL=https://real.example/\nSECRET_TOKEN='s3cr3t-value'\nnot a line\n"
    turbo = json.dumps({"globalEnv": ["POSTGRES_URL", "VERCEL_*"], "tasks": {"build": {"env": ["SENTRY_DSN"]}}})
    config = 'const u = process.env.ANALYTICS_ID; const v = process.env["CDN_URL"];'
    env = plan_build_env([(".env.example", example), ("turbo.json", turbo), ("next.config.mjs", config)])
    assert env.skip_switch is None
    assert set(env.names) == {"API_URL", "SECRET_TOKEN", "POSTGRES_URL", "SENTRY_DSN", "ANALYTICS_ID", "CDN_URL"}
    values = {s.name: placeholder(s) for s in env.settings}
    assert "s3cr3t-value" not in values.values() and "https://real.example/" not in values.values()
    assert values["POSTGRES_URL"].startswith("postgres://") and values["API_URL"] == "http://localhost/"


_NAME = st.from_regex(r"[A-Z][A-Z0-9_]{0,10}", fullmatch=True)
_VALUE = st.text(alphabet=st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",)), max_size=20)


@given(st.lists(st.tuples(_NAME, _VALUE, st.booleans()), max_size=8))
def test_env_example_lists_every_name_once_in_order(entries: list[tuple[str, str, bool]]) -> None:
    text = "\n".join(f"{'export ' if exp else ''}{n}={v}" for n, v, exp in entries)
    assert parse_env_example(text) == tuple(dict.fromkeys(n for n, _, _ in entries))


@given(st.text(max_size=400))
def test_the_parsers_never_crash_on_any_text(text: str) -> None:
    assert isinstance(parse_env_example(text), tuple)
    assert isinstance(parse_turbo_env(text), tuple)
    assert isinstance(process_env_names(text), tuple)
    keys, skip = parse_env_schema("createEnv({ server: {" + text)
    assert isinstance(keys, tuple) and isinstance(skip, frozenset)


@given(st.dictionaries(_NAME, st.sampled_from(["z.string()", "z.url()", "z.coerce.number()", "z.boolean()"])))
def test_every_schema_key_is_found(schema: dict[str, str]) -> None:
    body = ",\n".join(f"    {k}: {v}" for k, v in schema.items())
    keys, _ = parse_env_schema(f"export const env = createEnv({{\n  server: {{\n{body}\n  }},\n}});")
    assert [k for k, _ in keys] == list(schema)


def test_the_build_stage_gets_placeholder_args_and_the_runtime_stage_none(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "package.json": {
                "name": "site",
                "scripts": {"build": "next build", "start": "next start"},
                "dependencies": {"next": "14.2.0"},
                "engines": {"node": ">=18"},
            },
            "package-lock.json": {"name": "site", "lockfileVersion": 3, "packages": {"": {"name": "site"}}},
            ".env.example": "DATABASE_URL=postgres://me:realpassword@db/prod\nAUTH_SECRET=hunter2\n",
            "next.config.js": "module.exports = {}",
        },
    )
    layout = read_layout(root)
    files = generate(scan_project(root), layout, None, Options())
    stages = files.dockerfile.split("\nFROM ")
    build = next(s for s in stages if s.startswith("deps AS build"))
    runtime = stages[-1]
    assert (
        "RUN export AUTH_SECRET=build-time-placeholder "
        "DATABASE_URL=postgres://placeholder:placeholder@localhost:5432/placeholder \\\n && npm run build" in build
    )
    assert "DATABASE_URL=" not in runtime and "ENV DATABASE_URL" not in files.dockerfile
    assert "ARG DATABASE_URL" not in files.dockerfile
    assert "realpassword" not in files.dockerfile and "hunter2" not in files.dockerfile
    assert read_build_env(root, ()).names == ("AUTH_SECRET", "DATABASE_URL")


# --------------------------------------------------------------------------- node by era

ERA_RELEASES = NodeReleases(
    ("26.1.0", "24.2.0", "22.3.0", "12.22.12", "10.24.1", "10.13.0", "8.17.0", "6.17.1"),
    {
        6: NodeLine(6, "Boron", "2016-10-18", "2019-04-30"),
        8: NodeLine(8, "Carbon", "2017-10-31", "2019-12-31"),
        10: NodeLine(10, "Dubnium", "2018-10-30", "2021-04-30"),
        12: NodeLine(12, "Erbium", "2019-10-21", "2022-04-30"),
        22: NodeLine(22, "Jod", "2024-10-29", "2027-04-30"),
        24: NodeLine(24, "Krypton", "2025-10-28", "2028-04-30"),
        26: NodeLine(26, None, None, "2029-04-30"),
    },
    "test data",
    "2026-11-29",
)


def _era(engines: str | None, day: str | None, host_is_env: bool = False) -> tuple[str, tuple[str, ...]]:
    choice, warnings = choose_node_version(
        [],
        engines,
        host="20.1.0",
        host_label="host",
        host_is_env=host_is_env,
        releases=ERA_RELEASES,
        era=(day, "the project's last commit (git log)") if day else None,
    )
    return choice.version, warnings


def test_a_lower_bound_only_takes_the_lts_line_of_the_projects_date() -> None:
    version, warnings = _era(">=7.0", "2019-01-20")
    assert version == "10.24.1"  # node 10 was LTS then; today's LTS (24) is not the project's
    assert any("2019-01-20" in w and "24.2.0" in w for w in warnings)
    assert _era(">=7.0", None)[0] == "24.2.0"


def test_the_era_never_goes_below_the_declared_range_or_past_a_host_that_ran_the_project() -> None:
    assert _era(">=12", "2019-01-20")[0] == "24.2.0"  # no LTS line of 12+ yet: as before
    assert _era(">=6 <9", "2019-01-20")[0] == "8.17.0"
    assert _era(">=7.0", "2019-01-20", host_is_env=True)[0] == "20.1.0"
