"""Shared builders and snapshots for the observability integration tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from happysimulator import (
    ExponentialLatency,
    LatencyTracker,
    QueuedResource,
    Server,
    Simulation,
    Source,
)
from happysimulator.observability import ObservabilityConfig


class Worker(QueuedResource):
    """What a user writes instead of a `Server`: a generator handler that serves and
    forwards."""

    def __init__(self, name: str, *, service_time: Any, downstream: Any = None,
                 **kw: Any) -> None:
        super().__init__(name, **kw)
        self.service_time = service_time
        self.downstream = downstream

    def handle_queued_event(self, event: Any) -> Any:
        yield self.service_time.sample(self.rng)
        return self.forward(event, self.downstream)


def mm1(
    seed: int = 1,
    *,
    lam: float = 8.0,
    mu: float = 10.0,
    stop_after: float | None = 50.0,
    limit: int | None = None,
    config: Any = None,
    queue_capacity: int | None = None,
    concurrency: int = 1,
    end_time: float | None = None,
    user_model: bool = False,
) -> tuple[Simulation, Source, Server, LatencyTracker]:
    """Source -> Server -> Sink (LatencyTracker), Poisson arrivals, exponential service.
    With `user_model`, the server is a `Worker` (a user's `QueuedResource`)."""
    server = (Worker if user_model else Server)(
        "Server",
        concurrency=concurrency,
        service_time=ExponentialLatency(1.0 / mu),
        queue_capacity=queue_capacity,
    )
    sink = LatencyTracker("Sink")
    server.downstream = sink
    source = Source.poisson(rate=lam, target=server, stop_after=stop_after, limit=limit)
    sim = Simulation(
        sources=[source],
        entities=[server, sink],
        seed=seed,
        end_time=end_time,
        observability=ObservabilityConfig.full() if config is None else config,
    )
    return sim, source, server, sink


def metric_arrays(sim: Simulation, source: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(times, values) of one series straight from the metric store (no query layer)."""
    (series,) = sim.query.metric_store.select(name, source)
    t, v = series.arrays()
    return np.asarray(t, dtype=float).copy(), np.asarray(v, dtype=float).copy()


def snapshot(sim: Simulation) -> dict[str, Any]:
    """Everything a run recorded, in comparable plain-Python form."""
    out: dict[str, Any] = {}
    store = sim.query.metric_store
    if store is not None:
        for s in sorted(store.select("*", "*"), key=lambda s: (s.source, s.name)):
            t, v = s.arrays() if hasattr(s, "arrays") else s.ring()  # exact | streaming
            out[f"metric:{s.source}.{s.name}"] = (list(map(float, t)), list(map(float, v)), len(s))
            # answers from rollups too (the streaming store keeps only recent raw samples)
            out[f"windows:{s.source}.{s.name}"] = (
                sim.query.metrics(s.name)
                .from_entity(s.source)
                .window(5.0)
                .aggregate("count", "mean", "p99")
                .execute()
                .rows
            )
    ts = sim.query.trace_store
    if ts is not None:
        out["spans"] = [
            (s.trace_id, s.span_id, s.parent_id, s.entity, s.start, s.end, s.attributes)
            for s in ts._spans
        ]
    es = sim.query.event_store
    if es is not None:
        out["events"] = [tuple(r.values()) for r in es.between(-np.inf, np.inf)]
    summary = sim.summary()
    out["summary"] = (
        summary.total_events_processed,
        summary.end_time_s,
        summary.entities,
    )
    return out
