"""The state's last event after stretches run by the loop's fast path (the event log,
no per-event hook): an immediately dispatched event is logged at its chain's instant, and
a handler's fault leaves the last *successful* event, never the failing one."""

from __future__ import annotations

import pytest

from happysimulator import LatencyTracker, Server, Simulation, Source
from happysimulator.observability import ObservabilityConfig


def _model(sink=None, seed=5):
    server = Server("Server", concurrency=1, service_time=0.05)
    sink = sink or LatencyTracker("Sink")
    server.downstream = sink
    source = Source.poisson(rate=10.0, target=server, stop_after=20.0)
    sim = Simulation(sources=[source], entities=[server, sink], seed=seed,
                     observability=ObservabilityConfig.full())
    return sim, sink


def test_last_event_of_each_stretch_is_the_newest_row():
    sim, _ = _model()
    immediate = 0
    for k in range(1, 60):
        sim.control.run_until(k * 0.31)  # (no limit, no hook: the fast path)
        if sim.control.is_complete:
            break
        last = sim.control.get_state().last_event
        row = sim.query.event_store.between(-1.0, 1e9)[-1]
        assert (last.time.to_seconds(), last.event_type, last.target.name) == (
            row["time"], row["name"], row["source"])
        # a request handed over at once (source -> server, server -> sink) ran at the
        # instant of the event that returned it
        if last.event_type not in ("source.tick", "service.done"):
            immediate += 1
            before = sim.query.event_store.between(-1.0, 1e9)[-2]
            assert before["time"] == row["time"]
    assert immediate > 10


class _Failing(LatencyTracker):
    def handle_event(self, event):
        if self.count == 3:
            raise RuntimeError("boom")
        return super().handle_event(event)


def test_a_fault_in_an_immediately_dispatched_handler_leaves_the_previous_event():
    sim, sink = _model(_Failing("Sink"))
    with pytest.raises(RuntimeError, match="boom"):
        sim.control.run()
    last = sim.control.get_state().last_event
    failed = sim.failed_event
    assert failed.target is sink
    # the completion that handed the request over ran and was logged; the sink's
    # handling of it failed and is not the last event
    assert last.event_type == "service.done" and last.time == failed.time
    rows = sim.query.event_store.between(-1.0, 1e9)
    assert (rows[-1]["time"], rows[-1]["name"]) == (last.time.to_seconds(), "service.done")
    assert len(rows) == sim.events_processed
