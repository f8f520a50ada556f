"""Stream image layers and keep only what the detectors need.

A layer is read once, front to back, as a tar stream (plain, gzip, bzip2, xz,
or zstd when the ``zstandard`` package is present).  Nothing is extracted and
nothing is executed: each member's *name* is classified, the few members that
matter (package metadata, os-release, dpkg/apk databases, interpreter
binaries, loader names …) are read up to a per-kind cap and reduced at once to
a small fact, and every other member is skipped.  The result is a
:class:`LayerIndex` — bounded by the number of relevant members, not by the
layer's size — so layers can be indexed in whatever order a transport
delivers them and merged in manifest order afterwards (OCI image spec,
"Applying changesets": whiteouts ``.wh.NAME`` and opaque ``.wh..wh..opq``).

Which members are read is decided in one place, by name alone:
:func:`classify` gives a member a *kind* (or None: skipped, its data never
read on a seekable source), ``_CAPS`` bounds how much of a kind is read and
:func:`reduce_fact` (or :func:`scan_binary` for ``_SCANNED`` kinds) turns
those bytes into the kept fact; :func:`presence_only` keeps a name without
content.  A new detector adds its kind there and nothing else changes: on a
seekable source (an archive or layout on disk, issue 15) the member is a
:class:`FileRange`, so a reader may also seek within it (an ELF file's
dynamic section), and on a stream it reads a bounded prefix.

:class:`MergedView` is the union file system the detectors query; symlinks are
resolved inside the image root only, with a hop cap, so an absolute link like
``/etc/passwd`` means the image's file, never the host's.
"""

from __future__ import annotations

import bz2
import contextvars
import dataclasses
import gzip
import hashlib
import itertools
import lzma
import os
import posixpath
import queue
import re
import struct
import tarfile
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from typing import IO, Any, Literal

from envcheck import _regex
from envcheck.errors import ImageError
from envcheck.record import record
from envcheck.scanners.image import native

# Per-kind read caps: a member may *declare* any size (a sparse 10 GB header),
# we never read more than this from it.
KIB = 1024
MIB = 1024 * KIB
CAP_METADATA = 4 * MIB
CAP_PACKAGE_JSON = 1 * MIB
CAP_SMALL = 64 * KIB
CAP_DPKG = 16 * MIB
CAP_SCAN = 160 * MIB  # interpreter binaries / libc scanned for a version string
# Bytes read after a tar's end-of-archive marker (padding) before giving up.
TRAILER_CAP = 64 * MIB
# Hard limit on the uncompressed size of one layer: a decompression bomb stops here.
MAX_LAYER_BYTES = 64 * 1024 * MIB
# A compression bomb is refused long before that: past BOMB_FLOOR uncompressed
# bytes, a layer may not expand to more than BOMB_RATIO times what was read of
# it (real layers compress 2-10x; gzip's best case, all zeros, is ~1000x).
BOMB_FLOOR = 1024 * MIB
BOMB_RATIO = 100
SYMLINK_HOPS = 40

# What a layer walk proves about the bytes it read (SECURITY.md, "Image
# verification").  "full": every layer is hashed as stored and, when
# compressed, as inflated, so the manifest's digests and the config's diff_ids
# are all checked; "blobs": as stored only (a compressed layer's diff_id goes
# unchecked, which saves hashing its inflated bytes); "off": no layer is hashed
# (local sources only: a registry pull is always verified).
Verify = Literal["full", "blobs", "off"]
VERIFY_LEVELS: tuple[Verify, ...] = ("full", "blobs", "off")

_SITES = ("site-packages", "dist-packages")
_PY_BIN = _regex.compile(r"python(?:3(?:\.\d{1,2})?)?$")
_PY_VERSIONED_BIN = _regex.compile(r"python(3\.\d{1,2})$")
_LIBPYTHON = _regex.compile(r"libpython(3\.\d{1,2})[a-z]*\.so(?:\.[\d.]+)?$")
_LOADER = _regex.compile(
    r"(ld-linux[-\w.]*\.so\.\d+|ld-musl-[\w]+\.so\.1|libc\.so\.6|libc\.musl-[\w]+\.so\.1|libc-\d+\.\d+\.so)$"
)
_LIB_DIRS = ("lib", "lib64", "lib32", "usr/lib", "usr/lib64", "usr/lib32")


# --------------------------------------------------------------------------- facts


@record
class Entry:
    """One path in a layer.  ``kind`` is file, symlink or hardlink; ``fact`` is
    what was learned from its content (None when only existence matters)."""

    kind: str
    target: str | None = None
    fact: Any = None
    # The ELF e_machine of a scanned binary (issue 18): the architecture when
    # the image config names none.
    machine: str | None = None


@dataclasses.dataclass(slots=True)
class LayerIndex:
    """What matters in one layer, small enough to hold for every layer."""

    entries: dict[str, Entry] = dataclasses.field(default_factory=dict)
    whiteouts: set[str] = dataclasses.field(default_factory=set)
    opaque: set[str] = dataclasses.field(default_factory=set)
    stored_digest: str = ""  # sha256 of the blob as stored (compressed)
    diff_id: str = ""  # sha256 of the uncompressed tar
    members: int = 0


def normalise(name: str) -> str:
    """Member name → path relative to the image root; ``..`` never climbs out."""
    path = posixpath.normpath("/" + name.replace("\\", "/"))
    # normpath keeps a leading "//" (POSIX allows it to mean something else).
    return path.lstrip("/")


def presence_only(path: str) -> bool:
    """Files whose presence, never their content, a detector asks about.

    A project's own ``package.json`` (outside node_modules): is the image's
    WORKDIR a node project at all?  Shared libraries (:mod:`.native`): where
    an extension's ``DT_NEEDED`` resolves.
    """
    parent, _, base = path.rpartition("/")
    if base == "package.json":
        return "node_modules/" not in path
    return native.presence_only(path, parent, base)


