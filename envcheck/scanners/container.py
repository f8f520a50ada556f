"""``container:NAME|ID`` — a container the engine runs, not just the image it came from (issue 16).

A static read of an image misses what the running container really got: the
``-e``/``--env-file`` values, the orchestrator's settings, a ``--user`` or
``--workdir`` override, another command.  This source reads

* the container's **image** statically, exactly as ``docker:`` does (layers
  streamed from the engine, nothing from the image executed), and
* its **runtime config** from the container itself: ``Config.Env``,
  ``Config.User``, ``Config.WorkingDir``, ``Config.Entrypoint``/``Cmd``;
  detection follows the container's ``PATH`` and working directory.

``image["origin"]`` says where each part came from (``image``, ``container``
or ``probe``) and ``image["container"]`` names it; both are compatible
additions to ``envcheck.snapshot/1``.  Secrets passed at run time are not
"baked into the image", so ``secret_env`` (EC503) still comes from the image's
own config only.

``--probe`` (opt-in) runs the host probe with ``docker exec`` in the running
container — ``python -E -B``, as the container's own user, bounded by an
alarm — so the packages are the ones really installed there now; nothing is
written and the container is not otherwise touched.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from pathlib import Path

from envcheck.errors import EngineError, ImageError
from envcheck.snapshot import Package, Runtime, Snapshot, Source

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


PREFIX = "container:"
_PROBE_FILE = Path(__file__).with_name("_host_probe.py")
_RUNTIME_KEYS = ("Env", "User", "WorkingDir", "Entrypoint", "Cmd")


def is_container_ref(ref: str) -> bool:
    return ref.strip().startswith(PREFIX)


def scan_container(
    ref: str, *, platform: str | None = None, probe: bool = False, env_allow: Iterable[str] = ()
) -> Snapshot:
    """Snapshot a container: its image read statically, its runtime config from the engine."""
    from docker.errors import DockerException, NotFound

    from envcheck.scanners.image.detectors import config_section, detect, image_facts
    from envcheck.scanners.image.probe import probe_timeout
    from envcheck.scanners.image.sources import _reason, engine_client, load_engine_image
    from envcheck.scanners.image.walker import MergedView

    text = ref.strip()
    name = text[len(PREFIX) :]
    if not name or name.startswith("-") or any(c.isspace() for c in name):
        raise ImageError(f"{text}: expected container:NAME or container:ID")
    client = engine_client()
    try:
        container = client.containers.get(name)
        attrs: dict[str, Any] = container.attrs
    except NotFound:
        raise ImageError(f"{text}: no such container in the engine (docker ps -a lists them)") from None
    except DockerException as exc:
        raise EngineError(f"{text}: {_reason(exc)}") from None

    runtime_cfg: dict[str, Any] = attrs["Config"] if isinstance(attrs.get("Config"), dict) else {}
    image_id = str(attrs.get("Image") or "")
    if not image_id:
        raise EngineError(f"{text}: the engine reports no image for this container")
    loaded = load_engine_image(image_id, platform)
    try:
        view = MergedView(loaded.layers)
    except RecursionError:
        raise ImageError("image structure nested too deeply", path=text) from None

    # Detection follows the container's PATH, user and working directory, not the image's defaults.
    effective = copy.deepcopy(dict(loaded.config))
    section = config_section(effective)
    section.update({k: runtime_cfg.get(k) for k in _RUNTIME_KEYS if k in runtime_cfg})
    effective["config"] = section
    effective.pop("Config", None)
    found = detect(view, effective, env_allow)
    from envcheck.scanners.image.detectors import _apk_versions, _dpkg_versions
    from envcheck.scanners.image.native import detect_native

    native, native_notes = detect_native(
        view, found.packages, found.runtimes.get("python"), _dpkg_versions(view), _apk_versions(view)
    )
    baked = image_facts(loaded.config, str(config_section(loaded.config).get("User") or ""), "/")

    state: dict[str, Any] = attrs["State"] if isinstance(attrs.get("State"), dict) else {}
    running = bool(state.get("Running"))
    image: dict[str, Any] = dict(found.image)
    image["secret_env"] = baked.get("secret_env", [])
    image["digest"] = loaded.config_digest
    image["layers"] = len(loaded.layers)
    if loaded.repo_tags:
        image["tags"] = list(loaded.repo_tags)
    image["container"] = {
        "name": str(attrs.get("Name") or "").lstrip("/"),
        "id": str(attrs.get("Id") or "")[:12],
        "image": runtime_cfg.get("Image"),
        "status": state.get("Status"),
    }
    origin = {
        "platform": "image",
        "runtimes": "image",
        "packages": "image",
        "env": "container",
        "user": "container",
        "workdir": "container",
        "entrypoint": "container",
        "cmd": "container",
    }
    notes = [
        *loaded.notes,
        *found.notes,
        f"container: files read statically from its image {image_id[:19]}; the environment, user, workdir "
        "and command are the container's own"
        + ("" if probe else " (files changed inside the running container are not seen; --probe asks it)"),
    ]
    runtimes = dict(found.runtimes)
    packages = dict(found.packages)
    if probe:
        if not running:
            raise EngineError(f"{text}: --probe runs the probe with exec, which needs a running container")
        probed = _exec_probe(container, runtimes, timeout=probe_timeout(), ref=text)
        for key, value in probed.runtimes.items():
            runtimes[key] = value
            origin["runtimes"] = "probe"
        for eco, pkgs in probed.packages.items():
            packages[eco] = pkgs
            origin["packages"] = "probe"
        notes += probed.notes
    image["origin"] = origin
    return Snapshot(
        source=Source(kind="image", ref=text),
        platform=found.platform,
        runtimes=runtimes,
        packages=packages,
        env=found.env,
        image={k: v for k, v in image.items() if v is not None},
        notes=tuple(dict.fromkeys([*notes, *native_notes])),
        native=native,
    )


class _Probed:
    def __init__(self) -> None:
        self.runtimes: dict[str, Runtime] = {}
        self.packages: dict[str, tuple[Package, ...]] = {}
        self.notes: list[str] = []


def _exec_probe(container: Any, runtimes: dict[str, Runtime], *, timeout: float, ref: str) -> _Probed:
    """The host probe in the running container's python (and ``node --version``), via exec."""
    import json

    from envcheck.scanners.host import _clean_version, python_from_probe

    out = _Probed()
    py, node = runtimes.get("python"), runtimes.get("node")
    if py is None and node is None:
        out.notes.append("probe: no python or node found statically, nothing to ask")
    if py is not None and py.path:
        # The alarm ends the probe inside the container even if nobody is left to wait for it.
        source = f"import signal\nsignal.alarm({max(1, int(timeout))})\n" + _PROBE_FILE.read_text(encoding="utf-8")
        code, stdout, stderr = _exec(container, [py.path, "-E", "-B", "-c", source], timeout=timeout, ref=ref)
        doc: Any = None
        lines = [ln for ln in stdout.splitlines() if ln.strip()]
        try:
            doc = json.loads(lines[-1]) if code == 0 and lines else None
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            runtime, pkgs, notes, _libc = python_from_probe(doc)
            if runtime.version != py.version:
                out.notes.append(f"probe: python reports {runtime.version}; static reading said {py.version}")
            out.runtimes["python"] = Runtime(
                version=runtime.version, implementation=runtime.implementation, path=py.path
            )
            out.packages["python"] = pkgs
            out.notes += notes
        else:
            last = stderr.strip().splitlines()[-1][:200] if stderr.strip() else "no output"
            out.notes.append(f"probe: python in the container failed (exit {code}): {last}")
    if node is not None and node.path:
        code, stdout, _stderr = _exec(container, [node.path, "--version"], timeout=timeout, ref=ref)
        version = _clean_version(stdout) if code == 0 else None
        if version:
            if version != node.version:
                out.notes.append(f"probe: node reports {version}; static reading said {node.version}")
            out.runtimes["node"] = Runtime(version=version, path=node.path)
        else:
            out.notes.append(f"probe: node in the container failed (exit {code})")
    return out


def _exec(container: Any, argv: list[str], *, timeout: float, ref: str) -> tuple[int | None, str, str]:
    """``docker exec`` without a TTY or stdin, in ``/``; the engine API has no timeout, so a thread bounds it."""
    from docker.errors import DockerException

    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = container.exec_run(
                argv, stdout=True, stderr=True, stdin=False, tty=False, workdir="/", demux=True
            )
        except DockerException as exc:
            result["error"] = exc

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(timeout + 5)
    if worker.is_alive():
        raise EngineError(
            f"{ref}: the probe did not answer within {timeout:g}s (raise the limit with ENVCHECK_PROBE_TIMEOUT=SECONDS)"
        )
    if "error" in result:
        raise EngineError(f"{ref}: exec failed: {' '.join(str(result['error']).split())[:200]}")
    value = result["value"]
    stdout, stderr = value.output if isinstance(value.output, tuple) else (value.output, b"")
    return (
        value.exit_code,
        (stdout or b"").decode("utf-8", "replace"),
        (stderr or b"").decode("utf-8", "replace"),
    )
