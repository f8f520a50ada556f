"""The same rules and reporters over SBOM sides: drift is found, what an SBOM cannot say is not reported as missing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envcheck.cli import main
from envcheck.engine import evaluate, plan_diff, plan_scan, settings_from
from envcheck.findings import Finding
from envcheck.record import replace
from envcheck.rules import load_rules
from envcheck.sbom import render
from envcheck.sbom.read import load_sbom
from envcheck.snapshot import Declared, EnvRef, EnvVar, Package, Snapshot, Source
from tests.sbom.sbom_testutil import image_snapshot


def _foreign(tmp_path: Path, snap: Snapshot, name: str = "image.cdx.json") -> Snapshot:
    """``snap`` as a third-party tool would describe it: envcheck's CycloneDX minus envcheck's own properties."""
    doc = json.loads(render(snap, "cyclonedx"))
    doc["metadata"].pop("properties")
    for c in doc["components"]:
        props = {p["name"]: p["value"] for p in c.pop("properties", [])}
        if "envcheck:path" in props and props["envcheck:path"].startswith("/"):
            manifest = "package.json" if "node_modules" in props["envcheck:path"] else "METADATA"
            c["properties"] = [{"name": "syft:location:0:path", "value": f"{props['envcheck:path']}/{manifest}"}]
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return load_sbom(str(path))


def _absolute(snap: Snapshot) -> Snapshot:
    """The image scanner writes the project's node_modules relative to WORKDIR; an SBOM has them absolute."""
    node = tuple(
        replace(p, path=p.path if (p.path or "/").startswith("/") else f"/app/{p.path}") for p in snap.packages["node"]
    )
    return replace(snap, packages={**snap.packages, "node": node})


def _diff(a: Snapshot, b: Snapshot, project: Snapshot | None = None) -> list[Finding]:
    if project is None:
        contexts = plan_diff(a, b, names=("a.json", "b.json"))
    else:
        contexts = plan_scan(project, a, None, b, against_name="b.json")
    return evaluate(load_rules(None), contexts, settings_from(), project)


def test_an_sbom_of_the_same_image_shows_no_drift_though_it_cannot_say_which_environment_runs(tmp_path: Path) -> None:
    image = _absolute(image_snapshot())
    sbom = _foreign(tmp_path, image)
    assert not sbom.knows("active") and not sbom.knows("env")
    # Debian's pip is context in the image snapshot, a package like any other in the SBOM.
    assert [f.rule for f in _diff(image, sbom) if f.rule.startswith("EC2")] == []
    assert [f.rule for f in _diff(sbom, image) if f.rule.startswith("EC2")] == []


def test_drift_between_an_sbom_and_a_snapshot_is_reported_by_the_usual_rules(tmp_path: Path) -> None:
    image = _absolute(image_snapshot())
    older = replace(
        image,
        packages={
            **image.packages,
            "python": tuple(
                replace(p, version="2.25.0") if p.name == "requests" else p for p in image.packages["python"]
            ),
        },
    )
    found = _diff(_foreign(tmp_path, older), image)
    drift = [f for f in found if f.rule == "EC201"]
    assert [(f.subject, f.left and f.left.value, f.right and f.right.value) for f in drift] == [
        ("requests", "2.25.0", "2.28.2")
    ]


def test_env_rules_say_nothing_about_an_sbom_side(tmp_path: Path) -> None:
    project = Snapshot(
        source=Source(kind="project", ref="."),
        declared=Declared(env_refs=(EnvRef("DATABASE_URL", "app/settings.py:3"),)),
    )
    host = Snapshot(source=Source(kind="host", ref="laptop"), env={"DATABASE_URL": EnvVar(set=True)})
    sbom = _foreign(tmp_path, image_snapshot())
    assert [f for f in _diff(host, sbom, project) if f.rule.startswith("EC5")] == []
    # The same comparison with a snapshot that *knows* the variable is unset does fire:
    # silence above is "cannot say", not a blind spot.
    unset = replace(sbom, unknown=())
    assert [f.rule for f in _diff(host, unset, project) if f.rule.startswith("EC5")] == ["EC501"]


def test_envchecks_own_sbom_keeps_env_names_so_env_rules_still_work(tmp_path: Path) -> None:
    project = Snapshot(
        source=Source(kind="project", ref="."),
        declared=Declared(env_refs=(EnvRef("SENTRY_DSN", "app.py:1"),)),
    )
    host = Snapshot(source=Source(kind="host", ref="laptop"), env={"SENTRY_DSN": EnvVar(set=True)})
    path = tmp_path / "image.cdx.json"
    path.write_text(render(image_snapshot(), "cyclonedx"), encoding="utf-8")
    own = load_sbom(str(path))
    # EC503 too: the names of the image config's secret-looking variables travel with the SBOM.
    assert [f.rule for f in _diff(host, own, project) if f.rule.startswith("EC5")] == ["EC501", "EC503"]


@pytest.mark.parametrize("fmt", ["json", "sarif", "text", "github"])
def test_diff_of_two_sboms_in_two_formats_uses_the_same_reporters(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prod = replace(image_snapshot(), image=None)  # no secret-looking config: only the drift is reported
    staging = replace(
        prod,
        packages={**prod.packages, "python": (*prod.packages["python"], Package("gunicorn", "21.2.0", "/opt/g"))},
    )
    (tmp_path / "prod.cdx.json").write_text(render(prod, "cyclonedx"), encoding="utf-8")
    (tmp_path / "staging.spdx.json").write_text(render(staging, "spdx"), encoding="utf-8")
    argv = ["diff", f"sbom:{tmp_path / 'prod.cdx.json'}", f"sbom:{tmp_path / 'staging.spdx.json'}", "--format", fmt]
    code = main([*argv, "--fail-on", "info"])
    out = capsys.readouterr().out
    assert code == 1
    assert "gunicorn" in out
    if fmt == "json":
        rules = {f["rule"] for f in json.loads(out)["findings"]}
        assert rules == {"EC203"}


def test_a_plain_json_sbom_is_detected_by_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snap = replace(image_snapshot(), image=None)
    (tmp_path / "a.json").write_text(render(snap, "spdx"), encoding="utf-8")
    (tmp_path / "b.json").write_text(snap.to_json(), encoding="utf-8")
    assert main(["diff", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["findings"] == []


def test_dockerfile_from_an_sbom_pins_its_interpreter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    project = tmp_path / "app"
    shutil.copytree(Path(__file__).parents[2] / "fixtures" / "flask-legacy", project)
    sbom = tmp_path / "prod.cdx.json"
    sbom.write_text(render(replace(image_snapshot(), image=None), "cyclonedx"), encoding="utf-8")
    assert main(["dockerfile", str(project), "--from", f"sbom:{sbom}"]) == 0
    # The SBOM's environment lacks the project's pins (flask, python-dotenv), so
    # it is not the project's environment: its interpreter is named, not
    # pinned (the generator decides from declarations first, issue 13).
    assert "runs python 3.11.2, but it is not the project's environment" in capsys.readouterr().err
    assert "requests==2.28.2" in (project / "requirements.lock").read_text(encoding="utf-8")
