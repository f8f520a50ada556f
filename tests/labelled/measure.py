"""Precision and recall of envcheck on the labelled real corpus.

    ENVCHECK_LEGACY_CORPUS=../shared/legacy python tests/labelled/measure.py

Runs every labelled project (the legacy ones only when the variable is set),
checks that envcheck still produces exactly the labelled findings, and prints
true findings, false alarms, missed drift, precision and recall — per
project and in total.
"""

from __future__ import annotations

import os
import sys
import tempfile
import venv
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from labelled_util import key, load_cases, run, score

from envcheck.scanners.host import scan_host


def main() -> int:
    cases = [c for c in load_cases() if c.project_dir is not None]
    stale = 0
    print(f"{'project':42} {'true':>5} {'false':>6} {'missed':>7}")
    for case in cases:
        host = None
        if case.host.get("real-venv"):
            work = Path(tempfile.mkdtemp())
            venv.EnvBuilder(with_pip=True).create(work / "venv")
            assert case.project_dir is not None
            environ = {"PATH": os.environ.get("PATH", ""), "HOME": str(work)}
            host = scan_host(case.project_dir, python=str(work / "venv/bin/python"), node=False, environ=environ)
        got = sorted(key(f) for f in run(case, host))
        if got != sorted(lb.key for lb in case.labels):
            stale += 1
            print(f"  {case.name}: envcheck's findings differ from the labels; re-review them", file=sys.stderr)
        s = score([case])
        print(f"{case.name:42} {s.true:>5} {s.false_alarms:>6} {s.missed:>7}")
    total = score(cases)
    print(f"{'total (' + str(len(cases)) + ' projects)':42} {total.true:>5} {total.false_alarms:>6} {total.missed:>7}")
    print(f"precision {total.precision:.1%}  recall {total.recall:.1%}")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
