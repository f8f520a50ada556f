"""envcheck._json_text writes exactly what ``json.dumps(value, indent=2)`` writes (issue 15)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from envcheck._json_text import dumps_indent2
from envcheck.scanners.project import scan_project
from envcheck.snapshot import Snapshot

ROOT = Path(__file__).resolve().parents[2]

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.text(alphabet=st.sampled_from('a"\\\n\t\x00\x7f\u00e9\u2028\U0001f600 ')),
)
_keys = st.one_of(
    st.text(max_size=8),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
_values = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.lists(children, max_size=5).map(tuple),
        st.dictionaries(_keys, children, max_size=5),
    ),
    max_leaves=40,
)


@settings(max_examples=1500, deadline=None)
@given(_values)
@example({})
@example(json.loads("[" * 40 + "{}" + "]" * 40))  # deeper than the precomputed indentation
@example([[], {}, [[]], {"a": {}}])
@example({"a": [1, 2.5, None, True, "x"], "b": {"c": [{"d": []}]}})
@example({2: "int key", 1.5: "float key", True: "bool key", False: "f", None: "none key", math.inf: "inf"})
def test_equals_json_dumps_indent_2(value: Any) -> None:
    assert dumps_indent2(value) == json.dumps(value, indent=2)


@pytest.mark.parametrize("bad", [{"x": object()}, [1, {2, 3}], {(1, 2): "tuple key"}, b"bytes"])
def test_what_json_dumps_refuses_is_refused(bad: Any) -> None:
    with pytest.raises(TypeError):
        json.dumps(bad, indent=2)
    with pytest.raises(TypeError):
        dumps_indent2(bad)


class _Str(str):
    pass


class _Int(int):
    def __repr__(self) -> str:
        return "not what json writes"


class _Dict(dict):  # type: ignore[type-arg]
    pass


def test_subclasses_are_written_as_json_dumps_writes_them() -> None:
    value = _Dict({_Str("k"): [_Int(3), _Str("v"), (1.5, float("nan"))], 2: _Dict(), 1e100: _Int(-1)})
    assert dumps_indent2(value) == json.dumps(value, indent=2)


@pytest.mark.parametrize(
    "project", ["fixtures/express-app", "fixtures/stale-lock", "tests/data/corpus/pypi__warehouse"], ids=str
)
def test_real_snapshots_are_written_as_before(project: str) -> None:
    snap = scan_project(ROOT / project)
    assert snap.declared is not None and snap.declared.locks
    doc = snap.to_dict()
    assert snap.to_json() == json.dumps(doc, indent=2, sort_keys=False) + "\n"
    assert Snapshot.from_json(snap.to_json()) == snap
