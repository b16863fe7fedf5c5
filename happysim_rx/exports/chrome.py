"""A Chrome trace-event / Perfetto timeline (``{"traceEvents": [...]}``, times in µs).

* one process per entity; its spans are complete events (``"ph": "X"``) on as many
  threads ("lanes") as it had requests at once, so that slices on a thread never
  overlap without nesting (the format requires that);
* gauges (queue depth, in flight) are counter tracks (``"ph": "C"``) of their entity;
* each hop of a request (a span and its parent) is a flow arrow (``"s"`` -> ``"f"``).

Open the file in https://ui.perfetto.dev or chrome://tracing.
"""

from __future__ import annotations

import heapq
import os
from typing import Any

import msgspec

from happysim_rx.exports import _data

__all__ = ["chrome_trace", "write_chrome_trace"]

_US = 1e6


def _lanes(spans: list[Any]) -> list[int]:
    """Interval partitioning: the lowest free lane per span (spans in start order)."""
    free: list[int] = []  # lanes free again, as a heap
    busy: list[tuple[float, int]] = []  # (end, lane)
    lanes = []
    for s in spans:
        while busy and busy[0][0] <= s.start:
            heapq.heappush(free, heapq.heappop(busy)[1])
        lane = heapq.heappop(free) if free else len(busy)  # (no free lane: all are busy)
        heapq.heappush(busy, (s.end, lane))
        lanes.append(lane)
    return lanes


def chrome_trace(engine: Any, *, start: float | None = None, end: float | None = None,
                 spans: bool = True, gauges: bool = True, flows: bool = True
                 ) -> dict[str, Any]:
    """The timeline of [start, end) as a trace-event document (a dict)."""
    events: list[dict[str, Any]] = []
    pids: dict[str, int] = {}

    def pid_of(entity: str) -> int:
        pid = pids.get(entity)
        if pid is None:
            pid = pids[entity] = len(pids) + 1
            events.append({"name": "process_name", "ph": "M", "pid": pid, "tid": 0,
                           "args": {"name": entity}})
            events.append({"name": "process_sort_index", "ph": "M", "pid": pid, "tid": 0,
                           "args": {"sort_index": pid}})
        return pid

    all_spans = _data.spans(engine, start, end) if spans else []
    where: dict[Any, tuple[int, int, float]] = {}  # span id -> (pid, lane, start)
    by_entity: dict[str, list[Any]] = {}
    for s in all_spans:
        by_entity.setdefault(s.entity, []).append(s)
    for entity, group in by_entity.items():
        pid = pid_of(entity)
        lanes = _lanes(group)
        for lane in sorted(set(lanes)):
            events.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": lane + 1,
                           "args": {"name": f"lane {lane + 1}"}})
        for s, lane in zip(group, lanes, strict=True):
            args = {"trace_id": s.trace_id, "span_id": s.span_id, "parent_id": s.parent_id,
                    **(s.attributes or {})}
            events.append({"name": f"request {s.trace_id}", "cat": "span", "ph": "X",
                           "ts": s.start * _US, "dur": (s.end - s.start) * _US,
                           "pid": pid, "tid": lane + 1, "args": args})
            where[s.span_id] = (pid, lane + 1, s.start)
    if flows:
        for s in all_spans:
            src = where.get(s.parent_id) if s.parent_id is not None else None
            dst = where.get(s.span_id)
            if src is None or dst is None:
                continue
            fid = len(events)
            # the start binds to the parent's slice, the end to the child's ("bp": "e")
            events.append({"name": "hop", "cat": "request", "ph": "s", "id": fid,
                           "pid": src[0], "tid": src[1], "ts": src[2] * _US})
            events.append({"name": "hop", "cat": "request", "ph": "f", "bp": "e", "id": fid,
                           "pid": dst[0], "tid": dst[1], "ts": dst[2] * _US})
    if gauges:
        for source, name, kind, t, v, _ in _data.metric_series(engine, start, end):
            if kind != "gauge" or not len(t):
                continue
            pid = pid_of(source)
            for ti, vi in zip((t * _US).tolist(), v.tolist(), strict=True):
                events.append({"name": name, "ph": "C", "pid": pid, "ts": ti,
                               "args": {name: vi}})
    return {"traceEvents": events, "displayTimeUnit": "ms",
            "otherData": {"producer": "happysim-rx", "time_unit": "simulated seconds x 1e6"}}


def write_chrome_trace(engine: Any, path: str | os.PathLike[str], **kwargs: Any) -> int:
    """Write `chrome_trace` to `path`; returns the number of trace events."""
    doc = chrome_trace(engine, **kwargs)
    with open(path, "wb") as f:
        f.write(msgspec.json.encode(doc))
    return len(doc["traceEvents"])
