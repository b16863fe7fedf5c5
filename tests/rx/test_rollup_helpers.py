"""The rollups' array helpers against brute-force references: runs of equal keys,
edge points inserted into a gauge's held segments, the newest distinct keys."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from happysim_rx.stores._rollup import run_starts, split_at_boundaries
from happysim_rx.stores._streaming_series import _newest_distinct


@settings(max_examples=100, deadline=None)
@given(keys=st.lists(st.integers(-10**6, 10**6), min_size=1, max_size=300),
       dense=st.booleans())
def test_run_starts_are_where_each_run_of_equal_keys_begins(keys, dense):
    k = np.sort(np.array(keys, dtype=np.int64))
    if dense:  # many samples per key: the lookup path (span below the sample count)
        k = np.sort(k % 7)
    want = [i for i in range(k.size) if i == 0 or k[i] != k[i - 1]]
    assert run_starts(k).tolist() == want


@settings(max_examples=100, deadline=None)
@given(keys=st.lists(st.integers(-50, 50), min_size=1, max_size=300),
       n=st.integers(1, 70), ordered=st.booleans())
def test_newest_distinct_keys(keys, n, ordered):
    k = np.array(keys, dtype=np.int64)
    if ordered:
        k = np.sort(k)
    assert _newest_distinct(k, n, ordered=ordered).tolist() == sorted(set(keys))[-n:]


@settings(max_examples=100, deadline=None)
@given(times=st.lists(st.floats(0, 500, allow_nan=False), min_size=1, max_size=80),
       width=st.sampled_from([0.5, 1.0, 7.0, 10.0, 160.0]), on_edges=st.booleans())
def test_split_at_boundaries_inserts_each_inner_edge_holding_the_value_before(
        times, width, on_edges):
    pt = np.sort(np.array(times))
    if on_edges:  # points exactly on bucket edges get no extra point
        pt = np.sort(np.round(pt / width) * width)
    pv = np.arange(pt.size, dtype=float) * 1.5 - 3.0
    t, v = split_at_boundaries(pt, pv, width)
    edges = [k * width for k in range(int(pt[0] // width) - 1, int(pt[-1] // width) + 2)
             if pt[0] < k * width < pt[-1]]
    # each inner edge after the points at or before it, holding the last one's value
    # (an edge equal to a point's time too: a zero-length segment)
    items = [(x, 0, float(pv[i])) for i, x in enumerate(pt.tolist())]
    items += [(e, 1, float(pv[np.flatnonzero(pt <= e)[-1]])) for e in edges]
    items.sort(key=lambda r: (r[0], r[1]))
    assert t.tolist() == [r[0] for r in items]
    assert v.tolist() == [r[2] for r in items]
