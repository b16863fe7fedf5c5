"""``Client``: sends requests to a target, with a timeout per attempt and retries.

::

    client = Client("api", target=server, timeout=0.5,
                    retry_policy=ExponentialBackoff(max_attempts=3, initial_delay=0.1,
                                                    max_delay=2.0))
    sim.schedule(client.send_request(payload={"user": 7}))   # or Source(..., target=client)

Each attempt is a new event to the target that keeps the request's trace id; its
response is the end of the target's processing of it (its completion hooks). An attempt
that has not answered after ``timeout`` seconds counts as a timeout and, if the policy
says so, is retried after the policy's delay; a late answer to a timed-out attempt is
ignored (and counted as ``wasted``). An attempt refused on its way (an open circuit
breaker, a rate limiter, no healthy backend: see ``components.forwarding``) fails at
once and is retried like a timeout. Observed (no extra code): ``requests`` (attempts
sent), ``retries``, ``timeouts``, ``rejected`` and ``failures`` (tag ``reason``),
``successes``, ``wasted`` counters, ``latency`` sample (first send to success); one
span per attempt (attributes ``attempt``, ``outcome``: its
duration is the attempt's latency).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from happysim_rx.observation import Span
from happysimulator.components.client.retry import NoRetry, RetryPolicy, bind_rng
from happysimulator.components.fast_recording import (
    STALE,
    FastRecording,
    NsPair,
    resolve,
    ride,
)
from happysimulator.components.forwarding import REJECTED, RejectedError
from happysimulator.components.span_facts import NO_PARENT
from happysimulator.core._active import ACTIVE, detached_id
from happysimulator.core.entity import Entity, bind_simulation
from happysimulator.core.event import PARTIAL, Event, _Extra, new_event
from happysimulator.core.observed import _OPEN_SPAN, ObservedEntity, counter, sample
from happysimulator.core.temporal import Instant

_NS = 1_000_000_000
TIMEOUT = "_client_timeout"
_new = object.__new__
#: metadata keys of one attempt that must not follow the request into the next
_PRIVATE = frozenset({"_first_ns", REJECTED, "client_name"})


@dataclass(frozen=True)
class ClientStats:
    """Snapshot of a client's counts."""

    requests_sent: int = 0
    responses_received: int = 0
    timeouts: int = 0
    retries: int = 0
    failures: int = 0


class _Attempt:
    """One attempt of one request: in flight while ``live`` (sent, neither answered nor
    timed out)."""

    __slots__ = ("client", "request_id", "attempt", "origin", "start_ns", "first_ns",
                 "on_success", "on_failure", "sent", "extra", "span", "parent", "live")

    def __init__(self, client: RetryingClient, request_id: Any, attempt: int, origin: Event,
                 start_ns: int, first_ns: int, on_success: Any, on_failure: Any) -> None:
        self.client = client
        self.request_id = request_id
        self.attempt = attempt
        self.origin = origin
        self.start_ns = start_ns
        self.first_ns = first_ns
        self.on_success = on_success
        self.on_failure = on_failure
        self.sent: Event | None = None
        self.extra: Any = None
        self.span: int | None = None  # the attempt's span id (None: no span open)
        self.parent: Any = None  # and its parent's
        self.live = False

    def token(self) -> tuple[int, Any] | None:
        """The attempt's span as `ObservedEntity.open_span` gives it (None: none open)."""
        return None if self.span is None else (self.span, self.parent)

    def answered(self, _finish: Any = None) -> Any:
        """The completion hook of the attempt's event: the target finished it."""
        return self.client._on_answer(self)


