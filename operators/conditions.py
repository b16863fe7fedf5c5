"""Conditions on time-stamped streams: threshold (with hysteresis), sustained, edges.

Comparison operators are named ``"gt", "ge", "lt", "le", "eq", "ne"`` or written as
``">", ">=", "<", "<=", "==", "!="``. Unknown names and NaN thresholds raise
``ValueError`` (the message lists the valid names).

>>> import reactivex
>>> out = []
>>> xs = [(0, 10), (1, 60), (2, 45), (3, 30), (4, 70)]
>>> _ = reactivex.from_iterable(xs).pipe(threshold(">", 50, clear_at=40)).subscribe(
...     lambda e: out.append((e.time, e.active)))
>>> out                      # 45 does not clear (hysteresis), 30 does
[(1, True), (3, False), (4, True)]
"""

from __future__ import annotations

import math
import operator as _op
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from operators._common import (
    Emit,
    TimeOf,
    ValueOf,
    accessors,
    duration_ticks,
    per_subscription,
    to_seconds,
    to_ticks,
)
from operators.clock import resolve_clock

if TYPE_CHECKING:  # (reactivex is imported where an operator is built)
    from reactivex import Observable, abc

__all__ = [
    "COMPARISONS",
    "parse_comparison",
    "compare",
    "ThresholdEvent",
    "SustainedEvent",
    "threshold",
    "sustained",
    "edge_triggered",
]

_FUNCS: dict[str, Callable[[Any, Any], bool]] = {
    "gt": _op.gt,
    "ge": _op.ge,
    "lt": _op.lt,
    "le": _op.le,
    "eq": _op.eq,
    "ne": _op.ne,
}
_SYMBOLS = {">": "gt", ">=": "ge", "<": "lt", "<=": "le", "==": "eq", "!=": "ne"}
#: Every accepted spelling of a comparison.
COMPARISONS = tuple(_FUNCS) + tuple(_SYMBOLS)


def parse_comparison(op: str) -> tuple[str, Callable[[Any, Any], bool]]:
    """``">="`` / ``"ge"`` -> ``("ge", operator.ge)``; ValueError listing valid names.

    >>> parse_comparison(">=")[0], parse_comparison("LT")[0]
    ('ge', 'lt')
    """
    key = op.strip().lower() if isinstance(op, str) else op
    key = _SYMBOLS.get(key, key)
    if key not in _FUNCS:
        raise ValueError(
            f"unknown comparison {op!r}; valid: {', '.join(repr(c) for c in COMPARISONS)}"
        )
    return key, _FUNCS[key]


def _check_threshold(name: str, x: Any) -> Any:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise ValueError(f"{name} must be a number, got {x!r}")
    if math.isnan(x):
        raise ValueError(f"{name} must not be NaN")
    return x


def compare(
    op: str, value: float, *, value_of: ValueOf | None = None
) -> Callable[[Any], bool]:
    """Predicate ``item -> value_of(item) <op> value`` (for :func:`sustained` etc.).

    >>> compare(">", 5)((0.0, 7)), compare("le", 5)((0.0, 7))
    (True, False)
    """
    _, fn = parse_comparison(op)
    thr = _check_threshold("threshold", value)
    _, v_of = accessors(None, value_of)

    def predicate(item: Any) -> bool:
        v = v_of(item)
        return v is not None and bool(fn(v, thr))

    return predicate


class ThresholdEvent(msgspec.Struct, frozen=True):
    """State of a threshold alarm at ``time``: ``active`` after a raise, False after a
    clear; ``value`` is the item's value that caused it."""

    time: float
    value: Any
    active: bool


class SustainedEvent(msgspec.Struct, frozen=True):
    """A condition that held continuously from ``since`` until ``time`` (= since +
    duration); ``value`` is the last value seen while it held."""

    time: float
    since: float
    value: Any


