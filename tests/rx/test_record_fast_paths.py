"""The recording fast paths answer exactly as the slow ones: direct column appends
(`Topic.columns`), the exact store's list tails, and a plain subscriber's queue."""

from __future__ import annotations

import numpy as np
import pytest

from happysim_rx.bus import ObservationBus
from happysim_rx.clock import ManualClock
from happysim_rx.stores.metric import MetricStore
from happysimulator import Simulation
from happysimulator.core.event import Event
from happysimulator.core.temporal import Instant
from happysimulator.observability import InstrumentedEntity, ObservabilityConfig


class _Meter(InstrumentedEntity):
    """Records a sample, a gauge and a counter per event (ints, floats, tags)."""

    def handle_event(self, event):
        k = event.context["metadata"]["k"]
        self.observe("lat", 0.25 * k)
        self.set_gauge("level", k % 3)
        self.increment("hits", 2 if k % 2 else 1, **({"odd": True} if k % 2 else {}))


def _run(subscribe: bool, pause_every: int | None = None):
    meter = _Meter("M")
    events = [Event(Instant.from_seconds(0.5 * k), "tick", meter,
                    context={"metadata": {"k": k}}) for k in range(40)]
    sim = Simulation(entities=[meter], seed=1, observability=ObservabilityConfig.full())
    for ev in events:
        sim.schedule(ev)
    seen: list = []
    if subscribe:
        sim.observations.metrics("*", source="M").subscribe(lambda o: seen.append(
            (o.time, o.name, o.value)))
    if pause_every:
        while sim.control.step(pause_every):
            pass
    else:
        sim.run()
    store = next(s for s in sim.observations.stores if isinstance(s, MetricStore))
    out = {}
    for name in ("lat", "level", "hits"):
        series = store.series_for("M", name)
        t, v = series.arrays()
        out[name] = (t.tolist(), v.tolist(), series.tagged())
    return out, seen


def test_direct_column_appends_equal_emits_with_a_subscriber():
    fast, _ = _run(subscribe=False)
    slow, seen = _run(subscribe=True)  # (a subscriber: every record goes through emit)
    assert fast == slow
    assert fast["hits"][2] and all(tg == {"odd": True} for tg in fast["hits"][2].values())
    # the subscriber saw every record, values as given (ints stay ints)
    assert [v for _, n, v in seen if n == "hits"] == [2 if k % 2 else 1 for k in range(40)]


def test_stepping_equals_the_uninterrupted_run():
    whole, _ = _run(subscribe=False)
    stepped, _ = _run(subscribe=False, pause_every=3)
    assert stepped == whole


def test_columns_only_while_the_store_alone_listens():
    bus = ObservationBus(ManualClock())
    store = bus.attach_store(MetricStore())
    topic = bus.metric("S", "x", "sample")
    cols = topic.columns
    assert cols is not None
    cols[0].append(1.0)
    cols[1].append(2.0)
    t, v = store.series_for("S", "x").arrays()
    assert t.tolist() == [1.0] and v.tolist() == [2.0]
    assert topic.columns is cols  # (tails emptied in place, never replaced)
    sub = bus.metrics("x").subscribe(lambda o: None)
    assert topic.columns is None
    sub.dispose()
    assert topic.columns is cols


def test_bad_values_are_refused_where_they_are_emitted():
    bus = ObservationBus(ManualClock())
    store = bus.attach_store(MetricStore())
    topic = bus.metric("S", "x", "sample")
    with pytest.raises(TypeError):
        topic.emit(1.0, "3")
    with pytest.raises(OverflowError):
        topic.emit(1.0, 10**400)
    topic.emit(2.0, np.float32(1.5))
    topic.emit(3.0, True)
    assert store.series_for("S", "x").arrays()[1].tolist() == [1.5, 1.0]


def test_huge_int_raises_at_the_recording_call():
    meter = _Meter("M")
    sim = Simulation(entities=[meter], seed=1, observability=ObservabilityConfig.full())
    meter._sim = sim
    with pytest.raises(OverflowError):
        meter.increment("hits", 10**400)
    with pytest.raises(OverflowError):
        meter.set_gauge("level", 10**400)


def test_a_subscriber_disposed_mid_boundary_gets_nothing_more():
    meter = _Meter("M")
    sim = Simulation(entities=[meter], seed=1, observability=ObservabilityConfig.default())
    for k in range(5):
        sim.schedule(Event(Instant.from_seconds(k), "tick", meter,
                           context={"metadata": {"k": k}}))
    got: list = []
    subs: list = []

    def first(o):
        got.append(("first", o.name))
        if o.name == "lat":  # the same boundary still holds level and hits for `second`
            subs[1].dispose()

    subs.append(sim.observations.metrics("*", source="M").subscribe(first))
    subs.append(sim.observations.metrics("*", source="M").subscribe(
        lambda o: got.append(("second", o.name))))
    sim.run()
    # (its observations queued at that boundary are dropped too, as reactivex would)
    assert not [g for g in got if g[0] == "second"]
    assert [n for w, n in got if w == "first"] == ["lat", "level", "hits"] * 5


def test_a_batch_is_kept_as_given_only_when_frozen():
    """`MetricSeries.extend` keeps read-only float64 columns without a copy (a flush
    hands over what it built, one column to several series); anything else is copied,
    so a caller writing to its array afterwards does not change the store."""
    import numpy as np

    from happysim_rx.stores.metric import MetricSeries

    s = MetricSeries("S", "x", "sample")
    t, v = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    s.extend(t, v)
    t[0], v[0] = 9.0, 9.0
    frozen_t, frozen_v = np.array([5.0]), np.array([6.0])
    frozen_t.flags.writeable = frozen_v.flags.writeable = False
    s.extend(frozen_t, frozen_v)
    assert s._chunks[1][0] is frozen_t
    # a read-only view of a writeable array may still change: copied
    base = np.array([7.0, 8.0])
    view = base[:1]
    view.flags.writeable = False
    s.extend(view, view)
    base[0] = 0.0
    tt, vv = s.arrays()
    assert tt.tolist() == [1.0, 2.0, 5.0, 7.0] and vv.tolist() == [3.0, 4.0, 6.0, 7.0]
