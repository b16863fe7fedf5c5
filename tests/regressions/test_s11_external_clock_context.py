"""An entity given a bare clock (`set_clock`, the peer's unit-test idiom) makes contexts
for the events it creates: the id comes from the clock's stand-in, which keeps no ids in
events (session 11 raised AttributeError there: 6 of the peer's soft-TTL cache tests)."""

from happysimulator import Entity, Event, Instant


class _Clock:
    def __init__(self) -> None:
        self.now = Instant.from_seconds(1.0)


def test_a_context_made_under_a_bare_clock_has_an_id() -> None:
    entity = Entity("E")
    entity.set_clock(_Clock())
    event = Event(time=Instant.from_seconds(2.0), event_type="Refresh", target=entity)
    ctx = event.context
    assert ctx["id"] is not None
    assert ctx["created_at"] == Instant.from_seconds(2.0)
    assert event.context["id"] == ctx["id"]  # the same once made
