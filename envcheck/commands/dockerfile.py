"""``envcheck dockerfile`` — write a pinned Dockerfile (+ .dockerignore, + lock)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from envcheck.commands._common import add_command, add_python_option
from envcheck.errors import EnvcheckError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from envcheck.generate.dockerfile import VersionSource
    from envcheck.snapshot import Snapshot

EXAMPLES = """\
  envcheck dockerfile                         # Dockerfile for ., versions from this machine
  envcheck dockerfile --from lock             # only the project's lock and version files
  envcheck dockerfile --from prod.json        # versions from a stored snapshot
  envcheck dockerfile --check --from lock     # in CI: exit 1 and print the diff when stale
  envcheck dockerfile --base-digest --force   # FROM …@sha256:…, replacing the old Dockerfile
"""


def register(sub: Any) -> None:
    parser = add_command(
        sub,
        "dockerfile",
        help="write a pinned Dockerfile (+ .dockerignore, + lock) for the project",
        description="Write a Dockerfile that reproduces the project: the exact interpreter, exact package pins, "
        "a non-root multi-stage image. Versions come from the project's lock when it is consistent, else from "
        "this machine (the versions that work here), else from a stored snapshot.",
        examples=EXAMPLES,
    )
    parser.add_argument("dir", nargs="?", default=".", help="project directory, the build context (default: .)")
    parser.add_argument("-o", "--output", metavar="PATH", help="Dockerfile path inside DIR (default: DIR/Dockerfile)")
    parser.add_argument(
        "--from",
        dest="source",
        default="auto",
        metavar="host|lock|SNAPSHOT.json",
        help="where versions come from (default: the lock if consistent, else this machine)",
    )
    parser.add_argument("--base-digest", action="store_true", help="pin base images by digest when the engine knows it")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 and print a diff when the files are stale"
    )
    parser.add_argument("--force", action="store_true", help="replace an existing Dockerfile")
    add_python_option(parser)
    parser.add_argument("--no-node", action="store_true", help="do not probe node on this machine")
    parser.add_argument(
        "--offline",
        action="store_true",
        help="do not ask the package index whether every pin installs (warns that it was not checked), "
        "nor the npm registry for node releases (the cached list, else the shipped snapshot)",
    )
    parser.add_argument(
        "--as-of",
        metavar="DATE",
        help="the project's date (YYYY-MM-DD): requirements nothing pins, and node when only a lower bound is "
        "declared, are chosen as of it (default: the last git commit, else the files' newest time)",
    )
    parser.add_argument(
        "--config", metavar="PATH", help="config file (for env-allow, dockerfile-read-only-code, dockerfile-as-of)"
    )
    parser.set_defaults(func=run)


def _base_digests(refs: list[str]) -> dict[str, str]:
    """Digests for ``refs``: from each image's registry (HEAD on the manifest), else the local engine."""
    from envcheck.distribution import resolve_digest

    out: dict[str, str] = {}
    reasons: dict[str, str] = {}
    for ref in refs:
        digest, why = resolve_digest(ref)
        if digest:
            out[ref] = digest
        else:
            reasons[ref] = why
    if len(out) < len(refs):
        out.update(_engine_digests([r for r in refs if r not in out]))
    for ref, why in sorted(reasons.items()):
        if ref not in out:
            print(
                f"envcheck: warning: --base-digest: {ref}: registry: {why}; the local engine knows no digest either",
                file=sys.stderr,
            )
    return out


def _engine_digests(refs: list[str]) -> dict[str, str]:
    """Repo digests the local engine knows for ``refs``; none when there is no engine."""
    try:
        import docker
        import requests
        from docker.errors import DockerException
    except ImportError:
        return {}
    # No engine, an engine that went away, an image it does not have: no digest.
    unavailable = (DockerException, requests.RequestException, OSError)
    out: dict[str, str] = {}
    try:
        client = docker.from_env()
    except unavailable:
        return {}
    for ref in refs:
        try:
            digests = client.images.get(ref).attrs.get("RepoDigests") or []
        except unavailable:
            continue
        repo = ref.split(":")[0]
        for d in digests:
            name, _, digest = str(d).partition("@")
            if digest.startswith("sha256:") and (name == repo or name.endswith("/" + repo)):
                out[ref] = digest
                break
    return out


def _load_source(args: argparse.Namespace, root: Path) -> tuple[VersionSource, Snapshot | None]:
    from envcheck.snapshot import load_snapshot

    src = str(args.source)
    if src == "lock":
        return "lock", None
    if src in {"auto", "host"}:
        from envcheck.config import load_config
        from envcheck.scanners.host import scan_host

        allow = load_config(root, args.config).env_allow
        mode: VersionSource = "auto" if src == "auto" else "host"
        return mode, scan_host(root, python=args.python, node=not args.no_node, env_allow=allow)
    if not Path(src.removeprefix("sbom:")).is_file():
        raise EnvcheckError("--from expects host, lock or a snapshot JSON file (envcheck JSON or sbom:PATH)", path=src)
    return "snapshot", load_snapshot(src)


def run(args: argparse.Namespace) -> int:
    from envcheck.generate import generate_for

    root = Path(args.dir)
    if not root.is_dir():
        raise EnvcheckError("not a directory", path=str(root))
    dockerfile = Path(args.output) if args.output else root / "Dockerfile"
    mode, source = _load_source(args, root)
    from envcheck.config import load_config

    config = load_config(root, args.config)
    as_of, as_of_from = None, "--as-of"
    raw = args.as_of or config.dockerfile_as_of
    if raw:
        from envcheck.generate.asof import parse_date

        as_of_from = "--as-of" if args.as_of else f"dockerfile-as-of ({config.path or 'config'})"
        try:
            as_of = parse_date(raw)
        except ValueError:
            raise EnvcheckError(f"{raw!r} is not a date (expected YYYY-MM-DD)", path=as_of_from) from None
    result = generate_for(
        root,
        dockerfile,
        source=source,
        mode=mode,
        digests=_base_digests if args.base_digest else None,
        offline=args.offline,
        read_only_code=config.dockerfile_read_only_code,
        as_of=as_of,
        as_of_from=as_of_from,
    )
    for warning in result.warnings:
        print(f"envcheck: warning: {warning}", file=sys.stderr)
    from envcheck.generate import writer

    if args.check:
        diff = writer.check(root, dockerfile, result)
        if diff:
            sys.stdout.write(diff)
            print(f"envcheck: {dockerfile} is stale; run `envcheck dockerfile --force` to update it", file=sys.stderr)
            return 1
        return 0
    for w in writer.write(root, dockerfile, result, force=args.force):
        if w.action != "kept":
            print(f"envcheck: {w.action} {w.path}", file=sys.stderr)
    return 0
