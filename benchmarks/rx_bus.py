"""Hot-path costs of the observation bus (per observation, best of 5).

Run: .venv/bin/python benchmarks/rx_bus.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

from reactivex.subject import Subject  # noqa: E402

from happysim_rx import LeanSubject, ManualClock, MetricStore, ObservationBus  # noqa: E402

N = 1_000_000


def best(fn, n=N, repeat=5) -> float:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(n)
        out.append((time.perf_counter() - t0) / n * 1e6)
    return min(out)


def emit_loop(topic):
    emit = topic.emit

    def run(n):
        for i in range(n):
            emit(i * 0.001, 1.0)

    return run


def main() -> None:
    res = {}
    bus = ObservationBus(ManualClock())
    res["emit, nobody listening (us)"] = best(emit_loop(bus.metric("A", "x", "gauge")))

    def fresh_store_emit(n):
        b = ObservationBus(ManualClock())
        b.attach_store(MetricStore())
        emit_loop(b.metric("A", "x", "sample"))(n)

    res["emit into exact MetricStore (us)"] = best(fresh_store_emit)

    def store_and_rx(n):
        b = ObservationBus(ManualClock())
        b.attach_store(MetricStore())
        b.metrics("x").subscribe(lambda o: None)
        emit_loop(b.metric("A", "x", "sample"))(n)

    res["emit into store + 1 Rx subscriber (us)"] = best(store_and_rx)

    def loop_subject(subj):
        def run(n):
            on_next = subj.on_next
            for i in range(n):
                on_next(i)

        return run

    s = Subject()
    s.subscribe(lambda v: None)
    res["reactivex Subject.on_next, 1 subscriber (us)"] = best(loop_subject(s))
    ls = LeanSubject()
    ls.subscribe(lambda v: None)
    res["LeanSubject.on_next, 1 subscriber (us)"] = best(loop_subject(ls))
    width = max(map(len, res))
    for k, v in res.items():
        print(f"{k:<{width}}  {v:.3f}")


if __name__ == "__main__":
    main()
