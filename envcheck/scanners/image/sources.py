"""Where image bytes come from: archives, OCI layouts, root file systems, the engine.

Every source turns a reference into a :class:`LoadedImage` — the image config
(parsed JSON), its digest, and one :class:`~.walker.LayerIndex` per layer in
manifest order — without writing anything to disk.  Two shapes of transport
exist, and a new source (the registry one, say) plugs into whichever fits:

* **Random access** (``oci:DIR``; a registry over the distribution API):
  implement :class:`BlobStore` — ``top()`` returns the bytes of the entry
  document (an OCI/Docker image index or manifest), ``read_blob(digest,
  limit)`` returns a small blob (manifest, config) and ``open_blob(digest)``
  returns a readable stream for a layer.  :func:`load_from_store` then picks
  the platform, verifies every digest and walks the layers in order, so only
  the chosen platform's layers are ever read.
* **One stream** (``docker-archive:``, ``oci-archive:``, ``docker:`` via
  ``image.save()``): a tar (plain or gzip) whose members arrive in whatever
  order the writer chose.  :func:`load_archive_stream` keeps the small JSON
  members, indexes every layer blob as it streams past (keyed by member
  name), and resolves ``manifest.json`` or ``index.json`` at the end; a
  broken blob is an error only if the manifest actually uses it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import posixpath
import stat
import tarfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any, Literal, Protocol

from envcheck import _regex
from envcheck.errors import EngineError, EnvcheckError, ImageError
from envcheck.progress import report
from envcheck.record import record

from . import native
from .walker import (
    _CAPS,
    _SCANNED,
    MIB,
    Entry,
    FileRange,
    LayerIndex,
    Verify,
    _compressed,
    _Counting,
    _decompressor,
    bad_data,
    classify,
    prehash,
    presence_only,
    reduce_fact,
    scan_elf,
    walk_layer,
    walk_layers,
)

MAX_JSON = 8 * MIB
_DIGEST = _regex.compile(r"^sha256:([0-9a-f]{64})$")
_BLOB_NAME = _regex.compile(r"^blobs/sha256/([0-9a-f]{64})$")
_HEX_JSON = _regex.compile(r"^([0-9a-f]{64})\.json$")

INDEX_TYPES = frozenset(
    {"application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"}
)
MANIFEST_TYPES = frozenset(
    {"application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"}
)


@record
class LoadedImage:
    ref: str
    config: dict[str, Any]
    config_digest: str | None
    layers: tuple[LayerIndex, ...]
    repo_tags: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    has_config: bool = True


@record
class Wanted:
    """A ``--platform`` request: ``linux/arm64/v8``, ``linux/amd64``, ``arm64``."""

    os: str
    arch: str
    variant: str | None = None

    @classmethod
    def parse(cls, text: str) -> Wanted:
        parts = [p for p in text.strip().lower().split("/") if p]
        if len(parts) == 1:
            parts = ["linux", *parts]
        if len(parts) not in (2, 3):
            raise ImageError(f"--platform {text!r}: expected OS/ARCH[/VARIANT], e.g. linux/arm64")
        arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(parts[1], parts[1])
        return cls(parts[0], arch, parts[2] if len(parts) == 3 else None)

    def matches(self, plat: dict[str, Any]) -> bool:
        if plat.get("os") != self.os or plat.get("architecture") != self.arch:
            return False
        return self.variant is None or plat.get("variant") in (self.variant, None)


def host_platform() -> Wanted:
    import platform

    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return Wanted("linux", arch)


def _json(data: bytes, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        raise ImageError(f"{what}: malformed JSON") from None
    if not isinstance(doc, dict):
        raise ImageError(f"{what}: expected a JSON object")
    return doc


def _sha256(data: bytes) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(data).hexdigest()


def _descriptor_digest(desc: Any, what: str) -> str:
    digest = desc.get("digest") if isinstance(desc, dict) else None
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise ImageError(f"{what}: descriptor without a sha256 digest")
    return digest


def select_manifest(
    top: dict[str, Any], fetch: Callable[[str], dict[str, Any]], platform: str | None, what: str
) -> tuple[dict[str, Any], list[str]]:
    """Follow image indexes down to one image manifest, choosing by platform."""
    notes: list[str] = []
    doc = top
    for _ in range(4):
        if doc.get("mediaType") in MANIFEST_TYPES or ("config" in doc and "layers" in doc):
            return doc, notes
        manifests = doc.get("manifests")
        if not isinstance(manifests, list) or not manifests:
            raise ImageError(f"{what}: neither an image manifest nor an index with manifests")
        images = [m for m in manifests if isinstance(m, dict) and not _is_attestation(m)]
        has_platforms = any(isinstance(m.get("platform"), dict) for m in images)
        if not has_platforms and len(images) == 1:
            chosen = images  # e.g. a top-level index.json naming one nested index
        elif platform:
            want = Wanted.parse(platform)
            chosen = [m for m in images if isinstance(m.get("platform"), dict) and want.matches(m["platform"])]
            if not chosen:
                raise ImageError(f"{what}: no manifest for platform {platform} (has {_platforms(images)})")
        elif len(images) > 1 and has_platforms:
            want = host_platform()
            chosen = [m for m in images if isinstance(m.get("platform"), dict) and want.matches(m["platform"])]
            if not chosen:
                raise ImageError(f"{what}: multi-platform image; choose one with --platform ({_platforms(images)})")
            notes.append(f"multi-platform image: read {want.os}/{want.arch} (use --platform for another)")
        else:
            chosen = images
        if not chosen:
            raise ImageError(f"{what}: the index lists no image manifest")
        doc = fetch(_descriptor_digest(chosen[0], what))
    raise ImageError(f"{what}: image indexes nested too deeply")


def _is_attestation(desc: dict[str, Any]) -> bool:
    ann = desc.get("annotations")
    plat = desc.get("platform")
    if isinstance(ann, dict) and ann.get("vnd.docker.reference.type") == "attestation-manifest":
        return True
    return isinstance(plat, dict) and plat.get("os") == "unknown"


def _platforms(images: list[dict[str, Any]]) -> str:
    out = []
    for m in images:
        p = m.get("platform")
        if isinstance(p, dict):
            out.append("/".join(str(x) for x in (p.get("os"), p.get("architecture"), p.get("variant")) if x))
    return ", ".join(out) or "no platforms listed"


def _layer_descriptors(manifest: dict[str, Any], what: str) -> tuple[str, list[str]]:
    config = manifest.get("config")
    layers = manifest.get("layers")
    if not isinstance(layers, list):
        raise ImageError(f"{what}: manifest has no layers list")
    return _descriptor_digest(config, f"{what} config"), [_descriptor_digest(d, f"{what} layer") for d in layers]


def _check_diff_ids(config: dict[str, Any], layers: list[LayerIndex], names: list[str], what: str) -> None:
    rootfs = config.get("rootfs")
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(diff_ids, list):
        return
    if len(diff_ids) != len(layers):
        raise ImageError(f"{what}: config lists {len(diff_ids)} layers but the manifest has {len(layers)}")
    for want, layer, name in zip(diff_ids, layers, names):
        if not layer.diff_id:
            continue  # not hashed inflated (--verify-layers blobs/off): the stored digest was the check
        if isinstance(want, str) and want not in (layer.diff_id, layer.stored_digest):
            raise ImageError(f"{what}: layer {name}: content does not match the config's diff_id {want}")


# --------------------------------------------------------------------------- random access


class BlobStore(Protocol):
    """A content-addressed store read at random (OCI layout directory, registry)."""

    what: str

    def top(self) -> bytes: ...

    def read_blob(self, digest: str, limit: int) -> bytes: ...

    def open_blob(self, digest: str) -> IO[bytes]: ...


def load_from_store(store: BlobStore, platform: str | None, verify: Verify = "full") -> LoadedImage:
    what = store.what

    def fetch(digest: str) -> dict[str, Any]:
        data = store.read_blob(digest, MAX_JSON)
        if _sha256(data) != digest:
            raise ImageError(f"{what}: blob {digest}: digest mismatch")
        return _json(data, f"{what}: {digest}")

    manifest, notes = select_manifest(_json(store.top(), what), fetch, platform, what)
    config_digest, layer_digests = _layer_descriptors(manifest, what)
    config = fetch(config_digest)

    def job(number: int, digest: str) -> Callable[[], LayerIndex]:
        def walk() -> LayerIndex:
            report(f"{what}: layer {number}/{len(layer_digests)} ({digest[7:19]})")
            with store.open_blob(digest) as fh:
                return walk_layer(
                    fh, digest, expected=digest, verify=verify, self_verifying=getattr(store, "verifies_blobs", False)
                )

        return walk

    # Layers are fetched and walked two at a time (a bounded pool: bounded
    # memory); the first broken one in manifest order is the error.
    layers: list[LayerIndex] = []
    for result in walk_layers([job(n, d) for n, d in enumerate(layer_digests, 1)]):
        if isinstance(result, ImageError):
            raise result
        layers.append(result)
    _check_diff_ids(config, layers, layer_digests, what)
    return LoadedImage(what, config, config_digest, tuple(layers), notes=tuple(notes))


class OciDirStore:
    """An OCI image layout on disk (``oci-layout``, ``index.json``, ``blobs/``)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.what = root
        if not os.path.isdir(root):
            raise ImageError("no such directory", path=root)
        if not os.path.isfile(os.path.join(root, "index.json")):
            raise ImageError("not an OCI image layout (no index.json)", path=root)

    def top(self) -> bytes:
        return self._read(os.path.join(self.root, "index.json"), MAX_JSON)

    def _blob_path(self, digest: str) -> str:
        m = _DIGEST.match(digest)
        if not m:
            raise ImageError(f"unsupported digest {digest!r}", path=self.root)
        return os.path.join(self.root, "blobs", "sha256", m.group(1))

    def _read(self, path: str, limit: int) -> bytes:
        try:
            with open(path, "rb") as fh:
                data = fh.read(limit + 1)
        except OSError as exc:
            raise ImageError(f"cannot read: {exc.strerror or exc}", path=path) from None
        if len(data) > limit:
            raise ImageError(f"larger than {limit // MIB} MiB, refusing to read", path=path)
        return data

    def read_blob(self, digest: str, limit: int) -> bytes:
        return self._read(self._blob_path(digest), limit)

    def open_blob(self, digest: str) -> IO[bytes]:
        path = self._blob_path(digest)
        try:
            return open(path, "rb")
        except OSError as exc:
            raise ImageError(f"layer {digest}: cannot read: {exc.strerror or exc}", path=path) from None


