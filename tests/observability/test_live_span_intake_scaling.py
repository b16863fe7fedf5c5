"""A live span subscriber settles the trace store at every span: each intake must cost
what it adds, not a copy or a sort of the whole store (that was quadratic: ~10x the CPU
for 4x the spans at 32k). Counted, not timed: the rows the store copies into new
buffers and the rows its trace-id index sorts or merges, over N intakes of one span,
stay within a small multiple of N (the copies grow the buffers by a quarter; the index
merges the rows after it every 4096)."""

from __future__ import annotations

import numpy as np

from happysim_rx.observation import Span
from happysim_rx.stores.trace import TraceStore
from happysimulator import Simulation, Source
from happysimulator.core.observed import ObservedEntity
from happysimulator.observability import ObservabilityConfig


def _counting(monkeypatch) -> dict[str, int]:
    work = {"copied": 0, "indexed": 0}
    extend, tid_index = TraceStore._extend, TraceStore._tid_index

    def counted_extend(self, new):
        bufs = self._bufs
        extend(self, new)
        if self._bufs is not bufs:  # new buffers: the stored rows were copied
            work["copied"] += self._tid.size - new[0].size

    def counted_index(self):
        if self._by_tid is None or self._by_tid[0].size < self._tid.size:
            work["indexed"] += self._tid.size
        return tid_index(self)

    monkeypatch.setattr(TraceStore, "_extend", counted_extend)
    monkeypatch.setattr(TraceStore, "_tid_index", counted_index)
    return work


def test_intakes_of_one_span_each_cost_what_they_add(monkeypatch):
    work = _counting(monkeypatch)
    n = 6000
    ts = TraceStore()
    for i in range(n):
        ts.add(Span(i // 3 + 1, None, None, "E", float(i), i + 0.5))
        assert [s.span_id for s in ts.settle()] == [(i // 3 + 1) * 1000 + i % 3]
    assert work["copied"] <= 6 * n and work["indexed"] <= 4 * n, work
    assert len(ts) == n and ts.trace(7)[2].parent_id == 7001


class _Gate(ObservedEntity):
    def handle_event(self, event):
        start = self._sim.now.to_seconds()
        yield 0.001
        self.record_span(event, start)


def test_a_subscribed_run_does_not_copy_the_store_per_span(monkeypatch):
    work = _counting(monkeypatch)
    g = _Gate("G")
    src = Source.poisson(rate=100.0, target=g, stop_after=15.0, name="Users")
    sim = Simulation(sources=[src], entities=[g], seed=1,
                     observability=ObservabilityConfig.full())
    live = []
    sim.observations.spans().subscribe(lambda o: live.append(o.value))
    sim.run()
    n = len(live)
    assert n > 2000
    assert work["copied"] <= 6 * n and work["indexed"] <= 4 * n, (work, n)
    stored = {(s.trace_id, s.span_id, s.parent_id) for s in sim.query.trace_store.spans()}
    assert {(s.trace_id, s.span_id, s.parent_id) for s in live} == stored
    assert np.all([s.span_id is not None for s in live])
