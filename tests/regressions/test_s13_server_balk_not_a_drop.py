"""A `Server` whose line is a `BalkingQueue` loses its balked requests from the books:
they count as ``arrivals`` but never as ``dropped``, have no span (their traces end
nowhere), and ``arrivals = completed + dropped + in system`` fails by the number
balked. ``BalkingQueue(FIFOQueue(), balk_threshold=2, balk_probability=1.0)`` refuses
exactly what ``FIFOQueue(capacity=2)`` refuses -- the same run drops 243 requests with
243 spans marked dropped under the FIFO, and 0 drops, 0 spans under the balking line.
(Under a `RenegingQueuedResource` the same policy's balks *are* drops with spans:
``dropped`` 1072 = 353 balked + 719 reneged in tests/industrial.)

Repro (session 13, rev5): Users (Poisson 3/s, 200 s) -> Server S (1, exp 0.5 s,
``queue_policy=``) -> Sink, seed 1, ``ObservabilityConfig.full()``. Observed with the
balking line: arrivals 595, completed 352, dropped 0, balked 243, spans 352 (all ok).
Expected: as with ``FIFOQueue(capacity=2)``: dropped 243 (series and attribute), 243
spans with status dropped. Area: happysimulator/components/server (the policy's
refusal on the Server path), happysimulator/components/industrial/balking.py.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.components.industrial import BalkingQueue
from happysimulator.components.queue_policy import FIFOQueue
from happysimulator.observability import ObservabilityConfig


def _run(policy: Any) -> tuple[Server, Simulation]:
    sink = Sink("Sink")
    srv = Server("S", concurrency=1, service_time=ExponentialLatency(0.5), downstream=sink,
                 queue_policy=policy)
    src = Source.poisson(rate=3.0, target=srv, name="U", stop_after=200.0)
    sim = Simulation(sources=[src], entities=[srv, sink], seed=1, end_time=200.0,
                     observability=ObservabilityConfig.full())
    sim.run()
    return srv, sim


def _books(srv: Server, sim: Simulation) -> tuple[int, Any, Counter]:
    spans = sim.query.spans().from_entity("S").execute().rows
    dropped = sim.query.metrics("dropped").from_entity("S").aggregate("sum").execute().scalar
    return srv.dropped, dropped, Counter(s["attributes"].get("status", "ok") for s in spans)


def test_a_balk_at_a_server_is_a_drop_like_a_full_line() -> None:
    fifo = _books(*_run(FIFOQueue(capacity=2)))
    assert fifo[0] > 0  # (the full line refuses requests in this run)
    balking = _books(*_run(BalkingQueue(FIFOQueue(), balk_threshold=2, balk_probability=1.0)))
    assert balking == fifo, (balking, fifo)
