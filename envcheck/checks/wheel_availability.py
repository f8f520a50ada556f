"""``wheel-availability``: a distribution has no wheel for the other side's platform (EC214).

Pair mode.  The distributions are the project's locked Python entries (their
markers evaluated for the right-hand side) or, with no lock, the packages
installed on the left.  The right-hand side's accepted wheel tags come from
:mod:`envcheck.platform_tags`; which files a release has comes from the
package index, gathered before the checks run (:mod:`envcheck.index_facts`)
and handed over in ``Context.index``: this function reads no network.

It reports drift, not taste: a distribution that builds from source on both
sides (sdist only everywhere) is not the platform's doing, and nothing is
said when the right side accepts every tag the left does.
"""

from __future__ import annotations

from collections.abc import Iterator

from envcheck.checks._base import IGNORE_PARAM, Check, Context, canonical, finding, marker_applies, where
from envcheck.findings import Finding, Side
from envcheck.platform_tags import WheelTags, snapshot_wheel_tags
from envcheck.record import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from envcheck.rules import Rule

KIND = "wheel-availability"


@record
class Subject:
    name: str  # canonical
    version: str
    source: str | None  # the lock file entry, when locked
    locked: bool


def sides(ctx: Context) -> tuple[WheelTags, WheelTags] | None:
    """Both sides' tags when the right side could lose a wheel the left side has; else None."""
    if ctx.mode != "pair":
        return None
    left, right = snapshot_wheel_tags(ctx.left), snapshot_wheel_tags(ctx.right)
    if left is None or right is None or right.accepts_all_of(left):
        return None
    return left, right


def subjects(ctx: Context, ignore: tuple[str, ...] = ()) -> list[Subject]:
    """What to ask the index about: the lock's Python entries, else what the left side has installed."""
    skip = {canonical("python", n) for n in ignore}
    out: dict[str, Subject] = {}
    declared = ctx.declared
    locks = [x for x in declared.locks if x.ecosystem == "python"] if declared is not None else []
    if locks:
        for lock in locks:
            if ctx.right is not None and not marker_applies(lock.marker, ctx.right):
                continue
            name = canonical("python", lock.name)
            if name not in skip:
                out.setdefault(f"{name}=={lock.version}", Subject(name, lock.version, lock.source or None, True))
    elif ctx.left is not None:
        for pkg in ctx.left.active_packages("python"):
            name = canonical("python", pkg.name)
            if pkg.editable or name in skip:
                continue  # an editable install is the project's own code, not an index download
            out.setdefault(f"{name}=={pkg.version}", Subject(name, pkg.version, None, False))
    return sorted(out.values(), key=lambda s: (s.name, s.version))


def check(rule: Rule, ctx: Context) -> Iterator[Finding]:
    tags = sides(ctx)
    if tags is None or ctx.index is None or ctx.right is None or ctx.left is None:
        return
    left, right = tags
    todo = subjects(ctx, tuple(rule.params["ignore"]))
    if not todo:
        return
    from envcheck.pyindex import match_release

    right_py = ctx.right.runtimes["python"].version
    left_py = ctx.left.runtimes["python"].version
    target = f"{right.label}, Python {right_py}"
    unchecked: dict[str, str] = {}
    for s in todo:
        page = ctx.index.pages.get(s.name)
        if page is None:
            unchecked[f"{s.name}=={s.version}"] = ctx.index.unchecked.get(s.name, "not asked")
            continue
        there = match_release(page, s.version, right.tags(), right_py)
        if there.wheel:
            continue
        if not there.listed:
            unchecked[f"{s.name}=={s.version}"] = f"the index lists no files of {s.name} {s.version}"
            continue
        here = match_release(page, s.version, left.tags(), left_py)
        what = "locked" if s.locked else f"installed {where(ctx.left_label)}"
        if there.sdist:
            if not here.wheel:
                continue  # built from source on both sides: not the platform's doing
            yield finding(
                rule,
                f"{s.name} {s.version} ({what}) has no wheel for {ctx.right_label} ({target}): "
                "pip would build it from source there (an sdist exists)",
                subject=s.name,
                left=Side(ctx.left_label, "wheel"),
                right=Side(ctx.right_label, "build from sdist"),
                source=s.source,
                fix=(
                    f"build {ctx.right_label} for the left side's platform ({left.platforms[0]}), install the "
                    f"compilers and headers {s.name} needs there, or pin a {s.name} release with a wheel for "
                    f"{right.platforms[0]}"
                ),
            )
            continue
        why = (
            f"every file of it requires Python {there.excluded_by}"
            if there.excluded_by
            else "no wheel matches and there is no sdist to build"
        )
        yield finding(
            rule,
            f"{s.name} {s.version} ({what}) cannot be installed {where(ctx.right_label)} ({target}): {why}",
            subject=s.name,
            left=Side(ctx.left_label, "wheel" if here.wheel else "installed"),
            right=Side(ctx.right_label, "not installable"),
            source=s.source,
            fix=(
                f"pin a {s.name} release that supports Python {right_py}, or run the same Python on both sides"
                if there.excluded_by
                else f"pin a {s.name} release that publishes a wheel for {right.platforms[0]}, or match the platforms"
            ),
        )
    if unchecked:
        names = sorted(unchecked)
        reasons = sorted(set(unchecked.values()))
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        yield finding(
            rule,
            f"could not check wheels for {ctx.right_label} ({target}) of {shown}: {'; '.join(reasons[:3])}",
            subject="wheels",
            severity="info",
            fix="make the package index reachable (pip config / PIP_INDEX_URL) and scan again",
        )


CHECK = Check(
    run=check,
    modes=("pair",),
    params={"ignore": IGNORE_PARAM},
    doc="Asks the package index whether each locked/installed distribution has a wheel for the other side.",
)
