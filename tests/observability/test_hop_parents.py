"""Span parents against a brute-force reference, over random client / retry / timeout /
balancer models: every standard hop's parent is the component span open in its request's
context when the request reached it (read by a wrapper around the model's own stations,
not by the recording), each component span's parent is the one its component recorded,
or, for the outermost, the request's latest hop outside every component span (no
component parent, nor chained under a hop that has one) that began no later; the sink
follows its request's previous hop. The answer is the same run straight through, followed
live by a span subscriber, or paused, read and followed live for a stretch of the run."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.components.client import Client, ExponentialBackoff, FixedRetry
from happysimulator.components.load_balancer import (
    LeastConnections,
    LoadBalancer,
    PowerOfTwoChoices,
    Random,
    RoundRobin,
)
from happysimulator.components.queued_resource import QueuedResource
from happysimulator.core.observed import _OPEN_SPAN
from happysimulator.observability import ObservabilityConfig
from happysimulator.observability.hop_parents import NO_PARENT, HopParents
from operators.simtime import TICKS_PER_SECOND

STRATEGIES = {"round_robin": RoundRobin, "random": Random,
              "least_connections": LeastConnections, "two_choices": PowerOfTwoChoices}

models = st.fixed_dictionaries({
    "servers": st.integers(1, 3),
    "station": st.sampled_from(["server", "server", "queued"]),
    "concurrency": st.integers(1, 2),
    "service": st.sampled_from([0.02, 0.08, 0.2]),
    "capacity": st.sampled_from([None, None, 2]),
    "balancer": st.sampled_from([None, *STRATEGIES]),
    "timeout": st.sampled_from([None, 0.05, 0.15, 0.4]),
    "retry": st.sampled_from(["fixed", "backoff"]),
    "attempts": st.integers(1, 4),
    "delay": st.sampled_from([0.0, 0.01, 0.05]),
    "rate": st.sampled_from([10.0, 30.0, 60.0]),
    "seed": st.integers(0, 2**16),
})


class Station(QueuedResource):
    """A user's queued resource (a generator handler): the other kind of station."""

    def __init__(self, name: str, concurrency: int, capacity: int | None, mean: float,
                 downstream: Any) -> None:
        super().__init__(name, concurrency=concurrency, queue_capacity=capacity)
        self.mean, self.downstream = mean, downstream

    def handle_queued_event(self, event: Any) -> Any:
        yield self.rng.expovariate(1.0 / self.mean)
        return self.forward(event, self.downstream)


def _build(m: dict[str, Any]) -> tuple[Simulation, list[tuple]]:
    """The model, and the arrivals log its wrapped stations fill: (entity, trace id,
    arrival ns, the component span open in the request's context then)."""
    log: list[tuple] = []
    sink = Sink("Sink")
    servers = [Server(f"S{i}", concurrency=m["concurrency"],
                      service_time=ExponentialLatency(m["service"]),
                      queue_capacity=m["capacity"], downstream=sink)
               if m["station"] == "server" else
               Station(f"S{i}", m["concurrency"], m["capacity"], m["service"], sink)
               for i in range(m["servers"])]
    front: Any = servers[0]
    entities: list[Any] = [*servers, sink]
    if m["balancer"] is not None:
        front = LoadBalancer("LB", backends=servers, strategy=STRATEGIES[m["balancer"]]())
        entities.append(front)
    n, delay = m["attempts"], m["delay"]
    retry = (FixedRetry(max_attempts=n, delay=delay) if m["retry"] == "fixed"
             else ExponentialBackoff(max_attempts=n, initial_delay=delay or 0.01, max_delay=0.1))
    client = Client("Client", front, timeout=m["timeout"], retry_policy=retry)
    entities.append(client)
    users = Source.poisson(rate=m["rate"], target=client, name="Users", stop_after=2.0)
    sim = Simulation(sources=[users], entities=entities, seed=m["seed"], end_time=6.0,
                     observability=ObservabilityConfig.full())
    for entity in entities:
        if entity is sink or entity is client:
            continue
        _watch(entity, sim, log)
    return sim, log