def classify(path: str) -> str | None:
    """The kind of fact a member at ``path`` carries, or None to skip its content."""
    parent, _, base = path.rpartition("/")
    pbase = parent.rpartition("/")[2]
    if base == "METADATA":
        if pbase.endswith(".dist-info") and parent.rpartition("/")[0].rpartition("/")[2] in _SITES:
            return "pydist"
        return None
    if base == "PKG-INFO":
        if pbase.endswith(".egg-info") and parent.rpartition("/")[0].rpartition("/")[2] in _SITES:
            return "pydist"
        return None
    if base.endswith(".egg-info") and pbase in _SITES:
        return "pydist"  # a single-file egg-info (Debian's python3-apt and friends)
    if base == "direct_url.json" and pbase.endswith(".dist-info"):
        return "direct_url"
    if base == "package.json":
        gp = parent.rpartition("/")[0]
        if gp.endswith("node_modules") and gp.rpartition("/")[2] == "node_modules":
            return "nodepkg"
        if gp.rpartition("/")[2].startswith("@") and gp.rpartition("/")[0].rpartition("/")[2] == "node_modules":
            return "nodepkg"
        if pbase == "npm":
            return "nodepkg"  # Debian installs npm as /usr/share/nodejs/npm
        if parent.startswith("opt/") and parent.count("/") == 1:
            return "nodepkg"  # a tool release unpacked under /opt: the node images' /opt/yarn-v1.22.22
        return None
    if base == "pyvenv.cfg":
        return "pyvenv"
    if pbase == "bin":
        if _PY_BIN.match(base):
            return "pybin"
        if base == "node":
            return "nodebin"
        return None
    if base == "patchlevel.h" and pbase.startswith("python"):
        return "patchlevel"
    if base == "node_version.h" and pbase == "node":
        return "nodeversion"
    if base.startswith("libpython") and _LIBPYTHON.match(base):
        return "libpython"
    if path in ("etc/os-release", "usr/lib/os-release"):
        return "osrelease"
    if path == "var/lib/dpkg/status" or parent == "var/lib/dpkg/status.d":
        return "dpkg"
    if path == "lib/apk/db/installed":
        return "apk"
    if (parent in _LIB_DIRS or parent.startswith(("lib/", "usr/lib/"))) and _LOADER.match(base):
        return "libc"
    return native.classify(path, parent, base)


_CAPS = {
    "pydist": CAP_METADATA,
    "direct_url": CAP_SMALL,
    "nodepkg": CAP_PACKAGE_JSON,
    "pyvenv": CAP_SMALL,
    "patchlevel": CAP_SMALL,
    "nodeversion": CAP_SMALL,
    "osrelease": CAP_SMALL,
    "dpkg": CAP_DPKG,
    "apk": CAP_DPKG,
}
_SCANNED = frozenset({"pybin", "libpython", "nodebin", "libc"})


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _headers(text: str) -> dict[str, str]:
    """RFC 822-style headers up to the first blank line (METADATA, PKG-INFO)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break
        if line[:1] in (" ", "\t"):
            continue
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() not in out:
            out[key.strip().lower()] = value.strip()
    return out


def _keyvalues(text: str) -> dict[str, str]:
    """``KEY=VALUE`` / ``key = value`` lines (os-release, pyvenv.cfg)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        out[key.strip()] = value
    return out


def _dpkg(text: str) -> dict[str, str]:
    """Installed versions of every installed package (runtimes, libc, and the providers of native libraries)."""
    out: dict[str, str] = {}
    for stanza in re.split(r"\n\s*\n", text):
        h = _headers(stanza)
        name = h.get("package", "")
        if not name:
            continue
        status = h.get("status", "install ok installed")
        if "installed" not in status.split()[-1:]:
            continue
        if "version" in h:
            out[name] = h["version"]
    return out


def _apk(text: str) -> dict[str, str]:
    """Installed versions by package name, and ``so:SONAME`` → the package providing it (apk's own ``p:`` names)."""
    out: dict[str, str] = {}
    name = ""
    for line in text.splitlines():
        if line.startswith("P:"):
            name = line[2:].strip()
        elif line.startswith("V:") and name:
            out[name] = line[2:].strip()
        elif line.startswith("p:") and name:
            for provided in line[2:].split():
                if provided.startswith("so:"):
                    out.setdefault(provided.partition("=")[0], name)
        elif not line.strip():
            name = ""
    return out


def _node_version_h(text: str) -> str | None:
    parts = []
    for key in ("NODE_MAJOR_VERSION", "NODE_MINOR_VERSION", "NODE_PATCH_VERSION"):
        m = re.search(rf"#define\s+{key}\s+(\d+)", text)
        if not m:
            return None
        parts.append(m.group(1))
    return ".".join(parts)


def _patchlevel(text: str) -> str | None:
    m = re.search(r'#define\s+PY_VERSION\s+"([^"]+)"', text)
    return m.group(1) if m else None


def _package_json(data: bytes) -> tuple[str, str] | None:
    import json

    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict):
        return None
    name, version = doc.get("name"), doc.get("version")
    if isinstance(name, str) and isinstance(version, str) and name and version:
        return (name, version)
    return None


def _direct_url(data: bytes) -> bool:
    import json

    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return False
    info = doc.get("dir_info") if isinstance(doc, dict) else None
    return isinstance(info, dict) and info.get("editable") is True


def reduce_fact(kind: str, data: bytes) -> Any:
    """Content of a relevant member → the small fact kept for it."""
    if kind == "pydist":
        h = _headers(_text(data))
        if h.get("name") and h.get("version"):
            return (h["name"], h["version"])
        return None
    if kind == "nodepkg":
        return _package_json(data)
    if kind == "direct_url":
        return _direct_url(data)
    if kind in ("pyvenv", "osrelease"):
        return _keyvalues(_text(data))
    if kind == "patchlevel":
        return _patchlevel(_text(data))
    if kind == "nodeversion":
        return _node_version_h(_text(data))
    if kind == "dpkg":
        return _dpkg(_text(data))
    if kind == "apk":
        return _apk(_text(data))
    return None


# Version strings inside binaries.  CPython's PY_VERSION is often tail-merged by
# the linker into "…/Python-3.11.7", hence the "Python-" alternative.
_PY_IN_BINARY = re.compile(rb"(?:\x00|Python-)(3\.\d{1,2}\.\d{1,3}(?:(?:a|b|rc)\d{1,2})?)\x00")
_NODE_IN_BINARY = re.compile(rb"/release/v(\d+\.\d+\.\d+)/node-v")
_GLIBC_IN_BINARY = re.compile(rb"release version (\d+\.\d+(?:\.\d+)?)")


def scan_binary(kind: str, path: str, chunks: Iterable[bytes]) -> str | None:
    """Find the version a binary announces, reading it in overlapping chunks."""
    if kind in ("pybin", "libpython"):
        m = _PY_VERSIONED_BIN.search(path.rpartition("/")[2]) or _LIBPYTHON.search(path.rpartition("/")[2])
        if not m:
            return None  # "python3" alone: the versioned sibling says more
        pattern, want = _PY_IN_BINARY, m.group(1) + "."
    elif kind == "nodebin":
        pattern, want = _NODE_IN_BINARY, ""
    else:
        base = path.rpartition("/")[2]
        named = re.match(r"libc-(\d+\.\d+)\.so$", base)
        if named:
            return named.group(1)
        if base != "libc.so.6":
            return None
        pattern, want = _GLIBC_IN_BINARY, ""
    # Every match kept has ``want`` in it: a buffer without it is passed over
    # at memchr speed (the pattern has no literal prefix for the regex engine
    # to search by, and an interpreter is tens of MB of NULs to try).
    needle = want.encode("ascii")
    tail = b""
    for chunk in chunks:
        buf = tail + chunk
        if needle not in buf:
            tail = buf[-128:]
            continue
        for m2 in pattern.finditer(buf):
            found = m2.group(1).decode("ascii")
            if found.startswith(want):
                return found
        tail = buf[-128:]
    return None


