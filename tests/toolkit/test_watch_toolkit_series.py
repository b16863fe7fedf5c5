"""Every toolkit component is covered by the catalog checks, and a toolkit series can be
watched like any other: a breakpoint on a component's gauge and an anomaly detector on a
component's samples pause the run where the trouble starts."""

from __future__ import annotations

import importlib
import inspect

import pytest

from happysimulator import (
    ConstantLatency,
    Event,
    ExponentialLatency,
    Instant,
    Server,
    Simulation,
    Source,
)
from happysimulator.components.client import Client
from happysimulator.components.resilience import Bulkhead
from happysimulator.core.entity import Entity
from happysimulator.core.observed import declared_series
from happysimulator.observability import (
    AnomalyDetector,
    Breakpoint,
    MetricCondition,
    ObservabilityConfig,
)
from tests.toolkit.test_toolkit_b_catalog import _POLICIES, _components
from tests.toolkit.test_toolkit_catalog import _every_component

TOOLKIT_MODULES = [f"happysimulator.components.{p}" for p in (
    "client", "resilience", "rate_limiter", "load_balancer", "queue_policies", "network",
    "sync", "datastore", "random_router")] + ["happysimulator.faults"]
BASES = {"ActiveQueuePolicy"}  # exported for subclassing; never used as it is


def _exported_components() -> set[type]:
    """Every entity class and every series-declaring queue policy the toolkit exports."""
    found: set[type] = set()
    for name in TOOLKIT_MODULES:
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", ()):
            obj = getattr(module, attr)
            if not inspect.isclass(obj) or inspect.isabstract(obj) or attr in BASES:
                continue
            if issubclass(obj, Entity) and declared_series(obj):
                found.add(obj)
            elif not issubclass(obj, Entity) and "dropped" in declared_series(obj):
                found.add(obj)
    return found


def test_catalog_checks_cover_every_exported_component():
    """A new toolkit component with series must join the catalog tests (the two
    ``_components`` lists they build), or this fails naming it."""
    built = {type(e) for e in _every_component() + _components()}
    built |= {type(p) for p in _POLICIES}
    missing = {c.__name__ for c in _exported_components() - built}
    assert not missing, f"not built by the catalog tests: {sorted(missing)}"


def _slowing_model(detector_or_condition):
    """Users (20/s) -> Client (1 s timeout) -> Bulkhead (4 at a time, 100 waiting) ->
    Server (4 x 0.05 s); at t=30 s the server's service time triples."""
    server = Server("Server", concurrency=4, service_time=ExponentialLatency(0.05))
    bulkhead = Bulkhead("Bulkhead", server, max_concurrent=4, max_wait_queue=100)
    client = Client("Client", bulkhead, timeout=1.0)
    users = Source.poisson(rate=20.0, target=client, name="Users", stop_after=45.0)
    sim = Simulation(sources=[users], entities=[server, bulkhead, client], seed=5,
                     end_time=45.0, observability=ObservabilityConfig.full())

    def slow_down(_event: Event) -> None:
        server.service_time = ConstantLatency(0.15)

    sim.schedule(Event.once(Instant.from_seconds(30.0), "slow_down", slow_down))
    sim.control.add_breakpoint(detector_or_condition)
    return sim


def test_anomaly_detector_on_a_client_latency_pauses_after_the_slowdown():
    # a noisy sample series: the level at confirmation need only be half its peak
    detector = AnomalyDetector("Client", "latency", window=1.0, confirm_after=5.0,
                               peak_fraction=0.5)
    sim = _slowing_model(Breakpoint(anomaly=detector))
    sim.run()
    state = sim.control.get_state()
    assert state.is_paused, "the detector never fired"
    report = detector.reports[0]
    assert (report.source, report.metric) == ("Client", "latency")
    assert 30.0 < report.onset <= 36.0  # within a few windows of the slowdown
    # paused when the report was confirmed, at least confirm_after past the onset (the
    # start of the stretch the level stayed high: the candidate confirmed may be later)
    assert state.current_time.to_seconds() == pytest.approx(report.time)
    assert report.time >= report.onset + 5.0 - 1e-9
    before = sim.query.metrics("latency").from_entity("Client").between(0, 30)
    mean_before = before.aggregate("mean").execute().scalar
    assert report.baseline == pytest.approx(mean_before, rel=0.2)
    assert report.value > 2 * mean_before


def test_breakpoint_on_a_bulkhead_gauge_pauses_when_its_line_builds():
    sim = _slowing_model(Breakpoint(
        metric_condition=MetricCondition("Bulkhead", "queue_depth", "ge", 4)))
    sim.run()
    state = sim.control.get_state()
    assert state.is_paused and "Bulkhead.queue_depth ge 4" in str(state.paused_by)
    now = state.current_time.to_seconds()
    assert 30.0 < now < 45.0  # utilization 0.75 from t=30 s: bursts build the line
    rows = sim.query.metrics("queue_depth").from_entity("Bulkhead").execute().rows
    assert rows[-1]["value"] == 4 and rows[-1]["time"] == pytest.approx(now)
    assert max(r["value"] for r in rows if r["time"] < 30.0) < 4  # (at most 1 before)