def _watch(entity: Any, sim: Simulation, log: list[tuple]) -> None:
    """Log each arrival at `entity` with its request's open component span (an instance
    attribute over the class's handler: the class stays the standard one)."""
    handle = entity.handle_event

    def arriving(event: Any) -> Any:
        c = event._ctx
        if c is not None:
            ctx = c if c.__class__ is dict else event.context
            log.append((entity.name, ctx["id"], sim.now_ns, ctx.get(_OPEN_SPAN)))
        return handle(event)

    entity.handle_event = arriving


def _spans(sim: Simulation) -> set[tuple]:
    return {(s.trace_id, s.span_id, s.parent_id, s.entity, s.start, s.end)
            for s in sim.query.trace_store.spans()}


def _check_against_reference(spans: set[tuple], log: list[tuple]) -> None:
    arrivals: dict[tuple, list] = {}
    for name, tid, t_ns, parent in log:
        arrivals.setdefault((name, tid, t_ns / TICKS_PER_SECOND), []).append(parent)
    by_id = {s[1]: s for s in spans}
    by_trace: dict[int, list[tuple]] = {}
    for s in spans:
        by_trace.setdefault(s[0], []).append(s)
    rank = {"Users": 0, "Sink": 2}
    checked = 0
    for tid, trace in by_trace.items():
        for s in trace:
            _, sid, pid, entity, start, end = s
            if pid is not None:
                assert pid in by_id and by_id[pid][0] == tid, s
            if entity == "Users":
                assert pid is None
            elif entity == "Client":  # outermost: the latest hop outside components before it
                outer = [h for h in trace if h[1] < HOPS_BASE and h[4] <= start
                         and not _inside_a_component(h, by_id)]
                best = max(outer, key=lambda h: (h[4], h[5], h[1]), default=None)
                assert pid == (None if best is None else best[1]), s
            elif entity == "Sink":  # the request's previous hop in causal order
                before = [h for h in trace if h[1] < HOPS_BASE and h is not s
                          and (h[5], rank.get(h[3], 1), h[4]) < (end, 2, start)]
                latest = max(((h[5], rank.get(h[3], 1), h[4]) for h in before), default=None)
                assert latest is not None and (by_id[pid][5], rank.get(by_id[pid][3], 1),
                                               by_id[pid][4]) == latest, s
            else:  # a station or the balancer: the span open when the request arrived
                want = arrivals.get((entity, tid, start))
                assert want, s
                assert pid in want, (s, want)
                checked += 1
                parent = by_id.get(pid)
                if entity.startswith("S") and parent is not None and parent[3] == "LB":
                    # (a balancer's span lasts until its backend answers; a client's
                    # attempt may time out while the request is still served)
                    assert parent[4] <= start and end <= parent[5], (s, parent)
    assert checked or not log


HOPS_BASE = 1 << 62  # (`COMPONENT_SPAN_BASE`: ids of spans the components recorded)


def _inside_a_component(hop: tuple, by_id: dict) -> bool:
    """A hop with a component parent, or chained (parent by parent) under one: the
    sink an earlier attempt reached is inside that attempt, not outside every
    component span."""
    seen = 0
    while hop[2] is not None and seen < len(by_id):
        if hop[2] >= HOPS_BASE:
            return True
        hop, seen = by_id[hop[2]], seen + 1
    return False


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models)
def test_each_span_has_the_parent_open_in_its_requests_context(m):
    sim, log = _build(m)
    sim.run()
    plain = _spans(sim)
    _check_against_reference(plain, log)

    live, _ = _build(m)
    live.observations.spans().subscribe(lambda s: None)
    live.run()
    assert _spans(live) == plain

    paused, _ = _build(m)
    paused.control.run_until(0.7)
    _spans(paused)  # a read mid-run: joins what is stored so far
    sub = paused.observations.spans().subscribe(lambda s: None)
    paused.control.run_until(1.4)
    _spans(paused)
    sub.dispose()
    paused.control.resume()
    assert _spans(paused) == plain


