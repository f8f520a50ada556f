"""Every built-in rule fires on a realistic broken pair and stays silent on a clean one (hadolint's catches / catchesNot)."""

from __future__ import annotations

import pytest
from engine_testutil import (  # type: ignore[import-not-found]
    BaseImage,
    DeclaredRuntime,
    DockerfileVar,
    InstallCommand,
    LockedPackage,
    Platform,
    assert_fires,
    assert_silent,
    declared,
    diff,
    of,
    req,
    rules,
    scan,
    snap,
    with_declared,
    with_runtime,
    world,
)

from envcheck.record import replace
from envcheck.snapshot import Package, Requirement, Snapshot


def test_clean_world_is_silent_for_every_rule() -> None:
    w = world()
    assert scan(project=w.project, host=w.host, image=w.image) == []
    assert diff(w.host, w.image) == []


@pytest.mark.parametrize("rule_id", sorted(rules()))
def test_each_rule_silent_on_clean_world(rule_id: str) -> None:
    w = world()
    assert_silent(rule_id, project=w.project, host=w.host, image=w.image)


# --------------------------------------------------------------------------- EC1xx runtimes


def test_ec101_minor_version_differs() -> None:
    w = world()
    image = with_runtime(w.image, "python", "3.10.13")
    [f] = assert_fires("EC101", host=w.host, image=image)
    assert f.message == "Python is 3.11.7 on host but 3.10.13 in image (minor version differs)"
    assert (f.left and f.left.value, f.right and f.right.value) == ("3.11.7", "3.10.13")
    assert not of("EC102", scan(host=w.host, image=image))


def test_ec102_only_patch_differs() -> None:
    w = world()
    image = with_runtime(w.image, "python", "3.11.4")
    [f] = assert_fires("EC102", host=w.host, image=image)
    assert f.severity == "warning"
    assert_silent("EC101", host=w.host, image=image)


def test_ec103_node_major_is_error_minor_is_warning() -> None:
    w = world()
    major = with_runtime(w.image, "node", "18.19.0")
    minor = with_runtime(w.image, "node", "20.11.1")
    [f] = assert_fires("EC103", host=w.host, image=major)
    assert f.severity == "error"
    [g] = assert_fires("EC103", host=w.host, image=minor)
    assert g.severity == "warning"


def test_ec104_npm_differs() -> None:
    w = world()
    image = with_runtime(w.image, "npm", "10.8.2")
    [f] = assert_fires("EC104", host=w.host, image=image)
    assert f.severity == "info"


def test_ec105_libc_family_differs_but_names_of_arch_are_normalised() -> None:
    w = world()
    alpine = replace(w.image, platform=Platform(os="linux", arch="amd64", libc="musl 1.2.4"))
    [f] = assert_fires("EC105", host=w.host, image=alpine)
    assert f.subject == "libc" and "glibc" in f.message and "musl" in f.message
    same = replace(w.image, platform=Platform(os="linux", arch="amd64", libc="glibc 2.36"))
    assert_silent("EC105", host=w.host, image=same)


# --------------------------------------------------------------------------- EC2xx packages


def _with_py(s: Snapshot, **versions: str | None) -> Snapshot:
    pkgs = {p.name: p.version for p in s.packages["python"]}
    for name, v in versions.items():
        if v is None:
            pkgs.pop(name, None)
        else:
            pkgs[name] = v
    return replace(s, packages={**s.packages, "python": tuple(Package(n, v) for n, v in pkgs.items())})


def _with_js(s: Snapshot, **versions: str | None) -> Snapshot:
    pkgs = {p.name: p.version for p in s.packages["node"]}
    for name, v in versions.items():
        if v is None:
            pkgs.pop(name, None)
        else:
            pkgs[name] = v
    node = tuple(Package(n, v, path=f"node_modules/{n}") for n, v in pkgs.items())
    return replace(s, packages={**s.packages, "node": node})


