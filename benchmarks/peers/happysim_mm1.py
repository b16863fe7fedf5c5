"""M/M/1 in the public ``happysim`` 0.2.5 package (PyPI; needs Python >= 3.13).

Idiomatic 0.2.5 code: ``Source.poisson -> Server(concurrency=1,
ExponentialLatency(0.1)) -> Sink``. Variant ``probe`` swaps the Sink for a
``LatencyTracker`` and adds ``Probe.on(server, "depth", interval)`` -- the
"instrumented" shape of the package's own examples.

Run it with the interpreter of a venv that has ``happysim==0.2.5`` installed (the
bench creates ``/tmp/venv-happysim313`` on demand); it must NOT see this repo's own
``happysimulator`` package, which has the same import name.

Workarounds for known 0.2.5 defects (see benchmarks/README.md):

* ``stop_after`` only stops the *payload*; the Source keeps ticking forever, so a run
  without ``end_time`` never ends. We give ``stop_after = N / lambda`` (so about N
  customers arrive) and ``end_time = stop_after + DRAIN_S``; with rho = 0.8 the queue
  has long drained by then, and ``customers`` reports how many completed.
* Seeds: 0.2.5 has no ``Simulation(seed=...)``; arrivals draw from numpy's global RNG
  and ``ExponentialLatency`` from ``random``'s, so we seed both globals.
* Concurrency: the bare ``QueuedResource`` has no capacity check (silently unlimited
  concurrency); ``Server(concurrency=1)`` does check (``FixedConcurrency``), so it
  really is M/M/1 -- ``mean_wait`` ~ 0.4 s confirms it (an M/M/inf would give 0).
"""

from __future__ import annotations

import random
import sys
import time

from _common import LAMBDA, MU, emit, parse_args

DRAIN_S = 60.0


def _extra(p):
    p.add_argument("--variant", choices=["plain", "probe"], default="plain")
    p.add_argument(
        "--probe-interval",
        type=float,
        default=0.1,
        help="Probe sampling interval in simulated seconds (variant probe)",
    )


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], _extra)
    if sys.version_info < (3, 13):
        sys.exit("happysim 0.2.5 needs Python >= 3.13")
    import numpy as np

    import happysimulator as hs
    from happysimulator import (
        ExponentialLatency,
        Instant,
        LatencyTracker,
        Probe,
        Server,
        Simulation,
        Sink,
        Source,
    )

    if not hasattr(hs, "QueuedResource") or "site-packages" not in (hs.__file__ or ""):
        sys.exit(f"expected the PyPI happysim package, got {hs.__file__}")

    t0 = time.perf_counter()
    random.seed(args.seed)
    np.random.seed(args.seed)
    horizon = args.customers / LAMBDA
    server = Server("Server", concurrency=1, service_time=ExponentialLatency(1.0 / MU))
    probes = []
    if args.variant == "plain":
        sink = Sink("Sink")
    else:
        sink = LatencyTracker("Sink")
        probe, _depth = Probe.on(server, "depth", interval=args.probe_interval)
        probes.append(probe)
    server.downstream = sink
    source = Source.poisson(rate=LAMBDA, target=server, stop_after=horizon)
    sim = Simulation(
        sources=[source],
        entities=[server, sink],
        probes=probes,
        end_time=Instant.from_seconds(horizon + DRAIN_S),
    )
    summary = sim.run()
    wall = time.perf_counter() - t0

    if args.variant == "plain":
        sojourns = sink.latencies_s
        done = sink.events_received
        mean_sojourn = sum(sojourns) / done
    else:
        done = sink.count
        mean_sojourn = sink.mean_latency()
    # wait = sojourn - own service time; Server records every service time it drew.
    service = server._service_times
    mean_wait = mean_sojourn - sum(service) / len(service)
    emit(
        f"happysim-0.2.5-{args.variant}",
        done,
        wall,
        mean_wait,
        mean_sojourn,
        source_ticks=source.generated_count,
        events_processed=getattr(summary, "total_events_processed", None),
        in_service_or_queued_at_end=len(service) - done,
    )


if __name__ == "__main__":
    main()
