"""Each industrial component is observable with no extra code: its series are in the
catalog before the run, and what the queries answer equals what the component counted
itself (or a brute-force reference kept by the test)."""

from __future__ import annotations

from typing import Any

import pytest

from happysimulator import Event, Instant, Simulation, Sink, Source
from happysimulator.components.industrial import (
    AppointmentScheduler,
    BalkingQueue,
    BatchProcessor,
    BreakdownScheduler,
    ConditionalRouter,
    ConveyorBelt,
    GateController,
    InspectionStation,
    InventoryBuffer,
    PerishableInventory,
    PooledCycleResource,
    PreemptibleResource,
    Shift,
    ShiftedServer,
    ShiftSchedule,
    SplitMerge,
)
from happysimulator.components.queue_policy import FIFOQueue
from happysimulator.components.resource import Resource
from happysimulator.core.entity import Entity
from happysimulator.observability import ObservabilityConfig
from tests.industrial import models


def _q(sim: Simulation, entity: str, name: str, agg: str, t1: float | None = None) -> Any:
    query = sim.query.metrics(name).from_entity(entity)
    if t1 is not None:
        query = query.between(0.0, t1)
    return query.aggregate(agg).execute().scalar


def _catalog(sim: Simulation, entity: str) -> set[str]:
    return {m["name"] for m in sim.query.catalog()["metrics"] if m["source"] == entity}


def test_balking_and_reneging_series_match_the_component_counts() -> None:
    done, gone = Sink("Done"), Sink("Gone")
    agent = models.ExpServers("Agent", mu=1.0, done=done, reneged_target=gone,
                              default_patience_s=2.0,
                              policy=BalkingQueue(FIFOQueue(), balk_threshold=4))
    src = Source.poisson(rate=1.6, target=agent, stop_after=1500.0)
    sim = Simulation(sources=[src], entities=[agent, done, gone], seed=4, end_time=1500.0,
                     observability=ObservabilityConfig.full())
    assert {"balked", "reneged", "patience", "queue_depth", "wait_time",
            "in_flight"} <= _catalog(sim, "Agent")  # before the run
    sim.run()
    assert _q(sim, "Agent", "balked", "count") == agent.policy.balked > 0
    assert _q(sim, "Agent", "reneged", "count") == agent.reneged == gone.events_received > 0
    assert _q(sim, "Agent", "patience", "max") == pytest.approx(2.0)
    # a reneging customer leaves the line when its patience runs out: every arrival is
    # accounted for, and the line's depth never exceeds the balking threshold
    assert agent.arrivals == agent.served + agent.reneged + agent.policy.balked + agent.depth
    assert _q(sim, "Agent", "queue_depth", "max") <= 4
    assert _q(sim, "Agent", "queue_depth", "last", 1500.0 + 1e-9) == agent.depth
    # waits of the served never exceed their patience
    assert _q(sim, "Agent", "wait_time", "max") <= 2.0 + 1e-9


def test_reneged_customers_leave_the_depth_at_their_deadline() -> None:
    """Brute force: the depth series equals a replay of arrivals, starts and deadlines."""
    gone = Sink("Gone")
    agent = models.ExpServers("Agent", mu=0.5, reneged_target=gone, default_patience_s=1.0)
    sim = Simulation(entities=[agent, gone], seed=1, end_time=20.0,
                     observability=ObservabilityConfig.full())
    for t in (0.0, 0.1, 0.2, 0.3):
        sim.schedule(Event(Instant.from_seconds(t), "Call", agent))
    sim.run()
    rows = sim.query.metrics("queue_depth").from_entity("Agent").between(0, 20).execute().rows
    changes = [(round(r["time"], 6), r["value"]) for r in rows]
    # the first starts at 0; the next three wait; if the first service outlasts 1.1 s,
    # each of them leaves exactly 1 s after it arrived
    if agent.reneged == 3:
        assert changes == [(0.0, 0.0), (0.1, 1.0), (0.2, 2.0), (0.3, 3.0), (1.1, 2.0),
                           (1.2, 1.0), (1.3, 0.0)]
    assert agent.reneged + agent.served == 4