def test_ec201_package_drift_points_at_the_requirement() -> None:
    w = world()
    image = _with_py(w.image, werkzeug="2.3.8")
    [f] = assert_fires("EC201", host=w.host, image=image)
    assert f.message == "werkzeug is 3.0.1 on host but 2.3.8 in image"
    assert f.fix == "pin werkzeug==3.0.1 and reinstall"
    image2 = _with_py(w.image, requests="2.28.0")
    [g] = [x for x in assert_fires("EC201", project=w.project, host=w.host, image=image2) if x.subject == "requests"]
    assert str(g.location) == "requirements.txt:2"
    assert g.fix == "reinstall requests==2.31.0 (requirements.txt:2) on both sides"


def test_ec201_names_are_pep503_normalised() -> None:
    host = snap(py={"Jaraco.Functools": "4.1.0"})
    image = snap("image", py={"jaraco-functools": "4.1.0"})
    assert_silent("EC201", host=host, image=image)
    assert_silent("EC202", host=host, image=image)


def test_ec202_required_package_missing_in_image() -> None:
    w = world()
    image = _with_py(w.image, gunicorn=None)
    hits = assert_fires("EC202", project=w.project, host=w.host, image=image)
    # Declared-vs-image and host-vs-image both see it; one finding is reported,
    # the one naming the version the host has.
    assert len(hits) == 1
    assert (
        hits[0].message == "gunicorn 21.2.0 is installed on host but missing in image (required by requirements.txt:3)"
    )


def test_ec202_missing_without_another_side_still_reported_from_the_declaration() -> None:
    w = world()
    image = _with_py(w.image, gunicorn=None)
    hits = assert_fires("EC202", project=w.project, image=image)
    assert [f.left.kind for f in hits if f.left] == ["declared"]


def test_ec202_unrequired_package_missing_is_not_ec202_with_a_project() -> None:
    w = world()
    host = _with_py(w.host, ipython="8.20.0")
    assert_silent("EC202", project=w.project, host=host, image=w.image)


def test_ec202_marker_excluded_requirement_is_not_missing_on_linux() -> None:
    w = world()  # pywin32; sys_platform == 'win32' is never installed on these Linux snapshots
    assert_silent("EC202", project=w.project, host=w.host, image=w.image)
    windows = replace(w.host, platform=Platform(os="windows", arch="x86_64"))
    hits = assert_fires("EC202", project=w.project, host=windows)
    assert [f.subject for f in hits] == ["pywin32"]


def test_ec202_diff_without_project_reports_every_left_package() -> None:
    w = world()
    found = of("EC202", diff(w.host, _with_py(w.image, werkzeug=None)))
    assert [f.subject for f in found] == ["werkzeug"]
    assert found[0].left and found[0].left.kind == "host"


def test_ec203_extra_package_in_image() -> None:
    w = world()
    [f] = assert_fires("EC203", project=w.project, host=w.host, image=_with_py(w.image, ipython="8.20.0"))
    assert f.severity == "info" and f.subject == "ipython"


def test_ec211_node_drift_and_ec212_ec213() -> None:
    w = world()
    [f] = assert_fires("EC211", host=w.host, image=_with_js(w.image, express="4.17.1"))
    assert f.message == "express is 4.18.2 on host but 4.17.1 in image"
    [g] = assert_fires("EC212", project=w.project, host=w.host, image=_with_js(w.image, express=None))
    assert g.subject == "express"
    [h] = assert_fires("EC213", project=w.project, host=w.host, image=_with_js(w.image, nodemon="3.0.2"))
    assert h.subject == "nodemon"


def test_a_static_site_image_runs_no_node_project_so_lacks_no_node_package() -> None:
    """vitesse-lite: the runtime image serves the built dist/ and has no package.json in its WORKDIR."""
    w = world()
    static = replace(_with_js(w.image, express=None), packages={**w.image.packages, "node": ()})
    assert_silent("EC212", project=w.project, host=w.host, image=replace(static, image={"node_project": False}))
    assert_silent("EC213", project=w.project, host=w.host, image=replace(static, image={"node_project": False}))
    # The same image with the app's package.json but no node_modules forgot its install.
    assert assert_fires("EC212", project=w.project, host=w.host, image=replace(static, image={"node_project": True}))


