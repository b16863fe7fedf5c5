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

    @property
    def _fn(self) -> Callable[[Event], Any]:
        return self.fn

    def handle_event(self, event: Event) -> Any:
        return self.fn(event)


class NullEntity(Entity):
    """Discards every event (a placeholder target). One shared instance."""

    _instance: NullEntity | None = None

    def __new__(cls) -> NullEntity:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
            Entity.__init__(cls._instance, "NullEntity")
        return cls._instance

    def __init__(self) -> None:  # (the shared instance is initialised once, in __new__)
        pass

    def handle_event(self, event: Event) -> None:
        return None


__all__ = ["CallbackEntity", "NullEntity"]
