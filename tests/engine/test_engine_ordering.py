"""Event ordering: heap order vs brute force, FIFO at equal times, timers first."""

from engine_testkit import make_sim
from hypothesis import given, settings
from hypothesis import strategies as st

from happysimulator import Entity, Event, Instant
from happysimulator.core.event import new_event

# Each node: (delay_ns from its parent's time, children). Small delays force many ties.
node = st.recursive(
    st.tuples(st.integers(0, 3), st.just(())),
    lambda kids: st.tuples(st.integers(0, 3), st.lists(kids, max_size=3).map(tuple)),
    max_leaves=25,
)


class Spawner(Entity):
    """Processes tree nodes; each node schedules its children relative to now."""

    def __init__(self):
        super().__init__("spawner")
        self.order = []

    def handle_event(self, event):
        nid, children = event.context["metadata"]["payload"]
        self.order.append(nid)
        out = [
            _ev(self._sim.now_ns + delay, self, (cid, grandkids))
            for cid, (delay, grandkids) in children
        ]
        # a single child is returned bare (exercises the loop's immediate dispatch)
        return out[0] if len(out) == 1 else out


def _ev(t_ns, target, payload):
    e = Event(Instant(t_ns), "node", target)
    e.context["metadata"]["payload"] = payload
    return e


def _number(roots):
    """Give every node an id; returns [(id, delay, children)] recursively."""
    counter = [0]

    def walk(n):
        delay, kids = n
        counter[0] += 1
        nid = counter[0]
        return nid, (delay, tuple(walk(k) for k in kids))

    return [walk(r) for r in roots]


def brute_force(numbered):
    """Reference: repeatedly run the pending event with the least (time, insertion seq)."""
    pending, order, seq = [], [], 0
    for nid, (delay, kids) in numbered:
        pending.append((delay, seq, nid, kids))
        seq += 1
    while pending:
        best = min(pending, key=lambda p: (p[0], p[1]))
        pending.remove(best)
        t, _, nid, kids = best
        order.append(nid)
        for cid, (d, gk) in kids:
            pending.append((t + d, seq, cid, gk))
            seq += 1
    return order


@settings(max_examples=60, deadline=None)
@given(st.lists(node, min_size=1, max_size=6))
def test_processing_order_matches_brute_force(roots):
    numbered = _number(roots)
    sp = Spawner()
    sim = make_sim(entities=[sp])
    sim.schedule([_ev(delay, sp, (nid, kids)) for nid, (delay, kids) in numbered])
    sim.run()
    assert sp.order == brute_force(numbered)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=40))
def test_equal_times_are_fifo(times):
    log = []

    class R(Entity):
        def handle_event(self, event):
            log.append(event.event_type)

    r = R("r")
    sim = make_sim(entities=[r])
    sim.schedule([Event(Instant(t), str(i), r) for i, t in enumerate(times)])
    sim.run()
    expected = [str(i) for i, _ in sorted(enumerate(times), key=lambda p: (p[1], p[0]))]
    assert log == expected


def test_timers_run_before_model_events_at_same_instant_and_fifo():
    log = []

    class R(Entity):
        def handle_event(self, event):
            log.append(("model", event.event_type, self._sim.clock.now()))

    r = R("r")
    sim = make_sim(entities=[r])
    sim.schedule(Event(1.0, "a", r))  # scheduled before the timers
    sim.clock.call_at(1.0, lambda: log.append(("timer", 1, sim.clock.now())))
    sim.clock.call_at(1.0, lambda: log.append(("timer", 2, sim.clock.now())))
    sim.run()
    assert log == [("timer", 1, 1.0), ("timer", 2, 1.0), ("model", "a", 1.0)]


def test_call_at_in_the_past_runs_now_before_next_model_event():
    log = []

    class R(Entity):
        def handle_event(self, event):
            log.append((event.event_type, self._sim.clock.now()))
            if event.event_type == "first":
                self._sim.clock.call_at(0.5, lambda: log.append(("late-timer", sim.clock.now())))

    r = R("r")
    sim = make_sim(entities=[r])
    sim.schedule([Event(1.0, "first", r), Event(1.0, "second", r)])
    sim.run()
    assert log == [("first", 1.0), ("late-timer", 1.0), ("second", 1.0)]


def test_timers_do_not_keep_run_alive_and_are_not_counted():
    fired = []

    def tick():
        fired.append(sim.clock.now())
        sim.clock.call_at(sim.clock.now() + 1.0, tick)

    class R(Entity):
        def handle_event(self, event):
            return None

    r = R("r")
    sim = make_sim(entities=[r])
    sim.schedule(Event(3.5, "x", r))
    sim.clock.call_at(0.0, tick)
    summary = sim.run()
    assert summary.stop_reason == "complete"
    assert summary.total_events_processed == 1
    assert fired == [0.0, 1.0, 2.0, 3.0]
    assert sim.now == Instant.from_seconds(3.5)


def test_cancelled_timer_and_event_do_not_run():
    ran = []

    class R(Entity):
        def handle_event(self, event):
            ran.append(event.event_type)

    r = R("r")
    sim = make_sim(entities=[r])
    e1, e2 = Event(1.0, "keep", r), Event(2.0, "drop", r)
    sim.schedule([e1, e2])
    h = sim.clock.call_at(1.5, lambda: ran.append("timer"))
    h.cancel()
    e2.cancel()
    summary = sim.run()
    assert ran == ["keep"]
    assert summary.total_events_processed == 1


def test_daemon_events_do_not_keep_open_run_alive():
    ran = []

    class R(Entity):
        def handle_event(self, event):
            ran.append(event.event_type)
            if event.event_type == "daemon":
                return Event(self.now + 1.0, "daemon", self, daemon=True)
            return None

    r = R("r")
    sim = make_sim(entities=[r])
    sim.schedule([Event(0.0, "daemon", r, daemon=True), Event(2.5, "work", r)])
    sim.run()
    assert ran == ["daemon", "daemon", "daemon", "work"]


def test_internal_fast_constructor_matches_public():
    r = Entity("r")
    a = new_event(5, "t", r)
    b = Event(Instant(5), "t", r)
    assert (a.time, a.event_type, a.target, a.daemon) == (b.time, b.event_type, b.target, b.daemon)
