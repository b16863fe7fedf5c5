"""`Resource` takes a float capacity ("may be an int or a float") but keeps the free
amount by repeated float subtraction and addition, so rounding decides who is served and
can crash the run:

- capacity 0.3: grants of 0.1 and 0.2 do not fit together (0.3 - 0.1 =
  0.19999999999999998 < 0.2): the second acquirer waits 5 s for the first to release
  (``contentions`` 1, ``total_wait_time_ns`` 5e9) although the capacity suffices;
- capacity 1.0: grants of 0.2, 0.2 and 0.3 held at once, then released: the last
  ``release()`` raises ``ValueError: releasing 0.3 would exceed capacity of resource
  'R' (0.7000000000000002 + 0.3 > 1.0)`` -- a correct model crashes.

Repro (session 13, rev5): below. Expected: amounts that fit the capacity exactly are
granted together, and releasing what was granted never raises (e.g. keep the amount
held as an exact sum -- fractions.Fraction/decimal or an integer count -- or compare
with a tolerance). Area: happysimulator/components/resource.py (_grant, _do_release).
"""

from __future__ import annotations

from typing import Any

import pytest

from happysimulator import Event, Instant, Simulation
from happysimulator.components.resource import Resource
from happysimulator.core.entity import Entity


def _run(capacity: float, jobs: list[tuple[float, float]]) -> Resource:
    res = Resource("R", capacity=capacity)

    class Job(Entity):
        def __init__(self, name: str, amount: float, hold: float) -> None:
            super().__init__(name)
            self.amount, self.hold = amount, hold

        def handle_event(self, event: Any) -> Any:
            grant = yield res.acquire(self.amount)
            yield self.hold
            grant.release()

    workers = [Job(f"J{i}", a, h) for i, (a, h) in enumerate(jobs)]
    sim = Simulation(entities=[res, *workers], seed=1, end_time=20.0)
    for w in workers:
        sim.schedule(Event(Instant.from_seconds(0.0), "Go", w))
    sim.run()
    return res


def test_amounts_that_fit_are_granted_together() -> None:
    res = _run(0.3, [(0.1, 5.0), (0.2, 5.0)])
    assert res.stats.contentions == 0 and res.stats.total_wait_time_ns == 0


def test_releasing_what_was_granted_never_raises() -> None:
    res = _run(1.0, [(0.2, 1.0), (0.2, 2.0), (0.3, 3.0)])
    assert res.available == pytest.approx(1.0)