def test_breakdown_up_gauge_and_repairs() -> None:
    sim = models.machine(seed=2, horizon=500.0)
    bd = next(e for e in sim.entities if isinstance(e, BreakdownScheduler))
    assert {"up", "repair_time", "breakdowns"} <= _catalog(sim, "Breakdowns")
    sim.run()
    assert _q(sim, "Breakdowns", "breakdowns", "count") == bd.stats.breakdown_count > 5
    assert _q(sim, "Breakdowns", "repair_time", "count") == bd.stats.breakdown_count
    # the gauge's time-weighted mean over the closed cycles equals the component's own
    # uptime / (uptime + downtime) bookkeeping
    end = bd._last_change_ns / 1e9
    up = _q(sim, "Breakdowns", "up", "mean", end)
    assert up == pytest.approx(bd.stats.availability, rel=1e-9)


def test_breakdown_of_a_queued_station_restarts_waiting_work_at_repair() -> None:
    class Station(models.ExpServers):
        def has_capacity(self) -> bool:
            return not getattr(self, "_broken", False)

    st = Station("St", mu=10.0, c=1)
    bd = BreakdownScheduler("BD", target=st, mean_time_to_failure=5.0, mean_repair_time=3.0)
    src = Source.poisson(rate=0.5, target=st, stop_after=300.0)
    sim = Simulation(sources=[src], entities=[st, bd], seed=9, end_time=400.0,
                     observability=ObservabilityConfig.full())
    sim.schedule(bd.start_event())
    starts_while_broken = []
    sim.control.on_event(lambda ev: starts_while_broken.append(ev) if (
        ev.target is st and st._broken and st.in_service) else None)
    sim.run()
    assert not starts_while_broken
    assert st.depth == 0 or bd.is_down  # nothing left waiting while the station works


def test_shift_capacity_gauge_and_waiting_work_starting_at_a_shift_start() -> None:
    sink = Sink("Done")
    sched = ShiftSchedule([Shift(0, 10, 1), Shift(10, 20, 3)], default_capacity=0)
    srv = ShiftedServer("Desk", schedule=sched, service_time=4.0, downstream=sink)
    sim = Simulation(entities=[srv, sink], seed=1, end_time=40.0,
                     observability=ObservabilityConfig.full())
    assert "capacity" in _catalog(sim, "Desk")
    for _ in range(4):
        sim.schedule(Event(Instant.from_seconds(1.0), "Job", srv))
    sim.run()
    rows = sim.query.metrics("capacity").from_entity("Desk").between(0, 40).execute().rows
    assert [(r["time"], r["value"]) for r in rows] == [(0.0, 1.0), (10.0, 3.0), (20.0, 0.0)]
    # one worker serves 1-5, 5-9, 9-13; the fourth job waits for the shift at 10, when
    # two more workers start it at once (not at the next arrival or completion)
    assert sorted(t.to_seconds() for t in sink.completion_times) == [5.0, 9.0, 13.0, 14.0]


def test_inventory_level_stockouts_and_orders() -> None:
    inv = InventoryBuffer("Stock", initial_stock=5, reorder_point=2, order_quantity=4,
                          lead_time=3.0)
    sim = Simulation(entities=[inv], seed=1, end_time=30.0,
                     observability=ObservabilityConfig.full())
    assert {"level", "stockouts", "orders"} <= _catalog(sim, "Stock")
    for t in range(10):
        sim.schedule(Event(Instant.from_seconds(t), "Demand", inv))
    sim.run()
    s = inv.stats
    assert _q(sim, "Stock", "stockouts", "count") == s.stockouts
    assert _q(sim, "Stock", "orders", "count") == s.reorders
    assert _q(sim, "Stock", "level", "last", 30.0) == inv.stock
    # brute force: replay the level from the component's own arithmetic
    assert inv.stock == 5 - s.items_consumed + s.items_replenished


