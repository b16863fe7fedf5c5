"""Sync primitives in a running simulation: processes park on them (time advances, no
busy-waiting), and their contention is queryable (series listed before the run)."""

from __future__ import annotations

import pytest

from happysimulator import Entity, Simulation, Source
from happysimulator.components.sync import Barrier, Mutex, RWLock, Semaphore
from happysimulator.observability import ObservabilityConfig


class Worker(Entity):
    """Holds `lock` for `hold` seconds per request."""

    def __init__(self, name, lock, hold):
        super().__init__(name)
        self.lock = lock
        self.hold = hold
        self.done: list[float] = []

    def handle_event(self, event):
        yield from self.lock.acquire(owner=event.context["id"])
        yield self.hold
        self.lock.release()
        self.done.append(self.now.to_seconds())


def test_mutex_serializes_and_reports_its_queue():
    lock = Mutex("lock")
    worker = Worker("w", lock, 0.3)
    source = Source.constant(rate=10.0, target=worker, stop_after=1.0)  # 10 at 0.1 .. 1.0
    sim = Simulation(sources=[source], entities=[worker, lock],
                     observability=ObservabilityConfig.full())
    listed = {(m["source"], m["name"]) for m in sim.query.catalog()["metrics"]}
    assert {("lock", "waiters"), ("lock", "wait_time"), ("lock", "locked")} <= listed
    sim.run()
    # one at a time: completions 0.3 s apart from the first arrival on
    assert worker.done == pytest.approx([0.1 + 0.3 * k for k in range(1, 11)])
    q = sim.query.metrics
    # at 0.9: arrivals 0.2 .. 0.9 queued, two of them served by then (at 0.4 and 0.7)
    assert q("waiters").from_entity("lock").aggregate("max").execute().scalar in (6, 7)
    assert q("contentions").from_entity("lock").aggregate("sum").execute().scalar == 9
    # the k-th contended acquire waited 0.3 k - 0.1 (k - 1)... summed: the stats agree
    waits = q("wait_time").from_entity("lock").aggregate("sum").execute().scalar
    assert waits == pytest.approx(lock.stats.total_wait_time_ns / 1e9)
    assert lock.stats.acquisitions == lock.stats.releases == 10


def test_semaphore_bounds_concurrency():
    sem = Semaphore("pool", 3)
    worker = Worker("w", sem, 1.0)
    worker.lock.acquire = lambda owner=None: Semaphore.acquire(sem)  # permits, not owners
    source = Source.constant(rate=10.0, target=worker, stop_after=0.9)  # 9 requests
    sim = Simulation(sources=[source], entities=[worker, sem],
                     observability=ObservabilityConfig.full())
    sim.run()
    # three waves of three
    assert sorted(round(t, 6) for t in worker.done) == pytest.approx(
        [1.1, 1.2, 1.3, 2.1, 2.2, 2.3, 3.1, 3.2, 3.3])
    low = sim.query.metrics("available").from_entity("pool").aggregate("min").execute()
    assert low.scalar == 0


def test_rwlock_writer_is_not_starved():
    rw = RWLock("rw")
    order: list[str] = []

    class Reader(Entity):
        def handle_event(self, event):
            yield from rw.acquire_read()
            order.append("r")
            yield 1.0
            rw.release_read()

    class Writer(Entity):
        def handle_event(self, event):
            yield from rw.acquire_write()
            order.append("w")
            yield 1.0
            rw.release_write()

    r, w = Reader("reader"), Writer("writer")
    readers = Source.constant(rate=4.0, target=r, stop_after=1.0, name="readers")
    writers = Source.constant(rate=2.5, target=w, stop_after=0.5, name="writers")
    sim = Simulation(sources=[readers, writers], entities=[r, w, rw])
    sim.run()
    # readers at 0.25, 0.5, 0.75, 1.0, a writer at 0.4: it waits for the reader holding
    # the lock, and the readers arriving after it wait for it (no writer starvation)
    assert order == ["r", "w", "r", "r", "r"]


def test_barrier_releases_all_parties_together():
    barrier = Barrier("b", 3)
    passed: list[tuple[str, float, int]] = []

    class Party(Entity):
        def handle_event(self, event):
            idx = yield from barrier.wait()
            passed.append((self.name, self.now.to_seconds(), idx))

    parties = [Party(f"p{i}") for i in range(3)]
    sources = [Source.constant(rate=1.0 / (i + 1), target=p, stop_after=i + 1.0,
                               name=f"s{i}") for i, p in enumerate(parties)]
    sim = Simulation(sources=sources, entities=[*parties, barrier],
                     observability=ObservabilityConfig.full())
    sim.run()
    first = sorted(passed)[:3]
    assert {t for _, t, _ in first} == {3.0}  # everyone leaves when the last arrives
    assert sorted(i for *_, i in first) == [0, 1, 2]
    assert sim.query.metrics("breaks").from_entity("b").aggregate("sum").execute().scalar >= 1
