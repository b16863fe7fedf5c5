"""Custom entities: `increment` and `set_gauge` take tags like `observe`; counts are ints."""

from __future__ import annotations

import pytest

from happysimulator import Event, Simulation
from happysimulator.observability import InstrumentedEntity, ObservabilityConfig


class Cache(InstrumentedEntity):
    def __init__(self) -> None:
        super().__init__("Cache")
        self.keys: set[int] = set()

    def handle_event(self, event: Event) -> None:
        key = event.context["metadata"]["key"]
        hit = key in self.keys
        self.keys.add(key)
        self.increment("lookups", outcome="hit" if hit else "miss")
        self.increment("bytes", 0.5)
        self.set_gauge("size", len(self.keys), tier="hot" if len(self.keys) > 2 else "cold")


@pytest.mark.parametrize("config", [ObservabilityConfig.full(), ObservabilityConfig.streaming()])
def test_counter_and_gauge_tags_and_int_counts(config: ObservabilityConfig) -> None:
    cache = Cache()
    keys = [1, 2, 1, 3, 1, 4, 2]
    sim = Simulation(entities=[cache], seed=1, observability=config)
    sim.schedule([Event(float(i), "get", cache, context={"metadata": {"key": k}})
                  for i, k in enumerate(keys)])
    sim.run()
    q = sim.query
    total = q.metrics("lookups").aggregate("sum", "count").execute()
    assert total.value("sum") == 7 and isinstance(total.value("sum"), int)
    assert total.value("count") == 7 and isinstance(total.value("count"), int)
    halves = q.metrics("bytes").aggregate("sum").execute().scalar
    assert halves == 3.5 and isinstance(halves, float)  # not a whole count: stays a float
    if config.store != "exact":
        return  # tag filters need the exact store
    hits = q.metrics("lookups").where(outcome="hit").aggregate("sum").execute().scalar
    assert hits == 3 and isinstance(hits, int)  # keys 1, 1, 2 seen before
    by = q.metrics("lookups").group_by("outcome").aggregate("sum").execute().groups()
    assert {k: rows[0]["sum"] for k, rows in by.items()} == {"hit": 3, "miss": 4}
    hot = q.metrics("size").where(tier="hot").execute().rows
    assert [r["value"] for r in hot] == [3.0, 3.0, 4.0, 4.0]  # sizes 1 2 2 3 3 4 4
    assert all(r["tags"] == {"tier": "hot"} for r in hot)