def test_a_station_pairs_two_arrivals_of_one_request_at_one_instant_in_order():
    hp = HopParents()

    class Req:
        def __init__(self, ctx: dict) -> None:
            self._ctx = ctx

    hp.arrived(Req({"id": 7, _OPEN_SPAN: 11}), 100)
    hp.arrived(Req({"id": 7, _OPEN_SPAN: 12}), 100)
    hp.arrived(Req({"id": 8}), 100)
    hp.arrived(Req(None), 100)  # (no context: nothing can be open in it)
    assert hp.pending() == 3
    assert hp.parent_of(7, 100) == 11 and hp.parent_of(7, 100) == 12
    assert hp.parent_of(7, 100) is None and hp.parent_of(8, 100) is None
    assert hp.pending() == 0


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(-1, 5)),
                max_size=30),
       st.lists(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), max_size=12),
                max_size=3))
def test_a_flush_pairs_spans_with_arrivals_as_one_by_one_would(arrivals, flushes):
    """`parents_of` (vectorized, per flush) against a dict of FIFO lists per key, arrivals
    and spans interleaved over several flushes."""
    hp = HopParents()
    ref: dict[tuple, list] = {}

    class Req:
        def __init__(self, ctx: dict) -> None:
            self._ctx = ctx

    chunks = [arrivals[i::len(flushes) or 1] for i in range(len(flushes) or 1)]
    for chunk, spans in zip(chunks, flushes or [[]], strict=True):
        for tid, t, parent in chunk:
            ctx = {"id": tid} if parent < 0 else {"id": tid, _OPEN_SPAN: parent}
            hp.arrived(Req(ctx), t)
            ref.setdefault((tid, t), []).append(None if parent < 0 else parent)
        want = [ref[k].pop(0) if ref.get(k) else None for k in spans]
        got = hp.parents_of(np.array([k[0] for k in spans], dtype=np.int64),
                            np.array([k[1] for k in spans], dtype=np.int64))
        if got is None:
            assert all(p is None for p in want)
        else:
            assert [None if p == NO_PARENT else p for p in got.tolist()] == want
    assert hp.pending() == sum(len(v) for v in ref.values())


