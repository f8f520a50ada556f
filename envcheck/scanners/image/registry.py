"""The ``registry:`` source: an image read straight from a registry, no engine.

It adapts :class:`envcheck.distribution.RegistryClient` to the random-access
:class:`~.sources.BlobStore` interface, so platform selection, digest checks
and the layer walk are exactly those of an ``oci:`` layout; layers stream
from the network into the walker and are never stored.
"""

from __future__ import annotations

import json
from typing import IO, cast

from envcheck.distribution import INDEX_TYPES, RegistryClient, parse_registry_ref
from envcheck.errors import ImageError


class RegistryStore:
    # open_blob's stream hashes what passes and raises at its end unless the
    # bytes match the digest asked for: the walk need not hash them again.
    verifies_blobs = True

    def __init__(self, target: str, *, insecure_registries: tuple[str, ...] = ()) -> None:
        self.ref = parse_registry_ref(target)
        self.what = f"registry:{self.ref}"
        self.client = RegistryClient(self.ref, insecure_registries=insecure_registries)
        # Child manifests of an index live under /manifests/, not /blobs/.
        self._manifests: set[str] = set()

    def top(self) -> bytes:
        media, _digest, body = self.client.fetch_manifest()
        try:
            doc = json.loads(body)
        except ValueError:
            raise ImageError(f"{self.what}: manifest is not valid JSON") from None
        if isinstance(doc, dict) and (doc.get("mediaType") in INDEX_TYPES or media in INDEX_TYPES):
            for entry in doc.get("manifests") or ():
                if isinstance(entry, dict) and isinstance(entry.get("digest"), str):
                    self._manifests.add(entry["digest"])
        return body

    def read_blob(self, digest: str, limit: int) -> bytes:
        if digest in self._manifests:
            return self.client.fetch_manifest(digest)[2]
        return self.client.read_blob(digest, None, "blob", limit=limit)

    def open_blob(self, digest: str) -> IO[bytes]:
        return cast(IO[bytes], self.client.open_blob(digest, None, f"{self.what}: layer {digest[:19]}"))

    def close(self) -> None:
        self.client.close()
