"""What changed: every series of every entity ranked by how much it changed between two
windows of simulated time (``sim.query.changes(before, after, limit)``; the protocol's
``changes`` operation).

Each series is measured by its own kind:

- gauge: its time-weighted mean over the window;
- counter: its rate (increments per simulated second over the window);
- sample: its mean and its p99 (the series scores by the larger of the two changes).

**Score.** For a statistic with value ``b`` before and ``a`` after,
``score = |ln((|a| + f) / (|b| + f))|``: the size of the factor by which it changed
(0.69: doubled or halved; 2.3: tenfold), unit-free and so comparable across series. The
floor ``f`` keeps a change within the noise near 0: it is the standard error of
``a - b``, estimated from the spread of the statistic over the bins of the onset pass
(below) within each window, plus 1 % of ``max(|a|, |b|)``: a change to or from 0
scores at most ln(101) = 4.6. A gauge or sample series with no data in one window (it
started or stopped recording) is not scored (0) and says which (``no_data``); so is
every series in a window that begins after now (nothing of it has happened yet: a
counter's rate there is unknown, not 0). A window that reaches past now is measured
up to and including now, and the answer says so (its end is cut to just after now);
on a bounded (streaming) store whose raw samples no longer reach a window's edge, the
edge moves to the rollup bucket's (as a query's range does) and the answer states the
window measured.

**Onset.** When the change began: a one-sided CUSUM (in the direction of the change)
over the statistic in bins of 1/``ONSET_BINS`` of the scanned range, which runs from
``after.start - len(after)`` (not before ``before.start``) to ``after.end``:
``S = max(0, S + d * (x - b) - k)`` with ``k`` half the bins' standard deviation in the
reference part (before ``after.start``); the onset is the start of the bin after the
last one where ``S`` was 0, reported when ``S`` ends above ``5 * sd`` (else no onset is
given: the change has no clear start in the scanned range). Resolution: one bin.

Defaults: ``after`` is the last tenth of the elapsed time (up to and including now),
``before`` the tenth before it.
"""

from __future__ import annotations

import glob
import math
from typing import Any

import numpy as np

from happysim_rx.engine import QueryEngine, _edges, _snapped_windows, _split_at_now
from happysim_rx.engine_windows import _clip_end
from happysim_rx.query import QueryError
from operators.simtime import just_after

ONSET_BINS = 300
_STATS = {"gauge": "time-weighted mean", "counter": "rate per s", "sample": "mean"}


def _window(name: str, w: Any) -> tuple[float, float] | None:
    if w is None:
        return None
    if isinstance(w, dict):
        w = (w.get("start"), w.get("end"))
    if not isinstance(w, list | tuple) or len(w) != 2:
        raise QueryError(f"changes: {name} must be [start, end] in seconds, got {w!r}")
    s, e = w
    for x in (s, e):
        if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
            raise QueryError(f"changes: {name} must be two finite seconds, got {w!r}")
    if not 0 <= s < e:
        raise QueryError(f"changes: {name} = [{s:g}, {e:g}] needs 0 <= start < end")
    return float(s), float(e)


def windows(now: float, before: Any = None,
            after: Any = None) -> tuple[tuple[float, float], tuple[float, float]]:
    """The two windows, defaults filled in (see the module doc)."""
    a = _window("after", after)
    b = _window("before", before)
    if a is None:
        if now <= 0:
            raise QueryError("changes: nothing has run yet (now = 0); run first or give "
                             "both windows")
        a = (0.9 * now, just_after(now))  # includes the values in effect at now
    if b is None:
        span = a[1] - a[0]
        b = (max(0.0, a[0] - span), a[0])
        if b[0] >= b[1]:
            raise QueryError(f"changes: no room for a before window ahead of after = "
                             f"[{a[0]:g}, {a[1]:g}]; give before")
    return b, a


