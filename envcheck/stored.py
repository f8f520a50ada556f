"""A stored snapshot, whatever wrote it: envcheck's own JSON or an SBOM.

``envcheck diff``, ``scan --against`` and ``dockerfile --from`` take "a
snapshot file".  That is an ``envcheck.snapshot/1`` JSON file, ``sbom:PATH``
(CycloneDX, SPDX or syft JSON), or a ``.json`` file that turns out to be an
SBOM: the document's own markers say which, so a user need not.
"""

from __future__ import annotations

from envcheck.snapshot import SCHEMA, Snapshot


def load_stored(ref: str) -> Snapshot:
    from envcheck.sbom.read import PREFIX, detect, load_json, load_sbom, to_snapshot

    if ref.startswith(PREFIX):
        return load_sbom(ref)
    data = load_json(ref)
    if not (isinstance(data, dict) and data.get("schema") == SCHEMA) and detect(data) is not None:
        return to_snapshot(data, ref)
    return Snapshot.from_dict(data, path=ref)
