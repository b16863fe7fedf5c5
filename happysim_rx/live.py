"""Live query views: re-run a query as simulated time passes.

``query.window(1.0).aggregate("p99").observe()`` emits one ``QueryResult`` per closed
window ``[k*w, (k+1)*w)``, at the window end (a clock timer, so it fires even when no
observation arrives and before model events at that instant). When the bus completes,
the open partial window is flushed and the observable completes.
``observe(every=5.0)`` on an unwindowed query re-runs it every 5 s of simulated time.
"""

from __future__ import annotations

from typing import Any

from reactivex import abc
from reactivex.disposable import Disposable

from happysim_rx.scheduler import SimObservable, SimulatedTimeScheduler
from operators.simtime import just_after, seconds, ticks, window_index

__all__ = ["observe_query"]


def observe_query(engine: Any, query: Any, every: Any = None) -> SimObservable:
    from happysim_rx.query import QueryError, to_seconds

    bus, clock = engine.bus, engine.clock
    if clock is None:
        raise QueryError("observe() needs an engine with a clock (QueryEngine(bus))")
    spec = query.spec
    windowed = spec.window is not None
    period = spec.window if windowed else (None if every is None else to_seconds(every, "every"))
    if period is None or not period > 0:
        raise QueryError("observe() needs .window(size) or observe(every=seconds > 0)")
    scheduler = getattr(bus, "scheduler", None) or SimulatedTimeScheduler(clock)
    stop_at = spec.end

    # window edges on integer ticks, as the query's own windows: edge(k) is the float of
    # k * period every reader sees (k * period in floats drifts: 3 * 0.1 is not 0.3)
    p_ticks = ticks(period)

    def edge(k: int) -> float:
        return seconds(k * p_ticks)

    def subscribe(observer: abc.ObserverBase, _: Any = None) -> abc.DisposableBase:
        state: dict[str, Any] = {"handle": None, "done": False}
        state["k"] = window_index(clock.now(), p_ticks) + 1  # index of the next window end

        def emit(a: float, b: float) -> None:
            q = query.between(a, b) if windowed else query
            try:
                res = engine.execute(q)
            except Exception as e:  # a failing view reports, it does not kill the run
                finish(error=e)
                return
            observer.on_next(res)

        def fire() -> None:
            if state["done"]:
                return
            k = state["k"]
            b = edge(k)
            emit(edge(k - 1), b)
            state["k"] += 1
            if stop_at is not None and b >= stop_at:
                finish()
                return
            state["handle"] = clock.call_at(edge(state["k"]), fire)

        def finish(error: Exception | None = None) -> None:
            if state["done"]:
                return
            state["done"] = True
            if state["handle"] is not None:
                state["handle"].cancel()
            if error is not None:
                observer.on_error(error)
            else:
                observer.on_completed()

        def on_bus_completed() -> None:
            if state["done"]:
                return
            a, b, now = edge(state["k"] - 1), edge(state["k"]), clock.now()
            if windowed and now >= a:  # flush the open partial window (data up to now)
                emit(a, min(b, just_after(now)))
            finish()

        life = (
            bus.lifecycle().subscribe(
                on_completed=on_bus_completed, on_error=lambda e: finish(error=e)
            )
            if bus
            else None
        )
        state["handle"] = clock.call_at(edge(state["k"]), fire)

        def dispose() -> None:
            state["done"] = True
            if state["handle"] is not None:
                state["handle"].cancel()
            if life is not None:
                life.dispose()

        return Disposable(dispose)

    return SimObservable(subscribe, scheduler)
