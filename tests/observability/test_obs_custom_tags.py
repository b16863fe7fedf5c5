"""Custom entities: `increment` and `set_gauge` take tags like `observe`; counts are ints."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from happysim_rx import QueryError
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
    # sizes set 1 2 2 3 3 4 4: the changes are 1 2 3 4 (a set to the size held is none)
    assert [r["value"] for r in hot] == [3.0, 4.0]
    assert all(r["tags"] == {"tier": "hot"} for r in hot)


def _cache_run(config: ObservabilityConfig, keys: list[int]) -> Simulation:
    cache = Cache()
    sim = Simulation(entities=[cache], seed=1, observability=config)
    sim.schedule([Event(float(i), "get", cache, context={"metadata": {"key": k}})
                  for i, k in enumerate(keys)])
    sim.run()
    return sim


@given(st.lists(st.integers(0, 5), min_size=1, max_size=40))
@settings(max_examples=25)
def test_tag_accessors_agree_with_the_raw_rows(keys: list[int]) -> None:
    sim = _cache_run(ObservabilityConfig.full(), keys)
    (series,) = sim.query.metric_store.select("size", "Cache")
    rows = sim.query.metrics("size").execute().rows
    assert series.tagged() == {i: r["tags"] for i, r in enumerate(rows) if r.get("tags")}
    assert series.tag_keys() == {"tier"}
    mid = len(rows) // 2
    assert series.tagged(mid) == {i: tg for i, tg in series.tagged().items() if i >= mid}


@pytest.mark.parametrize("query", [
    lambda q: q.metrics("lookups").where(outcome="hit"),  # raw rows: were silently unfiltered
    lambda q: q.metrics("lookups").where(outcome="hit").aggregate("sum"),
    lambda q: q.metrics("lookups").group_by("outcome").aggregate("sum"),
])
def test_a_streaming_store_refuses_tag_filters_it_cannot_answer(query) -> None:
    sim = _cache_run(ObservabilityConfig.streaming(), [1, 2, 1, 3])
    with pytest.raises(QueryError, match=r"keeps no per-sample tags.*ObservabilityConfig.full"):
        query(sim.query).execute()
    by = sim.query.metrics("lookups").group_by("entity").aggregate("sum").execute()
    assert by.groups()["Cache"][0]["sum"] == 4  # grouping by entity still works