# --------------------------------------------------------------------------- streams


class _Counting:
    """A read-only file object that hashes and counts what passes through."""

    def __init__(self, raw: IO[bytes] | Any, limit: int | None = None, what: str = "", *, hashed: bool = True) -> None:
        self.raw = raw
        self.sha = hashlib.sha256()
        self.hashed = hashed  # an archive's own bytes have no digest to check; its layers do
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._hashing: Future[None] | None = None
        self.count = 0
        self.limit = limit
        self.what = what
        self._peeked = b""
        self.compressed: _Counting | None = None  # the stored stream this one decompresses

    def peek(self, n: int) -> bytes:
        while len(self._peeked) < n:
            more = self.raw.read(n - len(self._peeked))
            if not more:
                break
            self._peeked += more
        return self._peeked[:n]

    def read(self, n: int = -1) -> bytes:
        if self._peeked:
            if n < 0 or n > len(self._peeked):
                rest = self.raw.read(-1 if n < 0 else n - len(self._peeked))
                data, self._peeked = self._peeked + (rest or b""), b""
            else:
                data, self._peeked = self._peeked[:n], self._peeked[n:]
        else:
            data = self.raw.read(n)
        if self.hashed and data:
            self._pending.append(data)
            self._pending_bytes += len(data)
            if self._pending_bytes >= _HASH_BATCH:
                self._hash_pending()
        self.count += len(data)
        if self.limit is not None and self.count > self.limit:
            raise ImageError(f"{self.what}: more than {self.limit // MIB} MiB uncompressed, refusing to read on")
        if self.compressed is not None and self.count > BOMB_FLOOR and self.count > BOMB_RATIO * self.compressed.count:
            raise ImageError(
                f"{self.what}: expands more than {BOMB_RATIO}x past {BOMB_FLOOR // MIB} MiB "
                "(a compression bomb?), refusing to read on"
            )
        return data

    def readinto(self, buf: Any) -> int:
        # isal's gzip reader fills its buffer with readinto, the stdlib's calls read.
        data = self.read(len(buf))
        memoryview(buf).cast("B")[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.count

    def seek(self, pos: int, whence: int = 0) -> int:
        """Forward only, by reading (and hashing) what lies between.

        tarfile's random-access mode skips a member's data with one seek; its
        stream mode reads through it 10 KiB at a time, copying its buffer at
        every step — most of a layer walk's time.
        """
        if whence == 1:
            pos += self.count
        elif whence != 0:
            raise OSError("cannot seek from the end of a stream")
        if pos < self.count:
            raise OSError("cannot seek backwards in a stream")
        while self.count < pos:
            if not self.read(min(pos - self.count, MIB)):
                break
        return self.count

    def seekable(self) -> bool:
        return True

    def drain(self, cap: int) -> bool:
        """Read to EOF (so the digest covers every byte); False if over ``cap``."""
        seen = 0
        while True:
            chunk = self.read(MIB)
            if not chunk:
                return True
            seen += len(chunk)
            if seen > cap:
                return False

    def _hash_pending(self) -> None:
        # SHA-256 of a layer is a quarter of a walk; hashlib releases the GIL on
        # large buffers, so batches hashed on a worker overlap the tar parsing.
        # One batch in flight at a time bounds the memory held to two batches.
        batch, self._pending, self._pending_bytes = self._pending, [], 0
        if self._hashing is not None:
            self._hashing.result()
        self._hashing = _hasher().submit(_update, self.sha, batch)

    def digest(self) -> str:
        if self._pending:
            self._hash_pending()
        if self._hashing is not None:
            self._hashing.result()
            self._hashing = None
        return "sha256:" + self.sha.hexdigest()


_HASH_BATCH = 4 * MIB
_HASHER: list[ThreadPoolExecutor] = []
_HASHER_LOCK = threading.Lock()
# Two workers, one per core of a common CI runner: layers walked side by side
# hash side by side.  A stream never has two batches in flight, so its batches
# are still hashed in the order they were read.
HASH_WORKERS = 2


def _hasher() -> ThreadPoolExecutor:
    with _HASHER_LOCK:
        if not _HASHER:
            _HASHER.append(ThreadPoolExecutor(max_workers=HASH_WORKERS, thread_name_prefix="envcheck-sha256"))
        return _HASHER[0]


def _update(sha: Any, batch: list[bytes]) -> None:
    for data in batch:  # no joined copy: hashlib releases the GIL for each piece alike
        sha.update(data)


_INFLATE_CHUNK, _INFLATE_DEPTH = MIB, 4
# A download is read in the pieces the registry client takes off the socket
# (envcheck.distribution.BLOB_CHUNK, no re-joining): 256 KiB pieces are a
# quarter of the socket reads, queue hand-offs and GIL round trips of 64 KiB
# ones (issue 15: ~47M fewer instructions per 88 MB pull); 1 MiB held ahead.
_FETCH_CHUNK, _FETCH_DEPTH = 256 * KIB, 4


class _ReadAhead:
    """A stream read on its own thread, a bounded number of chunks ahead of its reader.

    A compressed layer is inflated this way (ISA-L, zlib, bzip2, xz and
    zstd release the GIL) while the walk parses its headers; a layer that
    arrives as a stream (a registry download: TLS, sha256) is fetched this
    way while it is inflated.  At most ``depth`` chunks of ``chunk`` bytes
    wait in between (bounded memory).  What the stream raises (a truncated
    gzip, a digest mismatch at the end of a download) is raised here, by the
    read that reaches it, exactly as if this thread had read the bytes.
    """

    def __init__(self, stream: Any, chunk: int, depth: int) -> None:
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=depth)
        self._chunk = chunk
        self._stop = threading.Event()
        self._buf = b""
        self._off = 0
        self._end: BaseException | None = None
        self._ended = False
        self._thread = threading.Thread(target=self._run, args=(stream,), name="envcheck-read-ahead", daemon=True)
        self._thread.start()

    def _run(self, stream: Any) -> None:
        try:
            while not self._stop.is_set():
                chunk = stream.read(self._chunk)
                self._put(chunk)
                if not chunk:
                    return
        except BaseException as exc:  # handed to the reader, which raises it as its own
            self._put(exc)

    def _put(self, item: bytes | BaseException) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return
            except queue.Full:
                continue

    def _next(self) -> bool:
        """Take the next chunk into the buffer; False at the end of the stream."""
        if self._end is not None:
            raise self._end
        if self._ended:
            return False
        item = self._queue.get()
        if isinstance(item, BaseException):
            self._end = item
            raise item
        if not item:
            self._ended = True
            return False
        self._buf, self._off = item, 0
        return True

    def read(self, n: int = -1) -> bytes:
        """``n`` bytes (fewer only at the end), as a buffered reader returns them."""
        if n is None or n < 0:
            n = MAX_LAYER_BYTES
        parts: list[bytes] = []
        while n > 0:
            if self._off >= len(self._buf) and not self._next():
                break
            part = self._buf[self._off : self._off + n]
            self._off += len(part)
            n -= len(part)
            parts.append(part)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def close(self) -> None:
        """Stop the inflater (wherever it is) and wait for its thread to end."""
        self._stop.set()
        while self._thread.is_alive():
            try:
                self._queue.get(timeout=0.05)  # unblock a put
            except queue.Empty:
                pass
        self._thread.join()