def test_perishable_spoilage_and_level() -> None:
    inv = PerishableInventory("Blood", initial_stock=10, shelf_life_s=5.0,
                              spoilage_check_interval_s=1.0, reorder_point=0,
                              order_quantity=0)
    sim = Simulation(entities=[inv], seed=1, end_time=10.0,
                     observability=ObservabilityConfig.full())
    sim.schedule(inv.start_event())
    for t in (0.5, 1.5):
        sim.schedule(Event(Instant.from_seconds(t), "Use", inv))
    sim.run()
    assert inv.stats.total_spoiled == 8 and inv.stats.reorders == 0
    assert _q(sim, "Blood", "spoiled", "sum") == 8
    rows = sim.query.metrics("level").from_entity("Blood").between(0, 10).execute().rows
    assert [(r["time"], r["value"]) for r in rows] == [(0.0, 10.0), (0.5, 9.0), (1.5, 8.0),
                                                        (5.0, 0.0)]


def test_conveyor_occupancy_and_spans_through_stations() -> None:
    sink = Sink("Out")
    insp = InspectionStation("QC", pass_target=sink, fail_target=sink, pass_rate=1.0,
                             inspection_time=0.5, concurrency=1)
    belt = ConveyorBelt("Belt", downstream=insp, transit_time=2.0, capacity=2)
    sim = Simulation(entities=[belt, insp, sink], seed=1, end_time=20.0,
                     observability=ObservabilityConfig.full())
    for t in (0.0, 0.5, 1.0):
        sim.schedule(Event(Instant.from_seconds(t), "Part", belt))
    sim.run()
    assert belt.items_rejected == 1 and _q(sim, "Belt", "rejected", "count") == 1
    assert _q(sim, "Belt", "occupancy", "max") == 2
    assert _q(sim, "QC", "passed", "count") == 2
    spans = sim.query.spans().execute().rows
    by_trace: dict[Any, list[str]] = {}
    for s in sorted(spans, key=lambda s: s["start"]):
        by_trace.setdefault(s["trace_id"], []).append(s["entity"])
    paths = [p for p in by_trace.values() if "QC" in p]
    assert len(paths) == 2 and all(p[:2] == ["Belt", "QC"] for p in paths)


def test_pooled_cycle_preemptible_batch_gate_router_splitmerge_appointments() -> None:
    sink = Sink("Out")

    class Worker(Entity):
        def handle_event(self, event: Event) -> Any:
            yield 1.0
            event.context["reply_future"].resolve(self.name)

    w1, w2 = Worker("W1"), Worker("W2")
    sm = SplitMerge("Split", targets=[w1, w2], downstream=sink)
    pool = PooledCycleResource("Pool", pool_size=1, cycle_time=2.0, downstream=sm)
    batch = BatchProcessor("Batch", downstream=pool, batch_size=2, process_time=0.5)
    gate = GateController("Gate", downstream=batch, initially_open=False,
                          schedule=[(3.0, 100.0)])
    router = ConditionalRouter("Router", routes=[(lambda e: e.context.get("vip"), sink)],
                               default=gate)
    appts = AppointmentScheduler("Appts", target=router, appointments=[0.0, 1.0, 2.0, 2.5],
                                 no_show_rate=0.0)
    sim = Simulation(entities=[appts, router, gate, batch, pool, sm, w1, w2, sink], seed=1,
                     end_time=50.0, observability=ObservabilityConfig.full())
    for e in [*appts.start_events(), *gate.start_events()]:
        sim.schedule(e)
    sim.run()
    assert _q(sim, "Appts", "arrivals", "count") == 4
    assert _q(sim, "Router", "routed", "count") == 4
    assert _q(sim, "Gate", "wait_time", "max") == pytest.approx(3.0)
    assert _q(sim, "Batch", "batches", "count") == 2
    assert _q(sim, "Pool", "wait_time", "max") == pytest.approx(6.0)  # 4 items at 3.5
    assert _q(sim, "Split", "merges", "count") == 4 == sink.events_received

    res = PreemptibleResource("Bay", capacity=1)
    log: list[str] = []

    class Patient(Entity):
        def __init__(self, name: str, prio: float) -> None:
            super().__init__(name)
            self.prio = prio

        def handle_event(self, event: Event) -> Any:
            grant = yield res.acquire(priority=self.prio, on_preempt=lambda: log.append(self.name))
            yield 5.0
            grant.release()

    low, high = Patient("Low", 5), Patient("High", 1)
    sim2 = Simulation(entities=[res, low, high], seed=1, end_time=20.0,
                      observability=ObservabilityConfig.full())
    sim2.schedule(Event(Instant.from_seconds(0.0), "Go", low))
    sim2.schedule(Event(Instant.from_seconds(1.0), "Go", high))
    sim2.run()
    assert log == ["Low"] and _q(sim2, "Bay", "preempted", "count") == 1


