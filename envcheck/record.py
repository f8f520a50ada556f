"""Frozen records: what ``@dataclass(frozen=True, slots=True)`` gives, made cheaply.

Every piece of data envcheck passes around (snapshots, packages, findings,
plans) is an immutable, slotted, typed record. The standard library's
``dataclasses`` builds one by compiling six functions per class from source
text (``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__``,
``__delattr__``), and importing it pulls in ``inspect``, ``ast`` and ``dis``.
On Python 3.11 that was ~20 ms to import plus ~0.8 ms per class: about 50 ms
of a 150 ms ``envcheck lint``, and more than the whole budget of a host
snapshot meant to stay within 3x of ``uv pip list`` (issue 15).

``record`` keeps the contract and drops the cost:

- ``__init__`` is still generated (one small compile per class, on its first use), so
  construction is as fast as a dataclass's and its signature is the same:
  fields in order, defaults, ``field(default_factory=...)``, then
  ``__post_init__`` when the class defines one;
- equality, hashing, ``repr``, immutability, pickling and ``__match_args__``
  are shared functions driven by each class's field names, not per-class code;
- type checkers see a dataclass (PEP 681 ``dataclass_transform``), so mypy
  checks constructors and rejects assignment as it does for frozen dataclasses.

``tests/unit/test_unit_record.py`` holds ``record`` to the same observable
behaviour as ``dataclass(frozen=True, slots=True)`` over generated class
shapes. Mutable working state (a parser's scratch state, a client holding a
session) is not a record; it stays a plain class or a standard dataclass.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from operator import attrgetter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    from typing_extensions import dataclass_transform

    T = TypeVar("T")
else:

    def dataclass_transform(**_kwargs: Any) -> Callable[[Any], Any]:
        return lambda fn: fn


__all__ = ["FrozenInstanceError", "field", "record", "replace"]


class FrozenInstanceError(AttributeError):
    """Assigning to (or deleting) a field of a record."""


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


_MISSING: Any = _Missing()


class Field:
    """What ``field(...)`` declares about one field (read once, when the class is made)."""

    __slots__ = ("default", "default_factory", "repr")

    def __init__(self, default: Any, default_factory: Any, repr: bool) -> None:
        self.default = default
        self.default_factory = default_factory
        self.repr = repr


def field(*, default: Any = _MISSING, default_factory: Callable[[], Any] | Any = _MISSING, repr: bool = True) -> Any:
    """A field with a default, a default factory (for mutable defaults), or hidden from ``repr``."""
    if default is not _MISSING and default_factory is not _MISSING:
        raise ValueError("cannot specify both default and default_factory")
    return Field(default, default_factory, repr)


# --------------------------------------------------------------------------- shared methods


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is self.__class__:
        key = self.__record_key__
        return key(self) == key(other)
    return NotImplemented


def _hash(self: Any) -> int:
    return hash(self.__record_key__(self))


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__record_repr__)
    return f"{type(self).__qualname__}({shown})"


def _setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _getstate(self: Any) -> list[Any]:
    return [getattr(self, name) for name in self.__record_fields__]


def _setstate(self: Any, state: list[Any]) -> None:
    for name, value in zip(self.__record_fields__, state, strict=True):
        object.__setattr__(self, name, value)


def _key(names: list[str]) -> Callable[[Any], Any]:
    """What equality and hashing compare: the field values, as one tuple."""
    if len(names) > 1:
        return attrgetter(*names)  # C-speed, and already a tuple
    if names:
        only = names[0]
        return lambda obj: (getattr(obj, only),)
    return lambda obj: ()


# --------------------------------------------------------------------------- the decorator

_MUTABLE_DEFAULTS = (list, dict, set)
#: Constructions of a class bound without compiling its __init__ (about where a compile pays).
GENERIC_CONSTRUCTIONS = 48
_set = object.__setattr__


def _init_source(names: list[str], defaults: Collection[str], factories: Collection[str], post_init: bool) -> str:
    params = ["self"]
    body = []
    for name in names:
        if name in factories:
            params.append(f"{name}=_MISSING")
            body.append(f"    _set(self, {name!r}, _factory_{name}() if {name} is _MISSING else {name})")
        else:
            params.append(f"{name}=_default_{name}" if name in defaults else name)
            body.append(f"    _set(self, {name!r}, {name})")
    if post_init:
        body.append("    self.__post_init__()")
    return f"def __init__({', '.join(params)}) -> None:\n" + ("\n".join(body) or "    pass") + "\n"


def _compiled_init(
    names: list[str], default_values: dict[str, Any], factory_calls: dict[str, Any], post_init: bool
) -> Callable[..., None]:
    """The ``__init__`` a dataclass would have: parameters in field order, defaults bound as globals."""
    globs: dict[str, Any] = {"_set": _set, "_MISSING": _MISSING}
    for name, value in default_values.items():
        globs[f"_default_{name}"] = value
    for name, factory in factory_calls.items():
        globs[f"_factory_{name}"] = factory
    scope: dict[str, Any] = {}
    source = _init_source(names, default_values, factory_calls, post_init)
    exec(source, globs, scope)  # noqa: S102 - text made from the class's own field names
    init: Callable[..., None] = scope["__init__"]
    return init


def _is_class_var(annotation: Any) -> bool:
    # Annotations are text under `from __future__ import annotations`; most never mention ClassVar.
    text = annotation if annotation.__class__ is str else str(annotation)
    return "ClassVar" in text and "ClassVar" in text.split("[", 1)[0]


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type[T]) -> type[T]:
    """Make ``cls`` a frozen, slotted record of its annotated fields (``ClassVar`` ones excepted)."""
    own = cls.__dict__
    names: list[str] = []
    shown: list[str] = []
    default_values: dict[str, Any] = {}
    factory_calls: dict[str, Any] = {}
    for name, annotation in own.get("__annotations__", {}).items():
        if _is_class_var(annotation):
            continue
        value = own.get(name, _MISSING)
        names.append(name)
        if value.__class__ is Field:
            if value.repr:
                shown.append(name)
            if value.default_factory is not _MISSING:
                factory_calls[name] = value.default_factory
            value = value.default
        else:
            shown.append(name)
        if value is not _MISSING:
            if isinstance(value, _MUTABLE_DEFAULTS):
                raise ValueError(f"mutable default {type(value)} for field {name} is not allowed: use default_factory")
            default_values[name] = value
        elif name not in factory_calls and (default_values or factory_calls):
            raise TypeError(f"non-default argument {name!r} follows default argument")

    fields = tuple(names)
    namespace = dict(own)
    for name in (*names, "__dict__", "__weakref__"):
        namespace.pop(name, None)
    post_init = "__post_init__" in own
    made_cell: list[type[T]] = []
    position = {name: index for index, name in enumerate(names)}
    field_count = len(names)
    calls = [0]

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        # The first constructions bind their arguments here; a class built often then gets
        # a compiled __init__.  Compiling one costs 60-340 us, and most runs build most
        # record classes only a few times: 18 compiles were 4 ms of a 21 ms host snapshot.
        calls[0] += 1
        given = len(args)
        if calls[0] <= GENERIC_CONSTRUCTIONS and given <= field_count:
            bindable = all(position.get(key, -1) >= given for key in kwargs)
            if bindable:
                for name in names[given:]:
                    if name not in kwargs and name not in default_values and name not in factory_calls:
                        bindable = False  # a missing argument: the compiled __init__ says so
                        break
            if bindable:
                for name, value in zip(names, args):
                    _set(self, name, value)
                for name in names[given:]:
                    if name in kwargs:
                        _set(self, name, kwargs[name])
                    elif name in default_values:
                        _set(self, name, default_values[name])
                    else:
                        _set(self, name, factory_calls[name]())
                if post_init:
                    self.__post_init__()
                return
        # Anything else (a binding error, whose message must be Python's own) and every
        # construction after the first few go through the compiled __init__.
        made = made_cell[0]
        init = _compiled_init(names, default_values, factory_calls, post_init)
        init.__qualname__ = f"{made.__qualname__}.__init__"
        made.__init__ = init  # type: ignore[method-assign]
        init(self, *args, **kwargs)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    namespace.update(_SHARED)
    namespace["__init__"] = __init__
    namespace["__slots__"] = fields
    namespace["__qualname__"] = cls.__qualname__
    namespace["__match_args__"] = fields
    namespace["__record_fields__"] = fields
    namespace["__record_repr__"] = tuple(shown)
    namespace["__record_key__"] = staticmethod(_key(names))
    metaclass: Any = type(cls)
    made: type[T] = metaclass(cls.__name__, cls.__bases__, namespace)
    made_cell.append(made)
    return made


#: The methods every record shares: driven by the class's field names, not compiled per class.
_SHARED: dict[str, Any] = {
    "__eq__": _eq,
    "__hash__": _hash,
    "__repr__": _repr,
    "__setattr__": _setattr,
    "__delattr__": _delattr,
    "__getstate__": _getstate,
    "__setstate__": _setstate,
}


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of the record ``obj`` with ``changes`` applied (``dataclasses.replace`` for records)."""
    fields: tuple[str, ...] | None = getattr(type(obj), "__record_fields__", None)
    if fields is None:
        raise TypeError(f"replace() should be called on record instances, not {type(obj).__name__}")
    unknown = changes.keys() - set(fields)
    if unknown:
        raise TypeError(f"{type(obj).__name__} has no field(s) {', '.join(sorted(unknown))}")
    for name in fields:
        if name not in changes:
            changes[name] = getattr(obj, name)
    return type(obj)(**changes)


def fields(obj: object) -> tuple[str, ...]:
    """A record's field names, in declaration order."""
    klass = obj if isinstance(obj, type) else type(obj)
    names: tuple[str, ...] = klass.__dict__["__record_fields__"]
    return names
