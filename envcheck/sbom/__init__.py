"""SBOMs in and out: CycloneDX and SPDX as snapshots (docs/sbom.md).

Out: :func:`render` writes a snapshot as CycloneDX 1.6 or SPDX 2.3 JSON.
In: :func:`envcheck.sbom.read.load_sbom` reads CycloneDX 1.4–1.6, SPDX
2.2/2.3 or syft JSON as a snapshot (``sbom:PATH`` wherever a snapshot file
is accepted).  One module per format (``cyclonedx``, ``spdx``, ``syft``),
one mapping between the two models (``mapping``), one bounded loader
(``read``).  The SBOM libraries are the ``sbom`` extra and load only here.
"""

from __future__ import annotations

from envcheck.errors import EnvcheckError
from envcheck.snapshot import Snapshot

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final, Literal

    SnapshotFormat = Literal["envcheck", "cyclonedx", "spdx"]
FORMATS: Final[tuple[SnapshotFormat, ...]] = ("envcheck", "cyclonedx", "spdx")


def render(snapshot: Snapshot, fmt: SnapshotFormat) -> str:
    """The snapshot in ``fmt``: envcheck's own JSON, CycloneDX 1.6 or SPDX 2.3."""
    if fmt == "envcheck":
        return snapshot.to_json()
    try:
        if fmt == "cyclonedx":
            from envcheck.sbom import cyclonedx

            return cyclonedx.write(snapshot)
        if fmt == "spdx":
            from envcheck.sbom import spdx

            return spdx.write(snapshot)
    except ImportError as exc:
        raise EnvcheckError(
            f"--format {fmt} needs the SBOM libraries ({exc.name} is missing): pip install 'envcheck[sbom]'"
        ) from None
    raise EnvcheckError(f"--format: unknown snapshot format {fmt!r} (choose from {', '.join(FORMATS)})")