def gzip_module() -> Any:
    """The gzip reader to inflate with: python-isal's ``igzip`` when installed.

    ISA-L inflates a layer about 2x faster than zlib (issue 15: 0.30 s
    against 0.68 s on the same layer) and, like zlib, releases the GIL while
    it works, so two layers inflate on two cores.  Where no isal wheel exists
    (or ``ENVCHECK_INFLATE=stdlib`` asks for it) the standard library's gzip
    reads the same bytes to the same result.
    """
    if os.environ.get("ENVCHECK_INFLATE") == "stdlib":
        return gzip
    try:
        from isal import igzip
    except ImportError:
        return gzip
    return igzip


def _compressed(head: bytes) -> bool:
    return (
        head[:2] == b"\x1f\x8b" or head[:4] == b"\x28\xb5\x2f\xfd" or head[:3] == b"BZh" or head[:6] == b"\xfd7zXZ\x00"
    )


def _decompressor(counted: _Counting, what: str) -> tuple[Any, str]:
    stored: Any = counted  # a duck-typed file object
    head = stored.peek(6)
    if head[:2] == b"\x1f\x8b":
        return gzip_module().GzipFile(fileobj=stored, mode="rb"), "gzip"
    if head[:4] == b"\x28\xb5\x2f\xfd":
        try:
            import zstandard
        except ImportError:
            raise ImageError(f"{what}: zstd-compressed layer; install the 'zstandard' package to read it") from None
        return zstandard.ZstdDecompressor().stream_reader(stored, read_across_frames=True), "zstd"
    if head[:3] == b"BZh":
        return bz2.BZ2File(stored), "bzip2"
    if head[:6] == b"\xfd7zXZ\x00":
        return lzma.LZMAFile(stored), "xz"
    return None, "tar"


# Everything the standard library raises on malformed compressed or tar data.
_BAD_DATA: tuple[type[BaseException], ...] = (
    tarfile.TarError,
    OSError,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    ValueError,
    struct.error,
    UnicodeError,
    OverflowError,
    KeyError,
    IndexError,
)


@cache
def bad_data() -> tuple[type[BaseException], ...]:
    """Everything reading a malformed layer or archive may raise, the optional inflaters' errors included."""
    extra: list[type[BaseException]] = []
    try:
        import zstandard
    except ImportError:
        pass
    else:
        extra.append(zstandard.ZstdError)
    try:
        from isal import isal_zlib
    except ImportError:
        pass
    else:
        extra.append(isal_zlib.error)  # type: ignore[arg-type]  # typeshed-less C extension
    return _BAD_DATA + tuple(extra)


def walk_layer(
    blob: IO[bytes] | Any,
    what: str,
    *,
    expected: str | None = None,
    verify: Verify = "full",
    self_verifying: bool = False,
) -> LayerIndex:
    """Index one layer blob.

    ``what`` names the layer in errors (its digest or archive member);
    ``expected`` is the digest the manifest promises for the stored bytes.
    A :class:`FileRange` or a regular file is read with seeks (an
    uncompressed layer's member data is skipped, not read); anything else is
    read as a stream.  ``self_verifying``: the stream itself raises an
    ImageError at its end unless its bytes hash to ``expected`` (a registry
    download does), so hashing them again here would be wasted work.
    """
    window = FileRange.of(blob)
    if window is not None and not _compressed(window.pread(0, 6)):
        return _walk_window(window, what, expected, verify)
    if window is not None:
        window.seek(0)
        blob = window
    trusted = self_verifying and expected is not None
    # A stream (a download, a pipe) is fetched on a thread of its own, beside the inflating.
    fetching = _ReadAhead(blob, _FETCH_CHUNK, _FETCH_DEPTH) if window is None else None
    stored = _Counting(fetching or blob, what=what, hashed=verify != "off" and not trusted)
    try:
        return _walk_layer(stored, what, expected, verify, trusted=trusted)
    except ImageError as err:
        # A blob that does not parse may have been corrupted or tampered with;
        # when the manifest names its digest, that is the truer diagnosis (and
        # which error comes first otherwise depends on where the damage fell).
        raise _digest_error(stored, what, expected) or err from None
    finally:
        if fetching is not None:
            fetching.close()  # before the caller reads (or closes) the stream again


def _digest_error(stored: _Counting, what: str, expected: str | None) -> ImageError | None:
    """The digest mismatch of a layer that failed to parse, or None when its bytes are the promised ones."""
    if not expected:
        return None
    try:
        while stored.read(1 << 20):
            pass
    except ImageError as err:
        return err if "digest" in str(err) else None  # a registry stream checks its digest at the end
    except bad_data():  # OSError among them: the blob could not be read to its end
        return None
    if not stored.hashed:
        return None  # --verify-layers off, or a stream that checked its own digest above
    actual = stored.digest()
    if actual == expected:
        return None
    return ImageError(
        f"layer {what}: content does not match its digest (digest mismatch: manifest says {expected}, content is {actual})"
    )


