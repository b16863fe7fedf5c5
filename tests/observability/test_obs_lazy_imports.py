"""Import cost guards: `import happysimulator` and a first default simulation load only
what they use (benchmarks/bench_observers.py ``import:*`` measures the time), and the
lazily resolved package namespaces still give every public name."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# never needed by `import happysimulator` nor by a default run that nobody subscribes to
NOT_FOR_A_DEFAULT_RUN = (
    "reactivex", "asyncio", "river", "pyarrow", "pandas", "polars", "duckdb", "matplotlib",
    "logging.handlers",
    "operators.windows", "operators.anomaly", "operators.rates",
    "happysim_rx.scheduler", "happysim_rx.subject", "happysim_rx.export",
    "happysim_rx.stores.streaming", "happysim_rx.html", "glob",
    "happysimulator.observability.json_api", "happysimulator.observability.protocol",
    "happysimulator.observability.web", "happysimulator.observability.export",
    "happysimulator.observability.anomaly", "happysimulator.observability.instrumented",
)
# ... and not by the import itself
NOT_FOR_THE_IMPORT = NOT_FOR_A_DEFAULT_RUN + (
    "numpy", "msgspec", "happysim_rx", "happysimulator.observability",
)
# the engine's time converts through the bottom layer's one conversion
# (`operators.simtime`, math only); nothing else of `operators` loads with the import
OPERATORS_FOR_THE_IMPORT = ("operators", "operators._lazy", "operators.simtime")

_PROBE = """
import json, sys
import happysimulator as hs
imported = sorted(sys.modules)
server, sink = hs.Server("Server"), hs.LatencyTracker("Sink")
server.downstream = sink
source = hs.Source.poisson(rate=8.0, target=server, stop_after=5.0)
sim = hs.Simulation(sources=[source], entities=[server, sink], seed=42)
summary = sim.run()
ran = sorted(sys.modules)
n = sim.query.metrics("latency").aggregate("count").execute().scalar
print(json.dumps({"imported": imported, "ran": ran, "stop": summary.stop_reason,
                  "count": n, "sink": sink.count}))
"""


def _loaded(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return [n for n in names if n in modules]


@pytest.fixture(scope="module")
def probe() -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


def test_import_happysimulator_leaves_observability_and_its_dependencies_for_later(probe):
    assert _loaded(probe["imported"], NOT_FOR_THE_IMPORT) == []
    assert [m for m in probe["imported"] if m.split(".")[0] == "operators"
            and m not in OPERATORS_FOR_THE_IMPORT] == []


def test_a_default_run_nobody_subscribes_to_imports_no_rx_nor_optional_parts(probe):
    assert probe["stop"] == "complete"
    assert _loaded(probe["ran"], NOT_FOR_A_DEFAULT_RUN) == []
    # what the run recorded is all there when read
    assert probe["count"] == probe["sink"] > 0


def test_subscribing_brings_reactivex_and_the_simulated_time_scheduler():
    code = """
import sys
import happysimulator as hs
sink = hs.LatencyTracker("Sink")
source = hs.Source.poisson(rate=8.0, target=sink, stop_after=5.0)
sim = hs.Simulation(sources=[source], entities=[sink], seed=1)
assert "reactivex" not in sys.modules
seen = []
sim.observations.metrics("latency").subscribe(lambda o: seen.append(o.value))
assert "reactivex" in sys.modules
from happysim_rx import SimulatedTimeScheduler
assert isinstance(sim.scheduler, SimulatedTimeScheduler)
assert sim.scheduler is sim.observations.scheduler is sim.observability_runtime.scheduler
sim.run()
assert len(seen) == sink.count > 0, (len(seen), sink.count)
try:
    hs.Simulation(observability=False).scheduler
except AttributeError as exc:
    assert "scheduler" in str(exc)
else:
    raise AssertionError("a plain engine has no scheduler")
print("ok")
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


@pytest.mark.parametrize("package", [
    "operators", "happysim_rx", "happysim_rx.stores", "happysimulator.observability"])
def test_lazy_namespaces_give_every_public_name(package):
    mod = importlib.import_module(package)
    assert set(mod._EXPORTS) == set(mod.__all__), package
    for name in mod.__all__:
        where = mod._EXPORTS[name]
        where = where if where.startswith(("happysim", "operators")) else f"{package}.{where}"
        assert getattr(mod, name) is getattr(importlib.import_module(where), name), name
    assert set(mod.__all__) <= set(dir(mod))
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = mod.no_such_name
    ns: dict = {}
    exec(f"from {package} import *", ns)  # noqa: S102 - the star import users may write
    assert set(mod.__all__) <= set(ns)


def test_submodules_are_attributes_of_their_package_as_before():
    """A package that imported its modules eagerly had them as attributes; the lazy
    ones give them on access (in a fresh process: nothing imported them yet)."""
    code = """
import operators, happysim_rx, happysimulator.observability as obs
assert operators.windows.tumbling_window is operators.tumbling_window
assert happysim_rx.stores.MetricStore is happysim_rx.MetricStore
assert happysim_rx.scheduler.SimulatedTimeScheduler is happysim_rx.SimulatedTimeScheduler
assert obs.web.DebugServer is obs.DebugServer
assert obs.protocol.SessionProtocol.__name__ == "SessionProtocol"
assert not hasattr(operators, "no_such_module") and not hasattr(obs, "no_such_module")
print("ok")
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_a_disabled_run_that_records_nothing_never_imports_numpy():
    """numpy's import starts OpenBLAS threads that spin on the other core during the run:
    a `disabled()` run (standard components and a user-written model with a generator
    handler and an `InstrumentedEntity`) must not load it; the first query does."""
    code = """
import sys
import happysimulator as hs
from happysimulator.observability import InstrumentedEntity, ObservabilityConfig

class Worker(hs.QueuedResource):
    def handle_queued_event(self, event):
        yield 0.05
        return self.forward(event, rec)

class Recorder(InstrumentedEntity):
    def handle_event(self, event):
        self.observe("latency", (self.now - event.context["created_at"]).to_seconds())

server, sink, rec = hs.Server("Server"), hs.LatencyTracker("Sink"), Recorder("Rec")
server.downstream = sink
worker = Worker("Worker")
sims = [hs.Simulation(sources=[hs.Source.poisson(rate=8.0, target=t, stop_after=5.0)],
                      entities=es, seed=1, observability=ObservabilityConfig.disabled())
        for t, es in ((server, [server, sink]), (worker, [worker, rec]))]
for sim in sims:
    assert sim.run().stop_reason == "complete"
assert sink.count > 0 and worker.completed > 0
assert "numpy" not in sys.modules, "a disabled run imported numpy"
try:
    sims[0].query.metrics("latency").aggregate("count").execute()
except Exception as exc:  # nothing recorded: a clear error, from the query engine
    assert "disabled" in str(exc), exc
assert "numpy" in sys.modules
print("ok")
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
