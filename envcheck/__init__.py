"""envcheck: capture the runtime a project really runs on, diff it, and pin it.

The library is usable without the CLI: scanners return :class:`Snapshot`
values (:mod:`envcheck.snapshot`), the engine turns snapshots into findings,
and the generator writes Dockerfiles.
"""

__version__ = "0.1.0"
