"""``sim.query``: the query engine whose reads run at an event boundary, and the store
view handed to other threads (see `integration.ObservabilityRuntime.query`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from happysim_rx.observation import ObservationKind
from happysim_rx.query import QueryEngine
from happysimulator.core.observed import Series


class BoundaryQueryEngine(QueryEngine):
    """The simulation's `QueryEngine`: every read runs through ``sim.control.call``, so
    it is safe from any thread and answers from the state between two events."""

    _call: Callable[..., Any] | None = None

    def execute(self, query: Any) -> Any:
        call = self._call
        result = super().execute(query) if call is None else call(super().execute, query)
        if self._sim is not None and (getattr(result, "query", None) or {}).get(
                "kind") == "spans":
            sampled = _sampled(self._sim)
            if sampled is not None:
                # the store holds the traced requests only: every number is of that
                # sample (a count is not the requests served), so not exact of the run
                result.of, result.exact = sampled, False
        return result

    def _store(self, kind: ObservationKind, given: Any) -> Any:
        # the flush that brings a store up to date runs at an event boundary on the run
        # thread (never half-way through an event, on the reader's thread)
        call = self._call
        if call is None:
            return super()._store(kind, given)
        store = call(super()._store, kind, given)
        control = self._control
        if store is None or control is None or control._run_thread in (
                None, threading.get_ident()):
            return store
        return BoundaryStore(store, call)  # read from another thread during a run

    _control: Any = None
    _declared: dict[tuple[str, str], Series] | None = None
    _sim: Any = None

    def catalog(self) -> dict[str, Any]:
        """What can be asked (see `QueryEngine.catalog`), each series with its unit, and
        ``entities``: the model's topology in flow order (`observability.topology`)."""
        call = self._call
        return self._catalog() if call is None else call(self._catalog)

    def _catalog(self) -> dict[str, Any]:
        from happysimulator.observability.topology import topology, unit_of

        cat = super().catalog()
        declared = self._declared or {}
        for entry in cat["metrics"]:
            spec = declared.get((entry["source"], entry["name"]))
            entry["unit"] = unit_of(entry["name"], entry["series_kind"],
                                    spec.unit if spec is not None else None)
            if spec is not None and spec.description:
                entry["description"] = spec.description
        if self._sim is not None:
            ts = self.trace_store
            edges = ts.edges() if ts is not None and hasattr(ts, "edges") else []
            cat["entities"] = topology(self._sim, cat["metrics"], edges,
                                       traced_population(self._sim, ts))
        return cat

    def snapshot(self, at: Any = None) -> dict[str, Any]:
        """Every entity's state at simulated time `at` (default: now): gauges in effect,
        counters' totals, samples so far, the requests in the system
        (`happysimulator.observability.snapshot`)."""
        from happysimulator.observability.snapshot import snapshot

        call = self._call
        return snapshot(self, at) if call is None else call(snapshot, self, at)

    def changes(self, before: Any = None, after: Any = None, limit: int = 20) -> dict[str, Any]:
        """Every series ranked by how much it changed from the `before` window to the
        `after` window (``(start, end)`` seconds each; default: the last tenth of the
        elapsed time against the tenth before it). See
        `happysimulator.observability.changes`."""
        from happysimulator.observability.changes import changes

        call = self._call
        return changes(self, before, after, limit) if call is None else call(
            changes, self, before, after, limit)


class BoundaryStore:
    """A store handed to another thread while the simulation runs: every read (a
    method call, an attribute, ``len``) runs at an event boundary on the run thread."""

    __slots__ = ("_store", "_call")

    def __init__(self, store: Any, call: Callable[..., Any]) -> None:
        self._store, self._call = store, call

    def __getattr__(self, name: str) -> Any:
        value = self._call(getattr, self._store, name)
        if callable(value):
            call = self._call

            def at_boundary(*args: Any, **kwargs: Any) -> Any:
                return call(value, *args, **kwargs)

            return at_boundary
        return value

    def __len__(self) -> int:
        return self._call(len, self._store)

    def __repr__(self) -> str:
        return f"<at the event boundary: {self._call(repr, self._store)}>"


__all__ = ["BoundaryQueryEngine", "BoundaryStore"]


def _sampled(sim: Any) -> str | None:
    """Which requests spans were recorded for, when a trace sample (``trace_sample_rate``
    < 1) rather than all of them."""
    config = getattr(sim.__dict__.get("observability_runtime"), "config", None)
    rate = getattr(config, "trace_sample_rate", 1.0)
    if rate < 1.0:
        return f"the requests traced at trace_sample_rate={rate:g} (a sample, not scaled up)"
    return None


def traced_population(sim: Any, ts: Any) -> str | None:
    """Which requests the trace store's traces (and the topology's edge counts) are of,
    when not all of them: the sampled ones (``trace_sample_rate`` < 1), the traces a
    bounded store kept; None when every request was traced and kept."""
    runtime = sim.__dict__.get("observability_runtime")
    config = getattr(runtime, "config", None)
    parts = []
    rate = getattr(config, "trace_sample_rate", 1.0)
    if rate < 1.0:
        parts.append(f"the requests traced at trace_sample_rate={rate:g}")
    cap = getattr(ts, "max_traces", None)
    evicted = getattr(ts, "evicted_traces", 0)
    if cap is not None and evicted:
        parts.append(f"the last {cap} traces kept (trace_capacity; {evicted} evicted)")
    return "; ".join(parts) or None
