"""Which CPython an image pins, and from what truth (issue 13, item 1).

The order:

1. what the project declares — a version file (``runtime.txt``,
   ``.python-version``, ``.tool-versions``), Pipfile ``[requires]``, the
   project's own Dockerfile ``FROM``, and the range of ``requires-python`` or
   poetry's ``python`` constraint;
2. the host's interpreter, but only when the host really is the project's
   environment: its installed versions satisfy the project's pins.  A host of
   the same line as the declaration gives the exact patch release;
3. otherwise the newest known release that satisfies the declared range.

Disagreements are never silent: each gives a warning and a Dockerfile
comment.  A line past its end of life is still honoured, with its date.
:func:`image_tag` names the official image that really exists for a version
(``python:3.6.15-slim-bullseye``: no 3.6 image was ever built on bookworm).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from envcheck import _regex
from envcheck.generate.knowledge import python_eol, python_images
from envcheck.record import record

_FULL = _regex.compile(r"^\d+\.\d+\.\d+$")
_MINOR = _regex.compile(r"^\d+\.\d+$")
# Which declaration speaks first when several name a version.
_FILE_ORDER = ("runtime.txt", ".python-version", ".tool-versions", "Pipfile", "Pipfile.lock")


@record
class PythonChoice:
    version: str  # "3.6.15"
    release: str  # the Debian release of the image: "bullseye"
    reason: str  # the sentence after "# Python: "
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # further comment lines for the Dockerfile header
    declared: str | None = None  # the version a project file declares, when one does
    firm: bool = True  # False: a default no declaration or host backs

    @property
    def image(self) -> str:
        return f"python:{self.version}-slim-{self.release}"

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])


def _clean(raw: str) -> str:
    text = raw.strip()
    for p in ("python-", "python ", "cpython-", "python"):
        if text.lower().startswith(p):
            text = text[len(p) :]
    return text.strip()


def _spec(requires: str | None) -> SpecifierSet | None:
    if not requires:
        return None
    try:
        return SpecifierSet(requires)
    except InvalidSpecifier:
        return None


def satisfies(version: str, spec: SpecifierSet | None) -> bool:
    if spec is None:
        return True
    try:
        return spec.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False


def minor_of(version: str) -> str:
    return ".".join(version.split(".")[:2])


def newest_patch(minor: str, spec: SpecifierSet | None = None) -> str | None:
    line = python_images().lines.get(minor)
    if line is not None and satisfies(line.newest, spec):
        return line.newest
    return None


def image_release(version: str, preferred: str | None = None) -> tuple[str, str | None]:
    """(Debian release, note) of the official slim image of ``version``.

    ``preferred`` (the host's release) wins where such an image exists, then
    the table's default; otherwise the newest release the line was built on,
    and a note saying why.
    """
    table = python_images()
    line = table.line(version)
    if line is None:
        return preferred or table.default_release, None
    try:
        releases = line.releases_for(version)
    except InvalidVersion:
        return preferred or table.default_release, None
    for want in (preferred, table.default_release):
        if want and want in releases:
            return want, None
    if releases:
        return releases[0], (
            f"python {version} has no official slim image on {preferred or table.default_release}; "
            f"{releases[0]} is the newest Debian release it was published for"
        )
    return preferred or table.default_release, (
        f"no official slim image of python {version} is known; the tag names {preferred or table.default_release}"
    )


def eol_warning(version: str, today: dt.date | None) -> str | None:
    if today is None:
        return None
    found = python_eol().get(minor_of(version))
    if found is None or found[0] >= today:
        return None
    return f"python {minor_of(version)} reached its end of life on {found[1]}: it gets no security fixes"


def declared_versions(
    version_files: Mapping[str, str], dockerfiles: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """(where, version) the project names, in the order they speak."""

    def rank(name: str) -> tuple[int, str]:
        base = name.split(":", 1)[0].rsplit("/", 1)[-1]
        return (_FILE_ORDER.index(base) if base in _FILE_ORDER else len(_FILE_ORDER), name)

    out: list[tuple[str, str]] = []
    for fname in sorted(version_files, key=rank):
        if fname.split("/")[-1].startswith("Dockerfile"):
            continue  # the scanner's Dockerfile entries: taken from ``dockerfiles`` instead
        v = _clean(version_files[fname])
        if _FULL.match(v) or _MINOR.match(v):
            out.append((fname, v))
    for where, v in dockerfiles:
        if _FULL.match(v) or _MINOR.match(v):
            out.append((where, v))
    return out


def _same_line(a: str, b: str) -> bool:
    return minor_of(a) == minor_of(b)


def choose_python(
    *,
    host: str | None,
    host_label: str,
    host_fits: bool | None,
    host_fit_reason: str = "",
    version_files: Mapping[str, str],
    dockerfiles: Sequence[tuple[str, str]] = (),
    requires: str | None,
    requires_source: str | None = None,
    host_release: str | None = None,
    today: dt.date | None = None,
) -> PythonChoice:
    """Pick the interpreter; see the module docstring for the order."""
    spec = _spec(requires)
    req_where = f"requires-python {requires}" + (f" ({requires_source.split(':')[0]})" if requires_source else "")
    warnings: list[str] = []
    notes: list[str] = []
    named = declared_versions(version_files, dockerfiles)
    fitting = [(w, v) for w, v in named if satisfies(v if _FULL.match(v) else (newest_patch(v) or v + ".0"), spec)]
    for w, v in named:
        if (w, v) not in fitting:
            warnings.append(f"{w} names python {v}, outside {req_where}; not using it")
    first = fitting[0] if fitting else None
    if first is not None:
        others = [f"{w} ({v})" for w, v in fitting[1:] if not _same_line(v, first[1])]
        if others:
            msg = f"{first[0]} names python {first[1]}, but {', '.join(others)} disagree; following {first[0]}"
            warnings.append(msg)
            notes.append(f"# Declared versions disagree: {msg}.")
    host_ok = bool(host and _FULL.match(host))
    host_is_env = host_ok and host_fits is not False
    version: str | None = None
    reason = ""
    firm = True
    if first is not None:
        where, v = first
        if host_ok and host and host_is_env and _same_line(host, v) and satisfies(host, spec):
            version = host
            if host == v:
                reason = f"python {host} is named in {where} and is the interpreter of the {host_label}"
            else:
                reason = (
                    f"{where} names python {v}; {host} is the {host_label}'s interpreter of that line, "
                    "where the project's pins are installed"
                )
        else:
            if host_ok and host and not satisfies(host, spec):
                warnings.append(f"the {host_label} runs python {host}, outside {req_where}; not pinning it")
            elif host_ok and host:
                why = (
                    f"is not the project's environment ({host_fit_reason})"
                    if host_fits is False and host_fit_reason
                    else "is another line"
                )
                if not _same_line(host, v) or host_fits is False:
                    msg = f"the {host_label} runs python {host}, but {where} names {v}; the {host_label} {why}: following {where}"
                    warnings.append(msg)
                    notes.append(f"# Not the {host_label}'s python {host}: {where} names {v}.")
            if _FULL.match(v):
                version, reason = v, f"python {v} is named in {where}"
            else:
                found = newest_patch(v, spec)
                if found is None:
                    found = newest_patch(v) or f"{v}.0"
                version, reason = found, f"{where} names python {v}; {found} is its newest known patch release"
        declared: str | None = v
    else:
        declared = None
        if host_ok and host:
            if not satisfies(host, spec):
                warnings.append(f"the {host_label} runs python {host}, outside {req_where}; not pinning it")
            elif host_fits is False:
                msg = (
                    f"the {host_label} runs python {host}, but it is not the project's environment "
                    f"({host_fit_reason}); not pinning it"
                )
                warnings.append(msg)
                notes.append(f"# Not the {host_label}'s python {host}: {host_fit_reason}.")
            else:
                version, reason = host, f"python {host} is the interpreter of the {host_label}"
        if version is None:
            known = python_images().newest()
            found = next((k for k in known if satisfies(k, spec)), None) if spec is not None else None
            if found:
                version, reason = found, f"{found} is the newest known release satisfying {req_where}"
                firm = False
            else:
                fallback = known[1]
                version = fallback
                reason = f"nothing names a python version; {fallback} is the newest known release of a mature minor"
                firm = False
                if not warnings:
                    warnings.append(
                        "no python version found on the host or in the project; pinned a default — check it"
                    )
    assert version is not None
    release, note = image_release(version, host_release)
    table = python_images()
    line = table.line(version)
    if release in table.archived and line is not None and line.newest != version:
        newer, newer_note = image_release(line.newest, host_release)
        if newer not in table.archived:
            msg = (
                f"python {version} was only published on Debian {release}, whose packages are archived "
                f"(apt-get fails there); using {line.newest}, the newest release of the same line"
            )
            warnings.append(msg)
            notes.append(f"# {msg[0].upper()}{msg[1:]}.")
            version, release, note = line.newest, newer, newer_note
            reason = f"{reason}; moved to {version} (see below)"
    if note:
        notes.append(f"# {note[0].upper()}{note[1:]}.")
    eol = eol_warning(version, today)
    if eol:
        warnings.append(eol)
        notes.append(f"# {eol[0].upper()}{eol[1:]}; kept because the project's pins are made for it.")
    return PythonChoice(
        version=version,
        release=release,
        reason=reason,
        warnings=tuple(warnings),
        notes=tuple(notes),
        declared=declared,
        firm=firm,
    )


def candidates(spec: SpecifierSet | None, around: str) -> list[str]:
    """Newest patches of every known line within ``spec``, nearest to ``around`` first.

    Nearer means fewer minor releases away; at equal distance the older line
    comes first, since a legacy project's pins were made for older lines.
    """
    base = Version(around)
    out = []
    for line in python_images().lines.values():
        if satisfies(line.newest, spec):
            v = Version(line.newest)
            if v.major != base.major:
                continue
            out.append((abs(v.minor - base.minor), v.minor > base.minor, line.newest))
    return [v for _, _, v in sorted(out)]
