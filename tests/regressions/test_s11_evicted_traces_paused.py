"""A bounded trace store's `evicted_traces` depends on when the run was paused.

Found by the session-11 review (rev3), by experiment; area: happysim_rx/stores/
_trace_bound.py (the bound now keeps the N largest trace ids). What the store keeps is
the same however the run is paused (tested elsewhere), but `evicted_traces` now counts
only the traces that were "held" when their first span came: a Client/LoadBalancer span
is handed over when it ends, a station's at each flush, and every pause flushes, so the
hand-over order -- and the count -- follows the pause schedule. Users->Client->LB->3
servers, 180 requests, ``trace_capacity=1``: run straight 91 traces evicted, paused at
random instants 115. At the session start (434dc2c) both runs said 159 (every trace but
the kept one); a paused and resumed run must answer as the uninterrupted one."""

from __future__ import annotations

import random

from happysimulator import ExponentialLatency, Server, Simulation, Source
from happysimulator.components.client import Client, FixedRetry
from happysimulator.components.load_balancer import LoadBalancer, RoundRobin
from happysimulator.observability import ObservabilityConfig


def _model(capacity: int) -> Simulation:
    servers = [Server(f"S{i}", concurrency=1, service_time=ExponentialLatency(0.08))
               for i in range(3)]
    lb = LoadBalancer("LB", backends=servers, strategy=RoundRobin())
    client = Client("Client", lb, timeout=0.25,
                    retry_policy=FixedRetry(max_attempts=3, delay=0.02))
    users = Source.poisson(rate=30.0, target=client, name="Users", stop_after=6.0)
    return Simulation(sources=[users], entities=[*servers, lb, client], seed=3,
                      end_time=11.0,
                      observability=ObservabilityConfig.full().replace(
                          trace_capacity=capacity))


def test_evicted_traces_is_the_same_paused_or_not():
    straight = _model(1)
    straight.run()
    paused = _model(1)
    rng, t = random.Random(1), 0.0
    while t < 11.0:
        t += rng.uniform(0.01, 0.4)
        paused.run(until=t)
    paused.run()
    a, b = straight.query.trace_store, paused.query.trace_store
    assert sorted(s.span_id for s in a.spans()) == sorted(s.span_id for s in b.spans())
    assert a.evicted_traces == b.evicted_traces