def threshold(
    op: str,
    value: float,
    *,
    clear_at: float | None = None,
    emit: str = "changes",
    time_of: TimeOf | None = None,
    value_of: ValueOf | None = None,
) -> Callable[[Observable[Any]], Observable[ThresholdEvent]]:
    """Threshold alarm with optional hysteresis.

    The alarm raises when ``value_of(item) <op> value`` and clears when the value no
    longer satisfies ``<op> clear_at`` (``clear_at`` defaults to ``value``). For
    ``gt``/``ge`` ``clear_at`` must be <= ``value``, for ``lt``/``le`` >= ``value``;
    ``eq``/``ne`` take no ``clear_at``. E.g. ``threshold("gt", 50, clear_at=40)`` raises
    above 50 and clears at <= 40.

    ``emit="changes"`` (default) emits a :class:`ThresholdEvent` on each raise and
    clear; ``emit="all"`` emits one per item with the current state (feed it to
    ``sustained(lambda e: e.active, ...)``). ``None``/NaN values are ignored.
    """
    name, fn = parse_comparison(op)
    thr = _check_threshold("threshold", value)
    if clear_at is None:
        clr = thr
    else:
        clr = _check_threshold("clear_at", clear_at)
        if name in ("eq", "ne"):
            raise ValueError(f"clear_at is only meaningful for gt/ge/lt/le, not {op!r}")
        if name in ("gt", "ge") and clr > thr:
            raise ValueError(f"for {op!r} clear_at ({clr}) must be <= the threshold ({thr})")
        if name in ("lt", "le") and clr < thr:
            raise ValueError(f"for {op!r} clear_at ({clr}) must be >= the threshold ({thr})")
    if emit not in ("changes", "all"):
        raise ValueError(f"emit must be 'changes' or 'all', got {emit!r}")
    emit_all = emit == "all"
    t_of, v_of = accessors(time_of, value_of)

    def make() -> Callable[[Any, Emit], None]:
        active = False

        def step(item: Any, out: Emit) -> None:
            nonlocal active
            v = v_of(item)
            if v is None or (isinstance(v, float) and math.isnan(v)):
                return
            changed = False
            if not active:
                if fn(v, thr):
                    active = changed = True
            elif not fn(v, clr):
                active = False
                changed = True
            if changed or emit_all:
                out(ThresholdEvent(t_of(item), v, active))

        return step

    return per_subscription(make)


def edge_triggered(
    predicate: Callable[[Any], bool] | None = None,
    *,
    initial: bool = False,
    value_of: ValueOf | None = None,
) -> Callable[[Observable[Any]], Observable[Any]]:
    """Pass an item only when ``predicate(item)`` goes from false to true.

    The default predicate is ``bool(value_of(item))`` (e.g. ``is_anomaly``-like flags or
    ``ThresholdEvent``\\ s via ``lambda e: e.active``). ``initial`` is the state before the
    first item (``False``: a first true item is an edge).

    >>> import reactivex
    >>> out = []
    >>> _ = reactivex.of((0, 0), (1, 1), (2, 1), (3, 0), (4, 1)).pipe(edge_triggered()
    ...     ).subscribe(lambda x: out.append(x[0]))
    >>> out
    [1, 4]
    """
    if predicate is None:
        _, v_of = accessors(None, value_of)

        def predicate(item: Any) -> bool:
            return bool(v_of(item))

    elif not callable(predicate):
        raise TypeError(f"predicate must be callable, got {predicate!r}")
    pred = predicate

    def make() -> Callable[[Any, Emit], None]:
        state = bool(initial)

        def step(item: Any, out: Emit) -> None:
            nonlocal state
            now = bool(pred(item))
            if now and not state:
                out(item)
            state = now

        return step

    return per_subscription(make)


