"""What every SBOM reader hands on: one neutral inventory, whatever the format.

CycloneDX, SPDX and syft's JSON each say "this component, this version, found
here" in their own words.  Each reader turns its format into an
:class:`Inventory` of :class:`Component` values; one mapping
(:mod:`envcheck.sbom.mapping`) turns any inventory into a
:class:`~envcheck.snapshot.Snapshot`.  So a fourth format is a fourth reader,
not a fourth copy of the rules about purls, interpreters and platforms.

:class:`Doc` is the readers' typed, bounded access to parsed JSON: every type
error names the key path ("components[3].purl: expected a string"), so a
hostile or broken document ends as one line, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

from envcheck.errors import EnvcheckError
from envcheck.record import field, record
from envcheck.snapshot import EnvVar

SubjectKind = Literal["host", "image", "project"]


class SbomError(EnvcheckError):
    """An SBOM file cannot be read: malformed, of an unsupported version, or too large."""


@record
class Component:
    """One component/package/artifact as an SBOM lists it.

    ``purl`` is the package URL as written (parsed by the mapping, which
    knows which ecosystems matter); ``kind`` is the format's own type word
    (CycloneDX ``library``/``operating-system``, syft ``python``/``npm``/``binary``,
    SPDX ``primaryPackagePurpose``); ``locations`` are the files the tool
    read it from; ``props`` are the ``envcheck:*`` properties envcheck's own
    SBOMs carry (several values per name allowed).
    """

    name: str
    version: str | None = None
    purl: str | None = None
    kind: str | None = None
    locations: tuple[str, ...] = ()
    props: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def prop(self, name: str) -> str | None:
        values = self.props.get(name)
        return values[0] if values else None


@record
class Inventory:
    """A whole SBOM in neutral terms.

    ``subject`` is what the SBOM describes (``image`` for a container,
    ``host`` for a directory or machine; ``None`` when it does not say);
    ``distro`` is ``"debian 12"``-style; ``props`` are document-level
    ``envcheck:*`` properties.
    """

    format: str  # "CycloneDX 1.6", "SPDX-2.3", "syft-json 16.0.18"
    components: tuple[Component, ...] = ()
    subject: SubjectKind | None = None
    subject_ref: str | None = None
    captured_at: str = ""
    tool: str | None = None
    distro: str | None = None
    arch: str | None = None
    props: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Only syft's JSON of an image carries the image config: its variables (values
    # already filtered by envcheck.secrets) and facts. None means "not recorded".
    env: Mapping[str, EnvVar] | None = None
    image: Mapping[str, Any] | None = None

    def prop(self, name: str) -> str | None:
        values = self.props.get(name)
        return values[0] if values else None


# --------------------------------------------------------------------------- typed access


class Doc:
    """A JSON object with typed getters whose errors name the SBOM file and the key path."""

    __slots__ = ("data", "path", "where")

    def __init__(self, data: Any, where: str, path: str | None) -> None:
        if not isinstance(data, dict):
            raise SbomError(f"{where or 'document'}: expected an object", path=path)
        self.data: dict[str, Any] = data
        self.where = where
        self.path = path

    def _at(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str, expected: str) -> SbomError:
        return SbomError(f"{self._at(key)}: expected {expected}", path=self.path)

    def opt_str(self, key: str) -> str | None:
        v = self.data.get(key)
        if v is None:
            return None
        if not isinstance(v, str):
            raise self.fail(key, "a string")
        return v

    def opt_obj(self, key: str) -> Doc | None:
        v = self.data.get(key)
        if v is None:
            return None
        return Doc(v, self._at(key), self.path)

    def array(self, key: str) -> list[Any]:
        v = self.data.get(key)
        if v is None:
            return []
        if not isinstance(v, list):
            raise self.fail(key, "a list")
        return v

    def objects(self, key: str) -> Iterator[Doc]:
        for i, item in enumerate(self.array(key)):
            yield Doc(item, f"{self._at(key)}[{i}]", self.path)

    def strings(self, key: str) -> list[str]:
        items = self.array(key)
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise SbomError(f"{self._at(key)}[{i}]: expected a string", path=self.path)
        return items
