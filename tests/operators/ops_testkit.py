"""Helpers for the operator tests (module name is unique: tests dirs have no __init__)."""

from __future__ import annotations

from typing import Any, NamedTuple

import reactivex
from reactivex.subject import Subject

from operators.clock import FakeClock


class Obs(NamedTuple):
    time: float
    value: Any


def run_list(items: list[Any], *ops: Any) -> list[Any]:
    """Push items through ops synchronously (no clock) and collect the output."""
    out: list[Any] = []
    errors: list[Exception] = []
    reactivex.from_iterable(items).pipe(*ops).subscribe(out.append, errors.append)
    if errors:
        raise errors[0]
    return out


class ClockedRun:
    """Drive a pipeline with a FakeClock: emit items at their times, record emissions
    together with the clock time at which they were emitted."""

    def __init__(self, *ops: Any, start: float = 0.0, clock: FakeClock | None = None) -> None:
        self.clock = clock or FakeClock(start)
        self.subject: Subject[Any] = Subject()
        self.out: list[Any] = []
        self.at: list[float] = []
        self.completed_at: float | None = None
        self.errors: list[Exception] = []

        def on_next(x: Any) -> None:
            self.out.append(x)
            self.at.append(self.clock.now())

        def on_completed() -> None:
            self.completed_at = self.clock.now()

        # The clock is handed over as the subscribe-time scheduler: operators without an
        # explicit clock= pick up any scheduler that satisfies the SimClock protocol.
        self.disposable = self.subject.pipe(*ops).subscribe(
            on_next, self.errors.append, on_completed, scheduler=self.clock
        )

    def emit(self, t: float, v: Any) -> None:
        self.clock.advance_to(t)
        self.subject.on_next(Obs(t, v))

    def advance_to(self, t: float) -> None:
        self.clock.advance_to(t)

    def complete(self, at: float | None = None) -> None:
        if at is not None:
            self.clock.advance_to(at)
        self.subject.on_completed()
