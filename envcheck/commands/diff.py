"""``envcheck diff A.json B.json`` — run the rules over two stored snapshots."""

from __future__ import annotations

import argparse
from pathlib import Path

from envcheck.commands._common import add_command, add_report_options
from envcheck.commands.lint import add_baseline_options, finish, load_settings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


EXAMPLES = """\
  envcheck snapshot host -o laptop.json && envcheck snapshot image myapp:1.4 -o image.json
  envcheck diff laptop.json image.json            # drift: versions, packages, env, platform
  envcheck diff project.json server.json          # declared vs what a server has installed
  envcheck diff laptop.json server.json --format json
  envcheck diff sbom:prod.cdx.json sbom:staging.spdx.json   # CycloneDX / SPDX / syft JSON (docs/sbom.md)
"""


def register(sub: Any) -> None:
    parser = add_command(
        sub,
        "diff",
        help="run the rules over two stored snapshots",
        description="Compare two snapshots written by 'envcheck snapshot'. With a project snapshot "
        "on one side, the other is checked against its declarations; otherwise A is the "
        "reference and B is compared with it.",
        examples=EXAMPLES,
    )
    parser.add_argument(
        "a", metavar="A.json", help="the reference snapshot (left): envcheck JSON, or an SBOM (sbom:PATH)"
    )
    parser.add_argument("b", metavar="B.json", help="the snapshot compared with it (right)")
    add_report_options(parser)
    add_baseline_options(parser, write=False)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from envcheck.engine import diff_project, evaluate, plan_diff
    from envcheck.rules import load_rules
    from envcheck.snapshot import load_snapshot

    config, settings = load_settings(args, Path("."))
    rules = load_rules(config.rules_dir)
    a, b = load_snapshot(args.a), load_snapshot(args.b)
    contexts = plan_diff(a, b, names=(Path(args.a).name, Path(args.b).name), env_allow=settings.env_allow)
    project = diff_project(a, b)
    from envcheck.engine import select_rules
    from envcheck.index_facts import with_index_facts

    contexts = with_index_facts(contexts, select_rules(rules, settings))
    findings = evaluate(rules, contexts, settings, project)
    return finish(args, findings, rules, settings)
