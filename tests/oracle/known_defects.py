"""Known defects: mismatch classes the fuzzer finds that are already filed.

Each entry names the issue item (issue 19's list of seventeen, or a finding of this
fuzzer described in tests/oracle/FINDINGS.md) and a predicate over a `Mismatch`. The CI
fuzz test reports a mismatch matched by an entry as a skip-like "known defect" and fails
on every other one. When a fix lands, DELETE ITS ENTRY: the comparison then holds
strictly for that class (nothing else in the comparison is relaxed by this list).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from tests.oracle.harness import Mismatch
from tests.oracle.reference import parse_quantile

__all__ = ["KnownDefect", "KNOWN_DEFECTS", "known_defect", "issue_item"]


@dataclass(frozen=True)
class KnownDefect:
    item: str  # "19.1" .. "19.17": issue 19's list; "N1".. : FINDINGS.md
    title: str
    matches: Callable[[Mismatch], bool]


def _q(m: Mismatch) -> dict:
    return m.query or {}


def _streaming(m: Mismatch) -> bool:
    return m.config in ("streaming", "tiny")


def _names(m: Mismatch, *names: str, entities: tuple[str, ...] = ("Server", "Worker")) -> bool:
    """A metrics question that touches one of `names` on one of `entities`."""
    q = _q(m)
    return q.get("kind") == "metrics" and any(
        fnmatchcase(n, q.get("name") or "") for n in names) and any(
        fnmatchcase(e, q.get("entity") or "*") for e in entities)


def _quantile(m: Mismatch) -> bool:
    return m.aggregate is not None and parse_quantile(m.aggregate) is not None


def _sched(m: Mismatch, *ops: str) -> bool:
    return any(op in (m.extra.get("schedule") or []) for op in ops)


#: the issue items as the fuzzer sees them (a mismatch may match several)
ISSUE_CLASSES: list[KnownDefect] = [
    KnownDefect("19.1", "streaming: time-weighted gauge percentiles use the unweighted rank",
                lambda m: _streaming(m) and m.check == "value" and m.series_kind == "gauge"
                and _quantile(m) and m.weighting == "time"),
    KnownDefect("19.2", "streaming: weighting('sample') gauge percentiles from the "
                "time-weighted rollups",
                lambda m: _streaming(m) and (m.series_kind or "").startswith("gauge")
                and _q(m).get("weighting") == "sample" and not m.extra.get("user_gauge")
                and (m.check == "weighting" or (m.check == "value" and _quantile(m)))),
    KnownDefect("19.3", "stepped / paused runs record same-instant values as changes",
                lambda m: bool(m.extra.get("transient_rows")) and (
                    m.check in ("store", "model")
                    or _names(m, "queue_depth", "in_flight"))),
    KnownDefect("19.4", "a metric breakpoint true on the last event never pauses",
                lambda m: m.check == "breakpoint"),
    KnownDefect("19.5", "streaming: evicted events/spans answer with exact: true",
                lambda m: _streaming(m) and _q(m).get("kind") in ("events", "spans")
                and m.check in ("value", "rows")
                and not (m.aggregate == "rate" and m.extra.get("past_now"))),
    KnownDefect("19.6", "last_s at large times rounds now + 1e-9 to now",
                lambda m: _q(m).get("last_s") is not None
                and m.extra.get("start_time", 0.0) >= 1.7e7),
    KnownDefect("19.7", "requests popped through queue.policy.pop() stay in queue_depth "
                "and wait_time",
                lambda m: bool(m.extra.get("cancels")) and (
                    m.check in ("model", "store") or (
                        m.check in ("value", "raw", "rows")
                        and _names(m, "queue_depth", "wait_time", "in_flight",
                                   "service_time", entities=("Server",))))),
    KnownDefect("19.8", "a rate over a range past now divides by the whole range",
                lambda m: m.check == "says" or (
                    m.check == "value" and m.aggregate == "rate"
                    and bool(m.extra.get("past_now")))),
    KnownDefect("19.9", "globs over mixed kinds average gauges per sample, even grouped",
                lambda m: m.check in ("value", "weighting")
                and "+" in (m.series_kind or "")),
    KnownDefect("19.10", "default(): events answer count 0 with exact: true",
                lambda m: m.check == "answered" and m.config == "default"
                and _q(m).get("kind") == "events"),
    KnownDefect("19.11", "live time_weighted windows miss the gauge's initial value",
                lambda m: m.check == "live"),
    KnownDefect("19.12", "reading a store from another thread during run() flushes there",
                lambda m: _sched(m, "reader_thread") and m.check == "crash"
                and "reactivex.timer" not in m.detail),
    KnownDefect("19.13", "the run's wall-clock guard is process-wide: other threads' "
                "reactivex timers fail while a simulation runs",
                lambda m: m.check == "crash" and "reactivex.timer" in m.detail),
    KnownDefect("19.14", "protocol budgets: fetch stalls at budgets 512..799; CSV cut "
                "before escaping",
                lambda m: (m.check == "crash" and "fetch" in m.detail)
                or m.check == "export"),
    KnownDefect("19.15", "non-finite breakpoint times accepted",
                lambda m: m.check == "hostile" and m.extra.get("item") == "19.15"),
    KnownDefect("19.16", "wrong-typed values coerced instead of refused",
                lambda m: (m.check == "hostile" and m.extra.get("item") == "19.16")
                or (m.check == "range" and "start" in _q(m) and "end" not in _q(m))),
    KnownDefect("19.17", "spans().from_entity(e) refused before e's first span",
                lambda m: m.check == "refused" and _q(m).get("kind") == "spans"
                and "unknown entity" in m.detail),
]

#: found by this fuzzer, not in issue 19's list (tests/oracle/FINDINGS.md)
NEW_CLASSES: list[KnownDefect] = [
    KnownDefect("N1", "a user gauge keeps every set as a change: several at one instant "
                "(fixed by 19.3's settling) and a set to the value it already holds (the "
                "standard components drop those): count, sample weighting, raw rows differ",
                lambda m: bool(m.extra.get("user_gauge"))
                and m.check in ("value", "raw", "rows", "weighting")),
    KnownDefect("N2", "rate is None over any range shorter than 1e-9 x its end time "
                "(at t >= 1e9 s: every range under a second)",
                lambda m: m.check == "value" and m.aggregate == "rate"
                and m.extra.get("start_time", 0.0) >= 1e6 and "=None" in m.detail),
]

NEW_CLASSES.append(KnownDefect(
    "N3", "a time breakpoint after the last event moves the clock to the breakpoint time "
    "and pauses there: the resumed run ends later than the uninterrupted one",
    lambda m: m.check == "run" and "scheduled run ended" in m.detail
    and _sched(m, "bp_time")))

NEW_CLASSES.append(KnownDefect(
    "N4", "live spans carry times one ulp off the instant at large times (Sink span at "
    "1e9 + 0.375 s streams as 1000000000.3750001; the trace store has the instant): a span "
    "at a range edge is counted by one interface and not the other",
    lambda m: _q(m).get("kind") == "spans" and m.extra.get("start_time", 0.0) >= 1e6
    and m.check in ("value", "rows", "raw")))

NEW_CLASSES.append(KnownDefect(
    "N5", "a windowed range that ends just after a window boundary (an end of nextafter(now) "
    "when now is on a boundary) has no row for [boundary, end): what happened at now is in "
    "no window",
    lambda m: m.check == "rows" and bool(m.extra.get("sliver"))))

NEW_CLASSES.append(KnownDefect(
    "T1", "a bounded trace store evicted the oldest traces when it was read; a trace whose "
    "early spans were evicted at a pause and whose later spans arrived afterwards was kept "
    "as a new, partial trace, so a paused run's tiny trace store differed from the "
    "uninterrupted run's (fixed in session 8: the bound is decided span by span)",
    lambda m: m.check == "store" and m.config in ("streaming", "tiny")
    and "spans:" in m.detail))

#: what the CI fuzz test tolerates today: nothing. Add an entry (naming its issue item)
#: only for a filed, open class; remove it when its fix lands. (ISSUE_CLASSES and
#: NEW_CLASSES stay above: they name the classes for reports; the fixed ones are no
#: longer tolerated.) Fixed since the issue-19 fixes: 19.8's residual on events/spans,
#: N2, N4, N5 (one time conversion, `operators.simtime`), N1, N3 and T1.
KNOWN_DEFECTS: list[KnownDefect] = []


def known_defect(m: Mismatch) -> KnownDefect | None:
    """The first known-defect entry that explains `m` (None: a new mismatch)."""
    for d in KNOWN_DEFECTS:
        if d.matches(m):
            return d
    return None


def issue_item(m: Mismatch) -> list[str]:
    """Every catalogued class (issue items and findings) `m` belongs to."""
    return [d.item for d in ISSUE_CLASSES + NEW_CLASSES if d.matches(m)]
