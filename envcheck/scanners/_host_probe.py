# ruff: noqa: UP006, UP035, UP031, UP045
"""The probe envcheck runs *inside the project's interpreter* (issue 3).

Its source is handed to the project's interpreter as ``python -E -c <source>``
and it prints one JSON object.  So it must run on Python 3.6+ with the standard
library only: no f-string ``=``, no walrus, no ``from __future__ import
annotations``, no ``importlib.metadata`` (3.8+), and never an import of envcheck.

It has two halves (issue 15): :func:`describe` (what the interpreter *is*,
which envcheck caches: :mod:`envcheck.scanners.interpreter_cache`) and
:func:`distributions` (what is installed, read fresh every run).  With a
cached description envcheck imports this module and calls
:func:`distributions` in its own process: it only reads files, so the answer
is the same from either side.

It finds installed distributions the way ``importlib.metadata`` (and pip on
top of it) does: every ``sys.path`` entry in order, every ``*.dist-info`` and
``*.egg-info`` child, eggs, then ``*.egg-link`` targets; the first copy of a
name on ``sys.path`` is the one that imports, later copies are *shadowed* and
reported as such.  Reading the directory names and the head of ``METADATA``
directly is what makes it faster than ``pip list`` (which imports pip) while
agreeing with it.

Why ``-E`` and not ``-I``: ``-I`` also implies ``-s``, which would hide the user
site that this interpreter really imports from.  ``-E`` keeps the probe free of
``PYTHON*`` variables; envcheck runs it with ``cwd=/`` and the probe drops the
script directory entry (``''``) from ``sys.path`` first thing, so nothing in the
project directory can shadow a stdlib module or pose as an installed package.
"""

import json
import os
import sys

# typing is imported only for type checkers, and annotations that name it are
# strings: envcheck imports this module on every cached host snapshot, where
# typing would be ~6% of the run (issue 15), and Python 3.6 has no
# ``from __future__ import annotations``.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Set, Tuple

_HEADER_LIMIT = 256 * 1024
_FIRST_READ = 1024


def _canon(name: str) -> str:
    # PEP 503, as packaging.utils.canonicalize_name (not importable here).
    out = []
    prev_sep = False
    for ch in name.lower():
        if ch in "-_.":
            if not prev_sep:
                out.append("-")
            prev_sep = True
        else:
            out.append(ch)
            prev_sep = False
    return "".join(out)


def _safe_name(name: str) -> str:
    # pkg_resources.safe_name, which names .egg-link files.
    import re

    return re.sub("[^A-Za-z0-9.]+", "-", name)


def _parse_headers(data: bytes) -> "Tuple[Optional[str], Optional[str]]":
    """Name and Version from RFC 822 style metadata (first occurrence wins, like email)."""
    name = None
    version = None
    text = data.decode("utf-8", "replace")
    for line in text.splitlines():
        if not line.strip():
            break  # end of headers; the description body follows
        if line[0] in " \t":
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip().lower()
        if key == "name" and name is None:
            name = value.strip()
        elif key == "version" and version is None:
            version = value.strip()
        if name is not None and version is not None:
            break
    return name, version


def _read_head(path: str) -> "Optional[bytes]":
    try:
        with open(path, "rb") as fh:
            return fh.read(_HEADER_LIMIT)
    except OSError:
        return None


def _name_version(path: str) -> "Optional[Tuple[Optional[str], Optional[str]]]":
    """:func:`_parse_headers` of the file's head; None when it cannot be read.

    Name and Version open nearly every METADATA, whose description can run to
    hundreds of KB: the complete lines of the first KB answer when both
    are there (the parse stops at the same line either way), else the whole
    head is read (issue 15).
    """
    try:
        with open(path, "rb") as fh:
            start = fh.read(_FIRST_READ)
            if len(start) == _FIRST_READ:
                complete = start[: start.rfind(b"\n") + 1]
                name, version = _parse_headers(complete)
                if name is not None and version is not None:
                    return name, version
                start += fh.read(_HEADER_LIMIT - _FIRST_READ)
    except OSError:
        return None
    return _parse_headers(start)


