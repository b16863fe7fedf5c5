"""Tagged batches (`MetricSeries.extend_tagged`) are kept as runs until a reader needs
the tags: every reader sees what per-sample tags would give, whatever the interleaving
of single appends, batches, reads and out-of-order times."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from happysim_rx.stores.metric import MetricSeries

_TAGS = [{"backend": "S0"}, {"backend": "S1"}, None]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 4), st.integers(0, 2),
                          st.booleans()), min_size=1, max_size=12),
       st.sampled_from(["counter", "gauge", "sample"]))
def test_tag_runs_read_like_per_sample_tags(steps, kind) -> None:
    s = MetricSeries("LB", "routed", kind)
    ref: list[tuple[float, dict | None]] = []
    t = 0.0
    for batch, n, tag, read in steps:
        if batch:
            times = np.arange(n, dtype=float) + t
            tags = [_TAGS[(tag + i) % 2] for i in range(n)]
            s.extend_tagged(times, times + 1.0, tags)  # (distinct: a gauge keeps them)
            ref += list(zip(times.tolist(), tags, strict=True))
        else:
            times = [t + i for i in range(n)]
            for x in times:
                s.append(x, x + 1.0, _TAGS[tag])
                ref.append((x, _TAGS[tag]))
        t += n
        if read:
            s.arrays()
    bt, _ = s.arrays()
    if kind == "gauge":  # (a gauge keeps one point per instant: times are distinct here)
        assert bt.size == len(ref)
    got = [s.tags_at(i) for i in range(bt.size)]
    assert got == [tg for _, tg in ref]
    assert s.tag_keys() == ({"backend"} if any(ref_tg for _, ref_tg in ref) else set())
    mask = s.tag_mask(0, bt.size, {"backend": "S1"})
    assert mask.tolist() == [tg == {"backend": "S1"} for _, tg in ref]
