"""`Client` and `LoadBalancer` record through `fast_recording` (their series resolved
once per simulation): the stores must keep exactly what the `ObservedEntity` calls would
have kept, live listeners (Rx subscribers, threshold breakpoints) must get every value
as it happens, and listeners that come or go mid-run must be served from then on."""

from __future__ import annotations

from typing import Any

import pytest

from happysim_rx.stores.trace import COMPONENT_SPAN_BASE
from happysimulator import ExponentialLatency, Server, Simulation, Source
from happysimulator.components.client import Client, FixedRetry
from happysimulator.components.fast_recording import NsTagged
from happysimulator.components.load_balancer import LoadBalancer, RoundRobin
from happysimulator.observability import Breakpoint, MetricCondition, ObservabilityConfig

SERIES = {"Client": ("requests", "retries", "timeouts", "successes", "failures", "latency"),
          "LB": ("routed",)}


def _model(seed: int = 3,
           config: ObservabilityConfig | None = None) -> tuple[Simulation, Client, LoadBalancer]:
    """Users (30/s) -> Client (0.25 s timeout, 3 attempts) -> round robin -> 3 servers of
    mean 0.08 s: busy enough for timeouts, retries and failures."""
    servers = [Server(f"S{i}", concurrency=1, service_time=ExponentialLatency(0.08))
               for i in range(3)]
    lb = LoadBalancer("LB", backends=servers, strategy=RoundRobin())
    client = Client("Client", lb, timeout=0.25,
                    retry_policy=FixedRetry(max_attempts=3, delay=0.02))
    users = Source.poisson(rate=30.0, target=client, name="Users", stop_after=20.0)
    sim = Simulation(sources=[users], entities=[*servers, lb, client], seed=seed,
                     end_time=30.0, observability=config or ObservabilityConfig.full())
    return sim, client, lb


def _stored(sim: Simulation) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for source, names in SERIES.items():
        for name in names:
            rows = sim.query.metrics(name).from_entity(source).execute().rows
            out[f"{source}.{name}"] = [(r["time"], r["value"], r.get("tags")) for r in rows]
    # (sorted: the order of `spans()` -- traces by first appearance -- follows when the
    # standard components' spans were flushed, which pauses and reads move)
    spans = [s for s in sim.query.trace_store.spans() if s.entity in SERIES]
    out["spans"] = sorted((s.trace_id, s.span_id, s.parent_id, s.entity, s.start, s.end,
                           tuple(sorted(s.attributes.items()))) for s in spans)
    return out


def test_the_model_exercises_every_path():
    sim, client, _ = _model()
    sim.run()
    st = client.stats
    assert st.timeouts > 0 and st.retries > 0 and st.failures > 0
    assert st.responses_received > 100


def test_a_subscriber_gets_every_value_the_stores_keep():
    """Followed live from the start (the topics' emit, not the tail lists), the stores
    keep the same as unfollowed, and the subscriber got each value when it happened."""
    plain_sim, _, _ = _model()
    plain_sim.run()
    plain = _stored(plain_sim)

    sim, _, _ = _model()
    seen: dict[str, list] = {}
    for source, names in SERIES.items():
        for name in names:
            sim.observations.metrics(name, source=source).subscribe(
                lambda o, k=f"{source}.{name}": seen.setdefault(k, []).append(
                    (o.time, o.value, o.tags)))
    sim.run()
    followed = _stored(sim)
    assert followed == plain
    for key, rows in plain.items():
        if key == "spans":
            continue
        assert [(t, v, tg or None) for t, v, tg in seen.get(key, [])] == [
            (t, v, tg or None) for t, v, tg in rows], key


def test_a_live_span_subscriber_gets_each_component_span_once():
    """With spans followed live (the standard components' made one by one), each client
    and balancer span reaches the subscriber once, as recorded."""
    sim, _, _ = _model()
    live: list = []
    sim.observations.spans().subscribe(
        lambda o: live.append(o.value) if o.value.entity in SERIES else None)
    sim.run()
    stored = _stored(sim)["spans"]
    assert sorted((s.trace_id, s.span_id, s.entity, s.start, s.end) for s in live) == [
        (t, sid, e, a, b) for t, sid, _, e, a, b, _ in stored]


