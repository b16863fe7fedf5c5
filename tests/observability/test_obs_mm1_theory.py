"""Seed integration test: an M/M/1 queue observed through the query API.

Two layers of checks:

* exact ones: every query answer equals a brute-force computation (numpy over the raw
  data the engine kept itself, or a replay of the FIFO queue from the processed-event
  store), so a mistake in weighting, ranges or collection fails to ~1e-9;
* statistical ones: the answers reproduce M/M/1 theory. The tolerance of each is
  4 standard errors estimated by batch means (20 batches of T/20 seconds, far longer
  than the relaxation time 1/(mu (1 - sqrt(rho))^2) ~ 9 s at rho = 0.8), so a correct
  implementation fails with probability < 1e-3 for a given seed (and the seeds are fixed),
  and a hard cap on the relative error keeps a noisy run from hiding a real bias.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from obs_testkit import metric_arrays, mm1

from happysimulator.observability import ObservabilityConfig

NBATCH = 20


def _tw_mean(t: np.ndarray, v: np.ndarray, a: float, b: float) -> float:
    """Brute-force time-weighted mean of a step function (change points t, values v)."""
    total = 0.0
    for i in range(len(t)):
        lo = max(t[i], a)
        hi = min(t[i + 1] if i + 1 < len(t) else b, b)
        if hi > lo:
            total += v[i] * (hi - lo)
    return total / (b - a)


def _batch_se(values: list[float]) -> float:
    x = np.asarray(values)
    return float(x.std(ddof=1) / math.sqrt(len(x)))


def _replay_fifo(events: list[dict]) -> tuple[list, list, list, list]:
    """Single-server FIFO replay from the processed-event store alone.

    Returns (depth change points, in_flight change points, arrival times, start times).
    """
    depth = busy = 0
    dpts, fpts, arrivals, starts = [(0.0, 0)], [(0.0, 0)], [], []
    waiting: list[float] = []
    for r in events:
        if r["source"] != "Server":
            continue
        t = r["time"]
        if r["name"] == "Request":
            arrivals.append(t)
            if busy:
                depth += 1
                waiting.append(t)
            else:
                busy = 1
                starts.append((t, t))
        elif r["name"] == "service.done":
            if depth:
                depth -= 1
                starts.append((waiting.pop(0), t))
            else:
                busy = 0
        dpts.append((t, depth))
        fpts.append((t, busy))
    return dpts, fpts, arrivals, starts


def _collapse(points) -> tuple[np.ndarray, np.ndarray]:
    """Last value at each distinct time, then drop repeats: a canonical step function."""
    last: dict[float, float] = {}
    for t, v in points:
        last[float(t)] = float(v)
    ts, vs = [], []
    for t in sorted(last):
        if not vs or last[t] != vs[-1]:
            ts.append(t)
            vs.append(last[t])
    return np.array(ts), np.array(vs)


@pytest.fixture(scope="module")
def long_run():
    """lambda=8, mu=10 for 20 000 simulated seconds (~160 000 customers)."""
    T = 20_000.0
    sim, source, server, sink = mm1(seed=2024, lam=8.0, mu=10.0, stop_after=T)
    summary = sim.run()
    assert summary.stop_reason == "complete"
    return sim, source, server, sink, T


def test_mm1_queries_reproduce_queueing_theory(long_run):
    sim, source, server, sink, T = long_run
    lam, mu = 8.0, 10.0
    rho = lam / mu
    q = sim.query
    theory = {
        "queue_depth": rho**2 / (1 - rho),  # Lq = 3.2
        "wait_time": rho / (mu - lam),  # Wq = 0.4
        "in_flight": rho,  # utilization = 0.8
        "latency": 1 / (mu - lam),  # W = 0.5
        "latency_p99": math.log(100) / (mu - lam),  # sojourn ~ Exp(mu - lambda)
    }
    got = {
        "queue_depth": q.metrics("queue_depth").from_entity("Server").aggregate("mean").execute(),
        "wait_time": q.metrics("wait_time").from_entity("Server").aggregate("mean").execute(),
        "in_flight": q.metrics("in_flight").from_entity("Server").aggregate("mean").execute(),
        "latency": q.metrics("latency").from_entity("Sink").aggregate("mean").execute(),
        "latency_p99": q.metrics("latency").from_entity("Sink").aggregate("p99").execute(),
    }
    assert got["queue_depth"].weighting == "time"
    assert got["in_flight"].weighting == "time"
    assert got["latency"].weighting == "sample"
    assert all(r.exact for r in got.values())

    # batch means over [k*T/20, (k+1)*T/20): the same query API, windowed
    w = T / NBATCH
    batches = {}
    for key, name, agg in [
        ("queue_depth", "queue_depth", "mean"),
        ("wait_time", "wait_time", "mean"),
        ("in_flight", "in_flight", "mean"),
        ("latency", "latency", "mean"),
        ("latency_p99", "latency", "p99"),
    ]:
        res = q.metrics(name).between(0.0, T).window(w).aggregate(agg).execute()
        vals = [v for _, v in res.series]
        assert len(vals) == NBATCH
        batches[key] = vals
    caps = {
        "queue_depth": 0.15,
        "wait_time": 0.15,
        "in_flight": 0.03,
        "latency": 0.12,
        "latency_p99": 0.2,
    }
    for key, expected in theory.items():
        est = got[key].scalar
        se = _batch_se(batches[key])
        assert se < caps[key] * expected / 3, f"{key}: batch SE {se} implausibly large"
        assert abs(est - expected) <= 4 * se + 1e-3 * expected, (
            f"{key}: {est:.4f} vs theory {expected:.4f} (batch SE {se:.4f})"
        )
        assert abs(est - expected) <= caps[key] * expected


def test_mm1_counters_and_sample_counts_match_the_engine(long_run):
    sim, source, server, sink, T = long_run
    q = sim.query
    n = server.arrivals
    assert n == source.generated == server.completed == sink.count > 100_000
    agg = lambda name, ent, a: q.metrics(name).from_entity(ent).aggregate(a).execute().scalar  # noqa: E731
    assert agg("arrivals", "Server", "count") == n
    assert agg("arrivals", "Server", "sum") == n
    assert agg("completed", "Server", "sum") == server.completed
    assert agg("generated", "Source", "sum") == source.generated
    assert agg("dropped", "Server", "count") is None or agg("dropped", "Server", "count") == 0
    assert agg("latency", "Sink", "count") == sink.count
    assert agg("wait_time", "Server", "count") == n
    assert agg("service_time", "Server", "count") == n
    # service time samples sum to the engine's busy time; utilization == busy / elapsed
    assert agg("service_time", "Server", "sum") == pytest.approx(server.busy_ns / 1e9, rel=1e-9)
    assert agg("in_flight", "Server", "mean") == pytest.approx(server.utilization, rel=1e-9)
    # counter rate = arrivals per simulated second over the range asked
    r = q.metrics("arrivals").between(1000.0, 3000.0).aggregate("rate").execute().scalar
    t, _ = metric_arrays(sim, "Server", "arrivals")
    assert r == pytest.approx(((t >= 1000.0) & (t < 3000.0)).sum() / 2000.0, rel=1e-12)


def test_mm1_latency_queries_equal_numpy_over_sink_data(long_run):
    sim, source, server, sink, T = long_run
    times = np.asarray(sink.data.times())
    lats = np.asarray(sink.data.raw_values())
    for a, b in [(0.0, T + 100), (1234.5, 5678.9), (100.0, 100.5), (7000.0, 7000.0 + 1e-3)]:
        m = (times >= a) & (times < b)
        res = (
            sim.query.metrics("latency")
            .from_entity("Sink")
            .between(a, b)
            .aggregate("count", "mean", "min", "max", "p50", "p99", "stddev", "sum")
            .execute()
        )
        if not m.any():
            assert res.value("count") == 0 and res.value("mean") is None
            continue
        x = lats[m]
        assert res.value("count") == m.sum()
        assert res.value("mean") == pytest.approx(x.mean(), rel=1e-12)
        assert res.value("min") == x.min() and res.value("max") == x.max()
        assert res.value("p50") == pytest.approx(np.quantile(x, 0.5), rel=1e-12)
        assert res.value("p99") == pytest.approx(np.quantile(x, 0.99), rel=1e-12)
        assert res.value("stddev") == pytest.approx(x.std(), rel=1e-9, abs=1e-12)
        assert res.value("sum") == pytest.approx(x.sum(), rel=1e-12)
    # raw rows are the very samples the tracker kept, in order
    rows = sim.query.metrics("latency").between(2000.0, 2100.0).execute().rows
    m = (times >= 2000.0) & (times < 2100.0)
    assert [r["time"] for r in rows] == list(times[m])
    assert [r["value"] for r in rows] == list(lats[m])
    # the legacy tracker API agrees with the query API
    assert sink.p99() == pytest.approx(
        sim.query.metrics("latency").aggregate("p99").execute().scalar, rel=1e-2
    )


def _events(sim, start: float = -np.inf, end: float = np.inf):
    return sim.query.event_store.between(start, end)


@pytest.fixture(scope="module")
def short_run():
    sim, source, server, sink = mm1(seed=7, lam=8.0, mu=10.0, stop_after=600.0)
    sim.run()
    return sim, source, server, sink


def test_gauges_equal_a_brute_force_fifo_replay_of_processed_events(short_run):
    sim, source, server, sink = short_run
    dpts, fpts, arrivals, starts = _replay_fifo(_events(sim))
    assert len(arrivals) == server.arrivals
    for name, pts in (("queue_depth", dpts), ("in_flight", fpts)):
        t, v = metric_arrays(sim, "Server", name)
        rt, rv = _collapse(pts)
        st, sv = _collapse(zip(t, v, strict=True))
        np.testing.assert_array_equal(st, rt, err_msg=name)
        np.testing.assert_array_equal(sv, rv, err_msg=name)
        end = sim.clock.now()
        for a, b in [(0.0, end), (10.0, 20.0), (123.4, 432.1), (599.0, end)]:
            got = sim.query.metrics(name).between(a, b).aggregate("mean").execute().scalar
            assert got == pytest.approx(_tw_mean(rt, rv, a, b), rel=1e-9, abs=1e-12), (name, a, b)
        # time-weighted max/p50 of the gauge on a window = brute force on the step function
        a, b = 50.0, 150.0
        res = sim.query.metrics(name).between(a, b).aggregate("max", "min").execute()
        inside = [
            rv[i] for i in range(len(rt)) if rt[i] < b and (i + 1 == len(rt) or rt[i + 1] > a)
        ]
        assert res.value("max") == max(inside) and res.value("min") == min(inside)
    # wait_time samples: emitted at start of service, value = start - arrival (FIFO)
    wt, wv = metric_arrays(sim, "Server", "wait_time")
    assert len(wt) == len(starts)
    np.testing.assert_allclose(wt, [s for _, s in starts], rtol=0, atol=1e-9)
    np.testing.assert_allclose(wv, [s - a for a, s in starts], rtol=0, atol=2e-9)
    # counters: one increment at each processed arrival / completion
    at, av = metric_arrays(sim, "Server", "arrivals")
    np.testing.assert_array_equal(at, arrivals)
    assert set(av) == {1.0}
    ct, _ = metric_arrays(sim, "Server", "completed")
    done = [r["time"] for r in _events(sim) if r["name"] == "service.done"]
    np.testing.assert_array_equal(ct, done)
    # the source's generated counter ticks exactly at its source.tick events
    gt, _ = metric_arrays(sim, "Source", "generated")
    ticks = [r["time"] for r in _events(sim) if r["name"] == "source.tick"]
    np.testing.assert_array_equal(gt, ticks)
    # sink latency samples at each request's arrival at the sink
    lt, _ = metric_arrays(sim, "Sink", "latency")
    at_sink = [r["time"] for r in _events(sim) if r["source"] == "Sink"]
    np.testing.assert_array_equal(lt, at_sink)


def test_low_load_tighter_theory_check():
    """rho = 0.5: the same estimators with ~2% tolerances (4 batch SEs, capped)."""
    lam, mu, T = 5.0, 10.0, 8000.0
    sim, *_ = mm1(seed=99, lam=lam, mu=mu, stop_after=T, config=ObservabilityConfig.default())
    sim.run()
    rho = lam / mu
    q = sim.query
    for name, expected, cap in [
        ("queue_depth", rho**2 / (1 - rho), 0.08),
        ("in_flight", rho, 0.02),
        ("wait_time", rho / (mu - lam), 0.08),
        ("latency", 1 / (mu - lam), 0.04),
    ]:
        est = q.metrics(name).aggregate("mean").execute().scalar
        vals = [
            v
            for _, v in q.metrics(name)
            .between(0.0, T)
            .window(T / NBATCH)
            .aggregate("mean")
            .execute()
            .series
        ]
        se = _batch_se(vals)
        assert abs(est - expected) <= 4 * se, (name, est, expected, se)
        assert abs(est - expected) <= cap * expected, (name, est, expected)
