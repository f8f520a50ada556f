"""SPDX JSON: envcheck's snapshots out (2.3, via spdx-tools), any 2.2/2.3 document in.

Out: the document DESCRIBES one package, the snapshot's subject (purpose
``CONTAINER`` for an image, ``OTHER`` for a host, ``APPLICATION`` for a
project), which CONTAINS every package (purpose ``LIBRARY``, a purl external
reference) and runtime (purpose ``APPLICATION``, a ``pkg:generic`` purl).
SPDX 2.3 has no free-form properties, so envcheck's facts (source kind,
platform, env var names, a package's path and active flag) travel as
annotations of type ``OTHER`` whose comment is ``envcheck:NAME=VALUE``.

In: packages with a ``purl`` external reference; the described package's
purpose says image or host; an ``OPERATING-SYSTEM`` package is the
distribution; syft's ``sourceInfo`` ("acquired package info from installed
python package manifest file: /…/METADATA, …") gives a package's location.
"""

from __future__ import annotations

from envcheck import _regex
from envcheck.sbom.model import Component, Doc, Inventory, SbomError, SubjectKind
from envcheck.snapshot import Snapshot

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final


VERSIONS: Final = ("SPDX-2.2", "SPDX-2.3")
_SOURCE_INFO_PATH = _regex.compile(r":\s+(/[^,\s]+)")


# --------------------------------------------------------------------------- reading


def _annotations(doc: Doc) -> dict[str, tuple[str, ...]]:
    props: dict[str, list[str]] = {}
    for a in doc.objects("annotations"):
        comment = a.opt_str("comment") or ""
        name, sep, value = comment.partition("=")
        if sep and name.startswith("envcheck:"):
            props.setdefault(name, []).append(value)
    return {k: tuple(v) for k, v in props.items()}


def _purl(pkg: Doc) -> str | None:
    for ref in pkg.objects("externalRefs"):
        category = (ref.opt_str("referenceCategory") or "").replace("_", "-")
        if category == "PACKAGE-MANAGER" and ref.opt_str("referenceType") == "purl":
            return ref.opt_str("referenceLocator")
    return None


def _described(doc: Doc) -> set[str]:
    ids = set(doc.strings("documentDescribes"))
    doc_id = doc.opt_str("SPDXID") or "SPDXRef-DOCUMENT"
    for rel in doc.objects("relationships"):
        kind = rel.opt_str("relationshipType")
        if kind == "DESCRIBES" and rel.opt_str("spdxElementId") == doc_id:
            ids.add(rel.opt_str("relatedSpdxElement") or "")
        elif kind == "DESCRIBED_BY" and rel.opt_str("relatedSpdxElement") == doc_id:
            ids.add(rel.opt_str("spdxElementId") or "")
    return ids


def _tool(creation: Doc | None) -> str | None:
    for creator in creation.strings("creators") if creation else []:
        if creator.startswith("Tool:"):
            return creator[len("Tool:") :].strip() or None
    return None


def read(data: Any, path: str | None) -> Inventory:
    doc = Doc(data, "", path)
    if "@context" in doc.data:
        raise SbomError("SPDX 3 (JSON-LD) is not supported; SPDX 2.2 and 2.3 JSON are", path=path)
    spdx_version = doc.opt_str("spdxVersion")
    if spdx_version not in VERSIONS:
        raise SbomError(f"SPDX version {spdx_version!r} is not supported (SPDX-2.2, SPDX-2.3)", path=path)
    creation = doc.opt_obj("creationInfo")
    described = _described(doc)
    subject: SubjectKind | None = None
    subject_ref = None
    distro = None
    components: list[Component] = []
    for pkg in doc.objects("packages"):
        name = pkg.opt_str("name")
        if name is None:
            raise pkg.fail("name", "a string")
        purpose = pkg.opt_str("primaryPackagePurpose")
        version = pkg.opt_str("versionInfo") or None
        if pkg.opt_str("SPDXID") in described:
            subject_ref = subject_ref or name
            subject = "image" if purpose == "CONTAINER" else subject or "host"
            continue
        if purpose == "OPERATING-SYSTEM":
            distro = f"{name} {version}" if version else name
            continue
        source_info = pkg.opt_str("sourceInfo") or ""
        components.append(
            Component(
                name=name,
                version=version,
                purl=_purl(pkg),
                kind=purpose,
                locations=tuple(_SOURCE_INFO_PATH.findall(source_info)),
                props=_annotations(pkg),
            )
        )
    return Inventory(
        format=str(spdx_version),
        components=tuple(components),
        subject=subject,
        subject_ref=subject_ref or doc.opt_str("name"),
        captured_at=(creation.opt_str("created") if creation else None) or "",
        tool=_tool(creation),
        distro=distro,
        props=_annotations(doc),
    )


