"""The event router of a simulation partition: which produced events stay local and which
cross to another partition."""

from __future__ import annotations

from collections.abc import Callable

from happysimulator.core.callback_entity import CallbackEntity
from happysimulator.core.event import Event
from happysimulator.core.temporal import Instant


def make_event_router(partition_name: str, local_entity_ids: frozenset[int],
                      linked_entity_ids: frozenset[int],
                      outbox: list[tuple[Event, Instant]],
                      ) -> Callable[[list[Event], Instant], list[Event]]:
    """``route(events, now) -> local events``: events for this partition's entities (and
    for callback entities, e.g. ``Event.once``) are returned; events for entities of a
    linked partition go to ``outbox`` as ``(event, now)``; any other target is an error
    (`RuntimeError`), since nothing would deliver the event."""

    def route(events: list[Event], current_time: Instant) -> list[Event]:
        local: list[Event] = []
        for event in events:
            target = event.target
            tid = id(target)
            if tid in local_entity_ids or isinstance(target, CallbackEntity):
                local.append(event)
            elif tid in linked_entity_ids:
                outbox.append((event, current_time))
            else:
                name = getattr(target, "name", repr(target))
                raise RuntimeError(
                    f"Partition '{partition_name}': event {event.event_type!r} targets "
                    f"entity '{name}', which is not in this partition and not reachable "
                    f"via any PartitionLink")
        return local

    return route


__all__ = ["make_event_router"]