def test_a_subscriber_that_comes_and_goes_mid_run():
    """Subscribed at t=8 s and disposed at t=14 s: it sees exactly the stored values of
    that window, and the stores keep the same as with nobody listening."""
    plain_sim, _, _ = _model()
    plain_sim.run()
    plain = _stored(plain_sim)

    sim, _, _ = _model()
    seen: list = []
    sim.control.run_until(8.0)
    sub = sim.observations.metrics("requests", source="Client").subscribe(
        lambda o: seen.append(o.time))
    sim.control.run_until(14.0)
    sub.dispose()
    sim.run()
    assert _stored(sim) == plain
    assert seen == [t for t, _, _ in plain["Client.requests"] if 8.0 < t <= 14.0]


def test_spans_follow_each_attempt_through_the_balancer():
    sim, _, _ = _model()
    sim.run()
    spans = sim.query.trace_store.spans()
    by_id = {s.span_id: s for s in spans}
    client_spans = [s for s in spans if s.entity == "Client"]
    lb_spans = [s for s in spans if s.entity == "LB"]
    assert {s.attributes["outcome"] for s in client_spans} == {"ok", "timeout"}
    assert max(s.attributes["attempt"] for s in client_spans) == 3
    for s in lb_spans:  # each balancer span is the child of one client attempt
        parent = by_id[s.parent_id]
        assert parent.entity == "Client" and parent.trace_id == s.trace_id
        assert parent.start == s.start and s.attributes["backend"] in {"S0", "S1", "S2"}
    # an attempt answered in time: its balancer span ends when it does
    ok = [s for s in client_spans if s.attributes["outcome"] == "ok"]
    children = {s.parent_id: s for s in lb_spans}
    assert all(children[s.span_id].end == s.end for s in ok)


@pytest.mark.parametrize(("source", "name", "op", "value"), [
    ("Client", "latency", "gt", 0.2),
    ("Client", "retries", "ge", 1),
    ("LB", "routed", "ge", 1),
])
def test_a_breakpoint_on_a_toolkit_series_pauses_at_its_first_value(source, name, op,
                                                                    value):
    reference, _, _ = _model()
    reference.run()
    rows = reference.query.metrics(name).from_entity(source).execute().rows
    cmp = {"gt": lambda v: v > value, "ge": lambda v: v >= value}[op]
    first = next(r["time"] for r in rows if cmp(r["value"]))

    sim, _, _ = _model()
    sim.control.add_breakpoint(Breakpoint(
        metric_condition=MetricCondition(source, name, op, value)))
    sim.run()
    state = sim.control.get_state()
    assert state.is_paused
    assert state.current_time.to_seconds() == pytest.approx(first)
    sim.control.resume(ignore_breakpoints=True)
    assert _stored(sim) == _stored(reference)


def test_the_stores_agree_with_the_entities_own_counts():
    """What the series hold, counted, equals the statistics the entities keep apart
    from recording (every attempt, retry, timeout, answer and failure; every routing)."""
    sim, client, lb = _model()
    sim.run()
    stored = _stored(sim)
    st = client.stats
    assert len(stored["Client.requests"]) == st.requests_sent
    assert len(stored["Client.retries"]) == st.retries
    assert len(stored["Client.timeouts"]) == st.timeouts
    assert len(stored["Client.successes"]) == st.responses_received
    assert len(stored["Client.latency"]) == st.responses_received
    assert len(stored["Client.failures"]) == st.failures
    per_backend: dict[str, int] = {}
    for _, _, tags in stored["LB.routed"]:
        per_backend[tags["backend"]] = per_backend.get(tags["backend"], 0) + 1
    assert per_backend == {name: lb.get_backend_info_by_name(name).total_requests
                           for name in ("S0", "S1", "S2")}


def test_spans_are_the_same_whichever_way_they_reach_the_trace_store():
    """Unfollowed, the client's and balancer's spans go straight into the trace store's
    pending rows (no `Span` made, no call); followed live, bounded, or followed for a
    while, they are emitted as `Span` objects. Each way stores the same spans (ids,
    parents, times, attributes)."""
    plain_sim, client, lb = _model()
    plain_sim.control.run_until(10.0)
    assert client._fast.rows is not None and lb._fast.rows is not None  # (the row path)
    plain_sim.run()
    plain = _component_spans(plain_sim)
    assert len(plain) > 500

    followed, client, _ = _model()
    followed.observations.spans().subscribe(lambda o: None)
    followed.control.run_until(10.0)
    assert client._fast.rows is None  # (the emit path)
    followed.run()

    # (bounded, with room for every trace: it takes spans in as they come)
    bounded, client, _ = _model(config=ObservabilityConfig.full().replace(
        trace_capacity=1_000_000))
    bounded.control.run_until(10.0)
    assert client._fast.rows is None
    bounded.run()

    a_while, _, _ = _model()
    a_while.control.run_until(6.0)
    sub = a_while.observations.spans().subscribe(lambda o: None)
    a_while.control.run_until(12.0)
    sub.dispose()
    a_while.run()

    assert _component_spans(followed) == plain
    assert _component_spans(bounded) == plain
    assert _component_spans(a_while) == plain


