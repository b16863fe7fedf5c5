"""The happysim 0.2.5 modules this package provides, checked against brute force."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from happysimulator import (
    Data,
    Event,
    Instant,
    LamportClock,
    Profile,
    QueuedResource,
    Simulation,
    Source,
    VectorClock,
    ZipfDistribution,
    all_of,
    any_of,
)
from happysimulator.components.queue import Queue
from happysimulator.components.queue_driver import QueueDriver
from happysimulator.components.queue_policy import FIFOQueue
from happysimulator.components.server.concurrency import DynamicConcurrency
from happysimulator.core.entity import Entity
from happysimulator.core.event import disable_event_tracing, enable_event_tracing
from happysimulator.core.sim_future import SimFuture
from happysimulator.load.profile import LinearRampProfile
from happysimulator.load.providers.constant_arrival import ConstantArrivalTimeProvider


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 30), st.floats(0.0, 3.0))
def test_zipf_probabilities_are_normalised_power_law(n, s):
    z = ZipfDistribution(list(range(n)), s=s, seed=1)
    weights = [1 / k**s for k in range(1, n + 1)]
    for k in range(1, n + 1):
        assert z.probability(k) == pytest.approx(weights[k - 1] / sum(weights))
    assert z.top_n_probability(n) == 1.0


def test_zipf_sampling_matches_probabilities():
    z = ZipfDistribution(["a", "b", "c", "d"], s=1.2, seed=3)
    n = 40_000
    counts = Counter(z.sample_n(n))
    for rank, v in enumerate(["a", "b", "c", "d"], start=1):
        p = z.probability(rank)
        assert abs(counts[v] / n - p) < 4 * math.sqrt(p * (1 - p) / n)


class _Ramp(Profile):
    """A get_rate profile (no breakpoints): the engine integrates it numerically."""

    def get_rate(self, time: Instant) -> float:
        return 10.0 + 9.0 * min(time.to_seconds() / 10.0, 1.0)


def test_get_rate_profile_arrivals_match_the_analytic_integral():
    numeric = ConstantArrivalTimeProvider(_Ramp(), start_time=Instant.Epoch)
    exact = ConstantArrivalTimeProvider(LinearRampProfile(10.0, 10.0, 19.0),
                                        start_time=Instant.Epoch)
    for k in range(1, 150):
        t = numeric.next_arrival_time().to_seconds()
        assert t == pytest.approx(exact.next_arrival_time().to_seconds(), abs=1e-7)
        # integral of 10 + 0.9 t up to t equals k arrivals
        if t <= 10:
            assert 10 * t + 0.45 * t * t == pytest.approx(k, abs=1e-6)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("AB"), st.booleans()), max_size=12))
def test_vector_clock_orders_like_message_causality(ops):
    a, b = VectorClock("A", ["A", "B"]), VectorClock("B", ["A", "B"])
    la, lb = LamportClock(), LamportClock()
    for who, send in ops:
        src, dst, ls, ld = (a, b, la, lb) if who == "A" else (b, a, lb, la)
        if send:
            before = VectorClock(src.node_id, [])
            before._v = src.snapshot()
            stamp, lstamp = src.send(), ls.send()
            dst.receive(stamp)
            ld.receive(lstamp)
            assert before.happened_before(dst) and ld.time > lstamp
        else:
            src.tick()
            ls.tick()
    assert not (a.happened_before(b) and b.happened_before(a))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 50), st.floats(-5, 5)), max_size=40),
       st.sampled_from([0.5, 1.0, 7.0]))
def test_data_buckets_and_rate_match_brute_force(samples, w):
    d = Data()
    for t, v in samples:
        d.add_stat(v, t)
    b = d.bucket(w)
    groups: dict[int, list[float]] = {}
    for t, v in samples:
        groups.setdefault(round(t * 1e9) // round(w * 1e9), []).append(v)
    assert b.times() == [k * round(w * 1e9) / 1e9 for k in sorted(groups)]
    assert b.counts == [len(groups[k]) for k in sorted(groups)]
    assert b.sums() == pytest.approx([math.fsum(groups[k]) for k in sorted(groups)])
    assert d.rate(w).raw_values() == pytest.approx([len(groups[k]) / w for k in sorted(groups)])
    assert sorted(d.values) == sorted(samples)
    if not samples:
        assert d.mean() == 0.0 and d.percentile(0.5) == 0.0 and not b


def test_any_of_all_of_module_functions_need_two_and_keep_order():
    with pytest.raises(ValueError, match="at least 2"):
        any_of(SimFuture())
    a, b = SimFuture(), SimFuture()
    first, both = any_of(a, b), all_of(a, b)
    b.resolve("b")
    a.resolve("a")
    a.resolve("ignored")  # the first value wins
    assert first.value == (1, "b") and both.value == ["a", "b"] and a.value == "a"


def test_queue_driver_wired_later_repolls_when_work_completes():
    class OneAtATime(Entity):
        def __init__(self):
            super().__init__("Worker")
            self.busy = False
            self.done: list[float] = []

        def has_capacity(self):
            return not self.busy

        def handle_event(self, event):
            self.busy = True
            yield 1.0
            self.busy = False
            self.done.append(self.now.to_seconds())

    worker = OneAtATime()
    driver = QueueDriver("Driver", queue=None, target=worker)
    queue = Queue("Q", egress=driver, policy=FIFOQueue(capacity=2))
    driver.queue = queue
    sim = Simulation(end_time=10.0, entities=[queue, driver, worker])
    sim.schedule([Event(0.1 * k, "job", queue) for k in range(4)])
    sim.run()
    # one in service, two waiting, the fourth dropped by the bounded policy
    assert worker.done == pytest.approx([1.0, 2.0, 3.0])
    assert (queue.stats_accepted, queue.stats_dropped) == (3, 1)


def test_dynamic_concurrency_limit_is_followed_by_the_server():
    from happysimulator import Server

    model = DynamicConcurrency(initial=1, min_limit=1, max_limit=4)
    server = Server("S", concurrency=model, service_time=1.0)
    model.scale_up(2)
    assert server.concurrency == 3 and server.concurrency_model is model
    with pytest.raises(ValueError, match="release"):
        model.release()


def test_event_tracing_records_the_stack_only_when_enabled():
    seen: list[dict] = []

    class Hop(Entity):
        def __init__(self, name, nxt=None):
            super().__init__(name)
            self.nxt = nxt

        def handle_event(self, event):
            if self.nxt is None:
                seen.append(dict(event.context))
                return None
            return self.forward(event, self.nxt)

    def run():
        c = Hop("C")
        a = Hop("A", Hop("B", c))
        sim = Simulation(end_time=1.0, entities=[a, a.nxt, c])
        sim.schedule(Event(0.5, "Ping", a))
        sim.run()

    enable_event_tracing()
    try:
        run()
    finally:
        disable_event_tracing()
    run()
    assert seen[0]["stack"] == ["A", "B", "C"]
    assert [s["action"] for s in seen[0]["trace"]["spans"]][:2] == ["handle.start",
                                                                   "handle.end"]
    assert "stack" not in seen[1]


def test_unseeded_simulation_reproduces_after_random_seed():
    def once():
        random.seed(123)
        target = QueuedResourceSink()
        sim = Simulation(end_time=5.0, sources=[Source.poisson(20.0, target)],
                         entities=[target])
        sim.run()
        return target.times

    assert once() == once() and len(once()) > 50


class QueuedResourceSink(QueuedResource):
    def __init__(self):
        super().__init__("R", concurrency=4)
        self.times: list[float] = []

    def handle_queued_event(self, event):
        self.times.append(self.now.to_seconds())
        return None
