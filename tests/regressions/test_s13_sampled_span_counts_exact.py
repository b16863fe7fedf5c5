"""At ``trace_sample_rate=0.1`` a spans aggregate counts the sampled requests only but
claims exactness over the whole run: ``count`` 201 of the ~2,000 requests the server
served, ``exact: true``, range 0.42-100 s (the whole run), nothing saying the count is
of a 10% sample. A user (or an agent) asking "how many requests did S serve?" of the
spans gets 201 with no caveat. (The topology's ``observed_downstream`` already says
``of: "the requests traced at trace_sample_rate=0.1"``; ``trace``/``not_kept`` too; the
spans query, in Python and over the protocol, does not.)

Repro (session 13, rev5): Users (Poisson 20/s, 100 s) -> Server S (2, exp 0.04 s) ->
Sink, ``ObservabilityConfig.full()`` with ``trace_sample_rate=0.1``;
``sim.query.spans().from_entity("S").aggregate("count").execute()``. Observed: scalar
201 (Sink received 2,021), ``exact`` True, no mention of sampling in ``to_dict()``.
Expected: the answer states its population truly -- ``exact: false`` or a field naming
``trace_sample_rate`` (as the topology's ``of`` does). Area: happysim_rx/result.py,
happysimulator/observability/boundary_query.py (spans answers), protocol/ops_query.
"""

from __future__ import annotations

import json

from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.observability import ObservabilityConfig


def test_a_sampled_span_count_says_it_is_of_a_sample() -> None:
    sink = Sink("Sink")
    srv = Server("S", concurrency=2, service_time=ExponentialLatency(0.04), downstream=sink)
    src = Source.poisson(rate=20.0, target=srv, name="Users", stop_after=100.0)
    cfg = ObservabilityConfig.full().replace(trace_sample_rate=0.1)
    sim = Simulation(sources=[src], entities=[srv, sink], seed=1, end_time=100.0,
                     observability=cfg)
    sim.run()
    res = sim.query.spans().from_entity("S").aggregate("count").execute()
    assert res.scalar < sink.events_received / 5  # (the sample: ~10%)
    stated = {k: v for k, v in res.to_dict().items() if k not in ("query", "rows")}
    assert res.exact is False or "trace_sample_rate" in json.dumps(stated), stated