def _component_spans(sim: Simulation) -> list[tuple]:
    """The client's and balancer's spans as they recorded them: a parent that is not a
    component span is the trace store's link to a standard component's span, which
    depends on when those reach it (one by one when followed live, in batches
    otherwise): not compared here."""
    return sorted((s.trace_id, s.span_id,
                   s.parent_id if (s.parent_id or 0) >= COMPONENT_SPAN_BASE else None,
                   s.entity, s.start, s.end, tuple(sorted(s.attributes.items())))
                  for s in sim.query.trace_store.spans() if s.entity in SERIES)


def test_batched_series_read_mid_run_are_the_prefix_of_the_whole():
    """`requests`, `successes`, `latency` and the balancer's `routed` (with its tags)
    are batched (times in ns, handed to the store at each flush): read while paused,
    each is exactly the uninterrupted run's series up to then, and the reads change
    nothing kept."""
    whole_sim, _, _ = _model()
    whole_sim.run()
    whole = _stored(whole_sim)

    sim, client, lb = _model()
    for until in (3.0, 7.5, 7.5, 16.0):
        sim.control.run_until(until)
        assert client._fast.series[0].__class__ is list  # (the batched path)
        assert lb._fast.series[0].__class__ is NsTagged
        now = _stored(sim)
        for key in ("Client.requests", "Client.successes", "Client.latency", "LB.routed"):
            assert now[key] == [r for r in whole[key] if r[0] <= until], key
    sim.run()
    assert _stored(sim) == whole
    latency = whole["Client.latency"]
    assert len(latency) > 100 and all(v > 0 for _, v, _ in latency)


def test_a_tagged_batch_is_kept_as_the_samples_one_by_one():
    """`MetricSeries.extend_tagged` (the balancer's batched `routed`) keeps what
    `append` of each sample would: times, values and each sample's tags, after
    samples appended one by one and between reads."""
    import numpy as np

    from happysim_rx.stores.metric import MetricSeries

    rng = np.random.default_rng(5)
    one, batched = MetricSeries("LB", "routed", "counter"), MetricSeries("LB", "routed",
                                                                         "counter")
    tags = [{"backend": "S0"}, {"backend": "S1"}, None]
    t0 = 0.0
    for k in range(6):
        n = int(rng.integers(0, 5))
        times = t0 + np.cumsum(rng.random(n))
        t0 = float(times[-1]) if n else t0
        picked = [tags[int(i)] for i in rng.integers(0, 2, n)]
        for t, tg in zip(times.tolist(), picked, strict=True):
            one.append(t, 1, tg)
        batched.extend_tagged(times, np.ones(n), picked)
        if k % 2:  # (a single sample between batches, untagged)
            t0 += 0.5
            one.append(t0, 1, None)
            batched.append(t0, 1, None)
        if k == 3:
            one.arrays(), batched.arrays()  # (a read between batches)
    assert len(one) == len(batched) > 6
    for a, b in zip(one.arrays(), batched.arrays(), strict=True):
        assert a.tolist() == b.tolist()
    assert one.tagged() == batched.tagged()


@pytest.mark.parametrize("name", ["successes", "latency"])
def test_successes_riding_on_the_latency_batch_when_one_is_followed(name):
    """`successes` rides on the batched `latency` times (`fast_recording.ride`) while
    both are batched: followed from t=8 s to t=14 s (one of the two), the follower sees
    exactly that window's values as they happen, and the stores keep the same as with
    nobody listening."""
    plain_sim, _, _ = _model()
    plain_sim.run()
    plain = _stored(plain_sim)

    sim, client, _ = _model()
    sim.control.run_until(8.0)
    assert client._fast.hot is not None  # (riding)
    seen: list = []
    sub = sim.observations.metrics(name, source="Client").subscribe(
        lambda o: seen.append((o.time, o.value)))
    sim.control.run_until(14.0)
    assert client._fast.hot is None  # (each on its own while one is followed)
    sub.dispose()
    sim.control.run_until(20.0)
    assert client._fast.hot is not None
    sim.run()
    assert _stored(sim) == plain
    assert seen == [(t, v) for t, v, _ in plain[f"Client.{name}"] if 8.0 < t <= 14.0]
    assert len(seen) > 5
