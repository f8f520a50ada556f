"""Image references, as skopeo and syft spell them (DESIGN.md, "Image references").

``docker-archive:PATH``, ``oci-archive:PATH``, ``oci:DIR`` (``oci-dir:`` is
syft's synonym), ``dir:ROOTFS``, ``docker:NAME[:TAG|@DIGEST]`` and
``registry:HOST/NAME[:TAG|@DIGEST]``.  A reference without a known transport
is a path when something exists there, otherwise an engine image name.
"""

from __future__ import annotations

import os

from envcheck import _regex
from envcheck.errors import ImageError
from envcheck.record import record

TRANSPORTS = ("docker-archive", "oci-archive", "oci", "dir", "docker", "registry")
_SYNONYMS = {"oci-dir": "oci", "docker-daemon": "docker"}
# A docker reference: [host[:port]/]path[:tag][@sha256:hex]
_NAME = _regex.compile(
    r"^(?:(?:[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+|localhost)(?::\d+)?/|[a-zA-Z0-9-]+:\d+/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$"
)


@record
class ImageRef:
    transport: str
    target: str

    def __str__(self) -> str:
        return f"{self.transport}:{self.target}"


def parse_ref(ref: str) -> ImageRef:
    """Split ``ref`` into transport and target, detecting bare paths and names."""
    text = ref.strip()
    if not text:
        raise ImageError("empty image reference")
    scheme, sep, rest = text.partition(":")
    scheme = _SYNONYMS.get(scheme, scheme)
    if sep and scheme in TRANSPORTS and not (scheme == "docker" and rest.startswith("//")):
        if not rest:
            raise ImageError(f"{text}: nothing after '{scheme}:'")
        if scheme == "docker":
            rest = rest.removeprefix("//")
            _check_name(rest, text)
        return ImageRef(scheme, rest)
    if os.path.lexists(text) or text.startswith(("/", "./", "../", "~")):
        path = os.path.expanduser(text)
        if os.path.isdir(path):
            kind = "oci" if os.path.isfile(os.path.join(path, "oci-layout")) else "dir"
            return ImageRef(kind, text)
        return ImageRef("docker-archive", text)  # the archive reader also reads OCI layouts inside a tar
    _check_name(text, text)
    return ImageRef("docker", text)


def _check_name(name: str, original: str) -> None:
    if not _NAME.match(name):
        raise ImageError(
            f"{original}: not a file or directory, and not an image name "
            "(use docker-archive:PATH, oci-archive:PATH, oci:DIR, dir:ROOTFS, docker:NAME[:TAG] or registry:HOST/NAME)"
        )
