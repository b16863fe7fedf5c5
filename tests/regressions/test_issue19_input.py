"""Issue 19, item 16: values of the wrong type are refused, never coerced (the
breakpoint and run-control arguments are in test_issue19_control, the protocol's in
test_issue19_protocol, `since` past now in test_issue19_ranges)."""

from __future__ import annotations

import pytest

from happysimulator import Simulation, Source
from happysimulator.core.observed import counter, gauge, sample
from happysimulator.observability import InstrumentedEntity, ObservabilityConfig


@pytest.mark.parametrize("kwargs", [
    {"raw_samples": True}, {"raw_samples": 0}, {"event_capacity": False},
    {"relative_accuracy": 1.5}, {"relative_accuracy": 1.0}, {"relative_accuracy": "0.1"},
    {"rollup_s": True}, {"events": 1}, {"metrics": "yes"},
])
def test_item16_config_fields_of_the_wrong_type_or_range_are_refused(kwargs):
    with pytest.raises((TypeError, ValueError), match=next(iter(kwargs))):
        ObservabilityConfig(**kwargs)


class Probe(InstrumentedEntity):
    observed_series = (gauge("level"), sample("size"), counter("hits"))

    def __init__(self, value, method):
        super().__init__("Probe")
        self.value, self.method = value, method

    def handle_event(self, event):
        name = {"set_gauge": "level", "observe": "size", "increment": "hits"}[self.method]
        getattr(self, self.method)(name, self.value)


@pytest.mark.parametrize("method", ["observe", "set_gauge", "increment"])
@pytest.mark.parametrize("value", ["5", True, b"7"])
def test_item16_metric_values_of_the_wrong_type_are_refused(method, value):
    probe = Probe(value, method)
    sim = Simulation(sources=[Source.constant(rate=1.0, target=probe, stop_after=2.0)],
                     entities=[probe], seed=1, observability=ObservabilityConfig.full())
    with pytest.raises(TypeError, match="takes a finite number"):
        sim.run()
