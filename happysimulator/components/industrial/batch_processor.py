"""``BatchProcessor``: collect items into batches, process each batch at once.

Items wait in a buffer until ``batch_size`` have arrived or ``timeout_s`` (> 0) passed
since the first of them; the batch then takes ``process_time`` seconds and all its items
go to ``downstream``. As in happysim 0.2.5, a batch does not wait for the previous one to
finish (batches may be processed side by side).

Observed: ``queue_depth`` (gauge: items in the buffer), ``in_flight`` (gauge: batches in
process), ``wait_time`` (sample, s: an item's wait for its batch to start), ``batches``,
``timeouts`` (counters), ``batch_size`` (sample, items); each item's stay is a span.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from happysimulator.components.industrial._common import at_start, check_count, check_seconds, draw
from happysimulator.core.entity import Entity
from happysimulator.core.event import Event
from happysimulator.core.observed import ObservedEntity, counter, gauge, sample

_BATCH_TIMEOUT = "_BatchTimeout"


@dataclass(frozen=True)
class BatchProcessorStats:
    """Counts (happysim 0.2.5 shape)."""

    batches_processed: int = 0
    items_processed: int = 0
    timeouts: int = 0


class BatchProcessor(ObservedEntity):
    """Batches of up to `batch_size` items (a partial batch leaves after `timeout_s`
    when it is > 0), each processed in `process_time` seconds (a number or a latency
    distribution)."""

    #: the attribute keys its spans carry (see its `record_span` calls)
    span_attributes = ("batch",)
    observed_series = (
        gauge("queue_depth", "items", "items waiting in the buffer"),
        gauge("in_flight", "batches", "batches being processed"),
        sample("wait_time", "s", "an item's wait in the buffer"),
        counter("batches", "batches", "batches processed"),
        counter("timeouts", "batches", "partial batches sent by the timeout"),
        sample("batch_size", "items", "items per batch"),
    )
    downstream_attributes = ("downstream",)

    def __init__(self, name: str, downstream: Entity, batch_size: int = 10,
                 process_time: Any = 1.0, timeout_s: float = 0.0) -> None:
        check_count("batch_size", batch_size, 1)
        check_seconds("process_time", process_time)
        check_seconds("timeout_s", timeout_s, allow_inf=True, note=" (0: no timeout)")
        super().__init__(name)
        self.downstream = downstream
        self.batch_size = batch_size
        self.process_time = process_time
        self.timeout_s = timeout_s
        self._buffer: list[tuple[Event, float]] = []
        self._timeout_event: Event | None = None
        self._in_process = 0
        self._batches_processed = 0
        self._items_processed = 0
        self._timeouts = 0

    def downstream_entities(self) -> list[Entity]:
        return [self.downstream]

    def set_clock(self, sim: Any) -> None:
        super().set_clock(sim)
        at_start(sim, lambda: (self.set_gauge("queue_depth", len(self._buffer)),
                               self.set_gauge("in_flight", self._in_process)))

    @property
    def batches_processed(self) -> int:
        return self._batches_processed

    @property
    def items_processed(self) -> int:
        return self._items_processed

    @property
    def timeouts(self) -> int:
        return self._timeouts

    @property
    def buffer_depth(self) -> int:
        return len(self._buffer)

    @property
    def stats(self) -> BatchProcessorStats:
        return BatchProcessorStats(batches_processed=self._batches_processed,
                                   items_processed=self._items_processed,
                                   timeouts=self._timeouts)

    def handle_event(self, event: Event) -> Any:
        if event.event_type == _BATCH_TIMEOUT and event.target is self:
            if event is not self._timeout_event or not self._buffer:
                return []
            self._timeout_event = None
            self._timeouts += 1
            self.increment("timeouts")
            return self._process()
        self._buffer.append((event, self._now_s()))
        self.set_gauge("queue_depth", len(self._buffer))
        if len(self._buffer) >= self.batch_size:
            return self._process()
        if len(self._buffer) == 1 and self.timeout_s > 0:
            self._timeout_event = Event(self.now + self.timeout_s, _BATCH_TIMEOUT, self)
            return [self._timeout_event]
        return []

    def _process(self) -> Any:
        batch, self._buffer = self._buffer, []
        if self._timeout_event is not None:
            self._timeout_event.cancel()
            self._timeout_event = None
        self._in_process += 1
        start = self._now_s()
        if self._runtime() is not None:
            self.set_gauge("queue_depth", 0)
            self.set_gauge("in_flight", self._in_process)
            self.observe("batch_size", len(batch))
            for _, since in batch:
                self.observe("wait_time", start - since)
        yield draw(self.process_time)
        self._in_process -= 1
        self._batches_processed += 1
        self._items_processed += len(batch)
        if self._runtime() is not None:
            self.set_gauge("in_flight", self._in_process)
            self.increment("batches")
            for item, since in batch:
                self.record_span(item, since, batch=len(batch))
        return [self.forward(item, self.downstream) for item, _ in batch]


__all__ = ["BatchProcessor", "BatchProcessorStats"]
