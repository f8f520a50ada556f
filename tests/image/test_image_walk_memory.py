"""Peak memory of an image snapshot does not grow with the image (issue 15: under 150 MB at any size).

The image is a ~3 GB docker-archive made in seconds: a 2 GiB member of
zeros in an uncompressed layer is a hole in a sparse file (no disk written,
yet every byte is read and hashed), and a 900 MiB member of zeros in a gzip
layer is a 1 MB blob (every byte is inflated, parsed past and hashed).  The
snapshot runs in a child, which reports its own peak RSS (``VmHWM``).

Not ``wait4``'s ``ru_maxrss``: Linux carries the high-water mark of the
address space a process replaced at exec into it, and subprocess starts
children with vfork, so a child's ``ru_maxrss`` is at least the test
process's own peak (290 MiB after a full test run, whatever the child did).
``VmHWM`` belongs to the child's own address space, made new at exec.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
import zlib
from pathlib import Path

import pytest

MIB = 1 << 20
BIG_PLAIN = 2048 * MIB
BIG_GZIP = 900 * MIB  # under the bomb guard's 1 GiB floor: a real layer, not a bomb
RSS_LIMIT_KIB = 150 * 1024

# Runs envcheck's CLI in this interpreter, then writes the process's VmHWM
# (kB) to the file named first; the exit code is the CLI's.
_MEASURED = """
import runpy, sys
out, sys.argv = sys.argv[1], ["envcheck", *sys.argv[2:]]
code = 0
try:
    runpy.run_module("envcheck", run_name="__main__", alter_sys=True)
except SystemExit as done:
    code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
with open("/proc/self/status") as status:
    hwm = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
with open(out, "w") as fh:
    fh.write(hwm)
sys.exit(code)
"""


def _header(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    return info.tobuf(format=tarfile.GNU_FORMAT)


def _pad(n: int) -> int:
    return -n % 512


def _gzip_layer() -> bytes:
    """gzip of a tar holding BIG_GZIP zero bytes, made without holding them."""
    comp = zlib.compressobj(1, zlib.DEFLATED, 31)
    out = [comp.compress(_header("srv/zeros.bin", BIG_GZIP))]
    zeros = bytes(4 * MIB)  # divides BIG_GZIP
    for _ in range(BIG_GZIP // len(zeros)):
        out.append(comp.compress(zeros))
    out.append(comp.compress(bytes(1024)))  # end of archive
    out.append(comp.flush())
    return b"".join(out)


def _write_archive(path: Path) -> None:
    """A legacy docker-archive: <id>/layer.tar members, no diff_ids to check (nothing to precompute)."""
    small = tarfile.TarInfo("etc/os-release")
    os_release = b'ID=debian\nVERSION_ID="12"\n'
    small.size = len(os_release)
    plain_head = small.tobuf(format=tarfile.GNU_FORMAT) + os_release + bytes(_pad(len(os_release)))
    plain_head += _header("usr/share/zeros.bin", BIG_PLAIN)
    plain_size = len(plain_head) + BIG_PLAIN + 1024
    gz = _gzip_layer()
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {}}).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [], "Layers": ["a/layer.tar", "b/layer.tar"]}]).encode()
    with path.open("wb") as fh:

        def member(name: str, data: bytes) -> None:
            fh.write(_header(name, len(data)) + data + bytes(_pad(len(data))))

        fh.write(_header("a/layer.tar", plain_size))
        fh.write(plain_head)
        fh.seek(BIG_PLAIN + 1024 + _pad(plain_size), os.SEEK_CUR)  # a hole: zeros, never written
        member("b/layer.tar", gz)
        member(config_name, config)
        member("manifest.json", manifest)
        fh.write(bytes(1024))


@pytest.mark.parametrize("walk", ["seek", "stream"])
def test_peak_rss_stays_bounded_on_a_multi_gigabyte_image(tmp_path: Path, walk: str) -> None:
    path = tmp_path / "big.tar"
    _write_archive(path)
    assert path.stat().st_size > BIG_PLAIN
    env = dict(os.environ)
    if walk == "stream":
        env["ENVCHECK_IMAGE_WALK"] = "stream"
    out = tmp_path / "snap.json"
    hwm = tmp_path / "vmhwm"
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURED, str(hwm), "snapshot", "image", f"docker-archive:{path}", "-o", str(out)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    snap = json.loads(out.read_text())
    assert snap["platform"]["distro"].startswith("debian")  # the layers were read, not skipped
    assert snap["image"]["layers"] == 2
    peak_kib = int(hwm.read_text())
    assert peak_kib < RSS_LIMIT_KIB, f"peak RSS {peak_kib // 1024} MiB"
