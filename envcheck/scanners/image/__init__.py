"""The image scanner: what a built image contains, read without running it.

``scan_image(ref)`` resolves a reference (:mod:`.refs`), reads the image's
config and layers from its source (:mod:`.sources`) as streams, keeps only the
members that matter (:mod:`.walker`), merges the layers in order and reads
runtimes, packages, platform and config off the result (:mod:`.detectors`).
Nothing is written to disk and nothing from the image runs — unless
``probe=True``, which asks the engine for a sandboxed container (:mod:`.probe`).
"""

from __future__ import annotations

from collections.abc import Iterable

from envcheck.errors import EngineError, ImageError
from envcheck.snapshot import Runtime, Snapshot, Source

from .detectors import _apk_versions, _dpkg_versions, detect
from .native import detect_native
from .refs import ImageRef, parse_ref
from .sources import LoadedImage, OciDirStore, index_rootfs, load_archive_file, load_from_store
from .walker import VERIFY_LEVELS, MergedView, Verify

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


__all__ = ["ImageRef", "load_image", "parse_ref", "scan_image"]


def load_image(
    ref: ImageRef, *, platform: str | None = None, insecure_registries: tuple[str, ...] = (), verify: Verify = "full"
) -> LoadedImage:
    """Read config and layer indexes for ``ref`` from its transport.

    ``verify`` says which layer digests are checked (SECURITY.md, "Image
    verification"); a registry pull refuses ``off``: the network is exactly
    where a digest check earns its keep.
    """
    if verify not in VERIFY_LEVELS:
        raise ImageError(f"--verify-layers {verify!r}: expected one of {', '.join(VERIFY_LEVELS)}")
    if ref.transport == "registry" and verify == "off":
        raise ImageError("--verify-layers off is for local images; a registry pull always checks its layers' digests")
    if ref.transport in ("docker-archive", "oci-archive"):
        return load_archive_file(ref.target, platform, verify)
    if ref.transport == "oci":
        return load_from_store(OciDirStore(ref.target), platform, verify)
    if ref.transport == "dir":
        layer = index_rootfs(ref.target)
        return LoadedImage(ref.target, {}, None, (layer,), has_config=False)
    if ref.transport == "docker":
        from .sources import load_engine_image

        return load_engine_image(ref.target, platform, verify)
    if ref.transport == "registry":
        from .registry import RegistryStore

        store = RegistryStore(ref.target, insecure_registries=insecure_registries)
        try:
            return load_from_store(store, platform, verify)
        finally:
            store.close()
    raise ImageError(f"unknown transport {ref.transport!r}")


def scan_image(
    ref: str,
    *,
    platform: str | None = None,
    probe: bool = False,
    env_allow: Iterable[str] = (),
    insecure_registries: tuple[str, ...] = (),
    verify: Verify = "full",
) -> Snapshot:
    """Capture an image as a :class:`~envcheck.snapshot.Snapshot` (source.kind ``image``)."""
    if ref.strip().startswith("container:"):
        # A running container: its image read as here, its runtime config from the engine (issue 16).
        from envcheck.scanners.container import scan_container

        return scan_container(ref, platform=platform, probe=probe, env_allow=env_allow)
    parsed = parse_ref(ref)
    try:
        loaded = load_image(parsed, platform=platform, insecure_registries=insecure_registries, verify=verify)
        view = MergedView(loaded.layers)
    except RecursionError:
        raise ImageError("image structure nested too deeply", path=ref) from None
    found = detect(view, loaded.config, env_allow)
    native, native_notes = detect_native(
        view, found.packages, found.runtimes.get("python"), _dpkg_versions(view), _apk_versions(view)
    )
    notes = [*loaded.notes, *found.notes, *native_notes]
    image: dict[str, Any] = dict(found.image)
    image["digest"] = loaded.config_digest
    image["layers"] = len(loaded.layers)
    if loaded.repo_tags:
        image["tags"] = list(loaded.repo_tags)
    if not loaded.has_config:
        notes.append("dir: source has no image config (user, env, entrypoint unknown)")
    runtimes = dict(found.runtimes)
    if probe:
        runtimes, probe_facts, probe_notes = _probe(parsed, loaded, runtimes)
        image["probe"] = probe_facts
        notes += probe_notes
    return Snapshot(
        source=Source(kind="image", ref=str(parsed)),
        platform=found.platform,
        runtimes=runtimes,
        packages=found.packages,
        env=found.env,
        image={k: v for k, v in image.items() if v is not None},
        notes=tuple(dict.fromkeys(notes)),
        native=native,
    )


def _probe(
    parsed: ImageRef, loaded: LoadedImage, runtimes: dict[str, Runtime]
) -> tuple[dict[str, Runtime], dict[str, Any], list[str]]:
    from docker.errors import DockerException, ImageNotFound

    from .probe import run_probe
    from .sources import engine_client

    client = engine_client()
    target = parsed.target if parsed.transport == "docker" else loaded.config_digest
    if target is None:
        raise EngineError("--probe needs an image the engine can run; a dir: source has none")
    try:
        client.images.get(target)
    except ImageNotFound:
        raise EngineError(
            f"--probe runs the image in the engine, which does not have {target}; load it first (docker load -i …)"
        ) from None
    except DockerException as exc:
        raise EngineError(f"--probe: {' '.join(str(exc).split())[:200]}") from None
    py, node = runtimes.get("python"), runtimes.get("node")
    result = run_probe(client, target, python=py.path if py else None, node=node.path if node else None)
    notes = list(result.notes)
    out = dict(runtimes)
    facts: dict[str, Any] = {}
    if result.python and isinstance(result.python.get("version"), str) and py is not None:
        version = result.python["version"]
        facts["python"] = {k: v for k, v in result.python.items() if isinstance(v, str)}
        if version != py.version:
            notes.append(f"probe: python reports {version}; static reading said {py.version}")
        out["python"] = Runtime(
            version=version, implementation=str(result.python.get("implementation") or "cpython"), path=py.path
        )
    if result.node and isinstance(result.node.get("version"), str) and node is not None:
        version = result.node["version"]
        facts["node"] = {"version": version, "arch": str(result.node.get("arch", ""))}
        if version != node.version:
            notes.append(f"probe: node reports {version}; static reading said {node.version}")
        out["node"] = Runtime(version=version, path=node.path)
    return out, facts, notes
