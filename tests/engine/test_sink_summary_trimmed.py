"""`Sink.summary(window_s)` answers over the whole run or refuses: before ``max_samples``
trims anything it buckets every sample; once samples were trimmed it is a ValueError
naming ``max_samples`` (never a silently shorter list of windows)."""

from __future__ import annotations

import pytest

from happysimulator import Event, Instant, Sink


def _feed(sink: Sink, n: int) -> None:
    for k in range(n):
        sink.handle_event(Event(Instant.from_seconds(float(k)), "Done", sink,
                                context={"created_at": Instant.from_seconds(k - 0.5)}))


def test_summary_covers_every_sample_until_a_trim_then_refuses() -> None:
    sink = Sink("S", max_samples=5)
    _feed(sink, 10)  # at most 2 * max_samples kept before the first trim
    b = sink.summary(2.0)
    assert sum(b.counts) == sink.count == 10 and b.times[0] == 0.0
    _feed(sink, 1)
    with pytest.raises(ValueError, match=r"kept only its last 5 of 11 .*max_samples=5"):
        sink.summary(2.0)
    assert Sink("All").summary(1.0).counts == []  # no samples: no windows, no error
