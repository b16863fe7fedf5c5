"""``snapshot {at}`` on a streaming store, at an instant its raw samples no longer reach,
answers the state at the rollup bucket's edge before ``at`` while echoing ``at`` as asked
and ``exact: true``: counters, gauges, samples and "requests in the system" are those of
an earlier instant. A streaming store's rows are allowed to snap to bucket edges only
when they say so (docs/observability.md "What a streaming store's rows state": "the
row's start and end ... are the range really answered").

Repro (session 12, rev4): Users (Poisson 40/s, 20 s) -> Server S (2 workers,
exponential 0.08 s) -> Sink, seed 1, run to the end, ``snapshot {at: 7.345}``:
with ``ObservabilityConfig.full()`` vs ``.streaming().replace(raw_samples=64,
rollup_s=1.0)``: streaming Users.generated 272, S.completed 173, requests total 99
(``at: 7.345``, ``exact: true``); exact store 282, 187, 95 — and its snapshot at 7.0 is
272, 173, 99. On the toolkit model (Client -> Breaker -> LB -> 3 servers) the
streaming answer had Users.generated 272 vs 282, S1.in_flight 0 vs 2, requests total 2
vs 6 — each equal to the exact store's state at 7.0 s. Expected: the exact store's
answer, or ``at`` (and ``exact``) stating the instant really answered. Area:
happysimulator/observability/snapshot.py, happysim_rx/stores/streaming.py.
"""

from __future__ import annotations

from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.observability import ObservabilityConfig
from happysimulator.observability.protocol import SessionProtocol

AT = 7.345


def _snapshot(config: ObservabilityConfig, at: float = AT) -> dict:
    def build(seed: int = 1) -> Simulation:
        sink = Sink("Sink")
        server = Server("S", concurrency=2, service_time=ExponentialLatency(0.08),
                        downstream=sink)
        users = Source.poisson(rate=40.0, target=server, name="Users", stop_after=20.0)
        return Simulation(sources=[users], entities=[server, sink], seed=seed,
                          end_time=20.0, observability=config)

    session = SessionProtocol(build, default_wait_s=60)
    try:
        session.handle({"op": "run"})
        answer = session.handle({"op": "snapshot", "at": at, "budget_bytes": 1_000_000})
        assert answer["ok"], answer
        return answer
    finally:
        session.close()


STREAMING = ObservabilityConfig.streaming().replace(raw_samples=64, rollup_s=1.0)


def test_a_streaming_snapshot_answers_at_or_says_which_instant_it_answers() -> None:
    exact, streamed = _snapshot(ObservabilityConfig.full()), _snapshot(STREAMING)
    counters = lambda a: {e: d.get("counters") for e, d in a["entities"].items()}  # noqa: E731
    if streamed["at"] == AT and streamed["exact"]:
        assert counters(streamed) == counters(exact)
        assert streamed["requests"] == exact["requests"]
    else:  # it says what it answered: then that is the exact store's state there
        assert counters(streamed) == counters(_snapshot(ObservabilityConfig.full(),
                                                        streamed["at"]))
