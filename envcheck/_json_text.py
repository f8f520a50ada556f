"""``json.dumps(value, indent=2)``, byte for byte, without the standard library's generators (issue 15).

Before Python 3.14 the standard library writes an indented document in pure
Python through nested generators: every token is yielded up through one
generator frame per level of nesting, so a 700 KB host snapshot (depth 5,
60,000 tokens) took ~16 ms of a ~100 ms command.  This writer appends each
item to one list, strings go straight to the C ``encode_basestring_ascii``
that ``json.dumps`` itself uses, and the common types are told apart by
identity before any ``isinstance`` — about 2.5x faster, the same text.

``tests/unit/test_unit_json_text.py`` holds :func:`dumps_indent2` to
``json.dumps(value, indent=2)`` over arbitrary JSON values (hypothesis) and
real snapshots.  Only what ``json.dumps`` accepts with its defaults is
accepted; anything else raises ``TypeError`` as it does.
"""

from __future__ import annotations

from json.encoder import encode_basestring_ascii as _string

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


__all__ = ["dumps_indent2"]

_INF = float("inf")
# A line break and ``depth`` steps of two spaces, by depth; a snapshot nests six deep.
_NEWLINES: list[str] = ["\n" + "  " * depth for depth in range(16)]


def _newline(depth: int) -> str:
    """``_NEWLINES[depth]``, grown for deeper documents."""
    while len(_NEWLINES) <= depth:
        _NEWLINES.append("\n" + "  " * len(_NEWLINES))
    return _NEWLINES[depth]


def _float(o: float) -> str:
    # json's floatstr with allow_nan=True.  NaN is the one float unequal to
    # itself: no ``math`` (a shared library to load, ~0.5 ms of a start).
    if o != o:  # noqa: PLR0124 - the NaN test itself
        return "NaN"
    if o == _INF:
        return "Infinity"
    if o == -_INF:
        return "-Infinity"
    return float.__repr__(o)


def _scalar(v: Any) -> str:
    """A value that is not a container, in json.dumps's order of tests."""
    if isinstance(v, str):
        return _string(v)
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return int.__repr__(v)
    if isinstance(v, float):
        return _float(v)
    raise TypeError(f"Object of type {v.__class__.__name__} is not JSON serializable")


def _key(k: Any) -> str:
    # json.dumps's rules for keys (skipkeys=False), in its order of tests.
    if isinstance(k, str):
        return _string(k)
    if isinstance(k, float):
        return _string(_float(k))
    if k is True:
        return '"true"'
    if k is False:
        return '"false"'
    if k is None:
        return '"null"'
    if isinstance(k, int):
        return _string(int.__repr__(k))
    raise TypeError(f"keys must be str, int, float, bool or None, not {k.__class__.__name__}")


def _is_container(v: Any) -> bool:
    return isinstance(v, (list, tuple, dict))


def _write(o: Any, depth: int, out: list[str]) -> None:
    """Append the indented text of container ``o`` (a dict, list or tuple) at ``depth``."""
    inner = _NEWLINES[depth + 1] if depth < 15 else _newline(depth + 1)
    sep = inner
    after = "," + inner
    if isinstance(o, dict):
        if not o:
            out.append("{}")
            return
        out.append("{")
        for k, v in o.items():
            key = _string(k) if k.__class__ is str else _key(k)
            cls = v.__class__
            if cls is str:
                out.append(f"{sep}{key}: {_string(v)}")
            elif cls is dict or cls is list or cls is tuple or _is_container(v):
                out.append(f"{sep}{key}: ")
                _write(v, depth + 1, out)
            else:
                out.append(f"{sep}{key}: {_scalar(v)}")
            sep = after
        out.append(inner[:-2] + "}")
        return
    if not o:
        out.append("[]")
        return
    out.append("[")
    for v in o:
        cls = v.__class__
        if cls is str:
            out.append(sep + _string(v))
        elif cls is dict or cls is list or cls is tuple or _is_container(v):
            out.append(sep)
            _write(v, depth + 1, out)
        else:
            out.append(sep + _scalar(v))
        sep = after
    out.append(inner[:-2] + "]")


def dumps_indent2(value: Any) -> str:
    """The text ``json.dumps(value, indent=2)`` returns."""
    if not _is_container(value):
        return _scalar(value)
    out: list[str] = []
    _write(value, 0, out)
    return "".join(out)
