"""Gauges, samples, counters and spans of a `QueuedResource` or `Server`, from the facts
it records (see `happysimulator.observability.auto_instrument` for the series)."""

from __future__ import annotations

from typing import Any

import numpy as np

from happysimulator.core.component_instrumentation import (
    ARRIVED,
    DONE,
    DROP,
    REMOVED,
    STARTED,
    Visit,
    trace_id,
)
from happysimulator.observability.fact_recorder import (
    _EMPTY,
    _NEVER,
    _NS,
    Recorder,
    _band,
    _counter,
    _frozen,
    _Instrumentation,
    _ints,
    _ones,
    _samples,
)
from happysimulator.observability.hop_parents import HopParents
from happysimulator.observability.odd_ids import trace_id_array
from happysimulator.observability.spans import VISIT, EntitySpans
from operators.simtime import seconds_array as _sec


def _gauge_points(t: np.ndarray, values: np.ndarray, last: float) -> tuple[np.ndarray, np.ndarray]:
    """The gauge's changes: the value in effect after *all* records at an instant (a
    server handing over to the next request goes in_flight 1 -> 0 -> 1 within one instant:
    that 0 never held for any time and is not a change), kept where it differs from the
    value before."""
    # (positions, not boolean masks: two fancy-indexings of the settled records cost
    # more than one `flatnonzero`; this runs at every flush of a full() run)
    settled = np.empty(t.size, dtype=bool)
    np.not_equal(t[1:], t[:-1], out=settled[:-1])
    settled[-1] = True
    at = np.flatnonzero(settled)
    vv = values[at]
    changed = np.empty(vv.size, dtype=bool)
    changed[0] = vv[0] != last
    np.not_equal(vv[1:], vv[:-1], out=changed[1:])
    return t[at[changed]], vv[changed]


def _changes(t: np.ndarray, v: np.ndarray, last: int) -> tuple[np.ndarray, np.ndarray]:
    """The points of (t, v) whose value differs from the one before (`last` first)."""
    if not v.size:
        return _EMPTY, _EMPTY
    keep = np.empty(v.size, dtype=bool)
    keep[0] = v[0] != last
    np.not_equal(v[1:], v[:-1], out=keep[1:])
    return t[keep], v[keep]


def _fraction_of(concurrency: Any) -> bool:
    """A fixed number of servers to be a fraction of: a resource gated by
    ``has_capacity()`` (unlimited concurrency: a shifted desk) records no utilization,
    as its ``utilization`` property answers None, rather than a made-up 0.0."""
    return 0 < concurrency < 2**62


_KEY_LIMIT = 2**62  # times (ns) whose doubles fit int64: `_level`'s sort keys


def _level(ups: np.ndarray, downs: np.ndarray, last: int) -> tuple[np.ndarray, np.ndarray]:
    """A count that goes +1 at each of `ups` and -1 at each of `downs` (ns, each sorted),
    starting from `last`: its settled changes as (times in ns, values)."""
    nu, nd = ups.size, downs.size
    if not nu and not nd:
        return _EMPTY, _EMPTY
    n = nu + nd
    lo = min(ups[0] if nu else 0, downs[0] if nd else 0)
    hi = max(ups[-1] if nu else 0, downs[-1] if nd else 0)
    if not (-_KEY_LIMIT <= lo and hi < _KEY_LIMIT):
        t = np.concatenate((ups, downs))
        order = np.argsort(t, kind="stable")
        # after the k-th record (k = 1, 2, ...): last + ups - downs = last + 2 * ups - k,
        # ups counted by the sorted positions that came from `ups` (no +1/-1 step array)
        level = np.cumsum(order < nu, dtype=np.int64)
        level *= 2
        level -= np.arange(1 - last, n + 1 - last, dtype=np.int64)
        return _gauge_points(t[order], level, last)
    # one sort of keys (2 t + 1 for a down): the times in order, each record's kind in
    # its key's low bit. (The order of records within one instant does not matter: only
    # the value after all of them is a point.) Two sorted runs: the stable sort merges.
    key = np.empty(n, dtype=np.int64)
    np.left_shift(ups, 1, out=key[:nu])
    np.left_shift(downs, 1, out=key[nu:])
    key[nu:] |= 1
    key.sort(kind="stable")
    # after the k-th record: last + k - 2 * (downs so far)
    level = np.cumsum(key & 1)
    level *= -2
    level += np.arange(last + 1, last + n + 1, dtype=np.int64)
    key >>= 1
    return _gauge_points(key, level, last)


