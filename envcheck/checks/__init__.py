"""The check kinds rule files can name, in one explicit registry.

A rule file says ``check = "package-drift"`` and sets ``[params]``; the
engine looks the kind up here, validates the parameters against the kind's
schema when the rule is loaded, and calls ``CHECKS[kind].run(rule, context)``.
Adding a kind is adding a module and a line below.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from envcheck.checks import (
    base_image,
    declared_runtime,
    dockerfile_install,
    env_policy,
    env_presence,
    env_value,
    lock_sync,
    native_library,
    package_drift,
    package_policy,
    package_set,
    platform,
    requirement_satisfied,
    runtime_requires,
    runtime_version,
    secret_in_image,
    unpinned_requirement,
    version_files,
    wheel_availability,
)
from envcheck.checks._base import Check, Context, Mode, Param

CHECKS: Final[Mapping[str, Check]] = {
    "runtime-version": runtime_version.CHECK,
    "platform": platform.CHECK,
    "wheel-availability": wheel_availability.CHECK,
    "native-library": native_library.CHECK,
    "package-drift": package_drift.CHECK,
    "package-set": package_set.CHECK,
    "requirement-satisfied": requirement_satisfied.CHECK,
    "runtime-requires": runtime_requires.CHECK,
    "lock-sync": lock_sync.CHECK,
    "version-files": version_files.CHECK,
    "declared-runtime": declared_runtime.CHECK,
    "unpinned-requirement": unpinned_requirement.CHECK,
    "base-image": base_image.CHECK,
    "dockerfile-install": dockerfile_install.CHECK,
    "env-presence": env_presence.CHECK,
    "env-value": env_value.CHECK,
    "secret-in-image": secret_in_image.CHECK,
    "package-policy": package_policy.CHECK,
    "env-policy": env_policy.CHECK,
}

# Kinds no built-in rule uses: they exist for the rule files a project writes.
POLICY_KINDS: Final[frozenset[str]] = frozenset({"package-policy", "env-policy"})

__all__ = ["CHECKS", "POLICY_KINDS", "Check", "Context", "Mode", "Param"]
