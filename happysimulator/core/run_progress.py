"""``Simulation.run(progress=True)``: a progress bar of simulated time and events/s.

A daemon timer on the simulation's own clock updates the bar. It re-arms itself at a
simulated-time interval adapted so that updates come about every 0.2 s of wall time; it
changes nothing in the model (timers never keep a run alive and run before model events
at the same instant, touching no model state), so a run with a bar records exactly what
a run without one records.
"""

from __future__ import annotations

import heapq
import time
from typing import Any

from happysimulator.progress import progress_bar

__all__ = ["RunProgress"]

_WALL_EVERY = 0.2  # seconds of wall time between updates
_NS = 1_000_000_000


class RunProgress:
    """Context manager around one `run()` call."""

    def __init__(self, sim: Any, until_ns: int | None, enabled: bool | None) -> None:
        self.sim = sim
        end_ns = sim._end_ns
        if until_ns is not None:
            end_ns = until_ns if end_ns is None else min(end_ns, until_ns)
        self.t0 = sim.now_ns / _NS
        desc = "simulating"
        if end_ns is None:
            # open-ended, but every source stops arriving at a known time: that is the
            # total (what is queued then still drains, past 100 %)
            stops = [getattr(s, "_stop_ns", None) for s in sim.sources]
            if stops and all(isinstance(x, int) for x in stops):
                end_ns, desc = max(stops), "simulating (to the last arrival)"
        self.total = None if end_ns is None else max(end_ns / _NS - self.t0, 0.0)
        self.bar = progress_bar(self.total, desc, enabled, unit="sim s")
        self.timer: Any = None
        self.step_s = 0.0
        self.done_s = 0.0

    def __enter__(self) -> RunProgress:
        if self.bar.enabled:
            self.wall0 = self.wall = time.perf_counter()
            self.events0 = self.events = self.sim.events_processed
            # first update after a guess of 1/1000 of the run (or 1 s of simulated time)
            self.step_s = (self.total / 1000.0) if self.total else 1.0
            self.timer = self.sim.clock.call_later(self.step_s, self._tick)
        return self

    def _tick(self) -> None:
        sim = self.sim
        now_wall = time.perf_counter()
        dt = now_wall - self.wall
        self._show(now_wall)
        # aim the next update at ~_WALL_EVERY of wall time (at most 8x longer each time)
        scale = min(8.0, _WALL_EVERY / dt) if dt > 0 else 8.0
        self.step_s = max(self.step_s * scale, 1e-9)
        self.timer = sim.clock.call_later(self.step_s, self._tick)

    def _unschedule(self, handle: Any) -> None:
        """Take the pending timer out of the heap: the run's state (heap size included)
        is then what it would be without a bar."""
        events = self.sim._events
        heap = events.entries
        for i, entry in enumerate(heap):
            if entry[3] is handle:
                heap[i] = heap[-1]
                heap.pop()
                heapq.heapify(heap)  # (in place: the run loop holds this list)
                events.ndaemon -= 1
                return

    def _show(self, now_wall: float) -> None:
        sim = self.sim
        now_s = sim.now_ns / _NS
        events = sim._events_processed
        self.bar.update(now_s - self.t0 - self.done_s)
        self.done_s = now_s - self.t0
        rate = (events - self.events) / max(now_wall - self.wall, 1e-9)
        self.bar.set_postfix(f"t={now_s:,.6g}s, {events:,} events, {rate:,.0f} events/s")
        self.wall, self.events = now_wall, events

    def __exit__(self, *exc: Any) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self._unschedule(self.timer)
            self.timer = None
        if self.bar.enabled:
            self._show(time.perf_counter())
        self.bar.close()
