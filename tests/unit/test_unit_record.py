"""``envcheck.record`` behaves as ``dataclass(frozen=True, slots=True)`` does, for every class shape.

Each example declares the same class twice, once for each decorator, then
uses both the way envcheck's code does (construct, compare, hash, print,
copy, pickle, ``replace``, pattern-match, try to mutate) and requires the
same outcome from both.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
import sys
import types
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envcheck import record as rec

VALUES = st.one_of(st.none(), st.integers(-3, 3), st.text(max_size=3), st.tuples(st.integers(0, 2)))
FACTORIES = st.sampled_from([list, dict, tuple, set])

# One field: (kind, default or factory, shown in repr).
FIELD = st.one_of(
    st.tuples(st.just("plain"), st.none(), st.booleans()),
    st.tuples(st.just("default"), VALUES, st.booleans()),
    st.tuples(st.just("factory"), FACTORIES, st.booleans()),
)
SHAPES = st.lists(FIELD, max_size=5).map(
    # Fields without a default come first, as both decorators require.
    lambda fs: sorted(fs, key=lambda f: f[0] != "plain")
)

# The module the generated classes live in, so pickle can find them by name.
MODULE = types.ModuleType("envcheck_record_shapes")
MODULE.ClassVar = ClassVar  # type: ignore[attr-defined]  # how dataclasses recognises a string "ClassVar[...]"
sys.modules[MODULE.__name__] = MODULE


def _declare(shape: list[tuple[str, Any, bool]], std: bool, post_init: bool = False) -> type:
    make_field = dataclasses.field if std else rec.field
    ns: dict[str, Any] = {"__annotations__": {}, "__module__": MODULE.__name__}
    for i, (kind, value, shown) in enumerate(shape):
        name = f"f{i}"
        ns["__annotations__"][name] = "Any"
        if kind == "default":
            ns[name] = make_field(default=value, repr=shown) if not shown else value
        elif kind == "factory":
            ns[name] = make_field(default_factory=value, repr=shown)
        elif not shown:
            ns[name] = make_field(repr=False)
    ns["__annotations__"]["LIMIT"] = "ClassVar[int]"
    ns["LIMIT"] = 3
    if post_init:

        def __post_init__(self: Any) -> None:
            if shape and shape[0][0] == "plain" and isinstance(self.f0, int):
                object.__setattr__(self, "f0", self.f0 + 1)

        ns["__post_init__"] = __post_init__
    name = f"Shape{'Std' if std else 'Rec'}"
    ns["__qualname__"] = name
    cls = type(name, (), ns)
    made: type = dataclasses.dataclass(frozen=True, slots=True)(cls) if std else rec.record(cls)
    setattr(MODULE, name, made)
    return made


def _outcome(fn: Any) -> Any:
    try:
        return ("ok", fn())
    except TypeError:
        return ("TypeError",)
    except AttributeError:
        return ("AttributeError",)


def _view(obj: Any) -> Any:
    """What a user can see of an instance, with the class name made the same on both sides."""
    return repr(obj).replace("ShapeStd", "Shape").replace("ShapeRec", "Shape")


@settings(max_examples=150, deadline=None)
@given(
    shape=SHAPES,
    args=st.lists(VALUES, max_size=6),
    other=st.lists(VALUES, max_size=6),
    post_init=st.booleans(),
)
def test_a_record_behaves_as_a_frozen_slotted_dataclass(
    shape: list[tuple[str, Any, bool]], args: list[Any], other: list[Any], post_init: bool
) -> None:
    std, mine = _declare(shape, True, post_init), _declare(shape, False, post_init)
    assert mine.__match_args__ == std.__match_args__  # type: ignore[attr-defined]
    assert set(mine.__slots__) == set(std.__slots__)  # type: ignore[attr-defined]
    assert mine.LIMIT == 3  # type: ignore[attr-defined]

    made = {}
    for label, cls in (("std", std), ("mine", mine)):
        made[label] = (_outcome(lambda cls=cls: cls(*args)), _outcome(lambda cls=cls: cls(*other)))
    (s1, s2), (m1, m2) = made["std"], made["mine"]
    assert s1[0] == m1[0] and s2[0] == m2[0]
    if s1[0] != "ok":
        return
    a_std, a_mine = s1[1], m1[1]
    assert _view(a_mine) == _view(a_std)
    assert not hasattr(a_mine, "__dict__")
    for i in range(len(shape)):
        assert getattr(a_mine, f"f{i}") == getattr(a_std, f"f{i}")
    # Factories make a fresh value for every instance.
    for i, (kind, factory, _) in enumerate(shape):
        if kind == "factory" and factory is not tuple and len(args) <= i:
            assert getattr(a_mine, f"f{i}") is not getattr(mine(*args), f"f{i}")

    if s2[0] == "ok":
        b_std, b_mine = s2[1], m2[1]
        assert (a_mine == b_mine) == (a_std == b_std)
        assert (a_mine != b_mine) == (a_std != b_std)
    assert a_mine != a_std  # different classes never compare equal, as with dataclasses
    assert _outcome(lambda: hash(a_mine))[0] == _outcome(lambda: hash(a_std))[0]
    if _outcome(lambda: hash(a_std))[0] == "ok":
        assert hash(a_mine) == hash(mine(*args))

    for name in [f"f{i}" for i in range(len(shape))] + ["other"]:
        with pytest.raises(AttributeError):
            setattr(a_mine, name, 1)
        with pytest.raises(AttributeError):
            delattr(a_mine, name)
    if shape:
        with pytest.raises(dataclasses.FrozenInstanceError):
            a_std.f0 = 1
        with pytest.raises(rec.FrozenInstanceError):
            a_mine.f0 = 1

    assert _view(copy.copy(a_mine)) == _view(a_std)
    assert _view(copy.deepcopy(a_mine)) == _view(copy.deepcopy(a_std))
    if _outcome(lambda: pickle.dumps(a_std))[0] == "ok":
        assert pickle.loads(pickle.dumps(a_mine)) == a_mine

    changes = {f"f{i}": v for i, v in zip(range(len(shape)), other, strict=False)}
    assert _view(rec.replace(a_mine, **changes)) == _view(dataclasses.replace(a_std, **changes))
    assert rec.fields(mine) == tuple(f.name for f in dataclasses.fields(std))


def test_replace_rejects_unknown_fields_and_non_records() -> None:
    @rec.record
    class Point:
        x: int
        y: int = 0

    with pytest.raises(TypeError, match="no field"):
        rec.replace(Point(1), z=3)
    with pytest.raises(TypeError, match="record instances"):
        rec.replace(object())


def test_a_mutable_default_is_refused_as_dataclasses_refuses_it() -> None:
    with pytest.raises(ValueError, match="default_factory"):

        @rec.record
        class Bad:
            items: list[int] = []  # noqa: RUF012 - the point of the test


def test_a_non_default_field_after_a_default_is_refused() -> None:
    with pytest.raises(TypeError, match="follows default"):

        @rec.record
        class Bad:
            a: int = 1
            b: int  # type: ignore[misc]


def test_the_constructor_reports_bad_arguments_with_the_class_name() -> None:
    @rec.record
    class Point:
        x: int

    with pytest.raises(TypeError, match="__init__"):
        Point(1, 2)  # type: ignore[call-arg]
    assert Point(x=1) == Point(1)
    assert Point.__init__.__qualname__.endswith("Point.__init__")


@settings(max_examples=200, deadline=None)
@given(
    shape=SHAPES,
    args=st.lists(VALUES, max_size=4),
    kwargs=st.dictionaries(st.sampled_from(["f0", "f1", "f2", "f3", "f4", "zz", "self"]), VALUES, max_size=4),
    post_init=st.booleans(),
    compiled=st.booleans(),
)
def test_keyword_and_positional_binding_is_the_dataclass_one(
    shape: list[tuple[str, Any, bool]],
    args: list[Any],
    kwargs: dict[str, Any],
    post_init: bool,
    compiled: bool,
) -> None:
    # The first constructions of a class are bound without a compiled __init__, later ones
    # with it: both must accept, fill and refuse exactly what a dataclass does.
    std, mine = _declare(shape, True, post_init), _declare(shape, False, post_init)
    if compiled:
        for _ in range(rec.GENERIC_CONSTRUCTIONS + 1):
            _outcome(lambda: mine(*[0] * len(shape)))
        assert mine.__init__.__code__.co_argcount == len(shape) + 1  # type: ignore[misc]  # compiled by now
    want = _outcome(lambda: std(*args, **kwargs))
    got = _outcome(lambda: mine(*args, **kwargs))
    assert got[0] == want[0]
    if want[0] == "ok":
        assert _view(got[1]) == _view(want[1])
        for i, (kind, factory, _) in enumerate(shape):
            if kind == "factory" and factory is not tuple and f"f{i}" not in kwargs and len(args) <= i:
                assert getattr(got[1], f"f{i}") is not getattr(mine(*args, **kwargs), f"f{i}")