# --------------------------------------------------------------------------- one stream


@dataclasses.dataclass(slots=True)
class _ArchiveParts:
    docs: dict[str, bytes] = dataclasses.field(default_factory=dict)
    layers: dict[str, LayerIndex] = dataclasses.field(default_factory=dict)
    broken: dict[str, ImageError] = dataclasses.field(default_factory=dict)
    links: dict[str, str] = dataclasses.field(default_factory=dict)
    digests: dict[str, str] = dataclasses.field(default_factory=dict)


class ChunkReader:
    """A file object over an iterator of byte chunks (``image.save()``), no temp file."""

    def __init__(self, chunks: Iterator[bytes], what: str = "") -> None:
        self._chunks = chunks
        self._buf = b""
        self._pos = 0  # into _buf: slicing off the front would copy the rest at every read
        self.what = what

    def _more(self) -> bool:
        try:
            chunk = next(self._chunks)
        except StopIteration:
            return False
        except Exception as exc:  # requests/urllib3 errors: the engine went away mid-export
            raise EngineError(
                f"{self.what}: the engine stopped sending the image mid-export ({_reason(exc)})"
            ) from None
        self._buf = self._buf[self._pos :] + chunk
        self._pos = 0
        return True

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self._buf) - self._pos < n:
            if not self._more():
                break
        end = len(self._buf) if n < 0 else min(len(self._buf), self._pos + n)
        data = self._buf[self._pos : end]
        self._pos = end
        return data

    def readable(self) -> bool:
        return True


