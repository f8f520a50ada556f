"""No secret value ever leaves envcheck: every command, every format, stdout, stderr and files.

Realistic fakes are generated per run (so no fixed string can be special-cased)
and planted everywhere a project or image keeps secrets: the host environment
of variables the project reads, a real image's ``Env`` (built on the test
bed), the Dockerfile's ``ENV``/``ARG``, ``.env`` and its template, a compose
file, and credentials inside requirement URLs.  Then every command runs in
every format, to stdout and with ``-o``, and the random part of every secret
(in 10-character windows, so a truncated or re-wrapped value is caught too) is
looked for in everything envcheck printed or wrote.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from harden_testutil import REPO, Ran, cli

FORMATS = ("text", "json", "sarif", "github", "gitlab")
WINDOW = 10


def _rand(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


@dataclass(frozen=True)
class Planted:
    aws: str
    github: str
    pem_body: str
    db_password: str
    entropy: str

    @property
    def pem(self) -> str:
        return f"-----BEGIN RSA PRIVATE KEY-----{self.pem_body}-----END RSA PRIVATE KEY-----"

    @property
    def db_url(self) -> str:
        return f"postgres://appuser:{self.db_password}@db.internal:5432/app"

    def cores(self) -> dict[str, str]:
        """The random part of each secret: what must never be printed, in any slice."""
        return {
            "aws": self.aws[4:],
            "github": self.github[4:],
            "pem": self.pem_body,
            "db_password": self.db_password,
            "entropy": self.entropy,
        }

    def host_env(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.aws,
            "GITHUB_TOKEN": self.github,
            "SIGNING_KEY": self.pem,
            "DATABASE_URL": self.db_url,
            "APP_SALT": self.entropy,
            # Names that look safe, values that do not: the value decides.
            "DEPLOY_ENV": self.github,
            "RELEASE_VERSION": self.entropy,
            "CACHE_HOST": self.db_url,
        }


def _plant() -> Planted:
    upper = string.ascii_uppercase + string.digits
    alnum = string.ascii_letters + string.digits
    return Planted(
        aws="AKIA" + _rand(upper, 16),
        github="ghp_" + _rand(alnum, 36),
        pem_body=base64.b64encode(secrets.token_bytes(96)).decode(),
        db_password=_rand(alnum, 20),
        entropy=_rand(alnum + "+/", 40),
    )


def _leaks(text: str, planted: Planted) -> list[str]:
    found = []
    for label, core in planted.cores().items():
        for i in range(len(core) - WINDOW + 1):
            if core[i : i + WINDOW] in text:
                found.append(f"{label} (…{core[i : i + WINDOW]}…)")
                break
    return found


def _write_project(root: Path, p: Planted) -> None:
    shutil.copytree(REPO / "fixtures" / "flask-legacy", root)
    names = list(p.host_env())
    (root / "settings.py").write_text("import os\n" + "".join(f'{n.lower()} = os.environ["{n}"]\n' for n in names))
    (root / ".env").write_text("".join(f"{k}={v}\n" for k, v in p.host_env().items() if "\n" not in v))
    (root / ".env.example").write_text("".join(f"{k}={v}\n" for k, v in p.host_env().items()))
    (root / "docker-compose.yml").write_text(
        "services:\n  web:\n    build: .\n    environment:\n"
        f"      DATABASE_URL: {p.db_url}\n      GITHUB_TOKEN: {p.github}\n"
        f"      AWS_ACCESS_KEY_ID: ${{AWS_ACCESS_KEY_ID:-{p.aws}}}\n"
        f"      APP_SALT: '{p.entropy}'\n"
    )
    (root / "Dockerfile").write_text(
        "FROM python:3.11-slim\n"
        f"ARG GITHUB_TOKEN={p.github}\n"
        f"ARG DEPLOY_ENV={p.github}\n"
        f'ENV AWS_ACCESS_KEY_ID={p.aws} DATABASE_URL="{p.db_url}"\n'
        f'ENV SIGNING_KEY="{p.pem}"\n'
        f"ENV RELEASE_VERSION={p.entropy}\n"
        'COPY . /app\nRUN pip install -r /app/requirements.txt\nCMD ["python", "/app/app.py"]\n'
    )
    reqs = (root / "requirements.txt").read_text()
    (root / "requirements.txt").write_text(
        reqs
        + f"--extra-index-url https://deploy:{p.db_password}@pypi.internal/simple\n"
        + f"private-lib @ git+https://oauth2:{p.github}@github.com/acme/private-lib.git\n"
    )


@dataclass(frozen=True)
class Bed:
    planted: Planted
    project: Path
    env: dict[str, str]
    image_tag: str
    archive: Path
    work: Path


@pytest.fixture(scope="module")
def bed(docker_engine: Any, python_venv_image: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bed]:
    p = _plant()
    work = tmp_path_factory.mktemp("secrets")
    project = work / "project"
    _write_project(project, p)
    # A real image whose config Env and build args hold the same secrets.
    ctx = work / "ctx"
    ctx.mkdir()
    env_lines = "".join(f'ENV {k}="{v}"\n' for k, v in p.host_env().items())
    (ctx / "Dockerfile").write_text(f"FROM {python_venv_image.tag}\nARG BUILD_TOKEN={p.github}\n{env_lines}")
    tag = "envcheck-test/secret-env:" + secrets.token_hex(4)
    docker_engine.build(ctx, tag, network_host=False)
    archive = docker_engine.save(tag, work / "secret-env.tar")
    env = dict(os.environ, **p.host_env())
    yield Bed(p, project, env, tag, archive, work)
    docker_engine.client.images.remove(tag, force=True)  # a fresh tag per run: do not pile them up


def _runs(bed: Bed) -> Iterator[tuple[str, Ran, list[Path]]]:
    """Every command, every format, stdout and -o; yields what it printed and the files it wrote."""
    out = bed.work / "out"
    out.mkdir(exist_ok=True)
    project, env = str(bed.project), bed.env
    n = 0

    def run(
        label: str, *args: str, cwd: Path | None = None, files: tuple[Path, ...] = ()
    ) -> tuple[str, Ran, list[Path]]:
        return label, cli(*args, cwd=cwd, env=env, timeout=600), [f for f in files if f.exists()]

    def o(suffix: str) -> Path:
        nonlocal n
        n += 1
        return out / f"{n}.{suffix}"

    snaps = {}
    for kind, target in (("host", project), ("project", project), ("image", f"docker:{bed.image_tag}")):
        yield run(f"snapshot {kind}", "snapshot", kind, target)
        f = o("json")
        snaps[kind] = f
        yield run(f"snapshot {kind} -o", "snapshot", kind, target, "-o", str(f), files=(f,))
    f = o("json")
    yield run(
        "snapshot image archive -o", "snapshot", "image", f"docker-archive:{bed.archive}", "-o", str(f), files=(f,)
    )
    for sbom in ("cyclonedx", "spdx"):  # SBOMs carry variable names, never values
        for kind, target in (("host", project), ("image", f"docker-archive:{bed.archive}")):
            f = o("json")
            yield run(f"snapshot {kind} {sbom}", "snapshot", kind, target, "--format", sbom, "-o", str(f), files=(f,))
    for fmt in FORMATS:
        common = ("--format", fmt, "--fail-on", "never")
        yield run(f"scan {fmt}", "scan", project, "--image", f"docker-archive:{bed.archive}", "-v", *common)
        f = o(fmt)
        yield run(
            f"scan {fmt} -o", "scan", project, "--image", f"docker:{bed.image_tag}", *common, "-o", str(f), files=(f,)
        )
        yield run(f"diff {fmt}", "diff", str(snaps["host"]), str(snaps["image"]), *common)
        f = o(fmt)
        yield run(
            f"diff {fmt} -o", "diff", str(snaps["project"]), str(snaps["image"]), *common, "-o", str(f), files=(f,)
        )
        yield run(f"lint {fmt}", "lint", *common, cwd=bed.project)
        f = o(fmt)
        yield run(f"lint {fmt} -o", "lint", *common, "-o", str(f), cwd=bed.project, files=(f,))
    base = o("json")
    yield run(
        "scan --write-baseline",
        "scan",
        project,
        "--image",
        f"docker-archive:{bed.archive}",
        "--write-baseline",
        str(base),
        files=(base,),
    )
    f = o("json")
    yield run(
        "scan --against",
        "scan",
        project,
        "--against",
        str(snaps["image"]),
        "--format",
        "json",
        "-o",
        str(f),
        files=(f,),
    )
    for args in (("rules",), ("rules", "EC503"), ("rules", "--format", "json"), ("rules", "EC501", "--format", "json")):
        yield run(" ".join(args), *args)
    gen = bed.work / "gen"
    if gen.exists():
        shutil.rmtree(gen)
    shutil.copytree(bed.project, gen)
    before = {p for p in gen.rglob("*")}
    label, ran, _ = run("dockerfile", "dockerfile", str(gen), "--force", cwd=gen)
    written = [p for p in gen.rglob("*") if p.is_file() and (p not in before or p.name == "Dockerfile")]
    yield label, ran, written
    f = gen / "deploy" / "Dockerfile.prod"
    f.parent.mkdir()
    label, ran, _ = run("dockerfile -o", "dockerfile", str(gen), "-o", str(f), "--force")
    yield label, ran, [p for p in f.parent.iterdir() if p.is_file()]


@pytest.fixture(scope="module")
def outputs(bed: Bed) -> list[tuple[str, Ran, list[Path]]]:
    return list(_runs(bed))


def test_no_command_or_format_prints_or_writes_a_secret(bed: Bed, outputs: list[tuple[str, Ran, list[Path]]]) -> None:
    leaks = []
    for label, ran, files in outputs:
        for where, text in (("stdout", ran.stdout), ("stderr", ran.stderr)):
            leaks += [f"{label}: {where}: {leak}" for leak in _leaks(text, bed.planted)]
        for f in files:
            leaks += [f"{label}: {f.name}: {leak}" for leak in _leaks(f.read_text(errors="replace"), bed.planted)]
    assert leaks == [], "\n".join(leaks)


def test_every_command_ran_and_nothing_crashed(outputs: list[tuple[str, Ran, list[Path]]]) -> None:
    bad = [
        f"{label}: exit {ran.code}: {ran.stderr.strip()[-300:]}" for label, ran, _ in outputs if ran.code not in (0, 1)
    ]
    assert bad == [], "\n".join(bad)
    assert all("Traceback" not in ran.stderr for _, ran, _ in outputs)


def test_the_secrets_were_seen_not_missed(bed: Bed, outputs: list[tuple[str, Ran, list[Path]]]) -> None:
    """Not vacuous: envcheck noticed every planted variable, and flagged the baked-in ones."""
    by_label = {label: (ran, files) for label, ran, files in outputs}
    host = json.loads(by_label["snapshot host"][0].stdout)
    image = json.loads(by_label["snapshot image"][0].stdout)
    for name in bed.planted.host_env():
        assert host["env"].get(name) == {"set": True}, (name, host["env"].get(name))
        assert image["env"].get(name, {}).get("set") is True and "value" not in image["env"][name], name
    scan = json.loads(by_label["scan json"][0].stdout)
    ec503 = [f for f in scan["findings"] if f["rule"] == "EC503"]
    assert ec503, "a secret baked into the image's Env must be reported (EC503)"
    lint = json.loads(by_label["lint json"][0].stdout)
    assert any(f["rule"] == "EC503" for f in lint["findings"]), "Dockerfile ENV/ARG secrets must be reported"
