"""An entity that calls a function for each event it receives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from happysimulator.core.entity import Entity
from happysimulator.core.event import Event


class CallbackEntity(Entity):
    """Calls ``fn(event)``; whatever ``fn`` returns is handled like ``handle_event``'s result."""

    def __init__(self, name: str, fn: Callable[[Event], Any]) -> None:
        super().__init__(name)
        self.fn = fn

    def handle_event(self, event: Event) -> Any:
        return self.fn(event)


__all__ = ["CallbackEntity"]
