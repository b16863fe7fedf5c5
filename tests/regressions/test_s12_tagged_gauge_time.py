"""A tag filter on a gauge selects the time held from the changes that carry the tag
(docs/design.md): each selected change's value is held until the gauge's next change,
whatever that change's tags, and the value carried in at the range's start counts when the
change that set it carries the tag. So a ``group_by`` on the tag partitions the gauge's
time. Found in session 12 when the fuzzer's models gained a tagged gauge: the store dropped
the carried-in value under a filter (``[3.5, 9)`` with ``phase="even"``: mean 0.0 where the
gauge held 2 for half a second and 0 for one), and the reference held each selected value
until the next *selected* change (``[0, 9)``: 1.33 where the store says 1.0)."""

from __future__ import annotations

import pytest

from happysim_rx.query import Query
from happysimulator import Event, Simulation, Source
from happysimulator.core.observed import gauge
from happysimulator.observability import InstrumentedEntity, ObservabilityConfig


class _Phased(InstrumentedEntity):
    """At t = 1..9 s sets ``level`` to 10, 1, 2, 0, 11, 2, 0, 1, 12 tagged odd, odd, even,
    odd, odd, odd, even, odd, odd (a same-instant transient before each of 10, 11, 12)."""

    observed_series = (gauge("level", "", tags=("phase",)),)

    def handle_event(self, event: Event) -> list[Event]:
        n = self.__dict__.setdefault("n", 0)
        self.n = n + 1
        self.set_gauge("level", float(n % 3), phase="odd" if n % 2 else "even")
        if n % 4 == 0:
            self.set_gauge("level", float(n % 3) + 10, phase="odd")
        return []


@pytest.fixture(scope="module")
def sim() -> Simulation:
    p = _Phased("P")
    src = Source.constant(rate=1.0, target=p, name="Src", limit=9)
    s = Simulation(sources=[src], entities=[p], observability=ObservabilityConfig.full())
    s.run()
    return s


def _mean(sim: Simulation, start: float, **tags: str) -> float:
    q = Query().metrics("level").from_entity("P").between(start, 12.0).where(**tags)
    return sim.query.execute(q.aggregate("mean")).rows[0]["mean"]


def test_each_selected_value_is_held_until_the_next_change(sim) -> None:
    # even: 2 over [3, 4), 0 over [7, 8); odd: 10, 1, 0, 11, 2, 1 one second each
    assert _mean(sim, 0.0, phase="even") == pytest.approx(1.0)
    assert _mean(sim, 0.0, phase="odd") == pytest.approx(25 / 6)


def test_the_carried_in_value_counts_when_its_change_carries_the_tag(sim) -> None:
    # [3.5, 9): even holds 2 over [3.5, 4) and 0 over [7, 8)
    assert _mean(sim, 3.5, phase="even") == pytest.approx((2 * 0.5 + 0 * 1.0) / 1.5)
    assert _mean(sim, 3.5, phase="odd") == pytest.approx((0 + 11 + 2 + 1) / 4)


@pytest.mark.parametrize(("start", "end"), [(0.0, 12.0), (3.5, 12.0), (4.0, 12.0),
                                            (6.25, 12.0), (3.5, 4.5), (7.5, 8.25)])
def test_groups_by_the_tag_partition_the_gauges_time(sim, start, end) -> None:
    # (over [3.5, 4.5) "even" holds only the 2 carried in: a group with no change in it)
    q = Query().metrics("level").from_entity("P").between(start, end)
    whole = sim.query.execute(q.aggregate("mean")).rows[0]["mean"]
    rows = sim.query.execute(q.group_by("phase").aggregate("mean", "count")).rows
    held = {"even": 0.0, "odd": 0.0}  # the seconds each phase held (changes at 1..9, now 9)
    times = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    phases = ["odd", "odd", "even", "odd", "odd", "odd", "even", "odd", "odd"]
    for t, nxt, ph in zip(times, times[1:] + [9], phases, strict=True):
        held[ph] += max(0.0, min(nxt, 9.0, end) - max(t, start))
    assert {r["phase"] for r in rows} >= {ph for ph, sec in held.items() if sec > 0}
    assert whole == pytest.approx(
        sum(r["mean"] * held[r["phase"]] for r in rows) / sum(held.values()))