def test_spans_in_arrival_order_take_the_first_arrivals():
    """The FIFO shortcut (spans ending in arrival order) against the general pairing."""
    class Req:
        def __init__(self, ctx: dict) -> None:
            self._ctx = ctx

    def fill(hp: HopParents) -> None:
        for tid, t, parent in ((1, 10, 101), (2, 20, None), (1, 10, 102), (3, 30, 103)):
            hp.arrived(Req({"id": tid} if parent is None else {"id": tid, _OPEN_SPAN: parent}), t)

    def ids(*keys: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        return (np.array([k[0] for k in keys], dtype=np.int64),
                np.array([k[1] for k in keys], dtype=np.int64))

    hp = HopParents()
    fill(hp)
    got = hp.parents_of(*ids((1, 10), (2, 20)))  # a prefix: the shortcut
    assert got.tolist() == [101, NO_PARENT] and hp.pending() == 2
    assert hp.parents_of(*ids((3, 30), (1, 10))).tolist() == [103, 102]  # not in order
    assert hp.pending() == 0
    hp = HopParents()
    fill(hp)
    assert hp.parents_of(*ids((2, 20))) is None  # (no parent among them)
    assert hp.parents_of(*ids((1, 10), (1, 10), (3, 30))).tolist() == [101, 102, 103]


def test_requests_taken_off_the_queue_leave_no_arrival_behind():
    """A long run keeps no record of arrivals that never become spans: requests model
    code takes off the waiting line are forgotten (flat memory), the others still get
    their balancer span as parent."""
    server = Server("S", concurrency=1, service_time=ExponentialLatency(0.2))
    lb = LoadBalancer("LB", backends=[server], strategy=RoundRobin())
    client = Client("Client", lb, timeout=30.0)
    sim = Simulation(sources=[Source.poisson(rate=8.0, target=client, name="Users",
                                             stop_after=20.0)],
                     entities=[server, lb, client], seed=5, end_time=60.0,
                     observability=ObservabilityConfig.full())
    taken = []

    def shed() -> None:
        policy = server.queue.policy
        while len(policy) > 1:
            taken.append(policy.pop())

    for k in range(1, 40):
        sim.control.at_time(0.5 * k, shed)
    sim.run()
    hp = server._instr.hop_parents
    assert taken and hp.pending() == 0, (len(taken), hp.pending())
    spans = {s.span_id: s for s in sim.query.trace_store.spans()}
    hops = [s for s in spans.values() if s.entity == "S"]
    assert hops and all(spans[s.parent_id].entity == "LB" for s in hops)


class _Req:
    def __init__(self, tid: Any, parent: Any) -> None:
        self._ctx = {"id": tid, _OPEN_SPAN: parent}


def test_arrivals_of_ids_that_are_not_int64_ints_record_no_parent():
    """Only int64 int ids are paired (others keep their request's chain): an int beyond
    int64 or the int64 minimum (left out when packed), a str, a bool, a float are not
    recorded; the int64 ones around them keep their parents, in order."""
    hp = HopParents()
    base = 1 << 62
    for k, tid in enumerate([5, 2**63, "abc", 6, -(2**63), True, 1.0, -(2**63) + 1,
                             2**63 - 1, 5]):
        hp.arrived(_Req(tid, base + k if k % 2 == 0 else None), 1000 + k)
    assert hp.pending() == 5
    assert hp.parent_of(6, 1003) is None and hp.parent_of(5, 1009) is None
    assert hp.parent_of(-(2**63) + 1, 1007) is None
    assert hp.parent_of(2**63 - 1, 1008) == base + 8
    assert hp.parent_of(5, 1000) == base and hp.pending() == 0
    got = hp.parents_of(np.array([7], dtype=np.int64), np.array([1], dtype=np.int64))
    assert got is None and hp.pending() == 0
    hp.arrived(_Req(2**64, base), 1)  # (alone in a batch: none packed)
    hp.arrived(_Req(8, None), 2)
    assert hp.pending() == 1 and hp.parent_of(8, 2) is None and hp.pending() == 0


def test_arrivals_appended_inline_with_a_none_parent_have_none():
    """A station's inline arrival (`ComponentInstrumentation.hops`) appends the context's
    open span as it is: None (a closed outermost span) packs as no parent, the arrivals
    around it keep theirs."""
    hp = HopParents()
    hp.new.extend((1, 10, 101))
    hp.new.extend((2, 20, None))
    hp.new.extend((3, 30, NO_PARENT))
    hp.new.extend((4, 40, 104))
    assert hp.pending() == 4
    assert hp.parent_of(2, 20) is None and hp.parent_of(3, 30) is None
    assert hp.parent_of(1, 10) == 101 and hp.parent_of(4, 40) == 104


def test_a_server_records_its_arrivals_parents_inline():
    """The Server's inline arrival gives the same parent as `HopParents.arrived`."""
    server = Server("S", concurrency=1, service_time=ExponentialLatency(0.2))
    lb = LoadBalancer("LB", backends=[server], strategy=RoundRobin())
    client = Client("Client", lb, timeout=30.0)
    sim = Simulation(sources=[Source.poisson(rate=8.0, target=client, name="Users",
                                             stop_after=5.0)],
                     entities=[server, lb, client], seed=3, end_time=60.0,
                     observability=ObservabilityConfig.full())
    i = server._instr
    assert i.hops is i.hop_parents.new
    sim.run()
    spans = {s.span_id: s for s in sim.query.trace_store.spans()}
    hops = [s for s in spans.values() if s.entity == "S"]
    assert len(hops) > 20 and all(spans[s.parent_id].entity == "LB" for s in hops)
