"""The host snapshot's Python packages equal `pip list` of the project's environment, exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from host_testutil import (
    active_set,
    clean_env,
    make_venv,
    pip_install,
    pip_list,
    pip_set,
    pyenv_python,
    write_local_project,
)

from envcheck.scanners.host import scan_host

pytestmark = pytest.mark.network


def test_dot_venv_is_found_and_matches_pip_list(venv311: Path) -> None:
    snap = scan_host(venv311, node=False, env_names=(), environ=clean_env())
    expected = pip_set(pip_list(venv311 / ".venv" / "bin" / "python"))
    assert active_set(snap) == expected
    # the extra's dependency and the dotted, normalised name are there
    assert "pysocks" in expected and "jaraco-functools" in expected
    py = snap.runtime("python")
    assert py is not None and py.version.startswith("3.11.") and py.implementation == "cpython"
    assert py.path is not None and py.path.startswith(str(venv311 / ".venv"))


def test_editable_install_is_marked_like_pip(venv311: Path) -> None:
    snap = scan_host(venv311, node=False, env_names=(), environ=clean_env())
    listing = pip_list(venv311 / ".venv" / "bin" / "python")
    pip_editable = {d["name"].lower() for d in listing if "editable_project_location" in d}
    assert pip_editable == {"localproj"}
    assert {p.name for p in snap.active_packages("python") if p.editable} == pip_editable
    local = next(p for p in snap.active_packages("python") if p.name == "localproj")
    assert local.version == "0.3.1" and local.path is not None and local.path.endswith(".dist-info")


def test_virtual_env_variable_wins_over_dot_venv(venv311: Path, venv_system_site: Path) -> None:
    env = clean_env(VIRTUAL_ENV=str(venv_system_site / "venv"))
    snap = scan_host(venv311, node=False, env_names=(), environ=env)
    py = snap.runtime("python")
    assert py is not None and py.path is not None and py.path.startswith(str(venv_system_site / "venv"))


def test_explicit_python_wins_over_everything(venv311: Path, venv_system_site: Path) -> None:
    env = clean_env(VIRTUAL_ENV=str(venv311 / ".venv"))
    snap = scan_host(venv311, python=str(venv_system_site / "venv"), node=False, env_names=(), environ=env)
    py = snap.runtime("python")
    assert py is not None and py.path is not None and py.path.startswith(str(venv_system_site / "venv"))


def test_system_site_venv_reports_shadowed_copy_and_matches_pip(venv_system_site: Path) -> None:
    python = venv_system_site / "venv" / "bin" / "python"
    snap = scan_host(venv_system_site, python=str(python), node=False, env_names=(), environ=clean_env())
    expected = pip_set(pip_list(python))
    assert active_set(snap) == expected
    assert expected["packaging"] == "21.3"
    # The base interpreter's newer packaging is still there, listed but not active.
    copies = [p for p in snap.packages["python"] if p.name == "packaging"]
    assert len(copies) == 2
    shadowed = [p for p in copies if not p.active]
    assert len(shadowed) == 1 and shadowed[0].version != "21.3"
    assert any("packaging is installed twice" in n for n in snap.notes)


@pytest.mark.parametrize("version", ["3.8", "3.12", "3.13"])
def test_other_interpreters_match_their_pip(tmp_path: Path, version: str) -> None:
    base = pyenv_python(version)
    python = make_venv(base, tmp_path / "venv")
    pip_install(python, "six==1.16.0", "idna==3.7", "attrs==24.2.0")
    pip_install(python, "-e", str(write_local_project(tmp_path / "proj", name="local-thing", version="1.0")))
    snap = scan_host(tmp_path, node=False, env_names=(), environ=clean_env())
    py = snap.runtime("python")
    assert py is not None and py.version.startswith(version + ".")
    listing = pip_list(python)
    assert active_set(snap) == pip_set(listing)
    assert {p.name for p in snap.active_packages("python") if p.editable} == {
        d["name"].lower() for d in listing if "editable_project_location" in d
    }


def test_user_site_is_used_by_base_interpreter_but_not_by_its_venv(tmp_path: Path) -> None:
    base = pyenv_python("3.12")
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(HOME=str(home))
    pip_install(base, "--user", "six==1.16.0", env=env)
    # The base interpreter imports from the user site: pip lists it, and so do we (active).
    snap = scan_host(tmp_path, python=str(base), node=False, env_names=(), environ=env)
    assert active_set(snap) == pip_set(pip_list(base, env=env))
    six = [p for p in snap.packages["python"] if p.name == "six"]
    assert any(p.active and p.path and p.path.startswith(str(home)) for p in six)
    # A venv of it does not: the user copy is context (inactive), not part of the environment.
    venv_py = make_venv(base, tmp_path / "venv")
    snap2 = scan_host(tmp_path, python=str(venv_py), node=False, env_names=(), environ=env)
    assert active_set(snap2) == pip_set(pip_list(venv_py, env=env))
    user_copies = [p for p in snap2.packages["python"] if p.path and p.path.startswith(str(home))]
    assert user_copies and not any(p.active for p in user_copies)


def test_snapshot_json_round_trips(venv311: Path) -> None:
    from envcheck.snapshot import Snapshot

    snap = scan_host(venv311, node=False, env_names=(), environ=clean_env())
    again = Snapshot.from_json(snap.to_json())
    assert again.to_dict() == snap.to_dict()
    assert again.source.kind == "host"
