"""The streaming store summarizes lazily (when the pending part outgrows the ring, or
when a query reads): where queries land must change no bucket, every answer in the
middle of a feed is exact over the range it states (against an exact store fed the same
samples so far), and the structure stays bounded at every step."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from happysim_rx import MetricStore, StreamingMetricStore
from happysim_rx.stores._rollup import _FOLD_AT
from happysim_rx.stores._streaming_series import _CHUNK, pending_limit

SMALL = {"raw_capacity": 48, "bucket_width": 1.0, "fine_buckets": 4, "coarse_buckets": 6}


def _feed(seed: int, kind: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.exponential(0.05, n)) + 40.0 * (np.arange(n) // 700)  # quiet gaps
    # (a gauge's values: each a change -- a record repeating the value held is none)
    v = (np.cumsum(rng.integers(1, 6, n)) % 7).astype(float) if kind == "gauge" else (
        rng.lognormal(0, 1, n))
    return t, v


def _buckets(series) -> list[tuple]:
    """Every bucket's fields, after checking that its sketch holds what its statistics
    count: a gauge's the seconds held (no negative or doubled segment), else its samples."""
    series.flush()
    out = []
    for tier in (series.fine, series.coarse):
        for k in sorted(tier.buckets):
            b = tier.buckets[k]
            held = b.w if series.is_gauge else b.n
            assert b.sketch.count == pytest.approx(held, rel=1e-9, abs=1e-9)
            assert b.e0 < b.e1 and b.e0 <= b.ft and b.lt < b.e1 if b.n else True
            out.append((tier.fine, k, b.e0, b.e1, b.n, b.lo, b.hi, b.ft, b.fv, b.lt, b.lv,
                        round(b.s, 6), round(b.w, 9), round(b.sketch.count, 6)))
    return out


def _put(series, t, v, how: str) -> None:
    if how == "extend":
        series.extend(t, v)
    else:
        for a, b in zip(t.tolist(), v.tolist(), strict=True):
            series.append(a, b)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), kind=st.sampled_from(["sample", "gauge"]),
       cuts=st.lists(st.integers(1, 2999), max_size=6, unique=True),
       how=st.sampled_from(["extend", "append"]), f1=st.floats(0, 1), f2=st.floats(0, 1))
def test_queries_mid_feed_are_exact_and_change_no_bucket(seed, kind, cuts, how, f1, f2):
    t, v = _feed(seed, kind, 3000)
    quiet = StreamingMetricStore(**SMALL).series_for("S", "x", kind)
    asked_store = StreamingMetricStore(**SMALL)
    asked = asked_store.series_for("S", "x", kind)
    exact_store = MetricStore()
    exact = exact_store.series_for("S", "x", kind)
    weighting = "time" if kind == "gauge" else "sample"
    aggs = ["count", "min", "max", "first", "last", "sum", "mean", "p50"]
    prev = 0
    for cut in [*sorted(cuts), t.size]:
        _put(quiet, t[prev:cut], v[prev:cut], how)
        _put(asked, t[prev:cut], v[prev:cut], how)
        exact.extend(t[prev:cut], v[prev:cut])
        prev = cut
        # a query lands here, half-way through a chunk and a batch
        a, b = sorted((f1 * t[cut - 1], f2 * t[cut - 1] + 1.0))
        r = asked_store.aggregate([asked], aggs, a, b, weighting=weighting)
        e = exact_store.aggregate([exact], aggs, r.start, r.end, weighting=weighting)
        for g in ("count", "min", "max", "first", "last"):
            assert r.values[g] == e.values[g], g
        for g in ("sum", "mean"):
            assert (r.values[g] is None) == (e.values[g] is None), g
            if e.values[g] is not None:
                assert r.values[g] == pytest.approx(e.values[g], rel=1e-9, abs=1e-9), g
    assert _buckets(asked) == _buckets(quiet)
    # the fine tier holds the newest `fine_buckets` keys of all samples (a gauge: of the
    # cells its held values cover, every one from its first sample's to its newest's)
    # (a gauge's newest point stays out of the rollups while its instant may continue:
    # docs/design.md, "Decisions at the seams")
    summarized = t[:-1] if kind == "gauge" else t
    keys = np.unique(np.floor(summarized / SMALL["bucket_width"]).astype(int))
    cap = SMALL["fine_buckets"]
    if kind == "gauge":
        keys = np.arange(max(keys[0], keys[-1] - cap + 1), keys[-1] + 1)
    assert sorted(asked.fine.buckets) == keys[-cap:].tolist()


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), kind=st.sampled_from(["sample", "gauge"]),
       raw=st.sampled_from([8, 48, 3000]))
