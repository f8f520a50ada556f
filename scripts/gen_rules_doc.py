"""Write docs/rules.md from rules/*.toml (``--check``: exit 1 if the committed file is stale).

python scripts/gen_rules_doc.py          # regenerate
python scripts/gen_rules_doc.py --check  # CI / test: is docs/rules.md up to date?
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "rules.md"


def render() -> str:
    sys.path.insert(0, str(ROOT))
    from envcheck.commands.rules import markdown
    from envcheck.rules import load_rule_dir

    rules = {r.id: r for r in load_rule_dir(ROOT / "rules", builtin=True)}
    return markdown(dict(sorted(rules.items())))


def write_or_check(doc: Path, text: str, script: str, argv: list[str]) -> int:
    """Write ``doc``, or with ``--check`` exit 1 when the committed copy differs (shared by the doc scripts)."""
    if "--check" in argv:
        if not doc.is_file() or doc.read_text(encoding="utf-8") != text:
            print(f"{doc.relative_to(ROOT)} is stale: run python scripts/{script}", file=sys.stderr)
            return 1
        return 0
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")
    print(f"wrote {doc.relative_to(ROOT)}")
    return 0


def main(argv: list[str]) -> int:
    return write_or_check(DOC, render(), "gen_rules_doc.py", argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