@contextmanager
def _reading_archive(what: str) -> Iterator[None]:
    """Errors met while reading an archive's members, as one-line ImageErrors naming it.

    Both archive readers (one pass, and by headers) say the same thing of the
    same damage; a test holds them to it.
    """
    try:
        yield
    except ImageError:
        raise
    except EOFError:
        raise ImageError("archive truncated (unexpected end of data)", path=what) from None
    except bad_data() as exc:
        reason = str(exc) or type(exc).__name__
        if "unexpected end" in reason:
            raise ImageError("archive truncated (unexpected end of data)", path=what) from None
        raise ImageError(f"unreadable archive ({reason})", path=what) from None


def load_archive_stream(
    fileobj: IO[bytes] | Any, what: str, platform: str | None, verify: Verify = "full"
) -> LoadedImage:
    """Read a ``docker save`` / OCI archive tar (plain or gzip) in one pass."""
    parts = _ArchiveParts()
    try:
        fileobj, mode = _bomb_guarded(fileobj, what)
        outer = tarfile.open(fileobj=fileobj, mode=mode)  # noqa: SIM115 - iterated to the end below
    except tarfile.ReadError:
        raise ImageError("not a tar archive (plain or gzip)", path=what) from None
    except bad_data() as exc:
        raise ImageError(f"unreadable archive ({exc})", path=what) from None
    with _reading_archive(what):
        for member in outer:
            _take_member(outer, member, parts, what, verify)
    return _resolve_archive(parts, what, platform)


