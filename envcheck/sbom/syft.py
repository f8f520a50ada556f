"""syft's own JSON (``syft scan -o json``) in.

Artifacts carry a type (``python``, ``npm``, ``binary``, ``deb`` …), a purl
and the files syft read them from; ``distro`` names the distribution and
``source`` says whether an image or a directory was scanned (with the
image's architecture and, base64-encoded, its config: the environment
variables and facts envcheck's image scanner would record).  Fields are read by name, so any schema version that
keeps them (syft 0.x to 1.x do) reads the same.
"""

from __future__ import annotations

from envcheck.sbom.model import Component, Doc, Inventory, SbomError, SubjectKind
from envcheck.snapshot import EnvVar

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final


# An image config is a few KiB; syft embeds it base64-encoded.
MAX_CONFIG: Final = 4 * 1024 * 1024


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
    env: dict[str, EnvVar] | None = None
    image: dict[str, Any] | None = None
    if source is not None:
        subject = "image" if source.opt_str("type") == "image" else "host"
        meta = source.opt_obj("metadata")
        ref = source.opt_str("name")
        if meta is not None and subject == "image":
            arch = meta.opt_str("architecture")
            tags = meta.strings("tags")
            ref = tags[0] if tags else meta.opt_str("userInput") or ref
            config = _image_config(meta)
            if config is not None:
                env, image = _config_facts(config)
                if meta.opt_str("imageID"):
                    image["digest"] = meta.opt_str("imageID")
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
        env=env,
        image=image,
    )


def _image_config(meta: Doc) -> dict[str, Any] | None:
    """The image config syft embeds (base64 JSON in ``source.metadata.config``), bounded and strict."""
    import base64
    import binascii
    import json

    raw = meta.opt_str("config")
    if not raw:
        return None
    if len(raw) > MAX_CONFIG:
        raise SbomError(f"{meta.where}.config: larger than {MAX_CONFIG // 1024} KiB", path=meta.path)
    try:
        config = json.loads(base64.b64decode(raw, validate=True))
    except (binascii.Error, ValueError, RecursionError):
        raise meta.fail("config", "base64 of the image config JSON") from None
    if not isinstance(config, dict):
        raise meta.fail("config", "base64 of the image config JSON object")
    return config


def _config_facts(config: dict[str, Any]) -> tuple[dict[str, EnvVar], dict[str, Any]]:
    """Variables and facts as envcheck's image scanner records them from the same config.

    Values pass :func:`envcheck.secrets.keep_value` (no project allow-list is
    known here, so only the built-in safe names keep theirs); the names of
    secret-looking values go to ``secret_env`` for EC503, values never.
    """
    from envcheck.scanners.image.detectors import config_section, env_pairs, image_facts
    from envcheck.secrets import keep_value

    pairs = env_pairs(config)
    env = {name: EnvVar(set=True, value=value if keep_value(name, value) else None) for name, value in pairs.items()}
    section = config_section(config)
    workdir = str(section.get("WorkingDir") or "/").strip("/")
    facts = image_facts(config, str(section.get("User") or ""), workdir)
    return env, {k: v for k, v in facts.items() if v is not None}  # as the image scanner keeps them
