"""What every active queue policy shares: the drop report, the clock, the random stream,
and the line through which an owning entity holds it.

An active policy holds the requests themselves (its key functions see the `Event`), may
refuse one (``push`` answers False) and may discard waiting ones (CoDel, expired
deadlines). Every refusal or discard goes through `ActiveQueuePolicy._discard(item,
reason)`: the policy's statistics, its ``on_drop`` callback and, once an entity owns the
policy, the owner's `QueueLine` (a ``dropped`` counter tagged ``reason``).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, ClassVar

from happysimulator.components.queue_policy import QueuePolicy
from happysimulator.core.entity import Entity, bind_simulation
from happysimulator.core.observed import ObservedEntity, Series, counter
from happysimulator.core.temporal import Instant

DROPPED = counter("dropped", "requests", "requests the policy refused or discarded",
                  tags=("reason",))


class ActiveQueuePolicy(QueuePolicy):
    """Base of the policies in ``components.queue_policies`` (see the module docstring).

    ``on_drop(item, reason)``, if set, is told of every refusal and discard. Standalone
    (no owning entity) a policy that draws random numbers uses its own generator,
    seeded by ``seed`` (0 unless given) so runs reproduce; owned, it draws from the
    owner's simulation stream (``owner.rng``).
    """

    #: series the owner's line records for this policy (catalog: before the run)
    observed_series: ClassVar[tuple[Series, ...]] = (DROPPED,)

    def __init__(self, clock_func: Callable[[], Instant] | None = None,
                 seed: int | None = None) -> None:
        self._clock_func = clock_func
        self._line: QueueLine | None = None
        self._owner: Entity | None = None
        self._own_rng = random.Random(0 if seed is None else seed)
        self.on_drop: Callable[[Any, str], None] | None = None

    # -- wiring ---------------------------------------------------------------------------
    def attach(self, owner: Entity, pairs: bool = True) -> QueueLine:
        """Let `owner` hold this policy: the clock and random stream become the owner's
        simulation's, drops are recorded on the owner's line (returned). With ``pairs``
        the line takes and gives ``(event, arrival_ns)`` pairs (a `QueuedResource`)."""
        if self._line is not None and self._owner is not owner:
            raise ValueError(
                f"this {type(self).__name__} already belongs to {self._owner.name!r}; "
                "give each entity its own policy instance")
        self._owner = owner
        if self._line is None:
            self._line = _line_class(type(self))(owner, self, pairs)
        return self._line

    def set_clock(self, clock_func: Callable[[], Instant]) -> None:
        """Set the function that tells the current time (an `Instant`)."""
        self._clock_func = clock_func

    def now_ns(self) -> int:
        """The current simulated time in nanoseconds (the owner's, else the clock's)."""
        owner = self._owner
        if owner is not None and self._clock_func is None:
            return (owner._sim or bind_simulation(owner)).now_ns
        if self._clock_func is None:
            raise RuntimeError(
                f"{type(self).__name__} needs a clock: give clock_func=, call set_clock(), "
                "or let an entity (Server, QueuedResource, Queue) own the policy")
        return self._clock_func().nanoseconds

    def _has_clock(self) -> bool:
        return self._clock_func is not None or self._owner is not None

    @property
    def rng(self) -> random.Random:
        """The random stream the policy draws from (see the class docstring)."""
        owner = self._owner
        return owner.rng if owner is not None else self._own_rng

    # -- reporting ------------------------------------------------------------------------
    def _discard(self, item: Any, reason: str) -> None:
        """Report a refused or discarded item (the subclass counts it in its stats)."""
        line = self._line
        if line is not None:
            line.dropped(item, reason)
        if self.on_drop is not None:
            self.on_drop(item, reason)

    def _gauge(self, name: str, value: float) -> None:
        line = self._line
        if line is not None:
            line.set_gauge(name, value)

    def is_empty(self) -> bool:
        return len(self) == 0


class QueueLine(ObservedEntity):
    """An owner's active queue policy as the owner sees it, and where its drops are
    recorded (entity ``"<owner>/queue"``: ``dropped`` tagged ``reason``, plus the
    policy's own series).

    For a `QueuedResource` (``pairs``) it takes ``(event, arrival_ns)`` pairs, gives the
    policy the events, and tells the owner of each waiting request the policy discards
    (``owner._removed``), so the owner's ``dropped`` counter and ``queue_depth`` stay
    exact.
    """

    def __init__(self, owner: Entity, policy: ActiveQueuePolicy, pairs: bool) -> None:
        super().__init__(f"{owner.name}/queue")
        self.owner = owner
        self.policy = policy
        self._pairs = pairs
        self._arrivals: dict[int, int] = {}  # id(event) -> arrival ns, while it waits

    def _runtime(self) -> Any:
        if self._sim is None:
            self._sim = self.owner._sim
        return super()._runtime()

    def push(self, pair: tuple[Any, int]) -> bool:
        event, arr = pair
        if self.policy.push(event) is False:
            return False
        self._arrivals[id(event)] = arr
        return True

    def pop(self) -> tuple[Any, int] | None:
        event = self.policy.pop()
        if event is None:
            return None
        return event, self._arrivals.pop(id(event))

    def peek(self) -> Any:
        return self.policy.peek()

    def __len__(self) -> int:
        return len(self.policy)

    def dropped(self, item: Any, reason: str) -> None:
        self.increment("dropped", reason=reason)
        if self._pairs:
            arr = self._arrivals.pop(id(item), None)
            if arr is not None:  # it was waiting (else: refused at push, the owner drops it)
                self.owner._removed(item, arr)


_LINES: dict[type, type] = {}


def _line_class(policy_cls: type) -> type:
    """A `QueueLine` class declaring `policy_cls`'s series (so the catalog lists them)."""
    cls = _LINES.get(policy_cls)
    if cls is None:
        cls = _LINES[policy_cls] = type(
            f"{policy_cls.__name__}Line", (QueueLine,),
            {"observed_series": tuple(policy_cls.observed_series),
             "__module__": __name__})
    return cls


__all__ = ["ActiveQueuePolicy", "QueueLine", "DROPPED"]
