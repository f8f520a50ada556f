"""The one renderer: any :class:`~envcheck.generate.plan.Plan` to Dockerfile text.

Pure and deterministic: the same plan (and digests) gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from envcheck.generate.plan import (
    Arg,
    Cmd,
    Copy,
    Env,
    Expose,
    Note,
    Plan,
    Run,
    Stage,
    Step,
    SystemPackages,
    User,
    Workdir,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn


# Debian's apt versions move with every point release and security fix, so a
# pin would break the build within weeks; the base image tag pins the release.
_APT_IGNORE = "# hadolint ignore=DL3008"


def assert_never(value: NoReturn) -> NoReturn:
    raise AssertionError(f"unhandled step: {value!r}")


def _comments(lines: tuple[str, ...]) -> list[str]:
    return [line if line.startswith("#") else f"# {line}" for line in lines]


def _json(argv: tuple[str, ...]) -> str:
    return json.dumps(list(argv), ensure_ascii=False)


def render_step(step: Step) -> list[str]:
    """The lines of one step: its reason as comments, then the instruction."""
    if isinstance(step, Note):
        return _comments(step.lines)
    out = _comments(step.why)
    if isinstance(step, Arg):
        out.extend(f"ARG {name}" for name in step.names)
    elif isinstance(step, Env):
        out.append("ENV " + " \\\n    ".join(f"{n}={v}" for n, v in step.vars))
    elif isinstance(step, Run):
        head = "RUN " + "".join(f"--mount={m} " for m in step.mounts)
        out.append(head + step.command)
    elif isinstance(step, SystemPackages):
        out.append(_APT_IGNORE)
        pkgs = " \\\n      ".join(step.packages)
        out.append(
            "RUN apt-get update \\\n"
            f" && apt-get install -y --no-install-recommends \\\n      {pkgs} \\\n"
            " && rm -rf /var/lib/apt/lists/*"
        )
    elif isinstance(step, Copy):
        flags = (f"--from={step.from_stage} " if step.from_stage else "") + (
            f"--chown={step.chown} " if step.chown else ""
        )
        out.append(f"COPY {flags}{' '.join(step.sources)} {step.dest}")
    elif isinstance(step, Workdir):
        out.append(f"WORKDIR {step.path}")
    elif isinstance(step, User):
        out.append(f"USER {step.uid}")
    elif isinstance(step, Expose):
        out.append(f"EXPOSE {step.port}")
    elif isinstance(step, Cmd):
        out.append(f"CMD {_json(step.argv)}")
    else:
        assert_never(step)
    return out


def _from(stage: Stage, digests: Mapping[str, str]) -> str:
    digest = digests.get(stage.image)
    image = f"{stage.image}@{digest}" if digest else stage.image
    return f"FROM {image}" + (f" AS {stage.name}" if stage.name else "")


def render(plan: Plan, digests: Mapping[str, str] | None = None) -> str:
    """Dockerfile text for ``plan``; ``digests`` maps an image reference to ``sha256:…``."""
    digests = digests or {}
    out = [*_comments(plan.header), ""]
    for i, stage in enumerate(plan.stages):
        if i:
            out.append("")
        out.extend(_comments(stage.why))
        out.append(_from(stage, digests))
        for step in stage.steps:
            out.extend(render_step(step))
    return "\n".join(out) + "\n"
