"""``SplitMerge(targets=[one])`` is accepted (the constructor checks "at least one
target") and then crashes at the first item: ``ValueError: all_of needs at least 2
futures, got 1`` -- an error about an internal call, raised from inside the run, for a
configuration the constructor declared valid (a fan-out of 1 is what a sweep over
``fan_out`` starts from).

Repro (session 13, rev5): worker W resolves ``context["reply_future"]`` after 1 s;
``SplitMerge("SM", targets=[W], downstream=Sink)``; one item at t=0; ``sim.run()``.
Observed: ValueError from ``all_of``. Expected: the item merges at t=1 with
``sub_results == ["W"]`` (or the constructor refuses one target, naming the minimum).
Area: happysimulator/components/industrial/split_merge.py (handle_event: ``all_of(*futures)``).
"""

from __future__ import annotations

from typing import Any

from happysimulator import Event, Instant, Simulation, Sink
from happysimulator.components.industrial import SplitMerge
from happysimulator.core.entity import Entity


class Worker(Entity):
    def handle_event(self, event: Event) -> Any:
        yield 1.0
        event.context["reply_future"].resolve(self.name)


def test_a_fan_out_of_one_merges() -> None:
    sink, worker = Sink("S"), Worker("W")
    try:
        sm = SplitMerge("SM", targets=[worker], downstream=sink)
    except ValueError as exc:  # refusing it up front is fine too
        assert "target" in str(exc)
        return
    sim = Simulation(entities=[sm, worker, sink], seed=1, end_time=10.0)
    sim.schedule(Event(Instant.from_seconds(0.0), "Item", sm))
    sim.run()
    assert sink.events_received == 1
    assert sm.stats.merges_completed == 1
