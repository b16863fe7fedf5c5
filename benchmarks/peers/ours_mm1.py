"""M/M/1 in this project's engine (``happysimulator`` from this repository).

Same model as the other peers, written the way DESIGN.md's public contract shows:
``Source.poisson -> Server(concurrency=1, ExponentialLatency(0.1)) -> LatencyTracker``
in ``Simulation(sources=..., entities=..., seed=S, observability=...)``.

``--observability`` selects what is passed as ``observability=``:

* ``none``     -- the engine with no observability code at all: ``observability=False``
                  (``sim.control`` is None), otherwise no argument at all (an engine that
                  predates the observability layer). ``Simulation`` records by default, so
                  omitting the argument would *not* be "none".
* ``disabled`` -- ``ObservabilityConfig.disabled()`` (fails if the layer is missing).
* ``default``  -- ``ObservabilityConfig.default()`` (what ``Simulation`` uses when given
                  nothing).
* ``full``     -- ``ObservabilityConfig.full()``.
* ``streaming``-- ``ObservabilityConfig.streaming()``.
* ``omitted``  -- no ``observability=`` argument: whatever ``Simulation`` does by default.

The JSON says exactly what was passed (``observability_arg``).

Run with ``PYTHONPATH=<repo root>`` (the bench does) so that this repository's
``happysimulator`` is imported, not an installed one.
"""

from __future__ import annotations

import os
import sys
import time

from _common import LAMBDA, MU, emit, parse_args

VARIANTS = ("none", "disabled", "default", "full", "streaming", "omitted")
_OMIT = object()


def _extra(p):
    p.add_argument("--observability", choices=VARIANTS, default="none")
    p.add_argument(
        "--end-time",
        type=float,
        default=None,
        help="also pass end_time (s); default: open-ended run that must end "
        "by itself once the source stops (stop_after) and the queue drains",
    )


def _observability_arg(variant: str):
    """(value to pass or _OMIT, description) for ``--observability variant``."""
    try:
        from happysimulator.observability import ObservabilityConfig
    except ImportError:
        config_cls = None
    else:
        config_cls = ObservabilityConfig
    if variant == "omitted":
        return _OMIT, "<omitted>"
    if variant == "none":
        if config_cls is None:
            return _OMIT, "<omitted: no happysimulator.observability>"
        return False, "False (no observability code)"
    if config_cls is None:
        sys.exit(
            f"--observability {variant} needs happysimulator.observability "
            "(not importable yet); only 'none' and 'omitted' work"
        )
    return getattr(config_cls, variant)(), f"ObservabilityConfig.{variant}()"


def _mean_service(server) -> float | None:
    """Mean drawn service time, from whatever statistics the Server exposes."""
    for attr in ("average_service_time", "mean_service_time"):
        v = getattr(server, attr, None)
        if callable(v):
            v = v()
        if isinstance(v, (int, float)) and v > 0:
            return float(v)
    busy_ns, completed = getattr(server, "busy_ns", None), getattr(server, "completed", None)
    if isinstance(busy_ns, int) and isinstance(completed, int) and completed > 0:
        return busy_ns / completed / 1e9
    stats = getattr(server, "stats", None)
    if stats is not None:
        total = getattr(stats, "total_service_time", None)
        done = getattr(stats, "requests_completed", None)
        if total and done:
            return total / done
    return None


def _query_mean(sim, metric: str, entity: str) -> float | None:
    """Mean of an auto-instrumented series through the query API, if recorded."""
    try:
        r = sim.query.metrics(metric).from_entity(entity).aggregate("mean").execute()
        return r.scalar
    except Exception:
        return None


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], _extra)
    import happysimulator
    from happysimulator import ExponentialLatency, LatencyTracker, Server, Simulation, Source

    repo_pkg = os.path.dirname(happysimulator.__file__ or "")
    obs_value, obs_desc = _observability_arg(args.observability)

    t0 = time.perf_counter()
    horizon = args.customers / LAMBDA
    server = Server("Server", concurrency=1, service_time=ExponentialLatency(1.0 / MU))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    source = Source.poisson(rate=LAMBDA, target=server, stop_after=horizon)
    kwargs = {"sources": [source], "entities": [server, sink], "seed": args.seed}
    if args.end_time is not None:
        kwargs["end_time"] = args.end_time
    if obs_value is not _OMIT:
        kwargs["observability"] = obs_value
    try:
        sim = Simulation(**kwargs)
    except TypeError as exc:
        if "observability" not in str(exc) or args.observability != "none":
            raise
        kwargs.pop("observability")  # an engine without the observability argument yet
        obs_desc = "<omitted: Simulation() takes no observability>"
        sim = Simulation(**kwargs)
    # streaming() bounds the sink's legacy latency list; mean_sojourn below is computed
    # from it like the other peers', so keep every sample
    sink.max_samples = None
    summary = sim.run()
    wall = time.perf_counter() - t0

    done = getattr(sink, "count", None)
    if done is None:
        done = sink.data.count()
    mean_sojourn = sink.mean_latency()
    mean_wait = _query_mean(sim, "wait_time", "Server")
    wait_from = "query wait_time" if mean_wait is not None else None
    if mean_wait is None:
        svc = _mean_service(server)
        if svc is not None:
            mean_wait, wait_from = mean_sojourn - svc, "sojourn - mean service"
    emit(
        f"ours-{args.observability}",
        done,
        wall,
        mean_wait,
        mean_sojourn,
        observability_arg=obs_desc,
        mean_wait_from=wait_from,
        events_processed=getattr(
            summary, "total_events_processed", getattr(summary, "events_processed", None)
        ),
        package=repo_pkg,
    )


if __name__ == "__main__":
    main()
