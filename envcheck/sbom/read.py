"""Reading an SBOM file: bounded, strict, one line on failure.

A file is read with a size cap, parsed as JSON (deep nesting, huge numbers
and invalid text are refused, not crashed on), recognised by its own markers
(CycloneDX's ``bomFormat``, SPDX's ``spdxVersion``, syft's ``descriptor``)
and handed to that format's reader.  Every failure is an
:class:`~envcheck.sbom.model.SbomError` naming the file.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from envcheck.sbom.model import Inventory, SbomError
from envcheck.snapshot import Snapshot

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final


# syft's JSON of a large image (every file's digests) runs to tens of MiB;
# beyond this the JSON parse alone would take gigabytes of memory.
MAX_BYTES: Final = 256 * 1024 * 1024
PREFIX: Final = "sbom:"
SUPPORTED: Final = "CycloneDX 1.2–1.7, SPDX 2.2/2.3 or syft JSON"


def load_json(path: str, *, limit: int = MAX_BYTES) -> Any:
    """A JSON file as Python values, or one clear error."""
    from envcheck._io import read_text

    text = read_text(path, limit=limit)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SbomError(f"malformed JSON: {exc.msg}", path=path, line=exc.lineno) from None
    except RecursionError:
        raise SbomError("malformed JSON: nested too deeply", path=path) from None
    except ValueError as exc:
        # Integers past Python's digit limit (CVE-2020-10735 hardening) and the like.
        raise SbomError(f"malformed JSON: {str(exc).split(':')[0]}", path=path) from None


def detect(data: Any) -> str | None:
    """``cyclonedx`` / ``spdx`` / ``syft`` when ``data`` is one of those documents, else None."""
    if not isinstance(data, dict):
        return None
    if data.get("bomFormat") == "CycloneDX":
        return "cyclonedx"
    if "spdxVersion" in data or ("@context" in data and "spdx" in str(data.get("@context")).lower()):
        return "spdx"
    descriptor = data.get("descriptor")
    if isinstance(descriptor, dict) and descriptor.get("name") == "syft" and "artifacts" in data:
        return "syft"
    return None


def _readers() -> dict[str, Callable[[Any, str | None], Inventory]]:
    from envcheck.sbom import cyclonedx, spdx, syft

    return {"cyclonedx": cyclonedx.read, "spdx": spdx.read, "syft": syft.read}


def to_snapshot(data: Any, path: str | None) -> Snapshot:
    """A parsed SBOM document as a snapshot."""
    from envcheck.sbom.mapping import to_snapshot as from_inventory

    fmt = detect(data)
    if fmt is None:
        raise SbomError(f"not an SBOM (expected {SUPPORTED})", path=path)
    try:
        inventory = _readers()[fmt](data, path)
        return from_inventory(inventory, path)
    except RecursionError:
        raise SbomError("nested too deeply", path=path) from None


def load_sbom(path: str) -> Snapshot:
    """``sbom:PATH`` (the prefix is optional here)."""
    if path.startswith(PREFIX):
        path = path[len(PREFIX) :]
    if not path:
        raise SbomError("sbom: needs a file (sbom:PATH)")
    return to_snapshot(load_json(path), path)
