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


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not DOC.is_file() or DOC.read_text(encoding="utf-8") != text:
            print(f"{DOC.relative_to(ROOT)} is stale: run python scripts/gen_rules_doc.py", file=sys.stderr)
            return 1
        return 0
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
