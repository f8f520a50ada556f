"""Version questions shared by the declared-vs-installed checks, answered with packaging and NpmSpec."""

from __future__ import annotations

from functools import lru_cache

from envcheck._pep440 import final_satisfies


@lru_cache(maxsize=4096)
def pep440_satisfies(version: str, specifier: str) -> bool | None:
    """Does ``version`` satisfy the PEP 440 ``specifier``? ``None`` when either cannot be parsed."""
    simple = final_satisfies(version, specifier)
    if simple is not None:
        return simple  # final releases and plain clauses: packaging's answer without importing it
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    try:
        spec = SpecifierSet(specifier)
        parsed = Version(version)
    except (InvalidSpecifier, InvalidVersion):
        return None
    # An installed pre-release was chosen by someone; judge it by the numbers.
    return spec.contains(parsed, prereleases=True)


def satisfies(ecosystem: str, version: str, specifier: str) -> bool | None:
    if not specifier.strip():
        return True
    if ecosystem == "python":
        return pep440_satisfies(version, specifier)
    from envcheck import npm_semver

    return npm_semver.satisfies(version, specifier)


def partial_satisfies(ecosystem: str, version: str, specifier: str) -> bool | None:
    """Could some release named by a partial version (``3.11``, ``20``) satisfy ``specifier``?

    ``3.11`` in ``.python-version`` means "a 3.11.x", so it agrees with
    ``>=3.11.4``; we try the lowest and a very high completion and accept
    either.
    """
    parts = version.split(".")
    if len(parts) >= 3 or not all(p.isdigit() for p in parts):
        return satisfies(ecosystem, version, specifier)
    low = ".".join(parts + ["0"] * (3 - len(parts)))
    high = ".".join(parts + ["99999"] * (3 - len(parts)))
    answers = [satisfies(ecosystem, v, specifier) for v in (low, high)]
    if any(a is True for a in answers):
        return True
    if all(a is None for a in answers):
        return None
    # e.g. "3.11" vs ">=3.11.4,<3.11.6": neither end fits but a middle might.
    if ecosystem == "python" and len(parts) == 2:
        for patch in range(0, 40):
            if satisfies(ecosystem, f"{version}.{patch}", specifier):
                return True
    return False