def test_resource_series() -> None:
    cpu = Resource("CPU", capacity=2)

    class Job(Entity):
        def handle_event(self, event: Event) -> Any:
            grant = yield cpu.acquire(1)
            yield 1.0
            grant.release()

    job = Job("Job")
    sim = Simulation(entities=[cpu, job], seed=1, end_time=10.0,
                     observability=ObservabilityConfig.full())
    for _ in range(4):
        sim.schedule(Event(Instant.from_seconds(0.0), "Run", job))
    sim.run()
    assert {"queue_depth", "in_use", "wait_time", "utilization"} <= _catalog(sim, "CPU")
    assert sorted(sim.query.metrics("wait_time").from_entity("CPU").execute().rows,
                  key=lambda r: r["value"])[-1]["value"] == pytest.approx(1.0)
    assert _q(sim, "CPU", "in_use", "max") == 2
    assert _q(sim, "CPU", "queue_depth", "max") == 2
    assert _q(sim, "CPU", "utilization", "mean", 2.0) == pytest.approx(1.0)


def test_same_seed_same_run() -> None:
    def run() -> list:
        sim = models.mm1m(seed=5, horizon=300.0)
        sim.run()
        return sim.query.metrics("queue_depth").from_entity("Agent").execute().rows

    assert run() == run()


def test_a_counter_anomaly_baseline_counts_quiet_windows_as_zero() -> None:
    """A level-shift detector on a counter (hang-ups per window) learns its baseline from
    every window, the quiet ones as 0 events: not only from the windows that had some."""
    from happysimulator.observability import AnomalyDetector, Breakpoint

    sim = models.mm1m(seed=3, lam=0.2, mu=1.0, theta=2.0, horizon=600.0)
    det = AnomalyDetector("Agent", "reneged", window=10.0, warmup=5)
    sim.control.add_breakpoint(Breakpoint(anomaly=det))
    sim.run()
    while sim.control.get_state().is_paused:
        sim.control.resume()
    windows = sim.query.metrics("reneged").from_entity("Agent").window(10.0) \
        .between(0.0, 600.0).aggregate("count").execute().rows
    counts = [r["count"] or 0 for r in windows]
    base = det._states["Agent"].baseline
    busy = sum(1 for c in counts if c)
    assert 0 < busy < len(counts) // 2
    assert base.n > busy  # (before: only the busy windows reached the baseline)
    assert base.mean < sum(counts) / busy


def test_top_level_names_are_the_peers_and_load_lazily() -> None:
    import subprocess
    import sys

    code = (
        "import sys, happysimulator as h\n"
        "assert 'happysimulator.components.industrial' not in sys.modules\n"
        "assert 'happysimulator.components.resource' not in sys.modules\n"
        "from happysimulator._toolkit_names import INDUSTRIAL\n"
        "import happysimulator.components.industrial as ind\n"
        "for n in INDUSTRIAL:\n"
        "    assert getattr(h, n) is getattr(ind, n, None) or n.startswith('Resource'), n\n"
        "from happysimulator.components.resource import Resource\n"
        "assert h.Resource is Resource\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
