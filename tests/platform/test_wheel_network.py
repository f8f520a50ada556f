"""EC214's index client against the package index this machine's pip is configured for.

The facts are of an old release (numpy 1.26.4, Feb 2024): a release's file
list never changes once published, so the test does not depend on today's
releases.  The index itself is read from pip's configuration, never named here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from envcheck.platform_tags import WheelTags, platform_tags
from envcheck.pyindex import IndexClient, ProjectPage, index_config, match_release


@pytest.mark.network
def test_numpy_1_26_4_has_cp312_wheels_for_glibc_and_musl_on_both_arches_and_none_for_ppc64le(
    tmp_path: Path,
) -> None:
    client = IndexClient(index_config(), cache=tmp_path)
    page = client.page("NumPy")
    assert isinstance(page, ProjectPage), page
    for arch in ("x86_64", "aarch64"):
        for libc in ("glibc 2.36", "musl 1.2.4"):
            tags = WheelTags((3, 12), "cpython", "cp312", platform_tags("linux", arch, libc))
            got = match_release(page, "1.26.4", tags.tags(), "3.12.1")
            assert got.wheel and got.sdist, (arch, libc)
    ppc = WheelTags((3, 12), "cpython", "cp312", platform_tags("linux", "ppc64le", "glibc 2.36"))
    got = match_release(page, "1.26.4", ppc.tags(), "3.12.1")
    assert not got.wheel and got.sdist and got.binary_wheels  # pip would build it from source there
    # numpy 1.26.4 declares Requires-Python >=3.9: nothing installs on 3.8.
    py38 = WheelTags((3, 8), "cpython", "cp38", platform_tags("linux", "x86_64", "glibc 2.36"))
    old = match_release(page, "1.26.4", py38.tags(), "3.8.18")
    assert not old.wheel and not old.sdist and old.excluded_by == ">=3.9"
