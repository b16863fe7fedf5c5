"""Bad model input gets a clear error naming the argument and what is valid."""

import math

import pytest

from happysimulator import (
    ConstantLatency,
    ExponentialLatency,
    Instant,
    Profile,
    Server,
    Simulation,
    Sink,
    Source,
    UniformLatency,
)
from happysimulator.observability import InstrumentedEntity, ObservabilityConfig


@pytest.mark.parametrize("rate", [math.inf, math.nan, 0.0, -1.0, 1e-300, 9.9e-10])
@pytest.mark.parametrize("ctor", [Source.poisson, Source.constant])
def test_source_rate_must_be_positive_and_finite(ctor, rate):
    # (a rate below 1e-9 per second: its gaps lie beyond any clock a run reaches)
    with pytest.raises(ValueError, match=r"positive finite number of arrivals per second, at least 1e-09"):
        ctor(rate=rate, target=Sink())


def test_profile_rates_must_be_finite():
    for bad in ([(0.0, math.inf)], [(0.0, math.nan)], [(math.nan, 1.0)]):
        with pytest.raises(ValueError, match="finite"):
            Profile(bad)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -0.5])
def test_service_time_names_the_argument(bad):
    with pytest.raises(ValueError, match="service_time: latency must be a finite number"):
        Server("S", service_time=bad)


def test_distributions_refuse_non_finite():
    for make in (lambda: ConstantLatency(math.nan), lambda: ExponentialLatency(math.inf),
                 lambda: UniformLatency(0.0, math.inf), lambda: UniformLatency(math.nan, 1.0)):
        with pytest.raises(ValueError, match="finite"):
            make()


def test_instant_overflow_is_clear():
    with pytest.raises(ValueError, match="too large for integer nanoseconds"):
        Instant.from_seconds(1e300)
    assert Instant.from_seconds(1e12).to_seconds() == 1e12


def test_entity_in_sources_is_a_clear_error():
    s = Server("S")
    with pytest.raises(TypeError, match="sources= takes arrival sources.*entities="):
        Simulation(sources=[s], entities=[])


def test_two_entities_with_one_name_are_refused():
    a, b = Server("Server"), Server("Server")
    with pytest.raises(ValueError, match="two entities are named 'Server'"):
        Simulation(sources=[Source.poisson(rate=1.0, target=a, stop_after=1.0)],
                   entities=[a, b], observability=ObservabilityConfig.full())
    # without observability nothing merges: the engine keeps accepting it
    a, b = Server("Server"), Server("Server")
    Simulation(sources=[Source.poisson(rate=1.0, target=a, stop_after=1.0)],
               entities=[a, b], observability=ObservabilityConfig.disabled()).run()


def _run_with(handler):
    class E(InstrumentedEntity):
        def handle_event(self, event):
            handler(self)

    e = E("E")
    sim = Simulation(sources=[Source.constant(rate=1.0, target=e, stop_after=2.0)],
                     entities=[e], observability=ObservabilityConfig.full())
    sim.run()
    return sim


def test_instrumented_entity_refuses_nan_and_kind_mixing():
    with pytest.raises(ValueError, match="'x' takes a finite number, got nan"):
        _run_with(lambda self: self.observe("x", math.nan))
    with pytest.raises(ValueError, match="'g' takes a finite number, got inf"):
        _run_with(lambda self: self.set_gauge("g", math.inf))
    with pytest.raises(TypeError, match="finite number"):
        _run_with(lambda self: self.increment("c", "one"))
    with pytest.raises(ValueError, match="already declared as 'sample', not 'gauge'"):
        _run_with(lambda self: (self.observe("x", 1.0), self.set_gauge("x", 2.0)))
    sim = _run_with(lambda self: (self.observe("x", 1.0), self.set_gauge("g", 2)))
    assert sim.query.metrics("x").aggregate("count").execute().scalar == 2.0
