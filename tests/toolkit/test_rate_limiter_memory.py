"""Rate limiters keep flat memory in long runs: their per-request records (``received_times``
...) hold the newest ``history_limit`` entries, their policies only what the window needs."""

from __future__ import annotations

import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st

from happysimulator import Entity, Event, Instant, Simulation
from happysimulator.components.rate_limiter import (
    AdaptivePolicy,
    Inductor,
    RateLimitedEntity,
    SlidingWindowPolicy,
    TokenBucketPolicy,
)
from happysimulator.components.rate_limiter._history import History
from happysimulator.observability import ObservabilityConfig


@given(st.lists(st.integers()), st.one_of(st.none(), st.integers(1, 20)))
def test_history_reads_like_the_tail_of_the_list_it_replaces(items, limit):
    h = History(limit)
    for x in items:
        h.append(x)
    kept = items if limit is None else items[len(items) - min(limit, len(items)):]
    assert list(h) == kept and len(h) == len(kept)
    assert h.discarded == len(items) - len(kept) and h.total == len(items)
    assert h[:3] == kept[:3] and h[-2:] == kept[-2:]
    if kept:
        assert h[0] == kept[0] and h[-1] == kept[-1]
    assert (h == kept) == (h.discarded == 0)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "10"])
def test_a_bad_history_limit_is_refused_naming_the_choices(bad):
    with pytest.raises(ValueError, match="int >= 1 or None"):
        History(bad)
    with pytest.raises(ValueError, match="history_limit"):
        RateLimitedEntity("rl", _Drop("d"), TokenBucketPolicy(1, 1), history_limit=bad)


class _Drop(Entity):
    """A downstream that finishes every request at once and keeps nothing."""

    def handle_event(self, event):
        return None


def _run(n: int, policy, history_limit: int | None = 50, inductor: bool = False):
    """``n`` requests 1 ms apart through a limiter; returns (limiter, arrival times)."""
    down = _Drop("down")
    limiter = (Inductor("rl", down, time_constant=0.01, queue_capacity=10,
                        history_limit=history_limit) if inductor
               else RateLimitedEntity("rl", down, policy, queue_capacity=10,
                                      history_limit=history_limit))
    sim = Simulation(end_time=Instant.from_seconds(n / 1000 + 1), entities=[limiter, down],
                     observability=ObservabilityConfig.disabled())
    times = [Instant.from_seconds(i / 1000) for i in range(n)]
    sim.schedule([Event(t, "req", limiter) for t in times])
    sim.run()
    return limiter, times


@pytest.mark.parametrize("policy", [lambda: SlidingWindowPolicy(0.1, 20),
                                    lambda: TokenBucketPolicy(5, 200.0)])
def test_limiter_records_keep_the_newest_entries_and_count_the_rest(policy):
    p = policy()
    limiter, times = _run(3000, p)
    st_ = limiter.stats
    assert st_.received == 3000 and st_.forwarded + st_.dropped == 3000
    for hist, total in ((limiter.received_times, st_.received),
                        (limiter.forwarded_times, st_.forwarded),
                        (limiter.dropped_times, st_.dropped)):
        assert len(hist) == min(50, total) and hist.total == total
    assert list(limiter.received_times) == times[-50:]
    if isinstance(p, SlidingWindowPolicy):
        assert len(p._log) <= p.max_requests  # only the window's admissions


def test_inductor_and_adaptive_histories_are_bounded():
    inductor, _ = _run(2000, None, history_limit=30, inductor=True)
    assert len(inductor.rate_history) == 30 and inductor.rate_history.total == 1999
    policy = AdaptivePolicy(initial_rate=10, max_rate=1000, history_limit=5)
    for i in range(100):
        now = Instant.from_seconds(i)
        policy.record_success(now) if i % 3 else policy.record_failure(now)
    assert len(policy.rate_history) == 5 and policy.rate_history.total == 100


def _retained_bytes(n: int, history_limit: int | None = 50) -> int:
    """Bytes still held after a run of ``n`` requests that were allocated by the rate
    limiter's code (the engine's and the allocator's free lists left out)."""
    tracemalloc.start(8)
    try:
        limiter, times = _run(n, SlidingWindowPolicy(0.05, 10), history_limit)
        snap = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(True, "*/components/rate_limiter/*", all_frames=True)])
        return sum(s.size for s in snap.statistics("filename"))
    finally:
        tracemalloc.stop()


def test_a_limiter_run_4x_longer_retains_no_more_memory():
    short, long = _retained_bytes(500), _retained_bytes(2000)
    assert long < short * 1.1 + 4096, (short, long)
    # (the measure sees the growth when nothing is dropped)
    short, long = _retained_bytes(500, None), _retained_bytes(2000, None)
    assert long > short * 3, (short, long)
