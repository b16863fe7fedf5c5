"""``weighting("time")`` on a *sample* series (a latency, a wait time) is not defined by
the contract (docs/design.md: "A sample series aggregates per sample"), yet it is
answered — and differently by the two stores, each answer labelled ``weighting: time``:

- ``mean``: the exact store holds each sample until the next one (wait_time 0.592 s, the
  per-sample mean being 0.805 s); the streaming store answers 2.436 s; both say
  ``exact: True``.
- ``p50``: the exact store answers a held-time median (0.0135 s); the streaming store
  answers the per-sample median (0.489 s, identical to the ``weighting("sample")``
  answer) and labels it ``time`` — a silent reinterpretation.

(Numbers from a Client -> LB -> 3 servers model, 20 s. The one-server model below:
time-weighted mean 0.0704 s exact vs 0.0 streaming, both ``exact: True``; p50 0.0193 s
held-time vs 0.0356 s streaming, which is its per-sample median.) ``first`` and ``stddev`` differ the same way (latency first 0.0270 vs 0.0018); counters
too: a 2.5 s window of Client.retries with no increment answers mean/min/max/first 1.0
time-weighted in the exact store (a carried-in increment, as if a gauge) and None in
the streaming one (a differential over 5,676 queries, both stores claiming exactness,
found no other disagreement). Expected: time weighting of a sample series refused with a QueryError that
says it applies to gauges (and names ``weighting("sample")``), or one definition that
both stores answer alike. Area: happysim_rx/engine_metrics.py (weighting of samples),
happysim_rx/stores/streaming.py / _streaming_answer.py.

Repro (session 12, rev4): Source.poisson(40/s, 20 s) -> Server (exponential 0.02 s),
seed 1; ``metrics("wait_time").from_entity("S").between(2, 18).weighting("time")
.aggregate("mean")`` under ``ObservabilityConfig.full()`` and under
``ObservabilityConfig.streaming().replace(raw_samples=64, rollup_s=1.0)``.
"""

from __future__ import annotations

import pytest

from happysim_rx.query import QueryError
from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.observability import ObservabilityConfig


def _run(config: ObservabilityConfig) -> Simulation:
    sink = Sink("Sink")
    server = Server("S", service_time=ExponentialLatency(0.02), downstream=sink)
    users = Source.poisson(rate=40.0, target=server, name="Users", stop_after=20.0)
    sim = Simulation(sources=[users], entities=[server, sink], seed=1, end_time=20.0,
                     observability=config)
    sim.run()
    return sim


def _answer(sim: Simulation, aggregate: str, weighting: str | None = "time"):
    q = sim.query.metrics("wait_time").from_entity("S").between(2.0, 18.0)
    if weighting:
        q = q.weighting(weighting)
    return q.aggregate(aggregate).execute()


STREAMING = ObservabilityConfig.streaming().replace(raw_samples=64, rollup_s=1.0)


def test_a_time_weighted_mean_of_samples_is_refused_or_the_same_in_both_stores() -> None:
    exact, streaming = _run(ObservabilityConfig.full()), _run(STREAMING)
    try:
        a = _answer(exact, "mean")
    except QueryError:
        with pytest.raises(QueryError):
            _answer(streaming, "mean")
        return
    b = _answer(streaming, "mean")
    assert a.exact and b.exact  # both claim exactness ...
    assert b.scalar == pytest.approx(a.scalar, rel=1e-9)  # ... so they must agree


def test_a_streaming_time_weighted_median_is_not_the_per_sample_one() -> None:
    exact, streaming = _run(ObservabilityConfig.full()), _run(STREAMING)
    try:
        held = _answer(exact, "p50").scalar
    except QueryError:
        with pytest.raises(QueryError):
            _answer(streaming, "p50")
        return
    labelled = _answer(streaming, "p50")
    per_sample = _answer(streaming, "p50", weighting=None).scalar
    assert labelled.weighting == "time"
    assert abs(labelled.scalar - held) <= labelled.error_bound * abs(held) + 1e-12, \
        (labelled.scalar, held, per_sample)
