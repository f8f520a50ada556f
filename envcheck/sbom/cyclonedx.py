"""CycloneDX JSON: envcheck's snapshots out (1.6, via cyclonedx-python-lib), any 1.2–1.7 BOM in.

Out: the snapshot's subject is ``metadata.component`` (``container`` for an
image, ``platform`` for a host, ``application`` for a project); each package
is a ``library`` with its purl; interpreters are ``platform`` components and
npm/yarn/pnpm ``application`` components, both with ``pkg:generic`` purls as
syft names interpreter binaries; everything CycloneDX has no field for
(source kind, platform, env var names, a package's path and whether its
environment is the active one) is an ``envcheck:*`` property.

In: components (nested ones too) with their purls, syft's
``syft:location:N:path`` properties as locations, an ``operating-system``
component as the distribution, ``metadata.component`` of type ``container``
as an image.
"""

from __future__ import annotations

from envcheck.sbom.model import Component, Doc, Inventory, SbomError, SubjectKind
from envcheck.snapshot import Snapshot

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final


# 1.4–1.6 is the contract (DESIGN.md); 1.2/1.3 (what many older plugins still
# emit) and 1.7 carry components, purls and metadata in the same fields, so
# they read the same way rather than being refused.
VERSIONS: Final = ("1.2", "1.3", "1.4", "1.5", "1.6", "1.7")
# Components nest (an image's layers, a library's vendored parts); no real BOM
# nests this deep, a hostile one can.
MAX_DEPTH: Final = 64
# Interpreters are runtime environments ("platform"); npm, yarn and pnpm are tools ("application").
INTERPRETERS: Final = frozenset({"python", "node"})


# --------------------------------------------------------------------------- reading


def _props(doc: Doc) -> tuple[dict[str, tuple[str, ...]], tuple[str, ...]]:
    """``envcheck:*`` properties by name, and syft's ``syft:location:N:path`` values in order."""
    props: dict[str, list[str]] = {}
    locations: list[tuple[int, str]] = []
    for p in doc.objects("properties"):
        name, value = p.opt_str("name"), p.opt_str("value")
        if name is None or value is None:
            continue
        if name.startswith("envcheck:"):
            props.setdefault(name, []).append(value)
        elif name.startswith("syft:location:") and name.endswith(":path"):
            index = name[len("syft:location:") : -len(":path")]
            if index.isdigit():
                locations.append((int(index), value))
    return {k: tuple(v) for k, v in props.items()}, tuple(v for _, v in sorted(locations))


def _component(doc: Doc) -> Component:
    name = doc.opt_str("name")
    if name is None:
        raise doc.fail("name", "a string")
    props, locations = _props(doc)
    return Component(
        name=name,
        version=doc.opt_str("version") or None,
        purl=doc.opt_str("purl"),
        kind=doc.opt_str("type"),
        locations=locations,
        props=props,
    )


def _tool(meta: Doc) -> str | None:
    tools = meta.data.get("tools")
    if isinstance(tools, dict):  # 1.5+: {"components": [...], "services": [...]}
        listed = Doc(tools, "metadata.tools", meta.path).objects("components")
    else:  # 1.4: a list of {vendor, name, version}
        listed = meta.objects("tools")
    for t in listed:
        name = t.opt_str("name")
        if name:
            version = t.opt_str("version")
            return f"{name} {version}" if version else name
    return None


def read(data: Any, path: str | None) -> Inventory:
    doc = Doc(data, "", path)
    version = doc.opt_str("specVersion")
    if version not in VERSIONS:
        raise SbomError(f"CycloneDX specVersion {version!r} is not supported (1.2–1.7 JSON)", path=path)
    meta = doc.opt_obj("metadata") or Doc({}, "metadata", path)
    subject: SubjectKind | None = None
    subject_ref = None
    props: dict[str, tuple[str, ...]] = {}
    root = meta.opt_obj("component")
    if root is not None:
        subject_ref = root.opt_str("name")
        subject = "image" if root.opt_str("type") == "container" else "host"
    props, _ = _props(meta)
    components: list[Component] = []
    distro = None
    stack: list[tuple[Doc, int]] = [(c, 0) for c in reversed(list(doc.objects("components")))]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise SbomError(f"{item.where}: components nested more than {MAX_DEPTH} deep", path=path)
        c = _component(item)
        if c.kind == "operating-system":
            distro = f"{c.name} {c.version}".strip() if c.version else c.name
        else:
            components.append(c)
        stack.extend((sub, depth + 1) for sub in reversed(list(item.objects("components"))))
    return Inventory(
        format=f"CycloneDX {version}",
        components=tuple(components),
        subject=subject,
        subject_ref=subject_ref,
        captured_at=meta.opt_str("timestamp") or "",
        tool=_tool(meta),
        distro=distro,
        props=props,
    )


# --------------------------------------------------------------------------- writing


def write(snap: Snapshot) -> str:
    """The snapshot as CycloneDX 1.6 JSON; the same snapshot always gives the same bytes."""
    import uuid
    import warnings
    from datetime import datetime, timezone

    from cyclonedx.model import Property
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.bom_ref import BomRef
    from cyclonedx.model.component import Component as CdxComponent
    from cyclonedx.model.component import ComponentType
    from cyclonedx.output.json import JsonV1Dot6
    from packageurl import PackageURL

    from envcheck import __version__
    from envcheck.sbom.mapping import captured_datetime, document_properties, entries, serial

    root_type = {
        "image": ComponentType.CONTAINER,
        "host": ComponentType.PLATFORM,
        "project": ComponentType.APPLICATION,
    }[snap.kind]
    root = CdxComponent(type=root_type, name=snap.source.ref or snap.kind, bom_ref=BomRef("envcheck:subject"))
    metadata = BomMetaData(
        timestamp=captured_datetime(snap.source.captured_at) or datetime.now(timezone.utc).replace(microsecond=0),
        component=root,
        properties=[Property(name=n, value=v) for n, v in document_properties(snap)],
    )
    metadata.tools.components.add(CdxComponent(type=ComponentType.APPLICATION, name="envcheck", version=__version__))
    bom = Bom(serial_number=uuid.UUID(serial(snap)), metadata=metadata)
    children = []
    for e in entries(snap):
        ctype = ComponentType.LIBRARY
        if e.kind == "runtime":
            ctype = ComponentType.PLATFORM if e.name in INTERPRETERS else ComponentType.APPLICATION
        comp = CdxComponent(
            type=ctype,
            name=e.name,
            version=e.version,
            purl=PackageURL.from_string(e.purl),
            bom_ref=BomRef(e.ref),
            properties=[Property(name=n, value=v) for n, v in e.props],
        )
        bom.components.add(comp)
        children.append(comp)
    bom.register_dependency(root, children)
    with warnings.catch_warnings():
        # The library warns about BOM shapes it finds odd; the output is validated against the schema in tests.
        warnings.simplefilter("ignore")
        text: str = JsonV1Dot6(bom).output_as_string(indent=2)
    return text + "\n"
