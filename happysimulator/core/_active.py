"""The simulation currently running in this process (set by the run loop)."""

from __future__ import annotations

import itertools
from typing import Any


class _Active:
    __slots__ = ("sim",)

    def __init__(self) -> None:
        self.sim: Any = None


ACTIVE = _Active()

# Context ids for events that never belonged to any simulation (built and inspected outside
# a run, with an unregistered target). Events of a simulation draw ids from that simulation.
_detached_ids = itertools.count(1)


def current_simulation() -> Any:
    """The simulation whose run loop is executing, or ``None``."""
    return ACTIVE.sim


def detached_id() -> int:
    return next(_detached_ids)