def test_structure_bounded_at_every_step(seed, kind, raw):
    t, v = _feed(seed, kind, 6000)
    store = StreamingMetricStore(**{**SMALL, "raw_capacity": raw})
    s = store.series_for("S", "x", kind)
    for i in range(0, t.size, 500):
        s.extend(t[i:i + 500], v[i:i + 500])
        assert s._npend < pending_limit(raw)
        assert len(s.fine.buckets) <= SMALL["fine_buckets"]
        assert len(s.coarse.buckets) <= SMALL["coarse_buckets"]
        for b in s.coarse.buckets.values():
            assert b._pn <= _FOLD_AT  # pending values stay bounded
            # ... in arrays of their own (a view would keep a whole batch alive)
            assert all(x.base is None for x in b._pv)
            assert all(x is None or x.base is None for x in b._pw)
    assert len(s) == t.size


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), kind=st.sampled_from(["sample", "gauge"]),
       pieces=st.lists(st.tuples(st.integers(1, 2500), st.booleans()), min_size=1,
                       max_size=12))
def test_mixed_extend_and_append_equal_one_sample_at_a_time(seed, kind, pieces):
    """Chunks reach the ring at the same sample counts however the samples come (runs
    of `extend` arrays and single `append`s mixed), so the state is bit-identical."""
    t, v = _feed(seed, kind, 6000)
    mixed = StreamingMetricStore(**SMALL).series_for("S", "x", kind)
    single = StreamingMetricStore(**SMALL).series_for("S", "x", kind)
    i = 0
    for size, by_array in pieces:
        j = min(t.size, i + size)
        _put(mixed, t[i:j], v[i:j], "extend" if by_array else "append")
        i = j
    _put(mixed, t[i:], v[i:], "extend")
    _put(single, t, v, "append")
    assert len(mixed) == len(single) == t.size
    for a, b in zip(mixed.ring(), single.ring(), strict=True):
        assert np.array_equal(a, b)

    def state(s):
        s.flush()
        return [(k, b.e0, b.e1, b.n, b.s, b.s2, b.lo, b.hi, b.ft, b.fv, b.lt, b.lv, b.w,
                 b.ws, b.sketch.count) for tier in (s.fine, s.coarse)
                for k, b in sorted(tier.buckets.items())]

    assert state(mixed) == state(single)


@pytest.mark.parametrize("raw", [8, 3000, 9000])
@pytest.mark.parametrize("step", [700, 5000])
def test_ring_served_from_held_chunks_and_memory_bounded(raw, step):
    """The ring is the newest ``raw`` samples whatever the batches (summarized or not),
    `raw_from` the time just after the newest one it no longer holds, and the chunks
    held stay bounded: the pending samples or the ring, plus one chunk across its edge."""
    t, v = _feed(3, "sample", 40_000)
    store = StreamingMetricStore(**{**SMALL, "raw_capacity": raw})
    s = store.series_for("S", "x", "sample")
    for i in range(0, t.size, step):
        s.extend(t[i:i + step], v[i:i + step])
        n = min(i + step, t.size)
        if (i // step) % 3 == 0:  # a reader now and then
            rt, rv = s.ring()
            assert rt.tolist() == t[max(0, n - raw):n].tolist()
            assert rv.tolist() == v[max(0, n - raw):n].tolist()
            assert s.raw_from() == (np.nextafter(t[n - raw - 1], np.inf) if n > raw
                                    else -np.inf)
        assert s._nheld < max(pending_limit(raw), raw) + _CHUNK
    assert len(s) == t.size