def _derivable_concurrency(entity: Any) -> int:
    """The concurrency of an idle `Server` or `QueuedResource` whose starts follow from
    its arrivals and completions (its own handling, unmodified, on a FIFO queue), else 0."""
    from happysimulator.components.queue_policy import FIFOQueue
    from happysimulator.components.queued_resource import QueuedResource
    from happysimulator.components.server.server import Server

    cls = type(entity)
    if type(entity._queue) is not FIFOQueue or entity._queue or entity.in_flight != 0:
        return 0
    if isinstance(entity, Server):
        if (entity._fast and cls.handle_event is Server.handle_event
                and cls._complete is Server._complete and cls._serve is Server._serve):
            return entity.concurrency
        return 0
    # a user's QueuedResource overrides `handle_queued_event` only: what it does there
    # (yield, wait on futures) decides when a request completes, never when one starts.
    # A `has_capacity()` gate decides starts too: those report every fact.
    if isinstance(entity, QueuedResource) and not entity._own_count and all(
            getattr(cls, m) is getattr(QueuedResource, m)
            for m in ("handle_event", "_begin", "_done", "_drain", "_can_start", "_started")):
        return entity.concurrency
    return 0


class WatchedPolicy:
    """``resource.queue.policy`` of an instrumented resource: the policy itself for
    every read, while what model code takes off the line (``pop``, ``popleft``,
    ``remove``, ``clear``: a timeout, a cancellation) is recorded when it happens."""

    __slots__ = ("_instr",)

    def __init__(self, instr: QueueInstrumentation) -> None:
        object.__setattr__(self, "_instr", instr)

    @property
    def _policy(self) -> Any:
        return self._instr.entity._queue

    def __getattr__(self, name: str) -> Any:
        return getattr(self._instr.entity._queue, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._policy, name, value)

    def __len__(self) -> int:
        return len(self._policy)

    def __bool__(self) -> bool:
        return bool(self._policy)

    def __iter__(self) -> Any:
        return iter(self._policy)

    def __getitem__(self, i: Any) -> Any:
        return self._policy[i]

    def __contains__(self, item: Any) -> bool:
        return item in self._policy

    def __repr__(self) -> str:
        return repr(self._policy)

    def pop(self, *args: Any) -> Any:
        return self._instr.removing(lambda q: q.pop(*args))

    def popleft(self) -> Any:
        return self._instr.removing(lambda q: q.popleft())

    def remove(self, item: Any) -> None:
        self._instr.removing(lambda q: q.remove(item))

    def clear(self) -> None:
        self._instr.removing(lambda q: q.clear())