def _direct_url(info: str) -> "Tuple[bool, Optional[str], bool]":
    """``(editable, project directory, has direct_url.json)`` of a dist-info; one failed open when it has none."""
    path = os.path.join(info, "direct_url.json")
    try:
        with open(path, "rb") as fh:
            data = fh.read(_HEADER_LIMIT)
    except FileNotFoundError:
        return False, None, False  # most distributions: no stat after the failed open
    except OSError:
        return False, None, os.path.isfile(path)
    has = os.path.isfile(path)
    try:
        doc = json.loads(data.decode("utf-8", "replace"))
    except ValueError:
        return False, None, has
    if not isinstance(doc, dict):
        return False, None, has
    dir_info = doc.get("dir_info")
    url = doc.get("url")
    if isinstance(dir_info, dict) and dir_info.get("editable") is True and isinstance(url, str):
        location = url[len("file://") :] if url.startswith("file://") else url
        return True, location, has
    return False, None, has


class _Finder:
    def __init__(self) -> None:
        self.found: Set[str] = set()
        self.dists: List[Dict[str, Any]] = []
        self.egg_links: Set[str] = set()
        self.notes: List[str] = []

    def add(self, info: str, kind: str, location: str, active: bool, linked: "Optional[str]" = None) -> None:
        if kind == "dist-info":
            found = _name_version(os.path.join(info, "METADATA"))
        elif kind == "egg-info" and os.path.isdir(info):
            found = _name_version(os.path.join(info, "PKG-INFO"))
        elif kind == "egg":
            found = _name_version(os.path.join(info, "EGG-INFO", "PKG-INFO"))
        else:  # a single-file .egg-info is the PKG-INFO itself
            found = _name_version(info)
        if found is None:
            return  # importlib.metadata sees no metadata; pip skips it too
        name, version = found
        if not name or version is None:
            self.notes.append("%s: no Name or Version in metadata, skipped (pip skips it too)" % info)
            return
        canon = _canon(name)
        used = active and canon not in self.found
        if used:
            self.found.add(canon)
        editable, project = (False, None)
        has_direct_url = False
        if kind == "dist-info":
            editable, project, has_direct_url = _direct_url(info)
        self.dists.append(
            {
                "name": name,
                "version": version,
                "path": info,
                "location": location,
                "active": used,
                "shadowed": active and not used,
                "editable": editable,
                "project": project,
                "has_direct_url": has_direct_url,
                "linked": linked,
            }
        )

    def scan(self, location: str, active: bool) -> None:
        if os.path.isdir(location):
            self._scan_dir(location, active)
        elif os.path.isfile(location) and not location.endswith(".whl"):
            self._scan_zip(location, active)

    def _scan_dir(self, location: str, active: bool) -> None:
        try:
            names = os.listdir(location)
        except OSError:
            return
        eggs = []
        links = []
        if location.lower().endswith(".egg") and "EGG-INFO" in names:
            self.add(location, "egg", location, active)
        for child in names:
            low = child.lower()
            if low.endswith(".dist-info"):
                self.add(os.path.join(location, child), "dist-info", location, active)
            elif low.endswith(".egg-info"):
                self.add(os.path.join(location, child), "egg-info", location, active)
            elif low.endswith(".egg"):
                eggs.append(child)
            elif low.endswith(".egg-link"):
                links.append(child)
                self.egg_links.add(child)
        for child in eggs:
            path = os.path.join(location, child)
            if os.path.isdir(os.path.join(path, "EGG-INFO")):
                self.add(path, "egg", location, active)
        # egg-link targets come last: that is how pkg_resources (and pip) tie-break.
        for child in links:
            link = os.path.join(location, child)
            head = _read_head(link)
            if head is None:
                continue
            target = ""
            for line in head.decode("utf-8", "replace").splitlines():
                if line.strip():
                    target = line.strip()
                    break
            if not target:
                continue
            target = os.path.normpath(os.path.join(location, target))
            try:
                entries = os.listdir(target)
            except OSError:
                continue
            for entry in entries:
                low = entry.lower()
                if low.endswith(".egg-info") or low.endswith(".dist-info"):
                    kind = "dist-info" if low.endswith(".dist-info") else "egg-info"
                    self.add(os.path.join(target, entry), kind, location, active, linked=link)

    def _scan_zip(self, location: str, active: bool) -> None:
        import zipfile

        try:
            if not zipfile.is_zipfile(location):
                return
            with zipfile.ZipFile(location) as zf:
                members = zf.namelist()
                for member in members:
                    parts = member.split("/")
                    if len(parts) != 2 or parts[1] not in ("METADATA", "PKG-INFO"):
                        continue
                    low = parts[0].lower()
                    if not (low.endswith(".dist-info") or low.endswith(".egg-info") or low == "egg-info"):
                        continue
                    name, version = _parse_headers(zf.read(member)[:_HEADER_LIMIT])
                    if not name or version is None:
                        continue
                    canon = _canon(name)
                    used = active and canon not in self.found
                    if used:
                        self.found.add(canon)
                    self.dists.append(
                        {
                            "name": name,
                            "version": version,
                            "path": os.path.join(location, parts[0]),
                            "location": location,
                            "active": used,
                            "shadowed": active and not used,
                            "editable": False,
                            "project": None,
                            "has_direct_url": False,
                            "linked": None,
                        }
                    )
        except Exception as exc:  # a corrupt zip on sys.path must not sink the probe
            self.notes.append("%s: unreadable zip on sys.path (%s)" % (location, exc.__class__.__name__))


