"""The probe's short METADATA read (issue 15) names every distribution as reading the whole head did."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from envcheck.scanners import _host_probe as probe

_line = st.one_of(
    st.sampled_from(["Name: foo", "Version: 1.0", "name:bar", "VERSION : 2", "Summary: x", " continued", "\tmore"]),
    st.sampled_from(["Metadata-Version: 2.1", "Name:", "Version:", "", "no colon", "Name: é\u2028x", "Version: 3\r"]),
    st.text(alphabet=st.sampled_from("ab: \r\x0c\u0085é"), max_size=12),
)


@settings(max_examples=400, deadline=None)
@given(
    # filler before the headers: moves Name/Version across the first read's end
    st.one_of(st.integers(0, 5000), st.integers(probe._FIRST_READ - 70, probe._FIRST_READ)),
    st.lists(_line, max_size=8),
    st.integers(0, 9000),  # description after them
    st.sampled_from([b"\n", b"\r\n"]),
    st.booleans(),
)
@example(probe._FIRST_READ - 6, ["Name: foo", "Version: 1.0"], 0, b"\n", False)
@example(
    probe._FIRST_READ - 32, ["Version: 1.0", "Name: foobar"], 10, b"\n", False
)  # the read ends inside the Name line
@example(probe._FIRST_READ - 11, ["Name: foo", "Version: 1.0"], 100_000, b"\n", False)
@example(0, ["Name: \u00e9" * 3000, "Version: 1"], 10, b"\n", False)
def test_short_read_equals_the_whole_head(filler: int, lines: list[str], tail: int, eol: bytes, cut: bool) -> None:
    nl = eol.decode()
    head = nl.join(["X-Filler: " + "x" * filler, *lines] if filler else lines).encode()
    data = head + eol + eol + b"d" * tail
    if cut:
        data = data[: len(data) // 2] + b"\xc3"  # a multibyte character cut by the file's end
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "METADATA"
        path.write_bytes(data)
        whole = probe._read_head(str(path))
        assert whole is not None
        assert probe._name_version(str(path)) == probe._parse_headers(whole)
        assert probe._name_version(str(Path(tmp) / "missing")) is None


def test_direct_url_read_once(tmp_path: Path) -> None:
    info = tmp_path / "foo-1.0.dist-info"
    info.mkdir()
    assert probe._direct_url(str(info)) == (False, None, False)
    (info / "direct_url.json").write_text(json.dumps({"url": "file:///src/foo", "dir_info": {"editable": True}}))
    assert probe._direct_url(str(info)) == (True, "/src/foo", True)
    (info / "direct_url.json").write_text("not json")
    assert probe._direct_url(str(info)) == (False, None, True)
    (info / "direct_url.json").unlink()
    (info / "direct_url.json").mkdir()  # not a file: as os.path.isfile says
    assert probe._direct_url(str(info)) == (False, None, False)
