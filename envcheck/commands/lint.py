"""``envcheck lint [FILES…]`` — the static rules over the project's own files (pre-commit's entry).

No host probing, no image: only what the files declare.  This module also
holds the reporting tail ``scan`` and ``diff`` share (settings, baseline,
render, exit code), so the three commands behave the same way.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from envcheck.commands._common import add_command, add_report_options, split_ids

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from envcheck.config import Config
    from envcheck.engine import Settings
    from envcheck.findings import Finding
    from envcheck.rules import Rule

EXAMPLES = """\
  envcheck lint                                   # the project in the current directory
  envcheck lint requirements.txt Dockerfile       # just these files (pre-commit passes staged files)
  envcheck lint path/to/project                   # another project directory
  envcheck lint --format json -o lint.json
  envcheck lint --fail-on warning --ignore EC403
  envcheck lint --write-baseline .envcheck-baseline.json   # accept today's findings
"""


def add_baseline_options(parser: argparse.ArgumentParser, *, write: bool) -> None:
    parser.add_argument("--baseline", metavar="FILE", help="report only findings not in this baseline file")
    if write:
        parser.add_argument(
            "--write-baseline",
            metavar="FILE",
            help="write every current finding's fingerprint to FILE and exit 0; later runs with this "
            "baseline report only new findings",
        )


def register(sub: Any) -> None:
    parser = add_command(
        sub,
        "lint",
        help="static checks of the project's declared files (no host, no image)",
        description="Check the project's manifests, lock files, version files and Dockerfiles: "
        "EC304, EC305, EC401-EC405, EC503.",
        examples=EXAMPLES,
    )
    parser.add_argument(
        "files", nargs="*", metavar="FILES", help="files to check, or one project directory (default: the project in .)"
    )
    add_report_options(parser)
    add_baseline_options(parser, write=True)
    parser.set_defaults(func=run)


def load_settings(args: argparse.Namespace, root: Path) -> tuple[Config, Settings]:
    from envcheck.baseline import load_baseline
    from envcheck.config import load_config
    from envcheck.engine import settings_from

    config = load_config(root, args.config)
    baseline_path = args.baseline or (str(config.baseline) if config.baseline else None)
    writing = getattr(args, "write_baseline", None)
    baseline = load_baseline(baseline_path) if baseline_path and not writing else None
    settings = settings_from(
        config,
        select=split_ids(args.select),
        ignore=split_ids(args.ignore),
        fail_on=args.fail_on,
        baseline=baseline,
    )
    return config, settings


def finish(
    args: argparse.Namespace,
    findings: Sequence[Finding],
    rules: Mapping[str, Rule],
    settings: Settings,
    *,
    root: str | None = None,
    default_path: str | None = None,
) -> int:
    """Write the baseline, or render the report; return the exit code."""
    from envcheck.engine import exit_code

    if getattr(args, "write_baseline", None):
        from envcheck.baseline import write_baseline

        write_baseline(args.write_baseline, findings)
        print(f"envcheck: wrote {len(findings)} finding(s) to {args.write_baseline}", file=sys.stderr)
        return 0
    from envcheck.report import render

    text = render(findings, args.format, rules=rules, root=root, quiet=args.quiet, default_path=default_path)
    if args.output:
        from envcheck._io import atomic_write

        atomic_write(args.output, text)
    else:
        sys.stdout.write(text)
    return exit_code(findings, settings.fail_on)


def main_manifest(root: Path, files: Sequence[str]) -> str | None:
    """Where findings without a file are anchored in SARIF/GitLab output: the project's main manifest."""
    for name in ("pyproject.toml", "requirements.txt", "package.json", "Pipfile", "Dockerfile"):
        if name in files:
            return name
    return None


def with_companions(files: Sequence[Path]) -> list[Path]:
    """The given files plus the declaration files beside each of them (context, not report).

    pre-commit passes only the staged files, but a manifest is judged against
    its lock (EC304; EC401 is waived when a lock exists) and a Dockerfile
    against the version files: staging ``package.json`` alone must still see
    ``package-lock.json``.  Source files (env references) are not companions;
    no static rule reads them.  A large tree is never walked: only the
    folders of the given files are listed.
    """
    from envcheck.parsers import parser_for

    out = dict.fromkeys(files)
    known = [f for f in files if parser_for(f.name) not in (None, "env_refs")]
    # A relative name's folders up to the project root count too: the root
    # Dockerfile builds `backend/` with the interpreter `backend/.python-version` names.
    folders = (f.parents if not f.is_absolute() else (f.parent,) for f in known)
    for directory in dict.fromkeys(d for chain in folders for d in chain):
        try:
            names = sorted(p.name for p in directory.iterdir() if p.is_file())
        except OSError:
            continue
        for name in names:
            if parser_for(name) not in (None, "env_refs"):
                out.setdefault(directory / name)
    return list(out)


def only_in(findings: Sequence[Finding], files: Sequence[Path], root: Path) -> list[Finding]:
    """Findings located in ``files`` (or nowhere): like ruff, report on the files you touched."""
    from envcheck.parsers import relpath

    wanted = {relpath(f, root) for f in files}
    return [f for f in findings if f.location is None or f.location.path in wanted]


def run(args: argparse.Namespace) -> int:
    from envcheck.engine import evaluate, plan_lint, rules_for_modes
    from envcheck.rules import load_rules
    from envcheck.scanners.project import read_project
    from envcheck.scanners.summary import project_lines, require_something

    root = Path(".")
    files: list[Path] | None = [Path(f) for f in args.files] if args.files else None
    if files and len(files) == 1 and files[0].is_dir():
        # `envcheck lint path/to/project`: that directory is the project (its config, its relative paths).
        root, files = files[0], None
    config, settings = load_settings(args, root)
    rules = load_rules(config.rules_dir)
    static = rules_for_modes(rules, ["static"])
    # Static rules never look at which variables the code reads.
    project, found = read_project(root, with_companions(files) if files else None, env_refs=False)
    if files is None:
        require_something(root, project, found, allow_empty=config.allow_empty)
    if args.verbose:
        for line in project_lines(project, found if files is None else None):
            print(f"envcheck: {line}", file=sys.stderr)
    findings = evaluate(static, plan_lint(project), settings, project)
    if files:
        findings = only_in(findings, files, root)
    declared_files = project.declared.files if project.declared else ()
    return finish(args, findings, rules, settings, root=None, default_path=main_manifest(root, declared_files))
