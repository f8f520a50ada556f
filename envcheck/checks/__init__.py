"""The check kinds rule files can name, in one explicit registry.

A rule file says ``check = "package-drift"`` and sets ``[params]``; the
engine looks the kind up here, validates the parameters against the kind's
schema when the rule is loaded, and calls ``CHECKS[kind].run(rule, context)``.
Adding a kind is adding a module and a line below.

The table names each kind's module and the contexts it runs in, and a kind's
module is imported the first time the kind is looked up: ``envcheck lint``
runs only the ``static`` kinds and should not pay for importing the drift,
wheel and policy checks on every commit (issue 15).  A test holds each line's
modes equal to the module's own ``CHECK.modes``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from envcheck.checks._base import Check, Context, Param

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

    from envcheck.checks._base import Mode


# kind -> ("module:attribute", the modes it runs in)
_TABLE: Final[Mapping[str, tuple[str, tuple[Mode, ...]]]] = {
    "runtime-version": ("envcheck.checks.runtime_version:CHECK", ("pair",)),
    "platform": ("envcheck.checks.platform:CHECK", ("pair",)),
    "wheel-availability": ("envcheck.checks.wheel_availability:CHECK", ("pair",)),
    "native-library": ("envcheck.checks.native_library:CHECK", ("pair",)),
    "package-drift": ("envcheck.checks.package_drift:CHECK", ("pair",)),
    "package-set": ("envcheck.checks.package_set:CHECK", ("pair", "target")),
    "requirement-satisfied": ("envcheck.checks.requirement_satisfied:CHECK", ("target",)),
    "runtime-requires": ("envcheck.checks.runtime_requires:CHECK", ("target",)),
    "lock-sync": ("envcheck.checks.lock_sync:CHECK", ("static", "target")),
    "version-files": ("envcheck.checks.version_files:CHECK", ("static",)),
    "declared-runtime": ("envcheck.checks.declared_runtime:CHECK", ("target",)),
    "unpinned-requirement": ("envcheck.checks.unpinned_requirement:CHECK", ("static",)),
    "base-image": ("envcheck.checks.base_image:CHECK", ("static",)),
    "dockerfile-install": ("envcheck.checks.dockerfile_install:CHECK", ("static",)),
    "env-presence": ("envcheck.checks.env_presence:CHECK", ("pair",)),
    "env-value": ("envcheck.checks.env_value:CHECK", ("pair",)),
    "secret-in-image": ("envcheck.checks.secret_in_image:CHECK", ("static", "target")),
    "package-policy": ("envcheck.checks.package_policy:CHECK", ("target",)),
    "env-policy": ("envcheck.checks.env_policy:CHECK", ("target",)),
}


class _Registry(Mapping[str, Check]):
    """``CHECKS[kind]`` imports the kind's module on first use; iterating lists every kind without importing."""

    def __init__(self, table: Mapping[str, tuple[str, tuple[Mode, ...]]]) -> None:
        self._table = table
        self._loaded: dict[str, Check] = {}

    def __getitem__(self, kind: str) -> Check:
        check = self._loaded.get(kind)
        if check is None:
            module, _, attribute = self._table[kind][0].partition(":")
            check = getattr(importlib.import_module(module), attribute)
            if not isinstance(check, Check):
                raise TypeError(f"{module}:{attribute} is not a Check")
            self._loaded[kind] = check
        return check

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    def __contains__(self, kind: object) -> bool:
        return kind in self._table


CHECKS: Final[Mapping[str, Check]] = _Registry(_TABLE)

#: The contexts each kind runs in, known without importing the kind.
MODES: Final[Mapping[str, tuple[Mode, ...]]] = {kind: modes for kind, (_, modes) in _TABLE.items()}

# Kinds no built-in rule uses: they exist for the rule files a project writes.
POLICY_KINDS: Final[frozenset[str]] = frozenset({"package-policy", "env-policy"})

__all__ = ["CHECKS", "MODES", "POLICY_KINDS", "Check", "Context", "Param"]
