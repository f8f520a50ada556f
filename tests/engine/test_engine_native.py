"""EC108 native-library-drift: catches and catches-not, over snapshots as the scanners write them."""

from __future__ import annotations

from engine_testutil import assert_fires, assert_silent, world  # type: ignore[import-not-found]

from envcheck.native import Extension, Library, LinkedLibrary, Native, NativePackage
from envcheck.record import replace
from envcheck.snapshot import Package, Snapshot

SITE = "/opt/venv/lib/python3.11/site-packages"


def _with_native(
    s: Snapshot,
    libraries: dict[str, Library],
    *,
    needed: tuple[str, ...] = ("libpq.so.5", "libc.so.6"),
    vendored: tuple[str, ...] = (),
    python: dict[str, LinkedLibrary] | None = None,
    active: bool = True,
) -> Snapshot:
    dist = f"{SITE}/psycopg2-2.9.9.dist-info"
    pkgs = [p for p in s.packages.get("python", ()) if p.name != "psycopg2"]
    pkgs.append(Package("psycopg2", "2.9.9", path=dist, active=active))
    ext = Extension(f"{SITE}/psycopg2/_psycopg.cpython-311-x86_64-linux-gnu.so", needed)
    native = Native(
        packages=(NativePackage("python", "psycopg2", dist, (ext,), vendored),),
        libraries=libraries,
        python=python or {},
    )
    return replace(s, packages={**s.packages, "python": tuple(pkgs)}, native=native)


def _libpq(version: str, soname: str = "libpq.so.5") -> dict[str, Library]:
    return {
        soname: Library(
            path=f"/usr/lib/x86_64-linux-gnu/{soname}.{version}",
            version=version,
            version_from="package",
            package="libpq5",
            package_version=f"{version}-0+deb12u1",
        ),
        "libc.so.6": Library(path="/usr/lib/x86_64-linux-gnu/libc.so.6", version="2.36", version_from="package"),
    }


def test_ec108_names_package_library_and_both_versions() -> None:
    w = world()
    host = _with_native(w.host, _libpq("15.5"))
    image = _with_native(w.image, _libpq("13.14"))
    [f] = assert_fires("EC108", host=host, image=image)
    assert f.subject == "psycopg2:libpq"
    assert "psycopg2" in f.message and "15.5" in f.message and "13.14" in f.message
    assert f.left is not None and f.left.value == "15.5" and f.right is not None and f.right.value == "13.14"


def test_ec108_silent_when_only_the_patch_level_differs() -> None:
    w = world()

    def ssl(version: str) -> dict[str, Library]:
        return {"libssl.so.3": Library(path="/usr/lib/libssl.so.3", version=version, version_from="package")}

    host = _with_native(w.host, ssl("3.0.11"), needed=("libssl.so.3",))
    assert_silent("EC108", host=host, image=_with_native(w.image, ssl("3.0.15"), needed=("libssl.so.3",)))


def test_ec108_silent_when_a_side_recorded_no_native_facts() -> None:
    w = world()
    assert_silent("EC108", host=_with_native(w.host, _libpq("15.5")), image=w.image)


def test_ec108_soname_change_fires_when_versions_come_from_different_sources() -> None:
    w = world()
    host = _with_native(
        w.host,
        {"libssl.so.3": Library(path="/usr/lib/libssl.so.3", version="3.0.15", version_from="package")},
        needed=("libssl.so.3",),
    )
    image = _with_native(w.image, {"libssl.so.1.1": Library(path="/usr/lib/libssl.so.1.1")}, needed=("libssl.so.1.1",))
    [f] = assert_fires("EC108", host=host, image=image)
    assert "libssl" in f.message and "3.0.15" in f.message and "libssl.so.1.1" in f.message


def test_ec108_identical_vendored_copy_is_silent_and_a_different_one_fires() -> None:
    w = world()
    same = ("libpq-ce5f9a6a.so.5.16",)
    host = _with_native(w.host, {}, needed=same, vendored=same)
    assert_silent("EC108", host=host, image=_with_native(w.image, {}, needed=same, vendored=same))
    other = ("libpq-0e5d3f1a.so.5.11",)
    [f] = assert_fires("EC108", host=host, image=_with_native(w.image, {}, needed=other, vendored=other))
    assert "5.16" in f.message and "5.11" in f.message


def test_ec108_ignores_the_c_library_and_inactive_environments() -> None:
    w = world()
    libc_only = ("libc.so.6",)
    old = {"libc.so.6": Library(path="/lib/libc.so.6", version="2.31", version_from="package")}
    new = {"libc.so.6": Library(path="/lib/libc.so.6", version="2.36", version_from="package")}
    assert_silent(
        "EC108", host=_with_native(w.host, new, needed=libc_only), image=_with_native(w.image, old, needed=libc_only)
    )
    assert_silent(
        "EC108",
        host=_with_native(w.host, _libpq("15.5")),
        image=_with_native(w.image, _libpq("13.14"), active=False),
    )


def test_ec108_python_ssl_links_another_openssl() -> None:
    w = world()
    host = _with_native(w.host, _libpq("15.5"), python={"openssl": LinkedLibrary("3.0.15", "libssl.so.3")})
    image = _with_native(w.image, _libpq("15.5"), python={"openssl": LinkedLibrary("1.1.1w", "libssl.so.1.1")})
    [f] = assert_fires("EC108", host=host, image=image)
    assert f.subject == "python:_ssl" and "OpenSSL 3.0.15" in f.message and "1.1.1w" in f.message


def test_native_facts_round_trip_through_json_and_old_snapshots_still_load() -> None:
    w = world()
    s = _with_native(w.host, _libpq("15.5"), python={"sqlite": LinkedLibrary("3.40.1", "libsqlite3.so.0")})
    back = Snapshot.from_json(s.to_json())
    assert back.native == s.native
    assert Snapshot.from_json(w.host.to_json()).native is None