def test_ec211_nested_copies_are_compared_as_a_set() -> None:
    host = snap(js={"debug": "4.3.4"})
    nested = Package("debug", "2.6.9", path="node_modules/express/node_modules/debug")
    image = snap("image", js={"debug": "4.3.4"})
    image = replace(image, packages={"node": (*image.packages["node"], nested)})
    [f] = assert_fires("EC211", host=host, image=image)
    assert f.right and f.right.value == "2.6.9, 4.3.4"


# --------------------------------------------------------------------------- EC3xx declared vs installed


def test_ec301_installed_version_violates_specifier() -> None:
    w = world()
    p = with_declared(w.project, requirements=(req("django>=4.2,<5", "requirements.txt:1"),))
    host = _with_py(w.host, django="5.0.1")
    [f] = assert_fires("EC301", project=p, host=host)
    assert f.message == "django 5.0.1 on host does not satisfy django<5,>=4.2 declared in requirements.txt:1"
    assert_silent("EC301", project=p, host=_with_py(w.host, django="4.2.9"))


def test_ec301_markers_are_evaluated_against_the_target() -> None:
    w = world()
    p = with_declared(w.project, requirements=(req("tomli>=2; python_version < '3.11'", "requirements.txt:1"),))
    # tomli 1.2 is installed but the marker excludes python 3.11: not this interpreter's requirement.
    assert_silent("EC301", project=p, host=_with_py(w.host, tomli="1.2.3"))
    old = with_runtime(w.host, "python", "3.10.13")
    assert_fires("EC301", project=p, host=_with_py(old, tomli="1.2.3"))


def test_ec301_npm_ranges() -> None:
    w = world()
    p = with_declared(w.project, requirements=(req("express@^4.19.0", "package.json:7", eco="node"),))
    [f] = assert_fires("EC301", project=p, host=w.host)
    assert f.subject == "express"
    assert_silent("EC301", project=with_declared(p, requirements=(req("express@^4.18.0", eco="node"),)), host=w.host)


def test_ec302_interpreter_outside_requires_python() -> None:
    w = world()
    p = with_declared(w.project, python=DeclaredRuntime(requires=">=3.12", requires_source="pyproject.toml:5"))
    [f] = assert_fires("EC302", project=p, image=w.image)
    assert f.message == "python 3.11.7 in image is outside requires-python >=3.12 (pyproject.toml:5)"
    assert str(f.location) == "pyproject.toml:5"


def test_ec303_node_outside_engines() -> None:
    w = world()
    p = with_declared(w.project, node=DeclaredRuntime(requires=">=22", requires_source="package.json:4"))
    [f] = assert_fires("EC303", project=p, host=w.host)
    assert "engines.node >=22" in f.message


def test_ec304_lock_and_manifest_disagree_statically() -> None:
    w = world()
    p = with_declared(w.project, requirements=(req("express@^4.19.0", "package.json:7", eco="node"),))
    hits = [f for f in assert_fires("EC304", project=p) if f.location and f.location.path == "package.json"]
    assert hits and hits[0].subject == "express"
    missing = with_declared(
        w.project,
        requirements=(*declared(w.project).requirements, req("dotenv@16.3.1", "package.json:8", eco="node")),
    )
    [g] = assert_fires("EC304", project=missing)
    assert g.message == "package.json declares dotenv but dotenv is not in package-lock.json"


def test_ec304_poetry_lock_against_pyproject() -> None:
    p = project_with_poetry(lock_version="2.28.0")
    [f] = assert_fires("EC304", project=p)
    assert "poetry.lock has requests 2.28.0" in f.message
    assert_silent("EC304", project=project_with_poetry(lock_version="2.31.0"))


def project_with_poetry(lock_version: str) -> Snapshot:
    from engine_testutil import project

    return project(
        requirements=(req("requests>=2.31", "pyproject.toml:9"),),
        locks=(LockedPackage("python", "requests", lock_version, source="poetry.lock"),),
    )


