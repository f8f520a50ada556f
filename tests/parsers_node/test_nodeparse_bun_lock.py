"""bun.lock (Bun's text lock): packages with their install paths, the root's ranges, trailing commas."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from envcheck.errors import ParseError
from envcheck.parsers.bun_lock import parse_text, strip_trailing_commas
from envcheck.scanners.project import scan_project

LOCK = """\
{
  "lockfileVersion": 1,
  "workspaces": {
    "": {
      "name": "app",
      "dependencies": {
        "express": "^4.18.0",
      },
      "devDependencies": {
        "typescript": "~5.4.0",
      },
    },
    "frontend": {
      "name": "frontend",
      "dependencies": { "react": "^19.0.0" },
    },
  },
  "packages": {
    "express": ["express@4.21.2", "", { "dependencies": { "debug": "2.6.9" } }, "sha512-abc"],
    "express/debug": ["debug@2.6.9", "", {}, "sha512-def"],
    "frontend": ["frontend@workspace:frontend"],
    "react": ["react@19.2.8", "", {}, "sha512-ghi"],
    "typescript": ["typescript@5.4.5", "", { "bin": { "tsc": "bin/tsc" } }, "sha512-jkl"],
    "@types/node": ["@types/node@20.11.30", "", {}, "sha512-mno"],
  }
}
"""


def test_packages_paths_and_ranges() -> None:
    d = parse_text(LOCK)
    got = {(lk.name, lk.version, lk.path, lk.specifiers) for lk in d.locks}
    assert got == {
        ("express", "4.21.2", "node_modules/express", ("^4.18.0",)),
        ("debug", "2.6.9", "node_modules/express/node_modules/debug", ()),
        ("react", "19.2.8", "node_modules/react", ()),
        ("typescript", "5.4.5", "node_modules/typescript", ("~5.4.0",)),
        ("@types/node", "20.11.30", "node_modules/@types/node", ()),
    }
    express = next(lk for lk in d.locks if lk.name == "express")
    assert express.source == "bun.lock:19"


def test_a_project_with_bun_lock_is_locked(tmp_path: Path) -> None:
    """EC401 is waived when the project commits a lock; bun.lock is one."""
    from envcheck.engine import Settings, evaluate, plan_lint
    from envcheck.rules import load_rules

    (tmp_path / "package.json").write_text('{"name": "app", "dependencies": {"express": "^4.18.0"}}')
    (tmp_path / "bun.lock").write_text(LOCK)
    project = scan_project(tmp_path)
    found = evaluate(load_rules(), plan_lint(project), Settings(), project)
    assert [f.rule for f in found] == []


def test_invalid_json_is_a_parse_error_with_a_line() -> None:
    try:
        parse_text('{\n  "packages": {\n    "a": ["a@1.0.0" "x"],\n  }\n}\n')
    except ParseError as err:
        assert str(err).startswith("bun.lock:3:")
    else:
        raise AssertionError("no ParseError")


KEYS = st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True)
VERSIONS = st.from_regex(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}", fullmatch=True)
TRICKY = st.text(alphabet=',"}] \\\n', max_size=8)


@given(st.dictionaries(KEYS, VERSIONS, min_size=1, max_size=10), TRICKY)
def test_packages_round_trip_through_trailing_commas(pkgs: dict[str, str], noise: str) -> None:
    doc = {
        "lockfileVersion": 1,
        "note": noise,
        "packages": {k: [f"{k}@{v}", "", {}, "sha512-x"] for k, v in pkgs.items()},
    }
    text = json.dumps(doc, indent=2).replace("]\n", "],\n").replace("}\n", "},\n")
    assert json.loads(strip_trailing_commas(text)) == doc
    assert {(lk.name, lk.version) for lk in parse_text(text).locks} == set(pkgs.items())


@settings(max_examples=200)
@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes(text: str) -> None:
    try:
        parse_text(text)
    except ParseError:
        pass