def percentile_of(values: list[float], p: float) -> float:
    """Linear-interpolated percentile ``p`` in [0, 1] of ``values`` (0.0 if empty)."""
    if not values:
        return 0.0
    xs = sorted(values)
    if p <= 0:
        return xs[0]
    if p >= 1:
        return xs[-1]
    pos = p * (len(xs) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    frac = pos - lo
    return xs[lo] * (1.0 - frac) + xs[hi] * frac


class RetryingClient(ObservedEntity):
    """What `Client` and `PooledClient` share: request ids, attempts in flight,
    timeouts, retries, statistics and what they record."""

    #: the attribute keys its spans carry (see its `record_span` calls)
    span_attributes = ("attempt", "outcome", "rejected_by")
    observed_series = (
        counter("requests", "requests", "attempts sent downstream (first tries and retries)"),
        counter("retries", "requests", "attempts after a request's first"),
        counter("timeouts", "requests", "attempts with no answer within the timeout"),
        counter("rejected", "requests", "attempts refused on their way (a circuit breaker, "
                "a rate limiter, a full bulkhead)", tags=("reason",)),
        counter("failures", "requests", "requests given up on", tags=("reason",)),
        counter("successes", "requests", "requests answered"),
        counter("wasted", "requests", "answers that came after their attempt timed out "
                "(work the target did for nobody)"),
        sample("latency", "s", "a request's first send to its answer (retries included)"),
    )

    _timeout_type = TIMEOUT

    def __init__(self, name: str, timeout: float | None = None,
                 retry_policy: RetryPolicy | None = None,
                 on_success: Callable[[Event, Event], None] | None = None,
                 on_failure: Callable[[Event, str], None] | None = None) -> None:
        super().__init__(name)
        if timeout is not None and not timeout >= 0:
            raise ValueError(f"timeout must be >= 0 seconds or None, got {timeout}")
        self._timeout = timeout
        self._timeout_ns = None if timeout is None else round(timeout * _NS)
        self._retry_policy = retry_policy if retry_policy is not None else NoRetry()
        self._on_success = on_success
        self._on_failure = on_failure
        self._n_in_flight = 0  # attempts `live` (each knows whether it still is)
        self._next_request_id = 0
        self._requests_sent = 0
        self._responses_received = 0
        self._timeouts = 0
        self._retries = 0
        self._failures = 0
        self._response_times: list[float] = []
        self._fast: FastRecording = STALE
        self._rng_bound = False
        # attempts in the order they were sent, so in the order of their deadlines (one
        # timeout for all): a single timer event, at the oldest unanswered deadline,
        # stands for all of them (not one event per attempt)
        self._deadlines: deque[_Attempt] = deque()
        self._timer_at: int | None = None
        # (an instance attribute: read once per request, and CPython 3.11 specializes
        # instance reads, not reads of class attributes through an instance)
        self._timeout_type = type(self)._timeout_type
        # the answer hook of an attempt: partial(self._on_answer_hook, attempt), so a
        # response costs one Python call
        self._on_answer_hook = self._on_answer
        # nothing to give back when an attempt ends (no subclass `_released`)
        self._plain_release = type(self)._released is RetryingClient._released

    # ---- configuration and statistics ---------------------------------------------------
    @property
    def timeout(self) -> float | None:
        """Seconds an attempt may take before it counts as timed out (None: never).
        Settable (a what-if fork): attempts in flight are then held to the new timeout
        (those sent while it was None never time out)."""
        return self._timeout

    @timeout.setter
    def timeout(self, value: float | None) -> None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or not value >= 0):
            raise ValueError(f"timeout must be >= 0 seconds or None, got {value!r}")
        self._timeout = value
        self._timeout_ns = None if value is None else round(value * _NS)

    def _settings_changed(self) -> None:
        """After a what-if setting: the timer follows the (new) timeout of the oldest
        attempt in flight (a shorter timeout must not wait for the old timer)."""
        q, timeout = self._deadlines, self._timeout_ns
        while q and not q[0].live:
            q.popleft()
        if timeout is None or not q or self._sim is None:
            return
        due = max(self._sim.now_ns, q[0].start_ns + timeout)
        if self._timer_at is None or due < self._timer_at:
            self._sim.schedule(self._timer(due))  # (the old timer, when it fires, is stale)

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._retry_policy

    @property
    def in_flight_count(self) -> int:
        """Attempts sent and not yet answered or timed out."""
        return self._n_in_flight

    @property
    def average_response_time(self) -> float:
        """Mean send-to-answer time of answered attempts (0.0 before any)."""
        rt = self._response_times
        return sum(rt) / len(rt) if rt else 0.0

    def get_response_time_percentile(self, percentile: float) -> float:
        """Percentile (``percentile`` in [0, 1]) of answered attempts' response times."""
        return percentile_of(self._response_times, percentile)

    @property
    def stats(self) -> ClientStats:
        return ClientStats(self._requests_sent, self._responses_received, self._timeouts,
                           self._retries, self._failures)

    # ---- requests -----------------------------------------------------------------------
    def send_request(self, payload: Any = None, event_type: str = "request",
                     on_success: Callable[[Event, Event], None] | None = None,
                     on_failure: Callable[[Event, str], None] | None = None) -> Event:
        """A request event to schedule (targeted at this client, at its current time)."""
        self._next_request_id += 1
        sim = self._sim
        now = 0 if sim is None else sim.now_ns
        # (`Event(..., context=...)` inline: once per request; `Event._new_id` inline;
        # `created_at` is made from the partial context on first access)
        ev = _new(Event)
        ev._time_ns = now
        ev.event_type = event_type
        ev.target = self
        ev._x = None
        ids = ACTIVE.sim or sim
        ev._ctx = {
            "metadata": {"request_id": self._next_request_id, "payload": payload,
                         "attempt": 1, "client_name": self.name},
            "_on_success": on_success or self._on_success,
            "_on_failure": on_failure or self._on_failure,
            "id": detached_id() if ids is None else ids._next_context_id(),
            PARTIAL: now,
        }
        return ev

    def handle_event(self, event: Event) -> Any:
        if event.event_type == self._timeout_type:
            return self._on_timer()
        # a new request or a retry arrived: begin the attempt it carries
        ctx = event._ctx
        meta = ctx.get("metadata") if ctx.__class__ is dict else None
        if meta is None:
            ctx = event.context
            meta = ctx["metadata"]
        request_id = meta.get("request_id")
        if request_id is None:  # a request from a Source or another entity
            self._next_request_id += 1
            request_id = meta["request_id"] = self._next_request_id
        sim = self._sim or bind_simulation(self)
        if not self._rng_bound:
            bind_rng(self._retry_policy, self.rng)
            self._rng_bound = True
        now = sim.now_ns
        # (`_Attempt(...)` inline: once per attempt)
        a = _new(_Attempt)
        a.client = self
        a.request_id = request_id
        a.attempt = meta.get("attempt", 1)
        a.origin = event
        a.start_ns = now
        a.first_ns = meta.get("_first_ns", now)
        a.on_success = ctx.get("_on_success", self._on_success)
        a.on_failure = ctx.get("_on_failure", self._on_failure)
        a.sent = a.extra = a.span = a.parent = None
        a.live = False
        if self._direct:
            return self._dispatch(a, self._target, None)
        return self._begin(a)

    def _begin(self, a: _Attempt) -> Any:
        """Send attempt `a` (subclasses acquire what they need first)."""
        return self._dispatch(a, self._target_of(a), None)

    def _target_of(self, a: _Attempt) -> Entity:
        raise NotImplementedError

    #: `_begin` is the base one and the target is ``self._target`` (set by `Client`)
    _direct = False

    def _dispatch(self, a: _Attempt, target: Entity, extra_meta: dict | None) -> list[Event]:
        """Send attempt `a` to `target` now; returns the events to schedule."""
        now = self._sim.now_ns
        a.start_ns = now
        a.live = True
        self._n_in_flight += 1
        self._requests_sent += 1
        attempt = a.attempt
        if attempt > 1:
            self._retries += 1
        origin = a.origin
        origin_ctx = origin._ctx
        if origin_ctx.__class__ is not dict:
            origin_ctx = origin.context
        # the caller's metadata travels with each attempt (a hashing key, a user id),
        # without the client's private keys
        meta = origin_ctx["metadata"].copy()
        if "client_name" in meta:
            del meta["client_name"]
        if "_first_ns" in meta:
            del meta["_first_ns"]
        if REJECTED in meta:
            del meta[REJECTED]
        meta["request_id"] = a.request_id
        meta["client"] = self
        meta["attempt"] = attempt
        if extra_meta:
            meta.update(extra_meta)
        etype = origin.event_type
        if etype == "request":
            cached = self._sent_type
            etype = (cached[1] if cached is not None and cached[0] is self.name
                     else self._request_type())
        sent = _new(Event)  # (`new_event` inline)
        sent._time_ns = now
        sent.event_type = etype
        sent.target = target
        # (a partial context: `created_at` is made on first access)
        ctx = sent._ctx = {"id": origin_ctx["id"], PARTIAL: now, "metadata": meta}
        span = origin_ctx.get(_OPEN_SPAN)
        if span is not None:
            ctx[_OPEN_SPAN] = span
        x = sent._x = _new(_Extra)  # (`_Extra()` inline)
        x.daemon = x.cancelled = False
        x.on_complete = [partial(self._on_answer_hook, a)]
        a.sent = sent
        if self._timeout_ns is not None:
            self._deadlines.append(a)
            if self._timer_at is None:
                out = [sent, self._timer(now + self._timeout_ns)]
            else:
                out = [sent]
        else:
            out = [sent]
        f = self._fast  # (a disabled run stops at `f.on`)
        if f.sim is not self._sim:
            f = self._fast = self._resolve_fast()
        if f.on:  # (`increment("requests")`, `increment("retries")`, `open_span` inline)
            s = f.series[0]
            if s.__class__ is list:  # (batched: the time in ns)
                s.append(now)
            else:
                s.emit(now / _NS, 1)
            if attempt > 1:
                f.add(1, now / _NS, 1)
            if f.ids is not None:  # (the request's open span went into `ctx` above)
                sid = a.span = next(f.ids)
                a.parent = span
                ctx[_OPEN_SPAN] = sid
        return out

    #: this client's series in its simulation (`fast_recording`; STALE: to resolve;
    #: set in ``__init__``: a class default of a mutable type's instance would keep
    #: CPython from specializing the attribute's reads)
    _fast: FastRecording | None = None

    def _resolve_fast(self) -> FastRecording:
        f = resolve(self, ("requests", "counter:ns"), ("retries", "counter"),
                    ("successes", "counter:ns"), ("latency", "sample:since"))
        if f.on:  # (a success is a latency sample: one time for both while batched)
            f.hot = ride(self, f, 2, 3)
        return f

    def _request_type(self) -> str:
        """The event type of the attempts of a ``"request"``: ``"<name>_request"``."""
        cached = self._sent_type
        if cached is None or cached[0] is not self.name:
            cached = self._sent_type = (self.name, f"{self.name}_request")
        return cached[1]

    _sent_type: tuple[str, str] | None = None

    def _on_answer(self, a: _Attempt, _finish: Any = None) -> Any:
        """The target finished attempt `a` (called at that instant; the completion hook
        of the attempt's event)."""
        if not a.live:
            # answered after it timed out: the client stopped waiting, the work was wasted
            self.increment("wasted")
            return None
        a.live = False
        self._n_in_flight -= 1
        c = a.sent._ctx  # (`rejection(a.sent)` inline)
        meta = c.get("metadata") if c.__class__ is dict else a.sent.context.get("metadata")
        refused = None if meta is None else meta.get(REJECTED)
        if refused is not None:
            return self._refused(a, refused)
        now = self._sim.now_ns
        self._response_times.append((now - a.start_ns) / _NS)
        self._responses_received += 1
        out = None if self._plain_release else self._released(a)
        f = self._fast
        if f.sim is not self._sim:
            f = self._fast = self._resolve_fast()
        if f.on:  # (`increment("successes")`, `observe("latency")`, `record_span` inline)
            s = f.hot
            if s is not None:  # (both batched: the time and the first send in ns, the
                # successes riding on the latency's times: `fast_recording.ride`)
                s[0].append(now)
                s[1].append(a.first_ns)
            else:
                s = f.series[2]
                if s.__class__ is list:  # (batched: the time in ns)
                    s.append(now)
                else:
                    s.emit(now / _NS, 1)
                s = f.series[3]
                if s.__class__ is NsPair:  # (batched: the time and the first send in ns)
                    s[0].append(now)
                    s[1].append(a.first_ns)
                else:
                    s.emit(now / _NS, (now - a.first_ns) / _NS)
            if f.spans is not None:
                sid = a.span
                if sid is not None:  # (`record_span` inline)
                    sent = a.sent
                    ctx = sent._ctx
                    if ctx.__class__ is not dict:
                        ctx = sent.context
                    parent = a.parent
                    if ctx.get(_OPEN_SPAN) == sid:  # closed: what follows is its parent's
                        ctx[_OPEN_SPAN] = parent
                    # (one attributes dict per attempt number, shared by the answered
                    # attempts' spans: a dict kept per span cost as much as the rest; as
                    # ints, its kind code)
                    attrs = f.shared.get(a.attempt)
                    if attrs is None:
                        attrs = {"attempt": a.attempt, "outcome": "ok"}
                        if f.facts is not None:
                            attrs = f.facts.kind(f.name, attrs)
                        f.shared[a.attempt] = attrs
                    rows = f.rows
                    if rows is not None:  # (the trace store alone listens: six ints)
                        sf = f.facts
                        if not rows or rows[-1] is not sf.batch:
                            sf.begin()
                        sf.ints.extend((ctx["id"], sid, NO_PARENT if parent is None else parent,
                                        a.start_ns, now, attrs))
                    else:
                        t = now / _NS
                        f.spans.emit(t, Span(ctx["id"], sid, parent, f.name,
                                             a.start_ns / _NS, t, attrs))
                else:
                    self.record_span(a.sent, a.start_ns / _NS, attempt=a.attempt,
                                     outcome="ok")
        if a.on_success is not None:
            response = Event(Instant(now), "_client_response", self,
                             context={"metadata": {"request_id": a.request_id,
                                                   "attempt": a.attempt}})
            a.on_success(a.origin, response)
        return out

    def _released(self, a: _Attempt) -> list[Event] | None:
        """Give back what attempt `a` held (a pooled connection); events to schedule."""
        return None

    def _timer(self, at_ns: int) -> Event:
        self._timer_at = at_ns
        return new_event(at_ns, self._timeout_type, self)

    def _on_timer(self) -> list[Event]:
        """Time out every attempt whose deadline has come; set the next timer."""
        now = self._sim.now_ns
        if self._timer_at is not None and now != self._timer_at:
            return []  # a timer replaced by an earlier one (a what-if's new timeout)
        self._timer_at = None
        timeout = self._timeout_ns
        out: list[Event] = []
        q = self._deadlines
        if timeout is None:  # (timeouts turned off by a what-if setting)
            q.clear()
            return out
        while q:
            a = q[0]
            if not a.live:
                q.popleft()  # answered (or refused) already
                continue
            if a.start_ns + timeout > now:
                out.append(self._timer(a.start_ns + timeout))
                break
            q.popleft()
            out.extend(self._on_timeout(a))
        return out

    def _on_timeout(self, a: _Attempt) -> list[Event]:
        a.live = False
        self._n_in_flight -= 1
        self._timeouts += 1
        out = self._released(a) or []
        observed = self._recording() is not None
        if observed:
            self.increment("timeouts")
            self.record_span(a.sent, a.start_ns / _NS, span=a.token(), attempt=a.attempt,
                             outcome="timeout")
        return self._retry_or_fail(a, TimeoutError("request timed out"), "timeout", out)

    def _refused(self, a: _Attempt, refused: tuple[str, str]) -> list[Event]:
        by, reason = refused
        out = self._released(a) or []
        if self._recording() is not None:
            self.increment("rejected", reason=reason)
            self.record_span(a.sent, a.start_ns / _NS, span=a.token(), attempt=a.attempt,
                             outcome="rejected", rejected_by=by)
        return self._retry_or_fail(a, RejectedError(by, reason), reason, out)

    def _retry_or_fail(self, a: _Attempt, error: Exception, reason: str,
                       out: list[Event]) -> list[Event]:
        policy = self._retry_policy
        if policy.should_retry(a.attempt, error):
            out.append(self._retry_event(a, policy.get_delay(a.attempt + 1)))
            return out
        self._fail(a, reason)
        return out

    def _retry_event(self, a: _Attempt, delay: float) -> Event:
        origin_ctx = a.origin.context
        sim = self._sim
        when = sim.now_ns + max(0, round(delay * _NS))
        meta = {k: v for k, v in origin_ctx["metadata"].items() if k not in _PRIVATE}
        meta.update(request_id=a.request_id, attempt=a.attempt + 1, client_name=self.name,
                    _first_ns=a.first_ns)
        return Event(Instant(when), a.origin.event_type, self, context={
            "id": origin_ctx["id"],
            "metadata": meta,
            "_on_success": a.on_success, "_on_failure": a.on_failure,
        })

    def _fail(self, a: _Attempt, reason: str) -> None:
        self._failures += 1
        if self._recording() is not None:
            self.increment("failures", reason=reason)
        if a.on_failure is not None:
            a.on_failure(a.origin, reason)


class Client(RetryingClient):
    """Sends requests to ``target``; ``timeout`` seconds per attempt (None: wait
    forever), retried by ``retry_policy`` (default `NoRetry`). ``on_success(request,
    response)`` / ``on_failure(request, reason)`` are called per request."""

    downstream_attributes = ("target",)

    def __init__(self, name: str, target: Entity, timeout: float | None = None,
                 retry_policy: RetryPolicy | None = None,
                 on_success: Callable[[Event, Event], None] | None = None,
                 on_failure: Callable[[Event, str], None] | None = None) -> None:
        super().__init__(name, timeout, retry_policy, on_success, on_failure)
        self._target = target
        cls = type(self)
        # the plain path: an attempt goes straight to `target` (no subclass hook between)
        self._direct = cls._begin is RetryingClient._begin and cls._target_of is Client._target_of

    @property
    def target(self) -> Entity:
        return self._target

    @target.setter
    def target(self, value: Entity) -> None:
        self._target = value

    def downstream_entities(self) -> list[Entity]:
        return [self._target]

    def _target_of(self, a: _Attempt) -> Entity:
        return self._target


__all__ = ["Client", "ClientStats", "RetryingClient", "percentile_of"]