def test_ec304_lock_and_installed_disagree() -> None:
    w = world()
    [f] = assert_fires("EC304", project=w.project, image=_with_js(w.image, express="4.17.1"))
    assert f.message == "package-lock.json locks express 4.18.2 but 4.17.1 is installed in image"


def test_ec305_version_files_disagree() -> None:
    w = world()
    p = with_declared(
        w.project,
        python=DeclaredRuntime(
            requires=">=3.10",
            version_files={".python-version": "3.12.1", "runtime.txt": "3.12", "Dockerfile:1": "3.11"},
        ),
    )
    [f] = assert_fires("EC305", project=p)
    assert f.message == "Dockerfile:1 says python 3.11 but .python-version says 3.12.1"
    assert str(f.location) == "Dockerfile:1"


def test_ec305_version_outside_requires_python_and_from_tag() -> None:
    w = world()
    p = with_declared(
        w.project,
        python=DeclaredRuntime(requires=">=3.11.4", version_files={".python-version": "3.11"}),
        base_images=(BaseImage("python:3.10-slim", "Dockerfile:1"),),
    )
    msgs = [f.message for f in assert_fires("EC305", project=p)]
    assert "Dockerfile:1 says python 3.10 but .python-version says 3.11" in msgs
    assert "Dockerfile:1 says python 3.10, outside requires-python >=3.11.4" in msgs
    # "3.11" can mean 3.11.7, which satisfies >=3.11.4
    assert not any(m.startswith(".python-version") for m in msgs)


# --------------------------------------------------------------------------- EC4xx static


def test_ec401_unpinned_without_lock() -> None:
    p = world().project
    p = with_declared(p, requirements=(req("flask>=2", "requirements.txt:1"), req("requests==2.31.0")), locks=())
    [f] = assert_fires("EC401", project=p)
    assert f.message == "flask>=2 is not pinned to an exact version and the project has no python lock file"
    assert str(f.location) == "requirements.txt:1"


def test_ec401_pip_compile_output_or_constraints_count_as_pinned() -> None:
    p = project_only(
        req("flask>=2", "requirements.in:1"),
        req("flask==3.0.0", "requirements.txt:12"),
        req("click", "requirements.in:2"),
        req("click==8.1.7", "constraints.txt:1", group="constraint"),
    )
    assert_silent("EC401", project=p)


def test_ec401_a_lock_file_counts_as_pinned() -> None:
    p = project_only(req("requests>=2.31", "pyproject.toml:9"))
    p = with_declared(p, locks=(LockedPackage("python", "requests", "2.31.0", source="uv.lock"),))
    assert_silent("EC401", project=p)


def project_only(*requirements: Requirement) -> Snapshot:
    from engine_testutil import project

    return project(requirements=requirements)


@pytest.mark.parametrize(
    ("ref", "fires"),
    [
        ("python", True),
        ("python:latest", True),
        ("python:3", True),
        ("node:20-alpine", True),
        ("node:lts-bookworm", True),
        ("python:slim", True),
        ("python:3.11-slim", False),
        ("python:3.11.7-slim-bookworm", False),
        ("debian:bookworm-slim", False),
        ("python@sha256:" + "b" * 64, False),
        ("scratch", False),
        ("localhost:5000/team/python:3", True),
        ("localhost:5000/team/python:3.11", False),
    ],
)
def test_ec402_floating_base_image(ref: str, fires: bool) -> None:
    p = project_only()
    p = with_declared(p, base_images=(BaseImage(ref, "Dockerfile:1"),))
    if fires:
        [f] = assert_fires("EC402", project=p)
        assert f.subject == ref and str(f.location) == "Dockerfile:1"
    else:
        assert_silent("EC402", project=p)


def test_ec402_ec403_skip_earlier_build_stages() -> None:
    p = with_declared(
        project_only(),
        base_images=(
            BaseImage("python:3.11.7-slim@sha256:" + "c" * 64, "Dockerfile:1", stage="builder"),
            BaseImage("builder", "Dockerfile:9"),
        ),
    )
    assert_silent("EC402", project=p)
    assert_silent("EC403", project=p)