def _libc() -> "Optional[str]":
    try:
        value = os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, ValueError, OSError):
        value = None
    if value:
        return value  # "glibc 2.36"
    return None


def _user_site() -> "Tuple[Optional[str], bool]":
    try:
        import site

        path = site.getusersitepackages() if hasattr(site, "getusersitepackages") else None
        enabled = bool(getattr(site, "ENABLE_USER_SITE", False))
    except Exception:
        return None, False
    return (path if isinstance(path, str) else None), enabled


def _site_packages() -> "List[str]":
    # Every site directory site.py would add if it existed: one appearing
    # later changes sys.path, so a cached description must watch them too.
    try:
        import site

        dirs = site.getsitepackages() if hasattr(site, "getsitepackages") else []
    except Exception:
        return []
    return [d for d in dirs if isinstance(d, str)]


def describe() -> "Dict[str, Any]":
    """Everything but the installed distributions: what this interpreter *is*.

    It depends only on the interpreter, its pyvenv.cfg, its site directories
    and ``.pth`` files and the user's home, so envcheck may cache it
    (:mod:`envcheck.scanners.interpreter_cache`); :func:`distributions` is
    always read fresh.  A new field goes here when it is a property of the
    interpreter, or in :func:`distributions` when it changes with what is
    installed.
    """
    import sysconfig

    user_site, user_enabled = _user_site()
    path = [p for p in sys.path if p]
    keys = set(os.path.normcase(os.path.abspath(p)) for p in path)
    user_on_path = bool(user_site) and os.path.normcase(os.path.abspath(user_site or "")) in keys
    impl = sys.implementation.name if hasattr(sys, "implementation") else "cpython"
    return {
        "version": sys.version.split()[0],
        "version_info": list(sys.version_info[:3]),
        "implementation": impl,
        "executable": sys.executable,
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "in_venv": getattr(sys, "base_prefix", sys.prefix) != sys.prefix,
        "platform": sysconfig.get_platform(),
        "libc": _libc(),
        "abiflags": getattr(sys, "abiflags", None),
        "path": path,
        "user_site": user_site,
        "user_site_enabled": user_enabled and user_on_path,
        "site_packages": _site_packages(),
    }


def distributions(description: "Dict[str, Any]") -> "Tuple[List[Dict[str, Any]], List[str]]":
    """The installed distributions and notes on what was skipped, for a :func:`describe` result.

    envcheck also calls this in its own process with a cached description: it
    reads only files, so the answer is the same from either side.
    """
    finder = _Finder()
    seen: Set[str] = set()
    for entry in description["path"]:
        key = os.path.normcase(os.path.abspath(entry)) if entry else entry
        if not entry or key in seen:
            continue
        seen.add(key)
        finder.scan(entry, True)
    user_site = description.get("user_site")
    user_on_path = bool(user_site) and os.path.normcase(os.path.abspath(user_site or "")) in seen
    if user_site and not user_on_path and os.path.isdir(user_site):
        # Installed with `pip install --user` but this interpreter does not
        # import from there (a venv, or -s): context, never drift.
        finder.scan(user_site, False)
    # pip marks a dist without direct_url.json editable when a matching
    # .egg-link sits on sys.path (legacy `setup.py develop`).
    for dist in finder.dists:
        legacy_link = dist["linked"] or (_safe_name(dist["name"]) + ".egg-link") in finder.egg_links
        if not dist["editable"] and not dist["has_direct_url"] and legacy_link:
            dist["editable"] = True
        del dist["has_direct_url"]
    return finder.dists, finder.notes


def main() -> None:
    out = describe()
    out["distributions"], out["notes"] = distributions(out)
    sys.stdout.write(json.dumps(out))
    sys.stdout.write("\n")
    sys.stdout.flush()


if __name__ == "__main__":
    # `python -c` puts the current directory first on sys.path; it is not where
    # the project's packages live when the project runs, and pip's console
    # script does not see it either.
    if sys.path and sys.path[0] in ("", "."):
        del sys.path[0]
    main()