class QueueInstrumentation(_Instrumentation):
    """Gauges, samples, counters and spans for a `QueuedResource` or `Server`."""

    __slots__ = ("_arrived", "_dropped", "_started", "_waited", "_done", "_served", "_ids",
                 "_starts", "_dropped_ids", "_last_depth", "_last_in_flight", "_live_depth",
                 "_live_in_flight", "_points", "_fifo", "_waiting", "_releases",
                 "_serving_start", "_serving_arr", "_removed", "_removed_ids",
                 "_removed_starts", "_withdrawn", "withdrawn", "_conc",
                 "_conc_changed_ns", "hop_parents", "aborted", "aborted_ids",
                 "aborted_starts")

    #: the attribute keys of its spans (a span query may filter on them from the start)
    span_attributes = ("wait", "service", "status")
    SERIES = [("queue_depth", "gauge"), ("in_flight", "gauge"), ("wait_time", "sample"),
              ("service_time", "sample"), ("arrivals", "counter"), ("completed", "counter"),
              ("dropped", "counter"), ("utilization", "gauge")]

    def __init__(self, recorder: Recorder, entity: Any) -> None:
        super().__init__(recorder, entity, self.SERIES)
        metrics, traced = recorder.metrics, recorder.tracer is not None
        self._fifo = _derivable_concurrency(entity)
        # utilization = in_flight / concurrency: a concurrency change is dated by the
        # `reconfigured` call that precedes it
        self._conc = entity.concurrency
        self._conc_changed_ns = -1
        self.reconfigured = self._concurrency_changing
        if self._fifo:
            self._start_deriving()
        self._arrived = self._fact("arrived", metrics or bool(self._fifo) and traced)
        self._started = self._fact("started", metrics)
        self._waited = self._fact("waited", metrics)
        self._served = self._fact("served", metrics or traced)  # (spans: wait/service)
        # completion and drop times also date the spans
        self._done = self._fact("done", metrics or traced)
        self._dropped = self._fact("dropped", metrics or traced)
        self._ids = self._fact("traced_ids", traced, span=True)
        self._starts = self._fact("traced_starts", traced, span=True)
        self._dropped_ids = self._fact("dropped_ids", traced, span=True)
        # waiting requests an active queue policy discarded (never started): drops
        self._removed = self._fact("removed", metrics or traced)
        self._removed_ids = self._fact("removed_ids", traced, span=True)
        self._removed_starts = self._fact("removed_starts", traced, span=True)
        # requests model code took off the waiting line (`queue.policy.pop()`: a
        # timeout, a cancellation): they leave the depth then, never start, and are not
        # the resource's drops
        self._withdrawn = self._fact("withdrawn", metrics)
        # requests in service that never complete (their server crashed: see `aborting`)
        self._fact("aborted", metrics or traced)
        self._fact("aborted_ids", traced, span=True)
        self._fact("aborted_starts", traced, span=True)
        self.hop_parents = HopParents() if recorder.component_spans else None
        if self.hop_parents is not None:
            self.arriving = self.hop_parents.arrived
            self.hops = self.hop_parents.new
        self._last_depth = self._live_depth = entity.depth
        self._last_in_flight = self._live_in_flight = entity.in_service
        if self.topics:
            now = recorder.runtime.sim.clock.now()
            self.topics[0].emit(now, self._last_depth)
            self.topics[1].emit(now, self._last_in_flight)
            if _fraction_of(self._conc):
                self.topics[7].emit(now, self._utilization(self._last_in_flight))

    def _utilization(self, in_flight: float) -> float:
        conc = self._conc
        return float(in_flight) / conc if 0 < conc < 2**62 else 0.0

    def watched_policy(self) -> WatchedPolicy:
        """What ``resource.queue.policy`` gives model code (see `WatchedPolicy`)."""
        return WatchedPolicy(self)

    def removing(self, take: Any) -> Any:
        """Model code takes requests off the waiting line (``take(queue)`` does): the
        depth drops now, and they never start. Starts derived from the queue discipline
        are derived up to here, then reported as facts (the discipline is broken)."""
        entity = self.entity
        if self._fifo:
            self.recorder.bus.flush()  # (derives from the queue as the server left it)
            self._stop_deriving()
        q = entity._queue
        before = len(q)
        held = list(q) if self.hop_parents is not None else None
        out = take(q)
        gone = before - len(q)
        if gone > 0:
            if held is not None:
                still = {id(e) for e in q}
                self.hop_parents.forget([e for e in held if id(e) not in still])
            now = entity._sim.now_ns
            self._withdrawn.extend([now] * gone)
            b = self.depth_band
            if b is not None and not b[0] < len(q) < b[1]:
                self.depth_moved(now)
        return out

    def aborting(self, now: int, request: Any, arr_ns: int) -> None:
        """A request in service ends now without completing (its server crashed): a drop
        (not a completion), its in-service slot freed, its span ends now. The caller
        freed the slot already, and called `reconfigured` first (starts are facts)."""
        self.aborted.append(now)
        if self.traced:
            self.aborted_ids.append(trace_id(request))
            self.aborted_starts.append(arr_ns)
        if self.live is not None:
            self.live(REMOVED, now, Visit(arr_ns, now, request))

    def flush(self, spans: list[EntitySpans]) -> None:
        if self._conc_changed_ns >= 0 and self.topics:
            self._emit_concurrency_change()
        if not (self._arrived or self._done or self._dropped or self._removed
                or self._withdrawn or self.aborted):
            return  # (a start follows an arrival in the same flush or an earlier one)
        # (each column in seconds is converted once: spans and series share it; the
        # stores keep frozen columns as given, `_frozen`)
        done_s = served_s = None
        arrived, dropped = _ints(self._arrived), _ints(self._dropped)
        removed = _ints(self._removed)
        aborted = _ints(self.aborted)
        done = _ints(self._done)
        visit_facts = self.visit_facts  # (before a derivation may stop deriving)
        whole = 0  # the concurrency, when both gauges follow from one level (`_fifo_gauges`)
        if self._fifo:
            c, w, r = self._fifo, self._waiting.size, self._releases.size
            # the carried state is the gauges' last values, and the server was busy or
            # idle, not both (work-conserving)
            if (w == self._last_depth and r == c - self._last_in_flight
                    and not (w and r)):
                whole = c
            w, r = w + arrived.size, r + done.size
            started, waited = self._derive(arrived, done)
            if not self._fifo or started.size != min(w, r):
                whole = 0
        else:
            started, waited = _ints(self._started), _ints(self._waited)
        if visit_facts:
            served, visit_arr = _ints(self._served), self._starts
        else:
            served, visit_arr = self._derive_visits(started, waited, done)
        if self._ids or self._dropped_ids or self.aborted_ids:
            name = self.entity.name
            if visit_arr.__class__ is list:
                visit_arr = _ints(visit_arr)
            split = None
            if served.size == done.size:  # (in integer ns: the same as a live span's)
                served_s = _frozen(_sec(served))
                split = (_sec(done - visit_arr - served), served_s)
            done_s = _frozen(_sec(done))
            hp = self.hop_parents
            ids = trace_id_array(self._ids)
            spans.append(EntitySpans(name, VISIT, ids, _sec(visit_arr), done_s,
                                     split=split,
                                     parents=hp and hp.parents_of(ids, visit_arr)))
            if dropped.size:
                t = _sec(dropped)
                ids = trace_id_array(self._dropped_ids)
                spans.append(EntitySpans(name, VISIT, ids, t, t, dropped=True,
                                         parents=hp and hp.parents_of(ids, dropped)))
            if removed.size and self._removed_ids:
                ids, arr = trace_id_array(self._removed_ids), _ints(self._removed_starts)
                spans.append(EntitySpans(name, VISIT, ids, _sec(arr), _sec(removed),
                                         dropped=True,
                                         parents=hp and hp.parents_of(ids, arr)))
            if aborted.size and self.aborted_ids:
                ids, arr = trace_id_array(self.aborted_ids), _ints(self.aborted_starts)
                spans.append(EntitySpans(name, VISIT, ids, _sec(arr), _sec(aborted),
                                         dropped=True,
                                         parents=hp and hp.parents_of(ids, arr)))
        if not self.topics:
            return
        depth_s, flight_s, wait_s, service_s, arrivals_s, completed_s, dropped_s, util_s = (
            self.topics)
        _counter(arrivals_s, np.sort(np.concatenate((arrived, dropped)), kind="stable")
                 if dropped.size else arrived)
        _counter(dropped_s, np.sort(np.concatenate((dropped, removed, aborted)),
                                    kind="stable")
                 if removed.size or aborted.size else dropped)
        _samples(wait_s, started, waited)
        if done.size:
            # (the stores keep these frozen columns as given: one column of completion
            # times for both series and the spans)
            if done_s is None:
                done_s = _frozen(_sec(done))
            if served_s is None:
                served_s = _frozen(_sec(served))
            service_s.emit_many(done_s, served_s, subscribers=False)
            completed_s.emit_many(done_s, _ones(done.size), subscribers=False)
        entity = self.entity
        lasts = []
        withdrawn = _ints(self._withdrawn)
        leave = np.sort(np.concatenate((started, removed, withdrawn)), kind="stable") if (
            removed.size or withdrawn.size) else started
        levels = self._fifo_gauges(arrived, done, whole) if whole and not (
            removed.size or withdrawn.size or aborted.size) else None
        for series, ups, downs, last, actual in (
            (depth_s, arrived, leave, self._last_depth, len(entity._queue)),
            # (in_flight is not checked: between a completion and the start it allows,
            # when a live subscriber may read, the server still counts the finished one)
            (flight_s, started, np.sort(np.concatenate((done, aborted)), kind="stable")
             if aborted.size else done, self._last_in_flight, None),
        ):
            t, v = _level(ups, downs, last) if levels is None else levels[len(lasts)]
            if t.size:
                t = _frozen(_sec(t))
                vf = _frozen(v.astype(np.float64))
                series.emit_many(t, vf, subscribers=False)
                last = int(v[-1])
                if series is flight_s:
                    conc = self._conc
                    # (in_flight / 1 is in_flight, exactly: the same column)
                    if _fraction_of(conc):  # (else no fixed number to be a fraction of)
                        util_s.emit_many(t, vf if conc == 1 else _frozen(v / conc),
                                         subscribers=False)
            if actual is not None and last != actual:
                # changed behind the instrumentation's back (someone popped the queue)
                series.emit_many(np.array([entity._sim.now_ns / _NS]),
                                 np.array([float(actual)]), subscribers=False)
                last = actual
            lasts.append(last)
        self._last_depth, self._last_in_flight = lasts

    def _fifo_gauges(self, arrived: np.ndarray, done: np.ndarray,
                     c: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        """(depth, in_flight) changes of a server whose starts were derived (FIFO,
        `concurrency` c), from one level instead of two: the k-th start is at
        max(k-th arrival, k-th release), so after any instant the starts so far are
        min(arrivals so far, releases so far), and with N the requests in the system,
        in_flight = min(N, c) and depth = N - in_flight. (The caller checked that the
        carried state is the gauges' last values and that every start of this flush
        is counted so: the same points as `_level` of arrivals/starts and
        starts/completions.)"""
        d0, f0 = self._last_depth, self._last_in_flight
        t, n = _level(arrived, done, d0 + f0)
        flight = np.minimum(n, c)
        return _changes(t, n - flight, d0), _changes(t, flight, f0)

    def _concurrency_changing(self) -> None:
        """The concurrency is about to change: what was recorded so far used the old
        value; the next flush dates the new utilization at this instant."""
        self.recorder.bus.flush()
        if self._fifo:
            self._stop_deriving()
        self.reconfigured = self._concurrency_changing
        self._conc_changed_ns = self.entity._sim.now_ns if self.entity._sim is not None \
            else 0

    def _emit_concurrency_change(self) -> None:
        at, self._conc_changed_ns = self._conc_changed_ns, -1
        conc = self.entity.concurrency
        if conc == self._conc:
            return
        self._conc = conc
        if not _fraction_of(conc):
            return
        self.topics[7].emit_many(np.array([at / _NS]),
                                 np.array([self._utilization(self._last_in_flight)]),
                                 subscribers=False)

    # -- facts derived from the queue discipline ------------------------------------------
    # A `Server` on its fast path with a FIFO queue starts the oldest waiting request as
    # soon as one of its `concurrency` slots is free. So its k-th start (counting from an
    # idle server) is at max(k-th arrival, the time the slot it takes was freed): the
    # initial `concurrency` slots are free from the start, later ones at the completions
    # in their order. With concurrency 1 the k-th completion also ends the k-th start.
    # The server then records arrivals and completions only.
    def _start_deriving(self) -> None:
        self.start_facts = False
        self.visit_facts = self._fifo != 1
        self._waiting = _EMPTY  # arrival times of requests still waiting, in order
        # one entry per free slot: the time it became free (not yet taken by a start)
        self._releases = np.full(self._fifo, _NEVER, dtype=np.int64)
        self._serving_start = self._serving_arr = _EMPTY  # concurrency 1: in service

    def _derive(self, arrived: np.ndarray, done: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(start times, waits) of the requests that started since the last flush, from
        the arrivals and completions since then."""
        waiting = np.concatenate((self._waiting, arrived)) if self._waiting.size else arrived
        releases = np.concatenate((self._releases, done)) if done.size else self._releases
        # how many started: the server's queue says (a flush may come between a completion
        # and the start it allows, from a live subscriber)
        entity = self.entity
        n = waiting.size - len(entity._queue)
        # every slot is either free (a release not taken) or serving: a request taken off
        # the queue by someone else than the server shows as a start without a slot
        if not 0 <= n <= releases.size or entity.concurrency != self._fifo or (
                releases.size - n != self._fifo - entity.in_flight):
            # the queue or the concurrency was changed behind the server's back: the
            # derived starts of this flush are a best guess; from now on the server
            # reports starts as facts
            n = max(0, min(n, releases.size))
            self._stop_deriving()
        arr = waiting[:n]
        started = np.maximum(arr, releases[:n])
        self._waiting, self._releases = waiting[n:], releases[n:]
        return started, started - arr

    def _derive_visits(self, started: np.ndarray, waited: np.ndarray,
                       done: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Concurrency 1: (service times, arrival times) of the completed requests."""
        starts = np.concatenate((self._serving_start, started))
        arrivals = np.concatenate((self._serving_arr, started - waited))
        m = done.size
        if m > starts.size:  # (the queue was changed behind the server's back)
            starts = np.concatenate((starts, done[starts.size:]))
            arrivals = np.concatenate((arrivals, done[arrivals.size:]))
            self._stop_deriving()
        self._serving_start, self._serving_arr = starts[m:], arrivals[m:]
        return done - starts[:m], arrivals[:m]

    def _stop_deriving(self) -> None:
        """From now on the server reports starts and service times as facts."""
        self._fifo = 0
        self.start_facts = self.visit_facts = True

    def listeners_changed(self, listened: tuple[bool, ...]) -> None:
        if not self._fifo:
            return
        tracer = self.recorder.tracer
        # An Rx subscriber's code runs in the middle of the server's handling (a
        # completion is published before the start it allows): it could change the
        # server (its concurrency) between a fact and the next. Threshold listeners
        # (breakpoints) only ask for a pause. So derive only without the former.
        if (tracer is not None and tracer.live) or any(
                on and topic.crossing_points is None
                for on, topic in zip(listened, self.topics, strict=True)):
            self.recorder.bus.flush()
            self._stop_deriving()

    # -- live delivery to Rx subscribers -------------------------------------------------
    def start_live(self) -> None:
        self._live_depth = len(self.entity._queue)
        self._live_in_flight = self.entity.in_service

    def wire(self, listened: tuple[bool, ...] | None) -> Any:
        depth = self.topics[0] if self.topics else None
        if depth is None or listened is None or not listened[0]:
            self.depth_band = None
        else:
            # the queue depth is followed through its band: the component calls
            # `depth_moved` only when the depth leaves it (see `_rebrand`)
            self._points = depth.crossing_points
            self.depth_moved = self._depth_moved
            self._rebrand(len(self.entity._queue))
        if listened is None or not any(listened[1:]):
            return None
        return self.publish

    def _rebrand(self, depth: int) -> None:
        points = self._points
        self.depth_band = _band(() if points is None else points, depth)

    def _depth_moved(self, now: int) -> None:
        depth = len(self.entity._queue)
        self._live_depth = depth
        self._rebrand(depth)
        self.topics[0].publish(now / _NS, depth)

    def publish(self, kind: int, now: int, obj: Any) -> None:
        depth_s, flight_s, wait_s, service_s, arrivals_s, completed_s, dropped_s, util_s = (
            self.topics)
        t = now / _NS
        if kind == ARRIVED:
            if arrivals_s.has_subscribers:
                arrivals_s.publish(t, 1)
        elif kind == STARTED:
            if wait_s.has_subscribers:
                wait_s.publish(t, (now - obj.arr_ns) / _NS)
        elif kind == DONE:
            if service_s.has_subscribers:
                service_s.publish(t, (now - obj.start_ns) / _NS)
            if completed_s.has_subscribers:
                completed_s.publish(t, 1)
        elif kind == DROP:
            if arrivals_s.has_subscribers:
                arrivals_s.publish(t, 1)
            if dropped_s.has_subscribers:
                dropped_s.publish(t, 1)
        elif kind == REMOVED:
            if dropped_s.has_subscribers:
                dropped_s.publish(t, 1)
        entity = self.entity
        depth = len(entity._queue)  # (published through the depth band)
        # a completion with requests waiting is followed, at the same instant, by the next
        # start: its momentary in_flight dip is not a change (see _gauge_points)
        in_flight = entity._in_service if entity._own_count else entity.in_flight
        if in_flight != self._live_in_flight and not (kind == DONE and depth > 0):
            self._live_in_flight = in_flight
            if flight_s.has_subscribers:
                flight_s.publish(t, in_flight)
            if util_s.has_subscribers and _fraction_of(self._conc):
                util_s.publish(t, self._utilization(in_flight))