class _QueryReader:
    """Statistics by running queries (three per series): the reference."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def _run(self, source: str, name: str, start: float, end: float,
             aggs: tuple[str, ...], window: float | None = None) -> Any:
        engine = self.engine
        q = (engine.metrics(glob.escape(name)).from_entity(glob.escape(source))
             .between(start, end).aggregate(*aggs))
        if window is not None:
            q = q.window(window)
        return QueryEngine.execute(engine, q)  # (already between two events)

    def stats(self, info: dict[str, Any], kind: str, start: float, end: float
              ) -> tuple[dict[str, Any], bool]:
        r = self._run(info["source"], info["name"], start, end, _stat_names(kind))
        return (r.rows[0] if r.rows else {}), r.exact

    def bins(self, info: dict[str, Any], kind: str, lo: float, hi: float,
             width: float) -> dict[str, np.ndarray]:
        rows = self._run(info["source"], info["name"], lo, hi, _stat_names(kind),
                         width).rows
        return _bins([r["start"] for r in rows], rows, kind)


class _Spec:
    """The fields `QueryEngine._windows` reads (an explicit range: `end` given)."""

    def __init__(self, window: float | None, end: float) -> None:
        self.window, self.end, self.limit = window, end, None


class _StoreReader:
    """Statistics straight from the metric store: each series is read once and asked
    through the store's own aggregation functions, exactly as the query engine does for
    a query of one series (the range cut at now, windows on the nanosecond grid, a gauge
    held up to now): the same numbers, without resolving and planning three queries per
    series. `_QueryReader` (the queries themselves) is the reference it is tested
    against."""

    def __init__(self, engine: Any) -> None:
        self.store = engine.metric_store
        if self.store is None:
            raise QueryError("changes: no metric store is recording (observability "
                             "disabled or metrics=False)")
        self.clock = engine.now()
        self.series = {(s.source, s.name): s for s in self.store.select("*", "*")}
        self._windows: dict[tuple, tuple[list, list]] = {}

    def _split(self, start: float, end: float, window: float | None, follows: bool
               ) -> tuple[list, list]:
        key = (start, end, window, follows)
        got = self._windows.get(key)
        if got is None:
            got = self._windows[key] = _split_at_now(
                QueryEngine._windows(_Spec(window, end), start, end),
                self.clock if follows else None)
        return got

    def _rows(self, info: dict[str, Any], kind: str, start: float, end: float,
              window: float | None) -> tuple[list[float], list[dict[str, Any]], bool]:
        """What ``QueryEngine._metrics`` answers for one series (no tags, no groups):
        each row's start, each row's statistics, and whether all are exact."""
        store, clock = self.store, self.clock
        s = self.series.get((info["source"], info["name"]))
        gseries = [s] if s is not None else []
        aggs = list(_stat_names(kind))
        bounds = store.time_bounds(gseries) if gseries else None
        follows = clock is not None and (bounds is None or clock >= bounds[1])
        windows, future = self._split(start, end, window, follows)
        gkinds = {x.series_kind or "sample" for x in gseries}
        counter = gkinds == {"counter"}
        weighting = "time" if gkinds == {"gauge"} else "sample"
        now = clock if follows and weighting == "time" else None
        nothing_yet = {g: (0 if g == "count" else None) for g in aggs}
        gwin = windows
        snap = getattr(store, "snap_edges", None)
        if snap is not None and gseries and windows:
            gwin = _snapped_windows(snap(gseries, _edges(windows)), windows)
        starts: list[float] = []
        values: list[dict[str, Any]] = []
        exact = True
        batch = getattr(store, "aggregate_windows", None)
        answers = None
        if batch is not None and len(gwin) > 1 and gseries:
            answers = batch(gseries, aggs, _edges(gwin), weighting=weighting,
                            counter=counter, hold_until=now)
        if answers is not None:
            starts = [a for a, _ in gwin]
            values = answers
            if now is not None:
                values = [nothing_yet if a > now else v for a, v in zip(starts, values,
                                                                         strict=True)]
        else:
            for a, b in gwin:
                if now is not None and a > now:
                    starts.append(a)
                    values.append(nothing_yet)
                    continue
                ans = store.aggregate(gseries, aggs, a, b, weighting=weighting,
                                      where=None, counter=counter, hold_until=now)
                starts.append(a if ans.start is None else ans.start)
                exact = exact and ans.exact
                values.append(ans.values)
        starts.extend(a for a, _ in future)
        values.extend(nothing_yet for _ in future)
        return starts, values, exact

    def stats(self, info: dict[str, Any], kind: str, start: float, end: float
              ) -> tuple[dict[str, Any], bool]:
        _, values, exact = self._rows(info, kind, start, end, None)
        return (values[0] if values else {}), exact

    def bins(self, info: dict[str, Any], kind: str, lo: float, hi: float,
             width: float) -> dict[str, np.ndarray]:
        starts, values, _ = self._rows(info, kind, lo, hi, width)
        return _bins(starts, values, kind)


def _stat_names(kind: str) -> tuple[str, ...]:
    return {"gauge": ("mean",), "counter": ("rate",)}.get(kind, ("mean", "p99"))


def _bins(starts: list[float], values: list[dict[str, Any]], kind: str
          ) -> dict[str, np.ndarray]:
    """Per-bin statistics: bin start times and one array per statistic (bins where a
    statistic has no value are left out)."""
    aggs = _stat_names(kind)
    cols = {a: [v.get(a) for v in values] for a in aggs}
    keep = np.ones(len(starts), dtype=bool)
    for col in cols.values():
        keep &= np.fromiter((x is not None for x in col), bool, len(col))
    out = {"start": np.asarray(starts, dtype=float)[keep]}
    for a, col in cols.items():
        out[a] = np.asarray([x for x, k in zip(col, keep.tolist(), strict=True) if k],
                            dtype=float)
    return out


def _floor(starts: np.ndarray, values: np.ndarray, b_win: tuple[float, float],
           a_win: tuple[float, float], b: float | None, a: float | None) -> float:
    """The noise floor: the standard error of after - before from the spread of the
    bins within each window (not across them: a change is not noise), plus 1 %."""
    var = 0.0
    for lo, hi in (b_win, a_win):
        inside = values[(starts >= lo) & (starts < hi)] if values.size else values
        if inside.size > 1:
            var += float(np.var(inside, ddof=1)) / inside.size
    scale = max(abs(b or 0.0), abs(a or 0.0))
    return math.sqrt(var) + 0.01 * scale + 1e-12


def _score(b: float | None, a: float | None, floor: float) -> float:
    if b is None and a is None:
        return 0.0
    bb = abs(b) if b is not None else 0.0
    aa = abs(a) if a is not None else 0.0
    return abs(math.log((aa + floor) / (bb + floor)))


def _onset(starts: np.ndarray, x: np.ndarray, b: float, a: float, ref_end: float,
           width: float) -> float | None:
    if x.size < 4 or a == b:
        return None
    d = 1.0 if a > b else -1.0
    ref = x[starts < ref_end]
    sd = float(np.std(ref)) if ref.size > 1 else float(np.std(x))
    if sd == 0.0:
        sd = abs(a - b) / 4
    k = 0.5 * sd
    s = 0.0
    last_zero = -1
    for i, v in enumerate(x.tolist()):
        s = max(0.0, s + d * (v - b) - k)
        if s == 0.0:
            last_zero = i
    if s <= 5 * sd:
        return None
    nxt = last_zero + 1
    return float(starts[nxt]) if nxt < starts.size else float(starts[-1] + width)


def changes(engine: Any, before: Any = None, after: Any = None,
            limit: int = 20, *, reader: type = _StoreReader) -> dict[str, Any]:
    """Every series ranked by change from `before` to `after` (see the module doc).

    Returns ``{"before", "after", "scanned", "series": [...], "total", "exact"}``; each
    row has ``entity``, ``name``, ``kind``, ``unit``, ``statistic``, ``before``,
    ``after``, ``delta``, ``relative`` (when ``before`` is not 0), ``score`` and
    ``onset`` (when found); samples add ``p99_before`` and ``p99_after``."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise QueryError(f"changes: limit must be an int >= 1, got {limit!r}")
    clock = engine.now()
    now = clock or 0.0
    b_win, a_win = windows(now, before, after)
    if clock is not None:  # a range past now answers [start, now] and says so
        b_win, a_win = (_cut(w, clock) for w in (b_win, a_win))
    b_win, a_win = _snapped(engine, b_win), _snapped(engine, a_win)
    lo = max(b_win[0], a_win[0] - (a_win[1] - a_win[0]))
    lo = min(lo, a_win[0])
    hi = a_win[1]
    width = max((hi - lo) / ONSET_BINS, 1e-6)
    with engine.held_catalog():
        return _changes(engine, reader(engine), b_win, a_win, lo, hi, width, limit)


