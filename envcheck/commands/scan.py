"""``envcheck scan [DIR] [--image REF] [--against SNAPSHOT.json]`` — project + host (+ image / stored snapshot)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from envcheck.commands._common import add_command, add_python_option, add_report_options, add_service_options
from envcheck.commands.lint import add_baseline_options, finish, load_settings, main_manifest

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


EXAMPLES = """\
  envcheck scan                                   # this project: declared vs this machine
  envcheck scan --image myapp:1.4                 # … and vs the image, and host vs image
  envcheck scan --image docker-archive:app.tar --format sarif -o envcheck.sarif
  envcheck scan --against server.json             # vs a snapshot taken elsewhere
  envcheck scan --against ssh://deploy@server/srv/app --unit app   # vs the server itself, over ssh
  envcheck scan --image container:web             # vs a running container (its image + runtime env)
  envcheck scan --against sbom:image.syft.json    # vs an SBOM (CycloneDX, SPDX, syft JSON)
  envcheck scan --write-baseline .envcheck-baseline.json
"""


def register(sub: Any) -> None:
    parser = add_command(
        sub,
        "scan",
        help="compare the project, this machine and (optionally) an image or a stored snapshot",
        description="Snapshot the project's declarations and this machine, optionally an image "
        "(--image) or a stored snapshot (--against), and run every rule over every pair that "
        "makes sense: declared vs host, declared vs image, host vs image.",
        examples=EXAMPLES,
    )
    parser.add_argument("dir", nargs="?", default=".", help="project directory (default: .)")
    parser.add_argument("--image", metavar="REF", help="also scan this image (docker-archive:, oci:, dir:, docker:, …)")
    parser.add_argument("--platform", help="os/arch to pick from a multi-platform image")
    parser.add_argument("--probe", action="store_true", help="also run a sandboxed, network-less probe in the image")
    parser.add_argument(
        "--insecure-registry",
        action="append",
        default=[],
        metavar="HOST",
        help="allow plain HTTP for this registry (registry: images; loopback registries always may)",
    )
    parser.add_argument(
        "--against",
        metavar="SNAPSHOT.json",
        help="also compare with a stored snapshot (envcheck JSON, or an SBOM: sbom:PATH), "
        "or a host over ssh (ssh://[user@]host[:port][/path])",
    )
    parser.add_argument("--no-node", action="store_true", help="do not look for node, npm or node_modules on the host")
    add_python_option(parser)
    add_service_options(parser)
    add_report_options(parser)
    add_baseline_options(parser, write=True)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from envcheck.engine import evaluate, plan_scan
    from envcheck.progress import status
    from envcheck.rules import load_rules
    from envcheck.scanners.host import OWN_ENVIRONMENT, require_interpreter, scan_host
    from envcheck.scanners.project import read_project
    from envcheck.scanners.summary import require_something, verbose_lines
    from envcheck.snapshot import load_snapshot

    root = Path(args.dir)
    config, settings = load_settings(args, root)
    rules = load_rules(config.rules_dir)
    require_interpreter(args.python)
    remote = bool(args.against) and args.against.startswith("ssh://")
    if remote:
        from envcheck.scanners.ssh import parse_ssh_url

        parse_ssh_url(args.against)  # a malformed URL is reported before any scanning
    against = load_snapshot(args.against) if args.against and not remote else None
    with status("reading the project's files", quiet=args.quiet) as progress:
        project, found = read_project(root)
        if not args.image and not args.against:
            # Only the project and this machine: with no project, there is nothing to compare.
            require_something(root, project, found, allow_empty=config.allow_empty)
        progress.update("probing this machine's interpreter, packages and node_modules")
        host = scan_host(root, python=args.python, node=not args.no_node, env_allow=config.env_allow)
        service = {"pid": args.pid, "unit": args.unit}
        if remote:
            from envcheck.scanners.remote import scan_remote_host

            progress.update(f"probing {args.against} over ssh")
            # The code deployed there is this project: its variables are the ones to ask for.
            against = scan_remote_host(
                args.against, node=not args.no_node, env_allow=config.env_allow, env_names=host.env, **service
            )
        elif args.pid is not None or args.unit:
            from envcheck.scanners.service_env import with_service_env

            host = with_service_env(host, env_allow=config.env_allow, **service)
        image = None
        if args.image:
            from envcheck.scanners.image import scan_image

            progress.update(f"reading the image's layers: {args.image}")
            image = scan_image(
                args.image,
                platform=args.platform,
                probe=args.probe,
                env_allow=config.env_allow,
                insecure_registries=tuple(args.insecure_registry),
            )
    # Said even without -v: scanning envcheck's own environment makes its
    # dependencies look like the project's drift.
    for note in host.notes:
        if note.startswith(OWN_ENVIRONMENT) and not args.verbose:
            print(f"envcheck: warning: {note}", file=sys.stderr)
    if args.verbose:
        sides = [(label, snap) for label, snap in (("host", host), ("image", image), ("against", against)) if snap]
        for line in verbose_lines(project, found, sides):
            print(f"envcheck: {line}", file=sys.stderr)
    contexts = plan_scan(
        project,
        host,
        image,
        against,
        against_name=(args.against if remote else Path(args.against).name) if args.against else None,
        env_allow=settings.env_allow,
    )
    from envcheck.engine import select_rules
    from envcheck.index_facts import with_index_facts

    # The package index is asked only when a pair's platforms differ (EC214).
    contexts = with_index_facts(contexts, select_rules(rules, settings), root=root)
    findings = evaluate(rules, contexts, settings, project)
    files = project.declared.files if project.declared else ()
    return finish(args, findings, rules, settings, root=str(root), default_path=main_manifest(root, files))
