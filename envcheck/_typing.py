"""The two runtime helpers of :mod:`typing` that envcheck calls, without importing it.

Importing ``typing`` costs about as much as importing ``re`` (16M instructions,
~6% of an ``envcheck lint``, issue 15), and envcheck needs nothing from it at
run time: annotations are strings (``from __future__ import annotations``),
and every module imports its typing names under ``if TYPE_CHECKING:`` with
``TYPE_CHECKING = False`` defined in the module, the idiom CPython's own
standard library uses; mypy and pyright read such a block as always taken.

Type checkers see the real :func:`typing.cast` and :func:`typing.assert_never`
here, so every call is checked as before; at run time they are the identity
and an ``AssertionError``, which is all the originals do.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import cast

    from typing_extensions import assert_never
else:

    def cast(_type, value):
        return value

    def assert_never(value):
        raise AssertionError(f"Expected code to be unreachable, but got: {value!r}")


__all__ = ["assert_never", "cast"]
