"""A live subscriber on a user entity's metrics: `observe` / `increment` / `set_gauge`
append to the exact store's columns and then publish (`Topic.lent`) instead of calling
`emit`. The subscriber gets every call's value (ints as ints, tags as given), the stores
hold exactly what they hold without the subscriber, and breakpoints still see each value."""

from __future__ import annotations

from obs_testkit import metric_arrays

from happysimulator import Simulation, Source
from happysimulator.observability import InstrumentedEntity, ObservabilityConfig

NAMES = ("wait", "hits", "size")


class Counter(InstrumentedEntity):
    """Records one sample, one increment and one gauge per request, and logs each call
    (the reference the subscriber's observations are checked against)."""

    def __init__(self, name: str = "Counter") -> None:
        super().__init__(name)
        self.calls: list[tuple] = []
        self.n = 0

    def handle_event(self, event):
        self.n += 1
        t = self.now.to_seconds()
        wait = self.rng.random()
        tags = {"odd": True} if self.n % 3 == 0 else {}
        self.observe("wait", wait, **tags)
        self.increment("hits", 2 if self.n % 2 else 1.5)
        self.set_gauge("size", self.n % 7)
        self.calls += [(t, "wait", wait, tags or None), (t, "hits", 2 if self.n % 2 else 1.5,
                       None), (t, "size", self.n % 7, None)]
        return None


def _run(subscribed: bool, config: ObservabilityConfig | None = None):
    entity = Counter()
    source = Source.poisson(rate=10.0, target=entity, stop_after=20.0)
    sim = Simulation(sources=[source], entities=[entity], seed=3,
                     observability=config or ObservabilityConfig.default())
    got: list = []
    if subscribed:
        sim.observations.metrics("*", source="Counter").subscribe(got.append)
    assert sim.run().stop_reason == "complete"
    return sim, entity, got


def test_subscriber_gets_every_call_as_emitted():
    _, entity, got = _run(True)
    assert len(entity.calls) > 300
    seen = [(o.time, o.name, o.value, o.tags) for o in got]
    assert seen == entity.calls
    # the values keep their types (an int gauge is published as the int it was)
    assert [type(o.value) for o in got] == [type(c[2]) for c in entity.calls]


def test_stores_hold_the_same_with_and_without_the_subscriber():
    plain, _, _ = _run(False)
    live, _, got = _run(True)
    assert got
    for name in NAMES:
        a_t, a_v = metric_arrays(plain, "Counter", name)
        b_t, b_v = metric_arrays(live, "Counter", name)
        assert a_t.tolist() == b_t.tolist() and a_v.tolist() == b_v.tolist(), name
    q_plain = plain.query.metrics("wait").where(odd=True).aggregate("count", "mean").execute()
    q_live = live.query.metrics("wait").where(odd=True).aggregate("count", "mean").execute()
    assert q_plain.value("count") == q_live.value("count") > 0
    assert q_plain.value("mean") == q_live.value("mean")


def test_a_subscriber_that_reads_the_store_sees_its_value_recorded():
    """Delivered at the boundary after the handler: the store already holds the value."""
    entity = Counter()
    source = Source.poisson(rate=10.0, target=entity, stop_after=5.0)
    sim = Simulation(sources=[source], entities=[entity], seed=4,
                     observability=ObservabilityConfig.default())
    counts: list[tuple[int, int]] = []

    def check(o):
        (series,) = sim.query.metric_store.select("size", "Counter")
        counts.append((len(series), sum(1 for c in entity.calls if c[1] == "size")))

    sim.observations.metrics("size", source="Counter").subscribe(check)
    sim.run()
    assert counts and all(a == b for a, b in counts)
