"""The rule examples in docs/configuration.md are real: they load and validate."""

from __future__ import annotations

import re
from pathlib import Path

from envcheck.rules import load_rule_dir

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_project_rule_example_in_docs_loads(tmp_path: Path) -> None:
    blocks = re.findall(r"```toml\n(.*?)```", DOCS.read_text(), re.DOTALL)
    rules = [b for b in blocks if b.lstrip().startswith("id = ")]
    assert rules, "docs/configuration.md shows a project rule"
    for i, text in enumerate(rules):
        (tmp_path / f"R{i}.toml").write_text(text)
    loaded = load_rule_dir(tmp_path, builtin=False)
    assert {r.check for r in loaded} == {"package-policy"}