def _walk_layer(
    stored: _Counting, what: str, expected: str | None, verify: Verify, *, trusted: bool = False
) -> LayerIndex:
    index = LayerIndex()
    bad = bad_data()
    inflating: _ReadAhead | None = None
    try:
        if not stored.peek(1):
            raise ImageError(f"layer {what}: empty blob, not a tar archive")
        stream, compression = _decompressor(stored, what)
        if stream is None:
            if not _looks_like_tar(stored.peek(512)):
                raise ImageError(f"layer {what}: not a tar archive")
            plain, stored.limit, stored.what = stored, MAX_LAYER_BYTES, f"layer {what}"
        else:
            inflating = _ReadAhead(stream, _INFLATE_CHUNK, _INFLATE_DEPTH)
            plain = _Counting(inflating, limit=MAX_LAYER_BYTES, what=f"layer {what}", hashed=verify == "full")
            plain.compressed = stored
        if os.environ.get("ENVCHECK_TAR_HEADERS") == "tarfile":
            # tarfile reads every header (the reference the fast reader is tested against).
            try:
                tf = tarfile.open(fileobj=plain, mode="r:")  # type: ignore[call-overload]  # noqa: SIM115
            except tarfile.ReadError:
                raise ImageError(f"layer {what}: not a tar archive ({compression})") from None
            _index_members(tf, index)
            trailer = TRAILER_CAP
        else:
            reader = _StreamBlocks(plain)
            try:
                tf = tarfile.open(fileobj=reader, mode="r:")  # type: ignore[call-overload]  # noqa: SIM115
            except tarfile.ReadError:
                raise ImageError(f"layer {what}: not a tar archive ({compression})") from None
            reader.floor = None
            end = _index_headers(tf, reader, index)
            # tarfile stops after the block that ended the archive: what the
            # buffer already holds past it counts against the trailer cap.
            trailer = TRAILER_CAP - max(0, plain.count - (end + 512))
        if not plain.drain(trailer):
            raise ImageError(f"layer {what}: more than {TRAILER_CAP // MIB} MiB after the end of its tar")
        if inflating is not None:
            inflating.close()  # at its end: the inflater thread has returned, ``stored`` is this thread's again
        if stream is not None and not stored.drain(TRAILER_CAP):
            raise ImageError(f"layer {what}: trailing data after the compressed stream")
    except ImageError:
        raise
    except EOFError:
        raise ImageError(f"layer {what}: truncated (unexpected end of data)") from None
    except bad as exc:
        reason = str(exc).strip() or type(exc).__name__
        if "unexpected end" in reason or "truncated" in reason.lower():
            raise ImageError(f"layer {what}: truncated (unexpected end of data)") from None
        raise ImageError(f"layer {what}: unreadable ({reason})") from None
    finally:
        if inflating is not None:
            inflating.close()  # stopped before anyone reads ``stored`` again (a digest check of a failed walk)
    if verify == "off":
        return index
    # A trusted stream was read to its end above without raising: its bytes are ``expected``.
    index.stored_digest = expected if trusted and expected else stored.digest()
    if stream is None:
        index.diff_id = index.stored_digest
    elif verify == "full":
        index.diff_id = plain.digest()
    if expected and expected not in (index.stored_digest, index.diff_id):
        raise ImageError(
            f"layer {what}: content does not match its digest (digest mismatch: manifest says {expected}, content is {index.stored_digest})"
        )
    return index


# --------------------------------------------------------------------------- seekable sources


class FileRange:
    """A read-only, seekable window ``[offset, offset + size)`` of an open file.

    Reads are ``os.pread`` calls, so several windows over one descriptor
    (the layers of one archive) can be read from different threads, and
    tarfile skips a member's data with a seek instead of reading it.
    """

    def __init__(self, fd: int, offset: int, size: int) -> None:
        self.fd = fd
        self.offset = offset
        self.size = size
        self.pos = 0
        self.hashing: Future[str] | None = None  # the window's sha256, when started early (prehash)

    @classmethod
    def of(cls, blob: Any) -> FileRange | None:
        """``blob`` as a window: itself, or the whole of a regular file; None for a stream."""
        if isinstance(blob, FileRange):
            return blob
        try:
            fd = blob.fileno()
            st = os.fstat(fd)
            pos = blob.tell()
        except (AttributeError, OSError, ValueError):
            return None
        import stat

        if not stat.S_ISREG(st.st_mode) or pos != 0:
            return None
        return cls(fd, 0, st.st_size)

    def pread(self, at: int, n: int) -> bytes:
        n = min(n, self.size - at)
        if n <= 0:
            return b""
        return os.pread(self.fd, n, self.offset + at)

    def read(self, n: int = -1) -> bytes:
        want = self.size - self.pos if n is None or n < 0 else n
        data = self.pread(self.pos, want)
        self.pos += len(data)
        return data

    def seek(self, pos: int, whence: int = 0) -> int:
        if whence == 1:
            pos += self.pos
        elif whence == 2:
            pos += self.size
        self.pos = max(0, pos)
        return self.pos

    def skip(self, n: int) -> int:
        """Move forward up to ``n`` bytes without reading them; how far it moved (less at the end)."""
        moved = max(0, min(n, self.size - self.pos))
        self.pos += moved
        return moved

    def tell(self) -> int:
        return self.pos

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def member(self, offset: int, size: int) -> FileRange:
        """The window of a member's data, ``size`` bytes from ``offset`` in this one."""
        return FileRange(self.fd, self.offset + offset, size)

    def __enter__(self) -> FileRange:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def prehash(window: FileRange) -> Future[str]:
    """Start hashing ``window`` now, on the hashing pool; its walk picks the digest up later.

    An archive starts every layer's hash before walking the first, so both
    hashing workers stay busy while the walk parses: the hashes of later
    layers overlap the parsing of earlier ones.
    """
    if window.hashing is None:
        window.hashing = _hasher().submit(_hash_window, window)
    return window.hashing


def _hash_window(window: FileRange) -> str:
    """sha256 of a window, read into one reused buffer (bounded memory; hashlib releases the GIL)."""
    sha = hashlib.sha256()
    buf = bytearray(_HASH_BATCH)
    view = memoryview(buf)
    at = window.offset
    end = window.offset + window.size
    while at < end:
        got = os.preadv(window.fd, [view[: min(len(buf), end - at)]], at)
        if got <= 0:
            break  # the file shrank under us: the digest will not match
        sha.update(view[:got])
        at += got
    return "sha256:" + sha.hexdigest()


def _walk_window(window: FileRange, what: str, expected: str | None, verify: Verify) -> LayerIndex:
    """Index an uncompressed layer by its tar headers, seeking past member data.

    The walk reads only the headers and the members a detector consumes; the
    digest, which must cover every byte, is computed on a hashing worker at
    the same time, so verification costs CPU on the other core, not wall time.
    """
    hashing = (window.hashing or prehash(window)) if verify != "off" else None

    def digest() -> str:
        return hashing.result() if hashing is not None else ""

    index = LayerIndex()
    try:
        with _read_errors(what):
            if window.size == 0:
                raise ImageError(f"layer {what}: empty blob, not a tar archive")
            if not _looks_like_tar(window.pread(0, 512)):
                raise ImageError(f"layer {what}: not a tar archive")
            if window.size > MAX_LAYER_BYTES:
                raise ImageError(
                    f"layer {what}: more than {MAX_LAYER_BYTES // MIB} MiB uncompressed, refusing to read on"
                )
            try:
                tf = tarfile.open(fileobj=window, mode="r:")  # type: ignore[call-overload]  # noqa: SIM115
            except tarfile.ReadError:
                raise ImageError(f"layer {what}: not a tar archive (tar)") from None
            end = _index_headers(tf, window, index)
            if window.size - end > TRAILER_CAP:
                raise ImageError(f"layer {what}: more than {TRAILER_CAP // MIB} MiB after the end of its tar")
    except ImageError as err:
        # As for a stream: a digest mismatch is the truer diagnosis of a blob that does not parse.
        actual = digest()
        if expected and actual and actual != expected:
            raise ImageError(
                f"layer {what}: content does not match its digest (digest mismatch: manifest says {expected}, content is {actual})"
            ) from None
        raise err from None
    index.stored_digest = index.diff_id = digest()
    if expected and index.stored_digest and expected != index.stored_digest:
        raise ImageError(
            f"layer {what}: content does not match its digest (digest mismatch: manifest says {expected}, content is {index.stored_digest})"
        )
    return index


