"""Per-node clocks: what a node *believes* the time is (skew, drift) over true time."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from happysimulator.core.temporal import Duration, Instant


@runtime_checkable
class ClockModel(Protocol):
    """Maps true simulated time to the time a node reads."""

    def read(self, true_time: Instant) -> Instant: ...


class FixedSkew:
    """A constant offset: the node reads ``true_time + offset``."""

    def __init__(self, offset: Duration) -> None:
        self._offset = offset

    def read(self, true_time: Instant) -> Instant:
        return true_time + self._offset

    @property
    def offset(self) -> Duration:
        return self._offset


class LinearDrift:
    """A clock running ``rate_ppm`` parts per million fast (negative: slow) since epoch."""

    def __init__(self, rate_ppm: float) -> None:
        self._rate_ppm = rate_ppm

    def read(self, true_time: Instant) -> Instant:
        ns = true_time.nanoseconds
        return Instant(ns + round(ns * self._rate_ppm / 1_000_000))

    @property
    def rate_ppm(self) -> float:
        return self._rate_ppm


class NodeClock:
    """A node's local clock: the model applied to a base clock's ``now``.

    The base clock is anything with a ``now`` Instant (a ``Clock``, an ``Entity``, a
    ``Simulation``); set it with ``set_clock`` before reading.
    """

    def __init__(self, model: ClockModel | None = None) -> None:
        self._model = model
        self._base: Any = None

    def set_clock(self, clock: Any) -> None:
        self._base = clock

    @property
    def now(self) -> Instant:
        if self._base is None:
            raise RuntimeError("NodeClock has no base clock; call set_clock() first")
        true_time = self._base.now
        return true_time if self._model is None else self._model.read(true_time)

    @property
    def model(self) -> ClockModel | None:
        return self._model


__all__ = ["ClockModel", "FixedSkew", "LinearDrift", "NodeClock"]
