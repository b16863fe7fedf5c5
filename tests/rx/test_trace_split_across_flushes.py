"""A trace whose spans are split between the indexed columns and a pending batch comes
back whole from `TraceStore.trace(id)`: the indexed part is re-encoded with the
one-trace store's own entity codes (it raised IndexError when the session protocol read
a request mid-flight)."""

from __future__ import annotations

import numpy as np

from happysim_rx.stores.trace import SpanArrays, TraceStore


def _batch(tid: int, names: list[str], start: float) -> SpanArrays:
    k = len(names)
    return SpanArrays(np.full(k, tid, dtype=np.int64), np.arange(k), names,
                      start + np.arange(k, dtype=float), start + 1 + np.arange(k, dtype=float),
                      [])


def test_trace_split_between_columns_and_a_pending_batch() -> None:
    store, ref = TraceStore(), TraceStore()
    first = [_batch(1, ["Source", "Server"], 0.0), _batch(2, ["Client"], 5.0)]
    for s in (store, ref):
        for b in first:
            s.add_lazy(b, lambda r, skip: r, 2, of_trace=None)
    store.trace_ids()  # indexed: entity codes Source 0, Server 1, Client 2
    later = _batch(1, ["Sink"], 3.0)
    store.add_lazy(later, lambda r, skip: r, 1, of_trace=lambda tid: later)
    ref.add_lazy(later, lambda r, skip: r, 1, of_trace=None)
    got = [(s.entity, s.start, s.end) for s in store.trace(1)]
    assert got == [(s.entity, s.start, s.end) for s in ref.trace(1)]
    assert [e for e, _, _ in got] == ["Source", "Server", "Sink"]
