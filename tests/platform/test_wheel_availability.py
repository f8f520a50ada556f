"""EC214 and EC105 over snapshots, the index's answers from a local PEP 691 server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from wheel_testutil import LOCKED, FakeIndex

from envcheck.engine import Settings, evaluate, plan_scan, select_rules
from envcheck.findings import Finding
from envcheck.index_facts import IndexFacts, with_index_facts
from envcheck.pyindex import IndexClient, IndexConfig
from envcheck.record import replace
from envcheck.rules import load_rules
from envcheck.snapshot import Declared, LockedPackage, Package, Platform, Runtime, Snapshot, Source

AMD64 = Platform(os="linux", arch="x86_64", distro="debian 12", libc="glibc 2.36")
ARM64 = Platform(os="linux", arch="arm64", distro="debian 12", libc="glibc 2.36")
MUSL = Platform(os="linux", arch="x86_64", distro="alpine 3.19", libc="musl 1.2.4")


def captured(kind: str, platform: Platform, python: str = "3.11.7", py: dict[str, str] | None = None) -> Snapshot:
    return Snapshot(
        Source(kind, kind, "2026-01-01T00:00:00Z"),  # type: ignore[arg-type]
        platform=platform,
        runtimes={"python": Runtime(python, "cpython")},
        packages={"python": tuple(Package(n, v) for n, v in (py or {}).items())},
    )


def project(locks: dict[str, str] = LOCKED) -> Snapshot:
    entries = tuple(LockedPackage("python", n, v, source="poetry.lock") for n, v in locks.items())
    return Snapshot(Source("project", "/app", "2026-01-01T00:00:00Z"), declared=Declared(locks=entries))


def run(
    index: str | None, tmp: Path, *, proj: Snapshot | None, host: Snapshot, image: Snapshot
) -> tuple[list[Finding], IndexClient]:
    rules = load_rules(None)
    settings = Settings()
    contexts = plan_scan(proj, host, image)
    client = IndexClient(IndexConfig((index,) if index else ()), cache=tmp / "cache", timeout=2.0)
    contexts = with_index_facts(contexts, select_rules(rules, settings), client=client)
    return evaluate(rules, contexts, settings, proj), client


def ec214(findings: list[Finding]) -> dict[str, str]:
    return {f.subject or "": f.message for f in findings if f.rule == "EC214"}


def test_arm64_against_amd64_gives_the_arch_finding_and_the_locks_without_arm64_wheels(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    found, _ = run(
        fake_index.url, tmp_path, proj=project(), host=captured("host", AMD64), image=captured("image", ARM64)
    )
    [arch] = [f for f in found if f.rule == "EC105"]
    assert arch.subject == "arch" and "x86_64 on host but aarch64 in image" in arch.message
    assert "linux/amd64" in (arch.fix or "")
    got = ec214(found)
    assert set(got) == {"fastlib", "binonly"}
    assert "build it from source" in got["fastlib"] and "manylinux_2_36_aarch64" in got["fastlib"]
    assert "cannot be installed in image" in got["binonly"] and "no sdist" in got["binonly"]
    assert all(f.location is not None and f.location.path == "poetry.lock" for f in found if f.rule == "EC214")


def test_a_musl_image_against_a_glibc_lock_lists_what_would_build_from_source(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    found, _ = run(
        fake_index.url, tmp_path, proj=project(), host=captured("host", AMD64), image=captured("image", MUSL)
    )
    [libc] = [f for f in found if f.rule == "EC105"]
    assert libc.subject == "libc" and "glibc on host but musl in image" in libc.message
    got = ec214(found)
    # bothlib ships musllinux wheels, purelib is pure, srconly builds from source on both sides.
    assert set(got) == {"fastlib", "binonly"}
    assert "musllinux_1_2_x86_64" in got["fastlib"]


def test_without_a_lock_the_left_sides_installed_packages_are_checked(fake_index: FakeIndex, tmp_path: Path) -> None:
    host = captured("host", AMD64, py={"FastLib": "1.0", "purelib": "1.0"})
    found, _ = run(fake_index.url, tmp_path, proj=None, host=host, image=captured("image", ARM64))
    assert set(ec214(found)) == {"fastlib"}
    assert "(installed on host)" in ec214(found)["fastlib"]


def test_requires_python_shutting_the_other_side_out_is_reported(fake_index: FakeIndex, tmp_path: Path) -> None:
    host = captured("host", AMD64, python="3.12.1")
    image = captured("image", ARM64, python="3.11.7")
    found, _ = run(fake_index.url, tmp_path, proj=project({"newpy": "1.0"}), host=host, image=image)
    assert "requires Python >=3.12" in ec214(found)["newpy"]


def test_same_platform_asks_the_index_nothing_and_finds_nothing(fake_index: FakeIndex, tmp_path: Path) -> None:
    # The generated round-trip images: same base, same libc, same Python.
    found, _ = run(
        fake_index.url, tmp_path, proj=project(), host=captured("host", AMD64), image=captured("image", AMD64)
    )
    assert not [f for f in found if f.rule in ("EC105", "EC214")]
    assert fake_index.hits == []


def test_an_older_glibc_on_the_right_is_checked_a_newer_one_is_not(fake_index: FakeIndex, tmp_path: Path) -> None:
    newer = replace(AMD64, libc="glibc 2.41")
    run(fake_index.url, tmp_path, proj=project(), host=captured("host", AMD64), image=captured("image", newer))
    assert fake_index.hits == []  # the image accepts every tag the host does
    older = replace(AMD64, libc="glibc 2.17")
    run(fake_index.url, tmp_path, proj=project(), host=captured("host", AMD64), image=captured("image", older))
    assert fake_index.hits  # manylinux_2_18+ wheels would be lost: asked


def test_an_unreachable_index_says_it_could_not_check_never_a_wrong_answer(tmp_path: Path) -> None:
    dead = "http://127.0.0.1:9/simple/"  # the discard port: nothing listens there
    found, _ = run(dead, tmp_path, proj=project(), host=captured("host", AMD64), image=captured("image", ARM64))
    hits = [f for f in found if f.rule == "EC214"]
    assert len(hits) == 1 and hits[0].severity == "info"
    assert hits[0].message.startswith("could not check wheels for image")
    assert "127.0.0.1:9" in hits[0].message


def test_no_index_configured_is_could_not_check(tmp_path: Path) -> None:
    found, _ = run(None, tmp_path, proj=project(), host=captured("host", AMD64), image=captured("image", ARM64))
    [hit] = [f for f in found if f.rule == "EC214"]
    assert hit.severity == "info" and "no package index is configured" in hit.message


def test_without_index_facts_the_check_says_nothing() -> None:
    # Library callers that gather nothing get no guesses.
    rules = load_rules(None)
    contexts = plan_scan(project(), captured("host", AMD64), captured("image", ARM64))
    assert not [f for f in evaluate(rules, contexts, Settings(), project()) if f.rule == "EC214"]
    facts = IndexFacts()
    assert not facts.pages and not facts.unchecked


def test_ignored_rule_asks_nothing(fake_index: FakeIndex, tmp_path: Path) -> None:
    rules = load_rules(None)
    settings = Settings(ignore=("EC214",))
    contexts = plan_scan(project(), captured("host", AMD64), captured("image", ARM64))
    client = IndexClient(IndexConfig((fake_index.url,)), cache=tmp_path)
    with_index_facts(contexts, select_rules(rules, settings), client=client)
    assert fake_index.hits == []


def test_diff_of_stored_snapshots_reads_pip_index_url(fake_index: FakeIndex, tmp_path: Path) -> None:
    host = replace(captured("host", AMD64, py={"fastlib": "1.0", "binonly": "2.0"}))
    image = captured("image", ARM64)
    (tmp_path / "host.json").write_text(host.to_json())
    (tmp_path / "arm64.json").write_text(image.to_json())
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_CONFIG_DIRS": str(tmp_path / "none"),
        "PIP_CONFIG_FILE": "/dev/null",
        "PIP_INDEX_URL": fake_index.url,
    }
    proc = subprocess.run(
        [sys.executable, "-m", "envcheck", "diff", "host.json", "arm64.json", "--format", "json", "--fail-on", "never"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    rules = {(f["rule"], f["subject"]) for f in doc["findings"]}
    assert {("EC105", "arch"), ("EC214", "fastlib"), ("EC214", "binonly")} <= rules


def test_the_projects_own_index_settings_are_asked_first(tmp_path: Path) -> None:
    from envcheck.index_facts import project_index_urls

    (tmp_path / "requirements.txt").write_text("--index-url https://mirror.invalid/simple\nflask==3.0.0\n")
    (tmp_path / "Pipfile").write_text('[[source]]\nurl = "https://private.invalid/simple"\nname = "p"\n')
    assert project_index_urls(tmp_path) == ("https://mirror.invalid/simple", "https://private.invalid/simple")
    assert project_index_urls(tmp_path / "missing") == ()