class _read_errors:
    """Map what the standard library raises on malformed tar data to one-line ImageErrors."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> Literal[False]:
        if exc is None or isinstance(exc, ImageError) or not isinstance(exc, bad_data()):
            return False
        if isinstance(exc, EOFError):
            raise ImageError(f"layer {self.what}: truncated (unexpected end of data)") from None
        reason = str(exc).strip() or type(exc).__name__
        if "unexpected end" in reason or "truncated" in reason.lower():
            raise ImageError(f"layer {self.what}: truncated (unexpected end of data)") from None
        raise ImageError(f"layer {self.what}: unreadable ({reason})") from None


LAYER_WORKERS = 2


def walk_layers(jobs: list[Callable[[], LayerIndex]], *, workers: int | None = None) -> list[LayerIndex | ImageError]:
    """Run layer walks on a bounded pool; results (or each walk's ImageError) in job order.

    Layers are independent until they are merged (whiteouts apply in
    manifest order, afterwards, in :class:`MergedView`), so two walk at once:
    inflating and hashing release the GIL, and a registry download of one
    overlaps the walk of another.  The pool bounds memory to two walks.
    Uncompressed layers on disk are better walked one at a time: parsing
    their headers holds the GIL, and their hashing already has the other core.
    """

    def run(job: Callable[[], LayerIndex]) -> LayerIndex | ImageError:
        try:
            return job()
        except ImageError as err:
            return err

    workers = LAYER_WORKERS if workers is None else workers
    if len(jobs) <= 1 or workers <= 1:
        return [run(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="envcheck-layer") as pool:
        # Each walk runs in a copy of the caller's context, so its progress
        # reports (a ContextVar) reach the caller's status line.
        futures = [pool.submit(contextvars.copy_context().run, run, job) for job in jobs]
        try:
            return [f.result() for f in futures]
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def _index_members(tf: tarfile.TarFile, index: LayerIndex) -> None:
    while True:
        member = tf.next()
        if member is None:
            return
        index.members += 1
        _index_member(tf, member, index)
        # tarfile keeps every TarInfo it has read (for random access we never
        # do): a layer of 100k files would hold them all until its end.
        tf.members.clear()  # type: ignore[attr-defined]  # a documented-by-use attribute typeshed omits


# ---- tar headers without tarfile's TarInfo: the walk of a layer on disk is
# mostly header parsing, and tarfile decodes every field of every header.
# Plain ustar/GNU headers (nearly all of a layer) are read here, checked
# exactly as tarfile checks them (checksum, every numeric field); PAX and
# GNU long-name headers, sparse files and anything after a global PAX header
# are handed to tarfile itself.  tests/image/test_image_seek_walk.py holds
# the two readings equal, on real layers and on generated hostile ones.

_REGULAR = frozenset({b"0", b"\x00", b"7"})
_DATALESS = frozenset({b"1", b"2", b"3", b"4", b"5", b"6"})  # tarfile skips no data after these
_DELEGATED = frozenset({b"x", b"g", b"X", b"L", b"K", b"S", b"M", b"N", b"V"})
_NUMERIC = ((100, 108), (108, 116), (116, 124), (124, 136), (136, 148), (329, 337), (337, 345))
_PREFETCH = 64 * KIB
_OCTAL_NUL = b"01234567\x00"
_PLAIN_OCTAL = re.compile(rb" *[0-7]* *(?:\x00[\x00-\xff]*)?")


class _Header:
    """The fields of a plain tar header the walk uses, with TarInfo's predicates."""

    __slots__ = ("linkname", "name", "offset_data", "size", "type")

    def __init__(self, name: str, kind: bytes, size: int, linkname: str, offset_data: int) -> None:
        self.name = name
        self.type = kind
        self.size = size
        self.linkname = linkname
        self.offset_data = offset_data

    def isreg(self) -> bool:
        return self.type in _REGULAR

    def isdir(self) -> bool:
        return self.type == b"5"

    def issym(self) -> bool:
        return self.type == b"2"

    def islnk(self) -> bool:
        return self.type == b"1"

    def open(self, window: Any) -> FileRange | _StreamMember:
        # ``window`` is the tarfile's file object: a FileRange or a _StreamBlocks.
        member: FileRange | _StreamMember = window.member(self.offset_data, self.size)
        return member


def _nti(field: bytes) -> int:
    """tarfile.nti: a base-256 or an octal number; ValueError where tarfile raises InvalidHeaderError."""
    if field[0] in (0o200, 0o377):
        return int(tarfile.nti(field))  # type: ignore[attr-defined]  # rare: a size past 8 GiB
    cut = field.find(b"\x00")
    if cut != -1:
        field = field[:cut]
    field.decode("ascii")  # tarfile decodes strictly first
    return int(field.strip() or b"0", 8)


class _Blocks:
    """Headers served from 64 KiB reads: a layer's small files sit many to a read."""

    def __init__(self, window: FileRange) -> None:
        self.window = window
        self.start = 0
        self.data = b""

    def block(self, pos: int) -> bytes:
        if pos > self.window.size:
            raise tarfile.ReadError("unexpected end of data")  # as tarfile.next() does
        if not (self.start <= pos and pos + 512 <= self.start + len(self.data)):
            self.start = pos
            self.data = self.window.pread(pos, _PREFETCH)
        return self.data[pos - self.start : pos - self.start + 512]


class _StreamBlocks:
    """A layer's tar stream (inflated, or plain from a pipe) read forward in 64 KiB reads.

    Headers are parsed from the buffer by the same reader as the seek walk;
    the data of a member no detector needs is read and discarded in 1 MiB
    steps (it must still be inflated and hashed), never copied through
    tarfile's 10 KiB buffer.  Only what lies at or after the position asked
    for is kept, except before ``floor`` (tarfile reads the first header
    while opening, and the walk reads it again from 0).
    """

    def __init__(self, raw: _Counting) -> None:
        self.raw = raw
        self.start = 0
        self.data = b""
        self.pos = 0
        self.floor: int | None = 0

    def _fill(self, at: int, n: int) -> None:
        low = at if self.floor is None else min(at, self.floor)
        if low < self.start:
            raise OSError("cannot seek backwards in a stream")
        end = self.start + len(self.data)
        if low >= end:
            if low > end:
                self.raw.seek(low)
                if self.raw.count < low:
                    raise tarfile.ReadError("unexpected end of data")  # as tarfile.next() does
            chunks = []
        else:
            chunks = [self.data[low - self.start :]]
        self.start = low
        need = at + n - max(end, low)
        if need > 0:
            ask = max(need, _PREFETCH)
            while need > 0:
                got = self.raw.read(ask)
                if not got:
                    break
                chunks.append(got)
                need -= len(got)
                ask = need
        self.data = chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def pread(self, at: int, n: int) -> bytes:
        if not (self.start <= at and at + n <= self.start + len(self.data)):
            self._fill(at, n)
        cut = at - self.start
        return self.data[cut : cut + n]

    def block(self, pos: int) -> bytes:
        return self.pread(pos, 512)

    def member(self, offset: int, size: int) -> _StreamMember:
        return _StreamMember(self, offset, size)

    # The file object tarfile reads through (the first header, and the members it is delegated).
    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = MAX_LAYER_BYTES
        data = self.pread(self.pos, n)
        self.pos += len(data)
        return data

    def seek(self, pos: int, whence: int = 0) -> int:
        if whence == 1:
            pos += self.pos
        elif whence != 0:
            raise OSError("cannot seek from the end of a stream")
        self.pos = pos
        return pos

    def tell(self) -> int:
        return self.pos

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True


class _StreamMember:
    """One member's data on a stream, read forward (bounded by the member's size)."""

    def __init__(self, blocks: _StreamBlocks, offset: int, size: int) -> None:
        self.blocks = blocks
        self.pos = offset
        self.end = offset + size

    def read(self, n: int = -1) -> bytes:
        left = self.end - self.pos
        n = left if n is None or n < 0 else min(n, left)
        if n <= 0:
            return b""
        data = self.blocks.pread(self.pos, n)
        self.pos += len(data)
        return data


def _index_headers(tf: tarfile.TarFile, window: FileRange | _StreamBlocks, index: LayerIndex) -> int:
    """Index every member of the tar in ``window``; return where its archive ended."""
    tf.firstmember = None  # type: ignore[attr-defined]  # read again below, by the same rules
    blocks = _Blocks(window) if isinstance(window, FileRange) else window
    pos = 0
    while True:
        buf = blocks.block(pos)
        member: tarfile.TarInfo | _Header | None
        kind = buf[156:157]
        if len(buf) < 512 or kind in _DELEGATED or tf.pax_headers or not buf.strip(b"\x00"):
            member, pos = _delegate(tf, window, pos)
            if member is None:
                return pos
        else:
            try:
                member, pos = _parse_header(buf, kind, pos, tf.encoding or "utf-8", tf.errors or "surrogateescape")
            except ValueError:
                return pos  # a bad header past the first ends the archive, as in tarfile
        index.members += 1
        _index_member(tf, member, index)


def _parse_header(buf: bytes, kind: bytes, pos: int, encoding: str, errors: str) -> tuple[_Header, int]:
    try:
        # int() strips what tarfile strips; only an empty field (0 for
        # tarfile) or a base-256 one fails here and goes the long way.
        chksum = int(buf[148:156].partition(b"\x00")[0], 8)
    except ValueError:
        chksum = _nti(buf[148:156])
    # The unsigned byte sum of the header, the checksum field counted as
    # spaces.  adler32's low half is 1 + the byte sum mod 65521, exact for
    # 256 bytes (at most 65280): two C calls instead of summing 512 ints.
    total = (zlib.adler32(buf[:256]) & 0xFFFF) + (zlib.adler32(buf[256:]) & 0xFFFF) - 2
    if chksum != total - sum(buf[148:156]) + 256 and chksum not in tarfile.calc_chksums(buf):  # type: ignore[attr-defined]
        raise ValueError("bad checksum")
    plain = _PLAIN_OCTAL.fullmatch
    if not (buf[100:148].translate(None, _OCTAL_NUL) or buf[329:345].translate(None, _OCTAL_NUL)):
        # Every numeric field is octal digits and NULs: each field's digits
        # before its first NUL are a valid number for tarfile (no regex needed).
        member_size = int(buf[124:136].partition(b"\x00")[0] or b"0", 8)
    elif (
        plain(buf, 100, 108)
        and plain(buf, 108, 116)
        and plain(buf, 116, 124)
        and plain(buf, 124, 136)
        and plain(buf, 136, 148)
        and plain(buf, 329, 337)
        and plain(buf, 337, 345)
    ):
        # The common form ("0000644\x00"): valid for tarfile too; only the size is needed.
        member_size = int(buf[124:136].partition(b"\x00")[0].strip() or b"0", 8)
    else:
        member_size = [_nti(buf[a:b]) for a, b in _NUMERIC][3]
    name = buf[0:100].partition(b"\x00")[0].decode(encoding, errors)
    linkname = buf[157:257].partition(b"\x00")[0].decode(encoding, errors) if buf[157] else ""
    prefix = buf[345:500].partition(b"\x00")[0].decode(encoding, errors) if buf[345] else ""
    if kind == b"\x00" and name.endswith("/"):
        kind = b"5"
    if kind == b"5":
        name = name.rstrip("/")
    if prefix:
        name = prefix + "/" + name
        if kind == b"5":
            name = name.rstrip("/")
    data = pos + 512
    end = data
    if kind in _REGULAR or kind not in _DATALESS:
        end += -(-member_size // 512) * 512
    return _Header(name, kind, member_size, linkname, data), end


def _delegate(tf: tarfile.TarFile, window: FileRange | _StreamBlocks, pos: int) -> tuple[tarfile.TarInfo | None, int]:
    """Let tarfile read the member at ``pos`` (PAX, GNU long names, sparse, end of archive)."""
    tf.offset = pos
    window.seek(pos)
    member = tf.next()
    return member, tf.offset


def _looks_like_tar(block: bytes) -> bool:
    if len(block) < 512:
        return bool(block) and set(block) == {0}
    if block[257:262] == b"ustar":
        return True
    if set(block) == {0}:
        return True  # an empty layer is just the end-of-archive marker
    # v7 tar: the header checksum is the only signature.
    try:
        stored = int(block[148:156].replace(b"\x00", b" ").strip() or b"-1", 8)
    except ValueError:
        return False
    computed = sum(block[:148]) + 8 * 32 + sum(block[156:512])
    return stored == computed


def _index_member(tf: tarfile.TarFile, member: tarfile.TarInfo | _Header, index: LayerIndex) -> None:
    path = normalise(member.name)
    if not path:
        return
    parent, _, base = path.rpartition("/")
    if base.startswith(".wh."):
        if base == ".wh..wh..opq":
            index.opaque.add(parent)
        elif len(base) > 4 and not base.startswith(".wh..wh."):  # other .wh..wh. names are aufs bookkeeping
            index.whiteouts.add(posixpath.join(parent, base[4:]) if parent else base[4:])
        return
    if member.issym():
        index.entries[path] = Entry("symlink", member.linkname)
        return
    if member.islnk():
        target = normalise(member.linkname)
        linked = index.entries.get(target)
        index.entries[path] = Entry("hardlink", target, linked.fact if linked else None)
        return
    if member.isdir():
        if path in index.entries and index.entries[path].kind == "dir":
            return
        # Only kept so a directory that replaces a lower symlink is noticed.
        index.entries.setdefault(path, Entry("dir"))
        return
    if not member.isreg():
        return
    kind = classify(path)
    if kind is None:
        if presence_only(path):
            index.entries[path] = Entry("file")
        return
    fh = member.open(tf.fileobj) if isinstance(member, _Header) else tf.extractfile(member)
    if fh is None:
        index.entries[path] = Entry("file")
        return
    fact: Any
    machine = None
    if kind in native.KINDS:
        fact = native.read_fact(kind, fh, member.size)
    elif kind in _SCANNED:
        fact, machine = scan_elf(kind, path, fh)
    else:
        fact = reduce_fact(kind, fh.read(_CAPS[kind]))
    index.entries[path] = Entry("file", None, (kind, fact), machine)


def scan_elf(kind: str, path: str, fh: IO[bytes] | FileRange | _StreamMember) -> tuple[str | None, str | None]:
    """:func:`scan_binary` plus the ELF header's machine, from the same single read."""
    from envcheck.platform_tags import elf_machine

    head = fh.read(64)
    rest = _chunks(fh, CAP_SCAN - len(head))
    return scan_binary(kind, path, itertools.chain((head,), rest)), elf_machine(head)


def _chunks(fh: IO[bytes] | FileRange | _StreamMember, cap: int) -> Iterator[bytes]:
    read = 0
    while read < cap:
        chunk = fh.read(min(4 * MIB, cap - read))
        if not chunk:
            return
        read += len(chunk)
        yield chunk


# --------------------------------------------------------------------------- merged view


class MergedView:
    """The union file system of indexed layers, restricted to what was kept."""

    def __init__(self, layers: Iterable[LayerIndex]) -> None:
        merged: dict[str, Entry] = {}
        ancestors: set[str] = set()
        for layer in layers:
            _apply(merged, layer, ancestors)
        self.entries = {p: e for p, e in merged.items() if e.kind != "dir"}
        dirs: set[str] = {p for p, e in merged.items() if e.kind == "dir"}
        for p in self.entries:
            parent = p.rpartition("/")[0]
            while parent and parent not in dirs:
                dirs.add(parent)
                parent = parent.rpartition("/")[0]
        self.dirs = dirs

    def resolve(self, path: str, *, follow_last: bool = True) -> str | None:
        """Canonical path of ``path`` inside the image, or None on a symlink loop.

        Absolute link targets restart at the image root; ``..`` stops at it.
        """
        todo = [c for c in path.split("/") if c not in ("", ".")]
        done: list[str] = []
        hops = 0
        while todo:
            comp = todo.pop(0)
            if comp == "..":
                if done:
                    done.pop()
                continue
            candidate = "/".join([*done, comp])
            entry = self.entries.get(candidate)
            if entry is not None and entry.kind == "symlink" and (todo or follow_last):
                hops += 1
                if hops > SYMLINK_HOPS:
                    return None
                target = entry.target or ""
                if target.startswith("/"):
                    done = []
                todo = [c for c in target.split("/") if c not in ("", ".")] + todo
                continue
            done.append(comp)
        return "/".join(done)

    def lookup(self, path: str) -> tuple[str, Entry] | None:
        real = self.resolve(path)
        if real is None:
            return None
        entry = self.entries.get(real)
        if entry is not None and entry.kind == "hardlink" and entry.target:
            target = self.entries.get(entry.target)
            if target is not None and entry.fact is None:
                entry = Entry("hardlink", entry.target, target.fact)
        return (real, entry) if entry is not None else None

    def is_file(self, path: str) -> bool:
        found = self.lookup(path)
        return found is not None and found[1].kind in ("file", "hardlink")

    def is_dir(self, path: str) -> bool:
        real = self.resolve(path)
        return real is not None and (real == "" or real in self.dirs)

    def fact(self, path: str, kind: str) -> Any:
        found = self.lookup(path)
        if found is None:
            return None
        fact = found[1].fact
        if isinstance(fact, tuple) and len(fact) == 2 and fact[0] == kind:
            return fact[1]
        return None

    def facts(self, kind: str) -> Iterator[tuple[str, Any]]:
        """Every kept file of ``kind`` with its fact, in path order."""
        for path in sorted(self.entries):
            fact = self.entries[path].fact
            if isinstance(fact, tuple) and len(fact) == 2 and fact[0] == kind:
                yield path, fact[1]

    def files(self, predicate: Callable[[str], bool]) -> Iterator[str]:
        for path in sorted(self.entries):
            if self.entries[path].kind != "symlink" and predicate(path):
                yield path


def _apply(merged: dict[str, Entry], layer: LayerIndex, ancestors: set[str]) -> None:
    """Lay ``layer`` over ``merged`` (OCI image spec, "Applying changesets").

    ``ancestors`` holds at least every directory above a path in ``merged``
    (the root "" included); it is kept up to date here.  Only a hidden path
    among them can have anything beneath it to remove, so most layers skip
    the scan of every merged path.
    """
    hidden: set[str] = set(layer.opaque)
    hidden.update(layer.whiteouts)
    for path, entry in layer.entries.items():
        if entry.kind != "dir":
            hidden.add(path)  # a file or link replaces whatever directory was below
        # A directory (or anything beneath it) replaces a lower non-directory ancestor.
        parent = path if entry.kind == "dir" else path.rpartition("/")[0]
        while parent:
            lower = merged.get(parent)
            if lower is not None and lower.kind != "dir":
                del merged[parent]
            parent = parent.rpartition("/")[0]
    for w in layer.whiteouts:
        merged.pop(w, None)
    hidden &= ancestors
    if hidden:
        for p in [p for p in merged if _under(p, hidden)]:
            del merged[p]
    merged.update(layer.entries)
    for path in layer.entries:
        parent = path.rpartition("/")[0]
        while parent not in ancestors:
            ancestors.add(parent)
            if not parent:
                break
            parent = parent.rpartition("/")[0]


def _under(path: str, prefixes: set[str]) -> bool:
    parent = path.rpartition("/")[0]
    while parent:
        if parent in prefixes:
            return True
        parent = parent.rpartition("/")[0]
    return "" in prefixes  # an opaque marker at the root hides everything below