def _bomb_guarded(fileobj: IO[bytes] | Any, what: str) -> tuple[Any, Literal["r:"]]:
    """The archive as a forward-only stream tarfile can "seek" in; a compressed
    one decompressed through the layers' bomb guard.

    tarfile skips members it is not asked about by reading through them, so a
    gzipped archive holding a "1 TB" member of zeros would otherwise be
    inflated to the end.
    """
    head = fileobj.read(6)
    raw = _Prefixed(head, fileobj)
    if head[:2] == b"\x1f\x8b" or head[:3] == b"BZh" or head[:6] == b"\xfd7zXZ\x00":
        counted = _Counting(raw, what=what, hashed=False)
        stream, _ = _decompressor(counted, what)
        plain = _Counting(stream, what=f"archive {what}", hashed=False)
        plain.compressed = counted
        return plain, "r:"
    return _Counting(raw, what=what, hashed=False), "r:"


def _take_member(
    outer: tarfile.TarFile, member: tarfile.TarInfo, parts: _ArchiveParts, what: str, verify: Verify = "full"
) -> None:
    name = posixpath.normpath("/" + member.name).lstrip("/")
    if member.issym() or member.islnk():
        base = posixpath.dirname(name) if member.issym() else ""
        parts.links[name] = posixpath.normpath("/" + posixpath.join(base, member.linkname)).lstrip("/")
        return
    if not member.isreg():
        return
    fh = outer.extractfile(member)
    if fh is None:
        return
    head = fh.read(1)
    if head in (b"{", b"[") or (not head and name.endswith(".json")) or name == "oci-layout":
        data = head + fh.read(MAX_JSON)
        if len(data) > MAX_JSON:
            parts.broken[name] = ImageError(f"{name}: JSON larger than {MAX_JSON // MIB} MiB", path=what)
            return
        parts.docs[name] = data
        return
    blob = _Prefixed(head, fh)
    m = _BLOB_NAME.match(name)
    try:
        report(f"{os.path.basename(what) or what}: layer {len(parts.layers) + 1} ({member.size / 1e6:.0f} MB)")
        parts.layers[name] = walk_layer(blob, name, expected=f"sha256:{m.group(1)}" if m else None, verify=verify)
    except ImageError as exc:
        # Only an error if the manifest uses this blob (an archive may carry extras).
        parts.broken[name] = ImageError(str(exc), path=what)