def _snapped(engine: Any, w: tuple[float, float]) -> tuple[float, float]:
    """A window as a bounded (streaming) store answers it: its edges moved to rollup
    bucket edges where the raw samples of any series no longer reach (every series is
    then read over that same window, and the answer states it); unchanged otherwise."""
    store = getattr(engine, "metric_store", None)
    snap = getattr(store, "snap_edges", None)
    if snap is None:
        return w
    series = list(store.select("*", "*"))
    if not series:
        return w
    a, b = snap(series, [w[0], w[1]])
    return (float(a), float(b)) if b > a else w


def _cut(w: tuple[float, float], now: float) -> tuple[float, float]:
    """A window that has begun, its end cut at now (as the query engine cuts a range);
    one entirely after now is kept as asked (it answers "nothing yet")."""
    return (w[0], _clip_end(w[1], now)) if w[0] <= now else w


def _changes(engine: Any, reader: Any, b_win: tuple[float, float],
             a_win: tuple[float, float], lo: float, hi: float, width: float,
             limit: int) -> dict[str, Any]:
    cat = engine._catalog() if hasattr(engine, "_catalog") else engine.catalog()
    clock = engine.now()
    # a window that begins after now has no rate yet (not a rate of 0)
    b_begun, a_begun = (clock is None or w[0] <= clock for w in (b_win, a_win))
    rows = []
    exact = True
    for info in cat["metrics"]:
        source, name = info["source"], info["name"]
        kind = info["series_kind"] or "sample"
        stats = _stat_names(kind)
        vb, exact_b = reader.stats(info, kind, *b_win)
        va, exact_a = reader.stats(info, kind, *a_win)
        exact = exact and exact_b and exact_a
        if kind == "counter":  # no increments in a window: a rate of 0, not "no data"
            vb = {"rate": vb.get("rate") or 0.0} if b_begun else {}
            va = {"rate": va.get("rate") or 0.0} if a_begun else {}
        bins = reader.bins(info, kind, lo, hi, width)
        best, best_stat = -1.0, stats[0]
        for stat in stats:
            f = _floor(bins["start"], bins[stat], b_win, a_win, vb.get(stat), va.get(stat))
            sc = _score(vb.get(stat), va.get(stat), f)
            if sc > best:
                best, best_stat = sc, stat
        main = stats[0]
        row: dict[str, Any] = {"entity": source, "name": name, "kind": kind,
                               "unit": info.get("unit", ""), "statistic": _STATS[kind]}
        b, a = vb.get(main), va.get(main)
        if b is not None:
            row["before"] = b
        if a is not None:
            row["after"] = a
        if a is not None and b is not None:
            row["delta"] = a - b
            if b != 0:
                row["relative"] = (a - b) / abs(b)
        if kind == "sample":
            if vb.get("p99") is not None:
                row["p99_before"] = vb["p99"]
            if va.get("p99") is not None:
                row["p99_after"] = va["p99"]
        if (b is None) != (a is None):
            # samples (or gauge values) in one window only: the series started or
            # stopped recording, or the window has not begun yet; there is no factor
            # to measure, so it is not scored
            row["no_data"] = "before" if b is None else "after"
            best = 0.0
        row["score"] = round(best, 6)
        sb, sa = vb.get(best_stat), va.get(best_stat)
        if sb is not None and sa is not None and bins["start"].size:
            onset = _onset(bins["start"], bins[best_stat], sb, sa, a_win[0], width)
            if onset is not None:
                row["onset"] = round(onset, 6)
        rows.append(row)
    rows.sort(key=lambda r: (-r["score"], r["entity"], r["name"]))
    return {"before": list(b_win), "after": list(a_win), "scanned": [lo, hi],
            "onset_resolution": width, "exact": exact, "total": len(rows),
            "series": rows[:limit]}


__all__ = ["ONSET_BINS", "changes", "windows"]
