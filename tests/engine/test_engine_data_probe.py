"""Data queries vs brute force; probes."""

import numpy as np
import pytest
from engine_testkit import make_sim
from hypothesis import given, settings
from hypothesis import strategies as st

from happysimulator import Data, Entity, Event, Instant, Probe, Server, Sink, Source

samples = st.lists(
    st.tuples(
        st.floats(0, 100, allow_nan=False).map(lambda x: round(x, 3)),
        st.floats(-1e3, 1e3, allow_nan=False),
    ),
    min_size=0,
    max_size=60,
)


def _data(pairs):
    d = Data()
    for t, v in pairs:
        d.add_stat(v, t)
    return d


@settings(max_examples=80, deadline=None)
@given(samples, st.floats(0, 100), st.floats(0, 100))
def test_between_matches_brute_force(pairs, a, b):
    t1, t2 = min(a, b), max(a, b)
    d = _data(pairs)
    got = d.between(t1, t2)
    expect = sorted(((t, v) for t, v in pairs if t1 <= t < t2), key=lambda p: p[0])
    assert got.times() == [t for t, _ in expect]
    assert got.values == [(t, v) for t, v in got.samples()]
    assert sorted(got.raw_values()) == sorted(v for _, v in expect)
    assert got.count() == len(expect)


@settings(max_examples=80, deadline=None)
@given(samples.filter(bool), st.floats(0, 1))
def test_stats_match_numpy(pairs, p):
    d = _data(pairs)
    v = np.array([v for _, v in pairs])
    assert d.mean() == pytest.approx(v.mean(), abs=1e-9)
    assert d.min() == v.min() and d.max() == v.max()
    assert d.sum() == pytest.approx(v.sum(), abs=1e-7)
    assert d.std() == pytest.approx(v.std(), abs=1e-6)
    assert d.percentile(p) == pytest.approx(np.percentile(v, p * 100), abs=1e-9)


@settings(max_examples=50, deadline=None)
@given(samples.filter(bool), st.sampled_from([0.5, 1.0, 7.0, 25.0]))
def test_bucket_matches_brute_force(pairs, w):
    d = _data(pairs)
    b = d.bucket(w)
    total = 0
    for start, count, mean in zip(b.starts, b.counts, b.means, strict=True):
        inside = [v for t, v in pairs if (round(t * 1e9) // round(w * 1e9)) == round(start / w)]
        assert count == len(inside)
        if inside:
            assert mean == pytest.approx(sum(inside) / len(inside), abs=1e-9)
        total += count
    assert total == len(pairs)


def test_empty_data_and_bad_arguments():
    d = Data()
    # the legacy class answers 0.0 for no samples, as happysim 0.2.5 did (the query API
    # is where "no data" is None)
    assert d.mean() == 0.0 and d.percentile(0.5) == 0.0 and d.count() == 0
    assert d.std() == 0.0 and len(d.bucket(1.0)) == 0 and d.rate().count() == 0
    d.add_stat(1.0, Instant.from_seconds(1))
    with pytest.raises(ValueError, match="0.99"):
        d.percentile(99)
    with pytest.raises(ValueError, match="start <= end"):
        d.between(5, 1)
    with pytest.raises(ValueError):
        d.bucket(0)


def test_rate_and_bucket_match_brute_force():
    d = Data()
    times = [0.1, 0.2, 0.9, 1.0, 1.5, 3.2, 3.3]
    for t in times:
        d.add_stat(2.0, t)
    r = d.rate(0.5)
    # only windows with samples, aligned to 0; value = count / window
    expect = {}
    for t in times:
        k = int(t / 0.5 + 1e-12)
        expect[k * 0.5] = expect.get(k * 0.5, 0) + 1
    assert r.values == [(k, c / 0.5) for k, c in sorted(expect.items())]
    b = d.bucket(1.0)
    assert b.times() == [0.0, 1.0, 3.0] and b.counts == [3, 2, 2]
    assert b.sums() == [6.0, 4.0, 4.0] and b.to_dict()["count"] == [3, 2, 2]


def test_probe_unknown_metric_lists_available():
    s = Server("S")
    with pytest.raises(ValueError) as exc:
        Probe.on(s, "queue_dept")
    msg = str(exc.value)
    assert "queue_depth" in msg and "in_flight" in msg


def test_probe_samples_gauge_on_fixed_grid():
    class Level(Entity):
        def __init__(self):
            super().__init__("lvl")
            self.level = 0

        def handle_event(self, event):
            self.level += 1

    lvl = Level()
    probe, data = Probe.on(lvl, "level", interval=1.0)
    sim = make_sim(entities=[lvl], probes=[probe], end_time=4.0)
    sim.schedule([Event(0.5, "up", lvl), Event(2.0, "up", lvl), Event(3.5, "up", lvl)])
    sim.run()
    # samples at k s see the state before model events at that instant
    assert data.samples() == [(0.0, 0), (1.0, 1), (2.0, 1), (3.0, 2), (4.0, 3)]


def test_probe_on_many():
    s = Server("S", service_time=0.5)
    k = Sink()
    s.downstream = k
    probes, data = Probe.on_many(s, ["depth", "in_flight"], interval=0.25)
    sim = make_sim(sources=[Source.constant(4.0, s, limit=20)], entities=[s, k], probes=probes)
    sim.run()
    assert set(data) == {"depth", "in_flight"}
    assert max(data["in_flight"].raw_values()) == 1 and max(data["depth"].raw_values()) >= 1