def test_ec403_tag_without_digest() -> None:
    p = with_declared(project_only(), base_images=(BaseImage("python:3.11.7-slim", "Dockerfile:1"),))
    [f] = assert_fires("EC403", project=p)
    assert f.severity == "info"


def test_ec404_unpinned_installs() -> None:
    p = with_declared(
        project_only(),
        installs=(
            InstallCommand("pip", "install", packages=("gunicorn", "uvicorn==0.27.0", "."), source="Dockerfile:5"),
            InstallCommand("pip", "install", files=("requirements.txt",), source="Dockerfile:6"),
            InstallCommand("npm", "install", packages=("pm2@5.3.0", "nodemon", "@scope/x@^1"), source="Dockerfile:7"),
        ),
    )
    hits = assert_fires("EC404", project=p)
    assert sorted(f.subject or "" for f in hits) == ["@scope/x", "gunicorn", "nodemon"]


def test_ec405_npm_install_with_lock() -> None:
    w = world()
    p = with_declared(w.project, installs=(InstallCommand("npm", "install", source="Dockerfile:8"),))
    [f] = assert_fires("EC405", project=p)
    assert str(f.location) == "Dockerfile:8"
    no_lock = with_declared(p, locks=(), files=("package.json",))
    assert_silent("EC405", project=no_lock)


# --------------------------------------------------------------------------- EC5xx env


def test_ec501_referenced_var_missing_in_image() -> None:
    w = world()
    image = replace(w.image, env={k: v for k, v in w.image.env.items() if k != "DATABASE_URL"})
    [f] = assert_fires("EC501", project=w.project, host=w.host, image=image)
    assert f.message == "DATABASE_URL is set on host but not in image (read at app/settings.py:12)"
    # unreferenced variables are not the project's business
    host = replace(w.host, env={**w.host.env, "EDITOR": w.host.env["APP_ENV"]})
    assert_silent("EC501", project=w.project, host=host, image=w.image)


def test_ec502_value_differs_but_secrets_never_shown() -> None:
    w = world()
    image = snap("image", env={"APP_ENV": "staging", "DATABASE_URL": None})
    [f] = assert_fires("EC502", project=w.project, host=w.host, image=image)
    assert f.message == "APP_ENV is 'production' on host but 'staging' in image"
    host = snap(env={"APP_ENV": "sk_live_" + "a1B2c3D4e5F6g7H8i9J0"})
    image = snap("image", env={"APP_ENV": "sk_live_" + "z9Y8x7W6v5U4t3S2r1Q0"})
    [g] = assert_fires("EC502", project=w.project, host=host, image=image)
    assert "sk_live" not in g.message and g.left and g.left.value is None


def test_ec503_secret_in_dockerfile_and_image_config() -> None:
    w = world()
    p = with_declared(
        w.project,
        dockerfile_vars=(DockerfileVar("AWS_SECRET_ACCESS_KEY", "ENV", "Dockerfile:4", has_value=True, secret=True),),
    )
    [f] = assert_fires("EC503", project=p)
    assert f.message == "ENV AWS_SECRET_ACCESS_KEY bakes a secret-looking value into the image (value not shown)"
    image = replace(w.image, image={**(w.image.image or {}), "secret_env": ["STRIPE_API_KEY"]})
    [g] = assert_fires("EC503", image=image)
    assert g.subject == "STRIPE_API_KEY"


def test_ec102_unknown_patch_level_is_not_a_difference() -> None:
    """A statically read image may know only "3.11"; that agrees with 3.11.7."""
    w = world()
    image = with_runtime(w.image, "python", "3.11")
    assert_silent("EC102", host=w.host, image=image)
    assert_silent("EC101", host=w.host, image=image)


def test_ec305_nvmrc_outside_engines() -> None:
    w = world()
    p = with_declared(w.project, node=DeclaredRuntime(requires=">=20.11", version_files={".nvmrc": "18"}))
    [f] = assert_fires("EC305", project=p)
    assert f.message == ".nvmrc says node 18, outside engines.node >=20.11"
