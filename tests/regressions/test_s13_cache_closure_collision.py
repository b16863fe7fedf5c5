"""``replicate(..., cache=dir)`` keys a callable model by its module, qualified name and
source code -- not the values its closure captured -- so two factories made by the same
function with different arguments share cache entries: the second model is answered
with the first model's replications, silently.

Repro (session 13, rev5): ``make(rate)`` returns ``build(*, seed)`` (Poisson ``rate``
-> Server, 20 s). ``replicate(make(2.0), n=2, executor="serial", cache=d)`` then
``replicate(make(10.0), n=2, executor="serial", cache=d)``. Observed: Server arrivals
[44, 40] for both (rate 10 without the cache: [174, 190]). Expected: a different model
misses the cache (key on the closure's cell values / defaults, or refuse to cache a
closure whose captured values cannot be keyed, naming ``params=`` as the way to pass
them). Area: happysimulator/experiments/cache.py (_callable_identity).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.experiments import replicate
from happysimulator.observability import ObservabilityConfig


def make(rate: float) -> Callable[..., Simulation]:
    def build(*, seed: int) -> Simulation:
        sink = Sink("Sink")
        srv = Server("Server", concurrency=1, service_time=ExponentialLatency(0.05),
                     downstream=sink)
        src = Source.poisson(rate=rate, target=srv, name="Users", stop_after=20.0)
        return Simulation(sources=[src], entities=[srv, sink], seed=seed, end_time=20.0,
                          observability=ObservabilityConfig.default())
    return build


def test_a_different_closure_misses_the_cache(tmp_path: Path) -> None:
    def arrivals(model: Callable[..., Simulation], cache: Path | None) -> list:
        reps = replicate(model, n=2, executor="serial", cache=cache, metrics=["arrivals"])
        return reps.values("arrivals", entity="Server", aggregate="sum")

    try:
        arrivals(make(2.0), tmp_path)
        cached = arrivals(make(10.0), tmp_path)
    except (TypeError, ValueError) as exc:  # refusing to cache a closure is fine too
        assert "params" in str(exc), exc
        return
    assert cached == arrivals(make(10.0), None)
