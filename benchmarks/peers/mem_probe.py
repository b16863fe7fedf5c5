"""Memory cost of the engine's two big per-item structures, measured with tracemalloc.

* bytes per pending event: N ``Event(time, "Request", target)`` objects scheduled on
  an (unrun) Simulation's heap -- the Event, what it keeps of its time, the heap entry
  and the heap list's share. Context is whatever the engine allocates by itself (lazily, per
  the design, so nothing until first access).
* bytes per recorded sample: ``Data.add_stat(value, Instant)`` N times with fresh float
  values -- what ``Data`` retains per sample (the value object included).

Works against this repo's ``happysimulator`` and against ``happysim`` 0.2.5 (same
compat API); prints one JSON line.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import tracemalloc


def _measure(build) -> tuple[float, object]:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    keep = build()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return after - before, keep


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--label", default="ours")
    args = p.parse_args()
    n, label = args.n, args.label

    import happysimulator
    from happysimulator import Data, Event, Instant, Simulation, Sink

    sink = Sink("Sink")
    sim = Simulation(sources=[], entities=[sink], end_time=Instant.from_seconds(1e9))

    def schedule(events):
        if hasattr(sim, "schedule"):
            sim.schedule(events)
        else:  # pragma: no cover - engines without a public schedule()
            for e in events:
                sim._event_heap.push(e)

    def build_events():
        # Instants are built inside the measured region: whatever the engine retains
        # per pending event (its Instant, or just an int) is counted, the rest is freed.
        schedule(
            [
                Event(time=Instant.from_seconds(1.0 + i * 1e-3), event_type="Request", target=sink)
                for i in range(n)
            ]
        )
        return None  # the heap keeps them alive

    ev_bytes, _ = _measure(build_events)

    data = Data()

    def build_data():
        for i in range(n):
            data.add_stat(i * 0.001 + 0.5, Instant.from_seconds(i * 1e-3))
        return data

    data_bytes, _ = _measure(build_data)

    out = {
        "label": label,
        "package": happysimulator.__file__,
        "python": platform.python_version(),
        "n": n,
        "bytes_per_pending_event": ev_bytes / n,
        "bytes_per_data_sample": data_bytes / n,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