# --------------------------------------------------------------------------- writing


def write(snap: Snapshot) -> str:
    """The snapshot as SPDX 2.3 JSON; the same snapshot always gives the same bytes."""
    import json
    from datetime import datetime, timezone

    from spdx_tools.spdx.jsonschema.document_converter import DocumentConverter
    from spdx_tools.spdx.model.actor import Actor, ActorType
    from spdx_tools.spdx.model.annotation import Annotation, AnnotationType
    from spdx_tools.spdx.model.document import CreationInfo, Document
    from spdx_tools.spdx.model.package import ExternalPackageRef, ExternalPackageRefCategory, Package, PackagePurpose
    from spdx_tools.spdx.model.relationship import Relationship, RelationshipType
    from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion
    from spdx_tools.spdx.writer.write_utils import convert, validate_and_deduplicate

    from envcheck import __version__
    from envcheck.sbom.mapping import captured_datetime, document_properties, entries, serial

    created = captured_datetime(snap.source.captured_at) or datetime.now(timezone.utc).replace(microsecond=0)
    tool = Actor(ActorType.TOOL, f"envcheck-{__version__}")
    creation = CreationInfo(
        spdx_version="SPDX-2.3",
        spdx_id="SPDXRef-DOCUMENT",
        name=f"envcheck {snap.kind} {snap.source.ref}".strip(),
        # The spec asks for a unique URI per document; spdx.org/spdxdocs is its suggested prefix.
        document_namespace=f"https://spdx.org/spdxdocs/envcheck-{snap.kind}-{serial(snap)}",
        creators=[tool],
        created=created.astimezone(timezone.utc).replace(tzinfo=None),
    )

    def note(spdx_id: str, name: str, value: str) -> Annotation:
        return Annotation(spdx_id, AnnotationType.OTHER, tool, creation.created, f"{name}={value}")

    purpose = {
        "image": PackagePurpose.CONTAINER,
        "host": PackagePurpose.OTHER,
        "project": PackagePurpose.APPLICATION,
    }[snap.kind]
    subject = Package(
        spdx_id="SPDXRef-Subject",
        name=snap.source.ref or snap.kind,
        download_location=SpdxNoAssertion(),
        files_analyzed=False,
        primary_package_purpose=purpose,
    )
    packages = [subject]
    annotations = [note("SPDXRef-DOCUMENT", n, v) for n, v in document_properties(snap)]
    relationships = [Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, "SPDXRef-Subject")]
    for i, e in enumerate(entries(snap)):
        spdx_id = f"SPDXRef-Package-{i}"
        packages.append(
            Package(
                spdx_id=spdx_id,
                name=e.name,
                download_location=SpdxNoAssertion(),
                version=e.version,
                files_analyzed=False,
                external_references=[ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", e.purl)],
                primary_package_purpose=PackagePurpose.APPLICATION if e.kind == "runtime" else PackagePurpose.LIBRARY,
            )
        )
        annotations.extend(note(spdx_id, n, v) for n, v in e.props)
        relationships.append(Relationship("SPDXRef-Subject", RelationshipType.CONTAINS, spdx_id))
    document = Document(creation, packages=packages, annotations=annotations, relationships=relationships)
    # Validity is proven against the official SPDX 2.3 schema (and spdx-tools' validator) in tests;
    # validating every document here would cost seconds on a large image for no user-visible gain.
    converter = DocumentConverter()  # type: ignore[no-untyped-call]  # spdx-tools leaves __init__ unannotated
    data: dict[str, Any] = convert(validate_and_deduplicate(document, False, True), converter)
    for pkg in data.get("packages", []):
        for ref in pkg.get("externalRefs", []):
            # spdx-tools writes PACKAGE_MANAGER; the SPDX 2.3 schema's enum (and the
            # spec's preferred form, spdx/spdx-spec#792) is PACKAGE-MANAGER.
            ref["referenceCategory"] = str(ref.get("referenceCategory", "")).replace("_", "-")
    return json.dumps(data, indent=2) + "\n"