class _Prefixed:
    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self.head = head
        self.rest = rest

    def read(self, n: int = -1) -> bytes:
        if self.head:
            if n < 0:
                data, self.head = self.head + self.rest.read(), b""
                return data
            data, self.head = self.head[:n], self.head[n:]
            if len(data) < n:
                data += self.rest.read(n - len(data))
            return data
        return self.rest.read(n)


def _resolve_archive(parts: _ArchiveParts, what: str, platform: str | None) -> LoadedImage:
    def resolve_name(name: str) -> str:
        name = posixpath.normpath("/" + name).lstrip("/")
        for _ in range(8):
            if name not in parts.links:
                break
            name = parts.links[name]
        return name

    def doc_bytes(name: str) -> bytes:
        real = resolve_name(name)
        if real in parts.broken:
            raise parts.broken[real]
        if real not in parts.docs:
            raise ImageError(f"archive has no {name}", path=what)
        return parts.docs[real]

    def layer(name: str, expected: str | None) -> LayerIndex:
        real = resolve_name(name)
        if real in parts.broken:
            raise parts.broken[real]
        index = parts.layers.get(real)
        if index is None:
            raise ImageError(f"layer {name}: missing from the archive", path=what)
        if expected and index.stored_digest and expected not in (index.stored_digest, index.diff_id):
            raise ImageError(f"layer {name}: digest mismatch (manifest says {expected})", path=what)
        return index

    if "manifest.json" in parts.docs and platform is None:
        return _resolve_docker(parts, what, doc_bytes, layer)
    if "index.json" in parts.docs:
        return _resolve_oci(what, platform, doc_bytes, layer)
    if "manifest.json" in parts.docs:
        raise ImageError(
            "--platform needs an OCI index in the archive; this docker archive has one platform", path=what
        )
    if "repositories" in parts.docs or any(n.endswith("/json") for n in parts.docs):
        raise ImageError("docker save archive without manifest.json (docker < 1.10) is not supported", path=what)
    raise ImageError("not an image archive (no manifest.json or index.json)", path=what)


def _resolve_docker(
    parts: _ArchiveParts,
    what: str,
    doc_bytes: Callable[[str], bytes],
    layer: Callable[[str, str | None], LayerIndex],
) -> LoadedImage:
    raw = json.loads(parts.docs["manifest.json"]) if _valid_json(parts.docs["manifest.json"]) else None
    if not isinstance(raw, list) or not raw or not isinstance(raw[0], dict):
        raise ImageError("manifest.json: expected a non-empty list of images", path=what)
    notes = []
    if len(raw) > 1:
        notes.append(f"archive holds {len(raw)} images; read the first")
    entry = raw[0]
    config_name, layer_names = entry.get("Config"), entry.get("Layers")
    if not isinstance(config_name, str) or not isinstance(layer_names, list):
        raise ImageError("manifest.json: entry without Config and Layers", path=what)
    config_bytes = doc_bytes(config_name)
    config_digest = _sha256(config_bytes)
    m = _BLOB_NAME.match(config_name) or _HEX_JSON.match(posixpath.basename(config_name))
    if m and f"sha256:{m.group(1)}" != config_digest:
        raise ImageError(f"{config_name}: config digest mismatch", path=what)
    config = _json(config_bytes, f"{what}: {config_name}")
    names = [str(n) for n in layer_names]
    layers = []
    for n in names:
        bm = _BLOB_NAME.match(resolve_path(n))
        layers.append(layer(n, f"sha256:{bm.group(1)}" if bm else None))
    _check_diff_ids(config, layers, names, what)
    tags = entry.get("RepoTags")
    repo_tags = tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else ()
    return LoadedImage(what, config, config_digest, tuple(layers), repo_tags=repo_tags, notes=tuple(notes))


def resolve_path(name: str) -> str:
    return posixpath.normpath("/" + name).lstrip("/")


