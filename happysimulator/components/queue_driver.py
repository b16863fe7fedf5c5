"""``QueueDriver``: moves events from a ``Queue`` to a target when the target has capacity."""

from __future__ import annotations

from typing import Any

from happysimulator.core.entity import Entity
from happysimulator.core.event import Event


class QueueDriver(Entity):
    """Forwards one event from ``queue`` to ``target`` per pull if ``target.has_capacity()``.

    The queue pulls on every arrival, and the driver pulls again when an event it
    delivered finishes processing (including a generator handler's whole run); anyone can
    also send it a ``"queue.poll"`` event. With ``poll_interval`` set, the driver re-polls
    (daemon events) while events are waiting. ``queue`` may be given later
    (``driver.queue = q`` wires both ways).
    """

    def __init__(
        self,
        name: str,
        queue: Any = None,
        target: Entity | None = None,
        *,
        poll_interval: float | None = None,
    ) -> None:
        super().__init__(name)
        self._queue = None
        self.target = target
        self.poll_interval = poll_interval
        self._poll_pending = False
        self.queue = queue

    @property
    def queue(self) -> Any:
        return self._queue

    @queue.setter
    def queue(self, queue: Any) -> None:
        self._queue = queue
        if queue is not None:
            queue.driver = self

    def _on_done(self, _time: Any) -> list[Event]:
        return self.pull()

    def pull(self) -> list[Event]:
        out: list[Event] = []
        if self._queue is None or self.target is None:
            raise RuntimeError(f"QueueDriver {self.name!r} needs a queue and a target")
        if self.queue.depth and self.target.has_capacity():
            ev = self.forward(self.queue.pop(), self.target)
            ev.add_completion_hook(self._on_done)
            out.append(ev)
        if self.queue.depth and self.poll_interval is not None and not self._poll_pending:
            self._poll_pending = True
            out.append(Event(self.now + self.poll_interval, "queue.poll", self, daemon=True))
        return out

    def handle_event(self, event: Event) -> list[Event]:
        if event.event_type == "queue.poll":
            self._poll_pending = False
        return self.pull()


__all__ = ["QueueDriver"]
