"""``QueueDriver``: moves events from a ``Queue`` to a target when the target has capacity."""

from __future__ import annotations

from typing import Any

from happysimulator.core.entity import Entity
from happysimulator.core.event import Event


class QueueDriver(Entity):
    """Forwards one event from ``queue`` to ``target`` per pull if ``target.has_capacity()``.

    The queue pulls on every arrival; the target (or anyone) can send a ``"queue.poll"``
    event to the driver when capacity frees up. With ``poll_interval`` set, the driver
    re-polls (daemon events) while events are waiting.
    """

    def __init__(
        self, name: str, queue: Any, target: Entity, *, poll_interval: float | None = None
    ) -> None:
        super().__init__(name)
        self.queue = queue
        self.target = target
        self.poll_interval = poll_interval
        self._poll_pending = False
        queue.driver = self

    def pull(self) -> list[Event]:
        out: list[Event] = []
        if self.queue.depth and self.target.has_capacity():
            out.append(self.forward(self.queue.pop(), self.target))
        if self.queue.depth and self.poll_interval is not None and not self._poll_pending:
            self._poll_pending = True
            out.append(Event(self.now + self.poll_interval, "queue.poll", self, daemon=True))
        return out

    def handle_event(self, event: Event) -> list[Event]:
        if event.event_type == "queue.poll":
            self._poll_pending = False
        return self.pull()


__all__ = ["QueueDriver"]
