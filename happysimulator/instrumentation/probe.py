"""``Probe``: samples an entity attribute at a fixed simulated-time interval into ``Data``."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import Any

from happysimulator.core.entity import Entity
from happysimulator.core.event_heap import TimerHandle
from happysimulator.core.temporal import Duration, to_ns
from happysimulator.instrumentation.data import Data

_NS = 1_000_000_000


def available_metrics(target: Any) -> list[str]:
    """Public attributes of ``target`` that hold numbers or are properties."""
    names = []
    cls = type(target)
    for n in dir(target):
        if n.startswith("_"):
            continue
        if isinstance(getattr(cls, n, None), property):
            names.append(n)
            continue
        try:
            v = getattr(target, n)
        except Exception:
            continue
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            names.append(n)
    return sorted(names)


def _getter(target: Any, metric: str) -> Callable[[], Any]:
    if not hasattr(target, metric):
        avail = available_metrics(target)
        close = difflib.get_close_matches(metric, avail, n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(
            f"{getattr(target, 'name', target)!r} has no attribute {metric!r} to probe.{hint} "
            f"Available: {', '.join(avail) or '(none)'}"
        )
    v = getattr(target, metric)
    if callable(v):
        return v  # a zero-argument method, e.g. a custom gauge
    cls = type(target)
    if isinstance(getattr(cls, metric, None), property):
        fget = getattr(cls, metric).fget
        return lambda: fget(target)
    return lambda: getattr(target, metric)


class Probe(Entity):
    """Every ``interval`` seconds (from the simulation start) records ``target.metric``.

    Samples are taken by daemon clock timers (before model events at the same instant), so
    a probe never keeps a run alive and is not counted as a processed event.
    """

    def __init__(
        self,
        target: Any,
        metric: str,
        data: Data | None = None,
        interval: float | Duration = 1.0,
        *,
        name: str | None = None,
    ) -> None:
        super().__init__(name or f"Probe({getattr(target, 'name', target)}.{metric})")
        self.target = target
        self.metric = metric
        self._read = _getter(target, metric)
        self.interval_ns = to_ns(interval)
        if not self.interval_ns > 0:
            raise ValueError(f"probe interval must be > 0, got {interval}")
        self.data = data if data is not None else Data(f"{getattr(target, 'name', '')}.{metric}")
        self._handle: TimerHandle | None = None
        self._k = 0
        self._t0 = 0

    @classmethod
    def on(cls, target: Any, metric: str, interval: float | Duration = 1.0) -> tuple[Probe, Data]:
        """A probe and the ``Data`` it fills."""
        p = cls(target, metric, interval=interval)
        return p, p.data

    @classmethod
    def on_many(
        cls, target: Any, metrics: Iterable[str], interval: float | Duration = 1.0
    ) -> tuple[list[Probe], dict[str, Data]]:
        """One probe per metric; returns the probes and ``{metric: Data}``."""
        probes = [cls(target, m, interval=interval) for m in metrics]
        return probes, {p.metric: p.data for p in probes}

    def handle_event(self, event: Any) -> None:
        return None

    def _start(self, sim: Any) -> None:
        self._sim = sim
        self._t0 = sim.now_ns
        self._k = 0
        self._handle = TimerHandle(self._sample, self._t0)
        sim.engine.schedule_timer(self._t0, self._handle)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()

    def _sample(self) -> None:
        sim = self._sim
        now = sim.now_ns
        d = self.data
        d._times.append(now / _NS)
        d._values.append(self._read())
        self._k += 1
        nxt = self._t0 + self._k * self.interval_ns
        h = self._handle
        h.time_ns = nxt
        sim.engine.schedule_timer(nxt, h)


__all__ = ["Probe", "available_metrics"]