def _valid_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except (ValueError, RecursionError):
        return False
    return True


def _resolve_oci(
    what: str,
    platform: str | None,
    doc_bytes: Callable[[str], bytes],
    layer: Callable[[str, str | None], LayerIndex],
) -> LoadedImage:
    def blob_name(digest: str) -> str:
        return "blobs/sha256/" + digest.split(":", 1)[1]

    def fetch(digest: str) -> dict[str, Any]:
        data = doc_bytes(blob_name(digest))
        if _sha256(data) != digest:
            raise ImageError(f"blob {digest}: digest mismatch", path=what)
        return _json(data, f"{what}: {digest}")

    manifest, notes = select_manifest(_json(doc_bytes("index.json"), f"{what}: index.json"), fetch, platform, what)
    config_digest, layer_digests = _layer_descriptors(manifest, what)
    config = fetch(config_digest)
    layers = [layer(blob_name(d), d) for d in layer_digests]
    _check_diff_ids(config, layers, layer_digests, what)
    return LoadedImage(what, config, config_digest, tuple(layers), notes=tuple(notes))


def load_archive_file(path: str, platform: str | None, verify: Verify = "full") -> LoadedImage:
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below, after the stream is consumed
    except IsADirectoryError:
        raise ImageError("is a directory; use oci:DIR or dir:ROOTFS", path=path) from None
    except OSError as exc:
        raise ImageError(f"cannot read: {exc.strerror or exc}", path=path) from None
    with fh:
        window = FileRange.of(fh)
        if window is None or _compressed(window.pread(0, 6)) or os.environ.get("ENVCHECK_IMAGE_WALK") == "stream":
            # A pipe, or a gzipped archive: one pass, front to back.
            return load_archive_stream(fh, path, platform, verify)
        return load_archive_seekable(window, path, platform, verify)


def load_archive_seekable(window: FileRange, what: str, platform: str | None, verify: Verify = "full") -> LoadedImage:
    """Read an uncompressed image archive on disk by its tar headers.

    The outer tar's members are located with seeks; JSON documents are read,
    each layer becomes a :class:`FileRange` of the archive and is walked on
    its own (two at a time), so a layer's skipped member data is never read
    and its digest is hashed on the other core.  Same result as
    :func:`load_archive_stream` (a test holds the two to it).
    """
    parts = _ArchiveParts()
    blobs: list[tuple[str, FileRange, int]] = []
    try:
        outer = tarfile.open(fileobj=window, mode="r:")  # type: ignore[call-overload]  # noqa: SIM115
    except tarfile.ReadError:
        raise ImageError("not a tar archive (plain or gzip)", path=what) from None
    except bad_data() as exc:
        raise ImageError(f"unreadable archive ({exc})", path=what) from None
    with _reading_archive(what):
        while True:
            member = outer.next()
            if member is None:
                break
            outer.members.clear()  # TarInfos already read are never asked for again
            name = posixpath.normpath("/" + member.name).lstrip("/")
            if member.isreg() and not member.issparse() and name != "oci-layout":
                blob = FileRange(window.fd, window.offset + member.offset_data, member.size)
                head = blob.pread(0, 1)
                if head and head not in (b"{", b"["):
                    blobs.append((name, blob, member.size))
                    continue
            _take_member(outer, member, parts, what, verify)

    def job(number: int, name: str, blob: FileRange, size: int) -> Callable[[], LayerIndex]:
        def walk() -> LayerIndex:
            report(f"{os.path.basename(what) or what}: layer {number} ({size / 1e6:.0f} MB)")
            m = _BLOB_NAME.match(name)
            return walk_layer(blob, name, expected=f"sha256:{m.group(1)}" if m else None, verify=verify)

        return walk

    inflating = any(_compressed(blob.pread(0, 6)) for _, blob, _ in blobs)
    if verify != "off" and not inflating:
        for _, blob, _ in blobs:
            prehash(blob)
    results = walk_layers([job(n, *b) for n, b in enumerate(blobs, 1)], workers=None if inflating else 1)
    for (name, _, _), result in zip(blobs, results):
        if isinstance(result, ImageError):
            # Only an error if the manifest uses this blob (an archive may carry extras).
            parts.broken[name] = ImageError(str(result), path=what)
        else:
            parts.layers[name] = result
    return _resolve_archive(parts, what, platform)


