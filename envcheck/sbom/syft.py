"""syft's own JSON (``syft scan -o json``) in.

Artifacts carry a type (``python``, ``npm``, ``binary``, ``deb`` …), a purl
and the files syft read them from; ``distro`` names the distribution and
``source`` says whether an image or a directory was scanned (with the
image's architecture).  Fields are read by name, so any schema version that
keeps them (syft 0.x to 1.x do) reads the same.
"""

from __future__ import annotations

from typing import Any

from envcheck.sbom.model import Component, Doc, Inventory, SbomError, SubjectKind


def read(data: Any, path: str | None) -> Inventory:
    doc = Doc(data, "", path)
    if not isinstance(doc.data.get("artifacts"), list):
        raise doc.fail("artifacts", "a list")
    components: list[Component] = []
    for a in doc.objects("artifacts"):
        name = a.opt_str("name")
        if name is None:
            raise a.fail("name", "a string")
        locations = [loc.opt_str("path") for loc in a.objects("locations")]
        components.append(
            Component(
                name=name,
                version=a.opt_str("version") or None,
                purl=a.opt_str("purl") or None,
                kind=a.opt_str("type"),
                locations=tuple(p for p in locations if p),
            )
        )
    source = doc.opt_obj("source")
    subject: SubjectKind | None = None
    ref = arch = None
    if source is not None:
        subject = "image" if source.opt_str("type") == "image" else "host"
        meta = source.opt_obj("metadata")
        ref = source.opt_str("name")
        if meta is not None and subject == "image":
            arch = meta.opt_str("architecture")
            tags = meta.strings("tags")
            ref = tags[0] if tags else meta.opt_str("userInput") or ref
    distro = doc.opt_obj("distro")
    shown = None
    if distro is not None:
        ident = distro.opt_str("id") or distro.opt_str("name")
        ver = distro.opt_str("versionID") or distro.opt_str("version")
        shown = f"{ident} {ver}" if ident and ver else ident
    descriptor = doc.opt_obj("descriptor")
    tool = None
    if descriptor is not None:
        tool = " ".join(x for x in (descriptor.opt_str("name"), descriptor.opt_str("version")) if x) or None
    schema = doc.opt_obj("schema")
    version = schema.opt_str("version") if schema is not None else None
    if version is not None and not version[:1].isdigit():
        raise SbomError(f"schema.version: {version!r} is not a syft JSON schema version", path=path)
    return Inventory(
        format=f"syft JSON {version}" if version else "syft JSON",
        components=tuple(components),
        subject=subject,
        subject_ref=ref,
        tool=tool,
        distro=shown,
        arch=arch,
    )
