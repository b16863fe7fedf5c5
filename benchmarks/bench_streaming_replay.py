"""The streaming metric store alone: the samples a `streaming()` Server run hands it
(captured from `StreamingSeries.extend`/`append`), replayed into a fresh store.

    python benchmarks/bench_streaming_replay.py [--customers 50000] [--runs 10] [--save F]
    python benchmarks/bench_streaming_replay.py --feed F --reps 1 --once   # (for callgrind)

Reports thread CPU of the replay: the first pass (what the run itself pays: batches
summarized while it goes), a second pass offset in time (the steady state of a long run)
and the first query's flush of everything pending; minimum and median over ``--runs``.
Under callgrind, take the difference of ``--reps 2`` and ``--reps 1`` (``--once``) per
customer: the steady state, without the interpreter's start-up.
"""

from __future__ import annotations

import argparse
import gc
import os
import pickle
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def capture(customers: int) -> list[tuple]:
    """Every extend/append call the store gets in a run (arrays copied)."""
    from bench_observers import _config, build_server_model

    from happysim_rx.stores import _streaming_series as ss

    feed: list[tuple] = []
    ext, app = ss.StreamingSeries.extend, ss.StreamingSeries.append

    def extend(self, t, v):
        feed.append(("x", self.source, self.name, self.series_kind, t.copy(), v.copy()))
        return ext(self, t, v)

    def append(self, t, v, tags=None):
        feed.append(("a", self.source, self.name, self.series_kind, t, v))
        return app(self, t, v, tags)

    ss.StreamingSeries.extend, ss.StreamingSeries.append = extend, append
    try:
        sim, _ = build_server_model(customers, _config("streaming"))
        sim.run()
    finally:
        ss.StreamingSeries.extend, ss.StreamingSeries.append = ext, app
    return feed


def replay(feed: list[tuple], reps: int, span: float) -> tuple[float, float, float]:
    """CPU seconds: first pass, further passes, final flush."""
    from happysim_rx.stores.streaming import StreamingMetricStore

    store = StreamingMetricStore(raw_capacity=8192, bucket_width=10.0)
    series: dict = {}
    marks = [time.thread_time()]
    for rep in range(reps):
        off = rep * span
        for kind, source, name, series_kind, t, v in feed:
            s = series.get((source, name))
            if s is None:
                s = series[source, name] = store.series_for(source, name, series_kind)
            if kind == "x":
                s.extend(t + off, v)
            else:
                s.append(t + off, v)
        marks.append(time.thread_time())
    for s in series.values():
        s.flush()
    end = time.thread_time()
    return marks[1] - marks[0], marks[-1] - marks[1], end - marks[-1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=50_000)
    p.add_argument("--feed", help="a feed saved with --save (else captured now)")
    p.add_argument("--save", help="save the captured feed here (pickle)")
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--once", action="store_true", help="one replay, no output, os._exit")
    args = p.parse_args(argv)
    if args.feed:
        with open(args.feed, "rb") as f:
            feed = pickle.load(f)
    else:
        feed = capture(args.customers)
    if args.save:
        with open(args.save, "wb") as f:
            pickle.dump(feed, f)
    span = 2 * max(float(x[4][-1]) if x[0] == "x" else x[4] for x in feed)
    gc.disable()  # (as in a run: the store makes no garbage cycles)
    if args.once:
        replay(feed, args.reps, span)
        os._exit(0)
    runs = [replay(feed, args.reps, span) for _ in range(args.runs)]
    samples = sum(len(x[4]) if x[0] == "x" else 1 for x in feed)
    print(f"feed: {len(feed)} calls, {samples:,} samples; {args.reps} passes, {args.runs} runs")
    for i, label in enumerate(("first pass (in-run)", "later passes", "final flush")):
        col = [r[i] for r in runs]
        print(f"  {label:<22} min {1e3 * min(col):7.2f} ms  median "
              f"{1e3 * statistics.median(col):7.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
