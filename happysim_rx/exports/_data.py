"""What the exporters read: spans, metric series and events straight from the stores."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from happysim_rx.observation import Span

__all__ = ["spans", "metric_series", "events", "window"]


def window(start: float | None, end: float | None) -> tuple[float, float]:
    lo = -math.inf if start is None else float(start)
    hi = math.inf if end is None else float(end)
    if lo > hi:
        raise ValueError(f"start must be <= end, got start={lo} > end={hi}")
    return lo, hi


def spans(engine: Any, start: float | None = None, end: float | None = None) -> list[Span]:
    """Spans starting in [start, end), in start order (empty without a trace store)."""
    store = engine.trace_store
    if store is None:
        return []
    lo, hi = window(start, end)
    return store.between(lo, hi, "*")


def metric_series(engine: Any, start: float | None = None, end: float | None = None
                  ) -> Iterator[tuple[str, str, str, np.ndarray, np.ndarray, dict[int, Any]]]:
    """(source, name, series kind, times, values, tags) per metric series in [start, end);
    ``tags`` maps an index into ``times`` to that sample's tags.

    Exact stores give every sample; a streaming store gives the raw samples it still
    holds (older ones only live in its rollups)."""
    store = engine.metric_store
    if store is None:
        return
    lo, hi = window(start, end)
    for s in sorted(store.select("*", "*"), key=lambda s: (s.source, s.name)):
        t, v = s.arrays() if hasattr(s, "arrays") else s.ring()
        i0, i1 = int(np.searchsorted(t, lo)), int(np.searchsorted(t, hi))
        # tags are sparse (most samples have none): {index in the slice: tags}
        tags = ({i - i0: tg for i, tg in s.tagged(i0, i1).items()} if store.keeps_tags
                else {})
        yield s.source, s.name, s.series_kind or "sample", t[i0:i1], v[i0:i1], tags


def events(engine: Any, start: float | None = None, end: float | None = None
           ) -> list[dict[str, Any]]:
    """Event-store rows (time, kind, source, name, value, tags) in [start, end)."""
    store = engine.event_store
    if store is None:
        return []
    lo, hi = window(start, end)
    return store.between(lo, hi, name="*", source="*")
