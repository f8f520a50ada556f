"""Environment variables whose meaning is known data: what official base images and tools set.

Two tables, each a TOML file under ``envcheck/data/`` with its sources named:

- ``official_image_env.toml``: the ``ENV`` the Docker Official Images set
  (``python``'s ``GPG_KEY``, ``PYTHON_GET_PIP_SHA256`` …) with the *shape* of
  each value, so :mod:`envcheck.secrets` can tell the release manager's
  public key fingerprint from a credential hidden under the same name;
- ``tool_env.toml``: names a tool sets for the scripts it runs
  (``npm_lifecycle_event``, ``npm_config_*``), which are not the
  application's settings.

Both are loaded once and validated; a malformed table is a bug in envcheck,
reported as such.
"""

from __future__ import annotations

import fnmatch
import re
from functools import lru_cache
from pathlib import Path

from envcheck._toml import loads
from envcheck.record import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final


SHAPES: Final[frozenset[str]] = frozenset({"fingerprint", "sha256", "url", "version", "path", "text"})

# Pattern strings: re compiles (and keeps) one when a value of that shape is first checked.
_FINGERPRINTS = r"^[0-9A-Fa-f]{40}(?:[\s,]+[0-9A-Fa-f]{40})*$"
_SHA256 = r"(?i)^[0-9a-f]{64}$"
_VERSION = r"^v?[0-9][0-9A-Za-z.+~-]{0,40}$"
_PATH = r"^[A-Za-z0-9_./:${}-]{1,400}$"
_TEXT = r"^[A-Za-z0-9_.:@ =/,+-]{0,400}$"


@record
class ToolEnv:
    names: frozenset[str]
    patterns: tuple[str, ...]


def _data(name: str) -> dict[str, object]:
    where = f"envcheck/data/{name}"
    beside = Path(__file__).with_name("data") / name
    if beside.is_file():
        # The usual install: a plain file.  importlib.resources (and the
        # zipfile and tempfile it imports) only for a zipped install — it was
        # a measurable part of `envcheck lint`'s start-up (issue 15).  Parsed
        # once and kept in envcheck's cache: no TOML parser on lint's path.
        from envcheck._cache import parsed_file

        parsed = parsed_file(beside, lambda text: loads(text, where))
        if isinstance(parsed, dict):
            return parsed
        text = beside.read_text(encoding="utf-8")  # a cache entry someone else wrote: parse afresh
    else:  # pragma: no cover - envcheck imported from a zip
        from importlib import resources

        text = resources.files("envcheck").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    return loads(text, where)


@lru_cache(maxsize=1)
def official_image_env() -> dict[str, dict[str, str]]:
    """``{"python": {"GPG_KEY": "fingerprint", …}, …}`` (validated)."""
    images = _data("official_image_env.toml").get("images")
    if not isinstance(images, dict):
        raise ValueError("envcheck/data/official_image_env.toml: [images] missing")
    out: dict[str, dict[str, str]] = {}
    for image, table in images.items():
        if not isinstance(table, dict):
            raise ValueError(f"official_image_env.toml: images.{image} is not a table")
        for var, shape in table.items():
            if shape not in SHAPES:
                raise ValueError(f"official_image_env.toml: images.{image}.{var}: unknown shape {shape!r}")
        out[str(image)] = {str(k): str(v) for k, v in table.items()}
    return out


@lru_cache(maxsize=1)
def _official_shapes() -> dict[str, frozenset[str]]:
    shapes: dict[str, set[str]] = {}
    for table in official_image_env().values():
        for var, shape in table.items():
            shapes.setdefault(var, set()).add(shape)
    return {k: frozenset(v) for k, v in shapes.items()}


@lru_cache(maxsize=1)
def tool_env() -> dict[str, ToolEnv]:
    tools = _data("tool_env.toml").get("tools")
    if not isinstance(tools, dict):
        raise ValueError("envcheck/data/tool_env.toml: [tools] missing")
    out: dict[str, ToolEnv] = {}
    for tool, table in tools.items():
        names, patterns = (table.get(k, []) if isinstance(table, dict) else None for k in ("names", "patterns"))
        if not isinstance(names, list) or not isinstance(patterns, list):
            raise ValueError(f"tool_env.toml: tools.{tool} needs lists 'names' and 'patterns'")
        out[str(tool)] = ToolEnv(frozenset(str(n) for n in names), tuple(str(p) for p in patterns))
    return out


def has_shape(value: str, shape: str) -> bool:
    """Does ``value`` look the way the official image writes this kind of value?"""
    v = value.strip()
    if shape == "fingerprint":
        return bool(re.match(_FINGERPRINTS, v))
    if shape == "sha256":
        return bool(re.match(_SHA256, v))
    if shape == "version":
        return bool(re.match(_VERSION, v))
    if shape == "url":
        from envcheck.secrets import is_public_url

        return is_public_url(v)
    if shape == "path":
        return bool(re.match(_PATH, v))
    return bool(re.match(_TEXT, v))


def is_official_image_value(name: str, value: str) -> bool:
    """Is ``name=value`` what an official base image sets (name known, value of the known shape)?"""
    shapes = _official_shapes().get(name)
    return shapes is not None and any(has_shape(value, s) for s in shapes)


def is_official_image_name(name: str) -> bool:
    return name in _official_shapes()


def is_fingerprint_list(value: str) -> bool:
    return bool(re.match(_FINGERPRINTS, value.strip()))


def provided_by_tool(name: str) -> str | None:
    """The tool that sets ``name`` for the scripts it runs (``npm`` for ``npm_lifecycle_event``), or None."""
    for tool, env in tool_env().items():
        if name in env.names or any(fnmatch.fnmatchcase(name, p) for p in env.patterns):
            return tool
    return None
