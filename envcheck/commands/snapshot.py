"""``envcheck snapshot host|project|image`` — capture one snapshot as JSON."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from envcheck.commands._common import add_command, add_python_option, add_service_options

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from envcheck.snapshot import Snapshot

EXAMPLES = """\
  envcheck snapshot project .                      # what the project's files declare
  envcheck snapshot host . -o laptop.json          # this machine's interpreter, packages, env
  envcheck snapshot host ssh://deploy@server/srv/app --unit app   # a server over ssh, its service's env
  envcheck snapshot image docker-archive:app.tar   # a saved image, read statically
  envcheck snapshot image myapp:1.4 --probe        # ask the engine, and run a sandboxed probe
  envcheck snapshot image myapp:1.4 --format cyclonedx -o myapp.cdx.json   # an SBOM (also: spdx)
"""


#: The snapshot kinds, in the order `envcheck snapshot --help` lists them.
KINDS: tuple[str, ...] = ("project", "host", "image")


def register(sub: Any, kinds: Sequence[str] = KINDS) -> None:
    """The ``snapshot`` command; with ``kinds``, only those kinds' parsers (the CLI names the one being run)."""
    parser = add_command(
        sub,
        "snapshot",
        help="capture one snapshot (host, project or image) as JSON",
        description="Capture one snapshot as envcheck.snapshot/1 JSON.",
        examples=EXAMPLES,
    )
    by_kind = parser.add_subparsers(dest="kind", metavar="KIND", required=True, parser_class=type(parser))
    if "project" in kinds:
        _register_project(by_kind)
    if "host" in kinds:
        _register_host(by_kind)
    if "image" in kinds:
        _register_image(by_kind)


def _register_project(kinds: Any) -> None:
    project = kinds.add_parser("project", help="what the project's files declare")
    project.add_argument("dir", nargs="?", default=".", help="project directory (default: .)")
    _output(project)
    project.set_defaults(func=run_project)


def _register_host(kinds: Any) -> None:
    host = kinds.add_parser("host", help="the project's interpreter, packages, node, env and platform on this machine")
    host.add_argument(
        "dir", nargs="?", default=".", help="project directory, or ssh://[user@]host[:port][/path] (default: .)"
    )
    add_python_option(host)
    host.add_argument("--no-node", action="store_true", help="do not look for node, npm or node_modules")
    add_service_options(host)
    host.add_argument("--config", metavar="PATH", help="config file (for env-allow)")
    _output(host)
    host.set_defaults(func=run_host)


def _register_image(kinds: Any) -> None:
    image = kinds.add_parser(
        "image",
        help="what a built image contains, read statically",
        description="REF: docker-archive:PATH, oci-archive:PATH, oci:DIR, dir:ROOTFS, docker:NAME[:TAG], "
        "registry:HOST/NAME[:TAG|@DIGEST], container:NAME|ID (a container's image and its runtime config); "
        "a bare path or name is detected.",
    )
    image.add_argument("ref", help="image reference")
    image.add_argument("--platform", help="os/arch[/variant] to pick from a multi-platform index")
    image.add_argument("--probe", action="store_true", help="also run a sandboxed, network-less probe in a container")
    image.add_argument(
        "--insecure-registry", action="append", default=[], metavar="HOST", help="allow plain HTTP for this registry"
    )
    image.add_argument(
        "--verify-layers",
        choices=("full", "blobs", "off"),
        default="full",
        help="layer digests to check: full (default: stored and inflated, config diff_ids), "
        "blobs (stored only), off (local images only); see SECURITY.md",
    )
    image.add_argument("--config", metavar="PATH", help="config file (for env-allow)")
    _output(image)
    image.set_defaults(func=run_image)


def _output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", metavar="FILE", help="write JSON to FILE (atomically) instead of stdout")
    parser.add_argument(
        "--format",
        choices=("envcheck", "cyclonedx", "spdx"),
        default="envcheck",
        help="envcheck.snapshot/1 JSON (default), CycloneDX 1.6 or SPDX 2.3 JSON (docs/sbom.md)",
    )


def _emit(args: argparse.Namespace, snap: Snapshot) -> int:
    from envcheck.sbom import render

    text = render(snap, args.format)
    if args.output:
        from envcheck._io import atomic_write

        atomic_write(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


def _env_allow(root: Path, explicit: str | None) -> tuple[str, ...]:
    from envcheck.config import load_config

    return load_config(root, explicit).env_allow


def run_project(args: argparse.Namespace) -> int:
    from envcheck.scanners.project import scan_project

    return _emit(args, scan_project(Path(args.dir)))


def run_host(args: argparse.Namespace) -> int:
    from envcheck.progress import status
    from envcheck.scanners.host import require_interpreter, scan_host

    if args.dir.startswith("ssh://"):
        from envcheck.scanners.remote import scan_remote_host

        with status(f"probing {args.dir} over ssh"):
            snap = scan_remote_host(
                args.dir,
                python=args.python,
                node=not args.no_node,
                env_allow=_env_allow(Path("."), args.config),
                pid=args.pid,
                unit=args.unit,
            )
        for note in snap.notes:
            print(f"envcheck: {note}", file=sys.stderr)
        return _emit(args, snap)
    root = Path(args.dir)
    require_interpreter(args.python)
    allow = _env_allow(root, args.config)
    with status("probing this machine's interpreter, packages and node_modules"):
        snap = scan_host(root, python=args.python, node=not args.no_node, env_allow=allow)
    if args.pid is not None or args.unit:
        from envcheck.scanners.service_env import with_service_env

        snap = with_service_env(snap, pid=args.pid, unit=args.unit, env_allow=allow)
    for note in snap.notes:
        print(f"envcheck: {note}", file=sys.stderr)
    return _emit(args, snap)


def run_image(args: argparse.Namespace) -> int:
    from envcheck.progress import status
    from envcheck.scanners.image import scan_image

    with status(f"reading the image's layers: {args.ref}"):
        snap = scan_image(
            args.ref,
            platform=args.platform,
            probe=args.probe,
            env_allow=_env_allow(Path("."), args.config),
            insecure_registries=tuple(args.insecure_registry),
            verify=args.verify_layers,
        )
    return _emit(args, snap)
