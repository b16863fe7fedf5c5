"""``changes`` on a streaming store measures windows snapped to rollup bucket edges but
echoes the windows as asked: ``before: [3.3, 7.7]`` answers a counter's rate (and gauge
means, sample means) over [3.0, 8.0), which a query over the same range says outright
(its row states ``start: 3.0, end: 8.0``). Users.generated: ``before`` 20.2/s from the
streaming store vs 19.09/s over the stated [3.3, 7.7) from the exact store; S.in_flight
1.513 vs 1.469; S.wait_time 0.0501 vs 0.0427. The answer's ``exact: false`` is about
quantile sketches and does not say the windows moved.

Repro (session 12, rev4): Users (Poisson 20/s, 20 s) -> Server S (2 workers,
exponential 0.08 s) -> Sink, seed 1, run; ``changes(before=[3.3, 7.7],
after=[7.7, 19.99])`` with ``ObservabilityConfig.streaming().replace(raw_samples=64,
rollup_s=1.0)`` vs ``full()``. Expected: the echoed ``before``/``after`` (and
``scanned``) are the windows really measured, or the values are those of the stated
windows. Area: happysimulator/observability/changes.py (reads the store's series over
snapped ranges).
"""

from __future__ import annotations

import pytest

import happysim_rx.query  # noqa: F401  (see test_s12_import_cycle.py)
from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.observability import ObservabilityConfig
from happysimulator.observability.changes import changes


def _run(config: ObservabilityConfig) -> Simulation:
    sink = Sink("Sink")
    server = Server("S", concurrency=2, service_time=ExponentialLatency(0.08),
                    downstream=sink)
    users = Source.poisson(rate=20.0, target=server, name="Users", stop_after=20.0)
    sim = Simulation(sources=[users], entities=[server, sink], seed=1, end_time=20.0,
                     observability=config)
    sim.run()
    return sim


def test_streaming_changes_state_the_windows_they_measure() -> None:
    sim = _run(ObservabilityConfig.streaming().replace(raw_samples=64, rollup_s=1.0))
    answer = changes(sim.query, [3.3, 7.7], [7.7, 19.99], limit=100)
    (gen,) = [r for r in answer["series"] if (r["entity"], r["name"]) == ("Users", "generated")]
    start, end = answer["before"]
    measured = sim.query.metrics("generated").from_entity("Users").between(start, end) \
        .aggregate("rate").execute().rows[0]
    # the stated window is the one really measured
    assert (measured["start"], measured["end"]) == (start, end), measured
    assert gen["before"] == pytest.approx(measured["rate"])