class _Sustained:
    def __init__(self, observer: Any, clock: Any, pred: Callable[[Any], bool], d: int,
                 t_of: TimeOf, v_of: ValueOf) -> None:
        self.observer = observer
        self.clock = clock
        self.pred = pred
        self.d = d
        self.t_of = t_of
        self.v_of = v_of
        self.since: int | None = None
        self.fired = False
        self.value: Any = None
        self.timer: Any = None
        self.done = False

    def _fire(self) -> None:
        assert self.since is not None
        self.fired = True
        self.cancel_timer()
        self.observer.on_next(
            SustainedEvent(to_seconds(self.since + self.d), to_seconds(self.since), self.value)
        )

    def _on_timer(self, since: int) -> None:
        self.timer = None
        if not self.done and self.since == since and not self.fired:
            self._fire()

    def cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def on_next(self, item: Any) -> None:
        if self.done:
            return
        try:
            tick = to_ticks(self.t_of(item))
            ok = bool(self.pred(item))
        except Exception as exc:  # noqa: BLE001
            self.on_error(exc)
            return
        since = self.since
        # It held from `since` up to this item: if that already covers the duration, the
        # condition was met at since + d, whatever this item says (timers run first).
        if since is not None and not self.fired and tick >= since + self.d:
            self._fire()
        if ok:
            self.value = self.v_of(item)
            if since is None:
                self.since = tick
                self.fired = False
                if self.d == 0:
                    self._fire()
                elif self.clock is not None:
                    at = tick + self.d
                    self.timer = self.clock.call_at(
                        to_seconds(at), lambda s=tick: self._on_timer(s)
                    )
        else:
            self.since = None
            self.fired = False
            self.cancel_timer()

    def on_completed(self) -> None:
        if self.done:
            return
        if (self.clock is not None and self.since is not None and not self.fired
                and to_ticks(self.clock.now()) >= self.since + self.d):
            self._fire()
        self.done = True
        self.cancel_timer()
        self.observer.on_completed()

    def on_error(self, error: Exception) -> None:
        self.done = True
        self.cancel_timer()
        self.observer.on_error(error)


def sustained(
    predicate: Callable[[Any], bool],
    for_seconds: float,
    *,
    clock: Any = None,
    time_of: TimeOf | None = None,
    value_of: ValueOf | None = None,
) -> Callable[[Observable[Any]], Observable[SustainedEvent]]:
    """Fire once when ``predicate(item)`` has held continuously for ``for_seconds``.

    The condition starts holding at the time of the first item for which the predicate
    is true and holds until the time of the next item for which it is false. It fires
    at exactly ``start + for_seconds`` (integer ticks): through a clock timer when a
    clock is available (so it fires even if no item arrives), otherwise when the first
    item at or after that time arrives. A false item exactly at ``start + duration``
    does not prevent firing (the condition held for the whole duration). After firing,
    it re-arms only once the predicate has been false again. Emits
    :class:`SustainedEvent` ``(time=start+duration, since=start, value=last value)``.

    >>> from operators.clock import FakeClock
    >>> from reactivex.subject import Subject
    >>> clock, s, out = FakeClock(), Subject(), []
    >>> _ = s.pipe(sustained(compare(">", 50), 5.0, clock=clock)).subscribe(
    ...     lambda e: out.append((e.since, e.time)))
    >>> s.on_next((1.0, 60)); clock.advance_to(5.9); out
    []
    >>> clock.advance_to(100.0); out
    [(1.0, 6.0)]
    """
    if not callable(predicate):
        raise TypeError(f"predicate must be callable, got {predicate!r}")
    d = duration_ticks("for_seconds", for_seconds, allow_zero=True)
    t_of, v_of = accessors(time_of, value_of)
    if clock is not None:
        resolve_clock(clock)

    def operator(source: Observable[Any]) -> Observable[SustainedEvent]:
        import reactivex
        from reactivex.disposable import CompositeDisposable, Disposable

        def subscribe(observer: abc.ObserverBase[SustainedEvent],
                      scheduler: abc.SchedulerBase | None = None) -> abc.DisposableBase:
            st = _Sustained(observer, resolve_clock(clock, scheduler), predicate, d, t_of, v_of)
            sub = source.subscribe(st.on_next, st.on_error, st.on_completed, scheduler=scheduler)
            return CompositeDisposable(sub, Disposable(st.cancel_timer))

        return reactivex.create(subscribe)

    return operator