# --------------------------------------------------------------------------- dir:ROOTFS


def index_rootfs(root: str) -> LayerIndex:
    """Index an unpacked root file system as if it were a single layer.

    Directories are descended without following symlinks and files are opened
    with ``O_NOFOLLOW``, so nothing outside ``root`` is ever read; symlinks
    are recorded and resolved later inside the image root.
    """
    if not os.path.isdir(root):
        raise ImageError("no such directory", path=root)
    index = LayerIndex()
    stack = [("", root)]
    while stack:
        rel, real = stack.pop()
        try:
            with os.scandir(real) as it:
                items = list(it)
        except OSError:
            continue  # unreadable directory: as if empty
        for item in items:
            path = f"{rel}/{item.name}" if rel else item.name
            index.members += 1
            try:
                if item.is_symlink():
                    index.entries[path] = Entry("symlink", os.readlink(item.path))
                elif item.is_dir(follow_symlinks=False):
                    index.entries[path] = Entry("dir")
                    stack.append((path, item.path))
                elif item.is_file(follow_symlinks=False):
                    kind = classify(path)
                    if kind is not None:
                        fact, machine = _read_contained(item.path, kind)
                        index.entries[path] = Entry("file", None, (kind, fact), machine)
                    elif presence_only(path):
                        index.entries[path] = Entry("file")
            except OSError:
                continue
    return index


def _read_contained(path: str, kind: str) -> tuple[Any, str | None]:
    """The fact of a file, and its ELF machine for scanned binaries."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None, None
        if kind in native.KINDS:
            return native.read_fact(kind, fh, info.st_size), None
        if kind in _SCANNED:
            return scan_elf(kind, path, fh)
        return reduce_fact(kind, fh.read(_CAPS[kind])), None


# --------------------------------------------------------------------------- docker:NAME


def engine_client() -> Any:
    """A docker SDK client honouring ``DOCKER_HOST``, or a one-line EngineError."""
    try:
        import docker
        from docker.errors import DockerException
    except ImportError:
        raise EngineError("the docker SDK is not installed (pip install docker)") from None
    where = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    try:
        client = docker.from_env()
        client.ping()
    except (DockerException, OSError) as exc:
        raise EngineError(f"cannot reach the Docker engine at {where}: {_reason(exc)}") from None
    return client


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    for marker in ("Connection refused", "No such file or directory", "Permission denied", "Connection broken"):
        if marker in text:
            return marker
    return text[:200] or type(exc).__name__


def load_engine_image(name: str, platform: str | None, verify: Verify = "full") -> LoadedImage:
    from docker.errors import DockerException, ImageNotFound

    client = engine_client()
    try:
        image = client.images.get(name)
    except ImageNotFound:
        raise ImageError(f"docker:{name}: no such image in the engine (build, pull or load it first)") from None
    except DockerException as exc:
        raise EngineError(f"docker:{name}: {_reason(exc)}") from None
    tags = list(getattr(image, "tags", []) or [])
    named: Any = name if name in tags else False
    try:
        chunks = image.save(chunk_size=2 * MIB, named=named)
        loaded = load_archive_stream(ChunkReader(iter(chunks), f"docker:{name}"), f"docker:{name}", platform, verify)
    except DockerException as exc:
        raise EngineError(f"docker:{name}: export failed: {_reason(exc)}") from None
    except EnvcheckError:
        raise
    except OSError as exc:
        raise EngineError(f"docker:{name}: export failed: {_reason(exc)}") from None
    if not loaded.repo_tags and tags:
        loaded = LoadedImage(loaded.ref, loaded.config, loaded.config_digest, loaded.layers, tuple(tags), loaded.notes)
    return loaded
