"""A generator handler yielding a negative numpy float runs time backwards.

Found by the session-11 review (rev3), by experiment; area: core/process.py
(`Process._yielded`), reached by every generator handler including a `QueuedResource`'s
generator service. The same at the session start (434dc2c): not introduced by this
session's fast paths. ``yield -0.5`` raises ValueError ("cannot yield a negative delay"),
but ``yield np.float64(-0.5)`` (what ``numpy.random.Generator.normal`` returns, e.g. a
normal service time whose tail went negative) is not a ``float`` by class, so it takes
the generic ``isinstance(y, (int, float))`` branch, which has no sign check: the
continuation is scheduled half a second in the past and the clock moves from 1.0 s back
to 0.5 s."""

from __future__ import annotations

import numpy as np
import pytest

from happysimulator import Event, QueuedResource, Simulation


class _Worker(QueuedResource):
    def __init__(self) -> None:
        super().__init__("W")
        self.times: list[int] = []

    def handle_queued_event(self, event):
        self.times.append(self._sim.now_ns)
        yield np.float64(-0.5)
        self.times.append(self._sim.now_ns)


def test_a_negative_numpy_delay_is_refused_like_a_negative_float():
    w = _Worker()
    sim = Simulation(entities=[w], seed=1)
    sim.schedule(Event(time=1.0, event_type="Req", target=w))
    with pytest.raises(ValueError, match="negative delay"):
        sim.run()
    assert w.times == [1_000_000_000]  # (never resumed in the past)


class _Yielder(QueuedResource):
    def __init__(self, delay) -> None:
        super().__init__("Y")
        self.delay = delay
        self.times: list[int] = []

    def handle_queued_event(self, event):
        yield self.delay
        self.times.append(self._sim.now_ns)


@pytest.mark.parametrize(
    "delay", [np.float32(-0.25), np.int64(-1), (np.float64(-0.5), []), -1e-10]
)
def test_other_negative_delays_are_refused(delay):
    w = _Yielder(delay)
    sim = Simulation(entities=[w], seed=1)
    sim.schedule(Event(time=1.0, event_type="Req", target=w))
    with pytest.raises(ValueError, match="negative delay"):
        sim.run()
    assert w.times == []


@pytest.mark.parametrize("delay", [float("nan"), np.float64("inf"), float("inf")])
def test_nan_and_infinite_delays_are_refused(delay):
    w = _Yielder(delay)
    sim = Simulation(entities=[w], seed=1)
    sim.schedule(Event(time=1.0, event_type="Req", target=w))
    with pytest.raises((ValueError, OverflowError)):
        sim.run()
    assert w.times == []


@pytest.mark.parametrize("delay", [np.int64(2), np.float32(2.0), np.float64(2.0)])
def test_numpy_delays_wait_like_the_float(delay):
    w = _Yielder(delay)
    sim = Simulation(entities=[w], seed=1)
    sim.schedule(Event(time=1.0, event_type="Req", target=w))
    sim.run()
    assert w.times == [3_000_000_000]
