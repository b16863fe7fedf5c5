"""Run the public ``happysim`` 0.2.5 test suite (or chosen sets of it) against this package.

Usage::

    python tools/peer_suite.py PEER_CHECKOUT [--set NAME ...] [--reference-python PY] [--json OUT]

``PEER_CHECKOUT`` is a checkout of the peer project (tag ``v0.2.5``) that you obtained
yourself; this script fetches nothing.  It copies the peer's ``tests/`` tree to a temporary
directory (so that pytest's rootdir insertion cannot put the peer's own ``happysimulator``
on ``sys.path``), then runs the test files of the chosen sets (``--set``, default ``core``;
see ``SETS``; ``all`` is every test file) with ``PYTHONPATH`` pointing at this repository, and prints passed / failed /
error counts per file and per set.

``--reference-python`` (a Python >= 3.13 interpreter, which the peer needs) also runs the
same files against the peer's own package, giving the denominator for files that fail at
import here.  Tests this project deliberately answers differently (bugs of the peer it
fixes, see ``docs/compatibility.md``) are listed in ``EXCLUDED`` and reported apart.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# The peer's tests that exercise the core engine: core, load, distributions,
# instrumentation, control, tracing and the basic components.
CORE_FILES: tuple[str, ...] = (
    "test_event_cancellation.py",
    "test_event_completion_hooks.py",
    "test_simulation_time_travel_warning.py",
    "regression/test_arrival_time_regression.py",
    "unit/control/test_breakpoints.py",
    "unit/control/test_control.py",
    "unit/core/test_logical_clocks.py",
    "unit/distributions/test_distributed_field_provider.py",
    "unit/distributions/test_zipf.py",
    "unit/test_callback_entity.py",
    "unit/test_collectors.py",
    "unit/test_common_entities.py",
    "unit/test_data.py",
    "unit/test_ergonomic_api.py",
    "unit/test_event_context_stack.py",
    "unit/test_logging_config.py",
    "unit/test_node_clock.py",
    "unit/test_percentile_fitted_distribution.py",
    "unit/test_sim_future.py",
    "unit/test_simulatable_decorator.py",
    "unit/test_source_factories.py",
    "unit/test_summary.py",
    "unit/components/server/test_server.py",
    "unit/components/server/test_concurrency.py",
    "integration/core_simulation/test_increasing_concurrency.py",
    "integration/core_simulation/test_measurements_basic.py",
    "integration/core_simulation/test_sim_future_integration.py",
    "integration/core_simulation/test_simulation_basic_counter.py",
    "integration/core_simulation/test_simulation_basic_yield.py",
    "integration/core_simulation/test_simulation_control.py",
    "integration/queue_and_resources/test_compare_lifo_fifo.py",
    "integration/queue_and_resources/test_queue.py",
    "integration/queue_and_resources/test_queue_dropping.py",
    "integration/queue_and_resources/test_queue_latency.py",
    "integration/queue_and_resources/test_queued_resource.py",
    "integration/tracing/test_system_tracing.py",
    "integration/tracing/test_tracing_basic.py",
)

# Test sets by name (``--set``): each toolkit area adds its own block below.
SETS: dict[str, tuple[str, ...]] = {"core": CORE_FILES}

# ---- set "toolkit-b": queue_policies, network, faults, sync, datastore (issue 20) ------
SETS["toolkit-b"] = (
    "unit/components/queue_policies/test_adaptive_lifo.py",
    "unit/components/queue_policies/test_codel.py",
    "unit/components/queue_policies/test_deadline_queue.py",
    "unit/components/queue_policies/test_fair_queue.py",
    "unit/components/queue_policies/test_red.py",
    "unit/components/queue_policies/test_weighted_fair_queue.py",
    "unit/components/network/test_conditions.py",
    "unit/components/network/test_network.py",
    "unit/components/network/test_network_link.py",
    "unit/test_faults.py",
    "unit/test_partition_link.py",
    "unit/test_partition_validation.py",
    "unit/components/sync/test_barrier.py",
    "unit/components/sync/test_condition.py",
    "unit/components/sync/test_mutex.py",
    "unit/components/sync/test_rwlock.py",
    "unit/components/sync/test_semaphore.py",
    "unit/components/datastore/test_cache_warming.py",
    "unit/components/datastore/test_cached_store.py",
    "unit/components/datastore/test_database.py",
    "unit/components/datastore/test_eviction_policies.py",
    "unit/components/datastore/test_kv_store.py",
    "unit/components/datastore/test_multi_tier_cache.py",
    "unit/components/datastore/test_replicated_store.py",
    "unit/components/datastore/test_sharded_store.py",
    "unit/components/datastore/test_soft_ttl_cache.py",
    "unit/components/datastore/test_write_policies.py",
    "integration/network/test_fault_injection.py",
    "integration/network/test_logical_clocks_integration.py",
    "integration/network/test_network_cluster.py",
    "integration/network/test_network_topology.py",
    "integration/network/test_node_clock_integration.py",
)
# (needs `Resource`, components/resource.py: counted apart)
SETS["toolkit-b-resource"] = ("integration/queue_and_resources/test_resource_integration.py",)
# ---- end of set "toolkit-b" -------------------------------------------------------------

# ---- set "toolkit": client, resilience, rate_limiter, load_balancer, routers ------
# The peer's tests of the component toolkit (happysimulator.components.{client,
# resilience, rate_limiter, load_balancer}, the routers, and the other toolkit packages).
TOOLKIT_FILES: tuple[str, ...] = (
    "unit/components/client/test_client.py",
    "unit/components/client/test_connection_pool.py",
    "unit/components/client/test_pooled_client.py",
    "unit/components/client/test_retry.py",
    "unit/components/resilience/test_bulkhead.py",
    "unit/components/resilience/test_circuit_breaker.py",
    "unit/components/resilience/test_fallback.py",
    "unit/components/resilience/test_hedge.py",
    "unit/components/resilience/test_timeout.py",
    "unit/components/rate_limiter/test_adaptive.py",
    "unit/components/rate_limiter/test_distributed.py",
    "unit/components/rate_limiter/test_fixed_window.py",
    "unit/components/load_balancer/test_health_check.py",
    "unit/components/load_balancer/test_load_balancer.py",
    "unit/components/load_balancer/test_strategies.py",
    "unit/test_rate_limiter_policy.py",
    "unit/test_event_router.py",
    "integration/load_balancing/test_load_balancing.py",
    "integration/rate_limiting/test_inductor.py",
    "integration/rate_limiting/test_rate_limited_entity.py",
    "integration/rate_limiting/test_rate_limiter.py",
)

SETS["toolkit"] = TOOLKIT_FILES

# Peer tests whose expectation is a defect this project fixes on purpose.  Keys are
# pytest node ids relative to the peer's tests/ directory; values say which fix.  Keep
# in step with the table in docs/compatibility.md.
_PAST_END = "events past end_time: the peer runs one more event after end_time"
_STEP = "control.step(n) returns the events it processed, not a summary (design contract)"
EXCLUDED: dict[str, str] = {
    "test_simulation_time_travel_warning.py::test_simulation_logs_warning_on_time_travel":
        "time travel is an error (ValueError naming the event), not a logged warning",
    "integration/core_simulation/test_simulation_basic_counter.py::"
    "test_basic_constant_simulation": _PAST_END,
    "integration/core_simulation/test_simulation_basic_yield.py::"
    "test_basic_constant_simulation": _PAST_END,
    "integration/core_simulation/test_measurements_basic.py::"
    "test_basic_concurrency_probe": _PAST_END,
    "unit/control/test_control.py::TestStep::test_step_one": _STEP,
    "unit/control/test_control.py::TestStep::test_step_multiple": _STEP,
    "integration/core_simulation/test_simulation_control.py::test_step_through_events": _STEP,
    "unit/control/test_control.py::TestBreakpointManagement::test_add_and_list_breakpoints":
        "add_breakpoint returns the armed Breakpoint and list_breakpoints the breakpoints "
        "(design contract), not ids and (id, breakpoint) pairs",
    "unit/test_logging_config.py::TestHelperFunctions::test_get_level_default_for_invalid":
        "an unknown log level is an error naming the valid ones, not a silent INFO",
    "unit/components/server/test_concurrency.py::TestFixedConcurrency::"
    "test_release_does_not_go_negative":
        "release() without its acquire() is an error, not silently ignored",
    "unit/test_sim_future.py::TestAllOf::test_park_raises_if_already_parked":
        "any number of processes may wait on one SimFuture",
    "unit/components/rate_limiter/test_fixed_window.py::TestFixedWindowReset::"
    "test_resets_on_new_window":
        "a rate limiter's held requests keep their order: a new arrival does not overtake "
        "them when a permit frees up",
}


# ---- toolkit-b: deliberate differences (see docs/compatibility.md, "Toolkit: queue
# policies, network, faults, sync, datastore") -------------------------------------------
EXCLUDED.update({
    "unit/components/datastore/test_soft_ttl_cache.py::TestSoftTTLCacheGet::"
    "test_request_coalescing":
        "a miss that joins a load under way waits for that load's value, not a fixed "
        "read latency after which it would get the expired entry",
})
EXCLUDED["integration/network/test_fault_injection.py::test_multi_fault_scenario"] = (
    "two entities share a name (two default-named Sources): an observed simulation "
    "refuses that, since every series is keyed by entity name")
# ---- end of toolkit-b exclusions ----------------------------------------------------------

# ---- set "industrial": components.industrial and Resource (issue 21) -------------------
SETS["industrial"] = (
    "unit/components/test_resource.py",
    "unit/components/industrial/test_appointment.py",
    "unit/components/industrial/test_balking.py",
    "unit/components/industrial/test_batch_processor.py",
    "unit/components/industrial/test_breakdown.py",
    "unit/components/industrial/test_conditional_router.py",
    "unit/components/industrial/test_conveyor.py",
    "unit/components/industrial/test_gate_controller.py",
    "unit/components/industrial/test_inspection.py",
    "unit/components/industrial/test_inventory.py",
    "unit/components/industrial/test_perishable_inventory.py",
    "unit/components/industrial/test_pooled_cycle.py",
    "unit/components/industrial/test_preemptible_resource.py",
    "unit/components/industrial/test_reneging.py",
    "unit/components/industrial/test_shift_schedule.py",
    "unit/components/industrial/test_split_merge.py",
    "integration/industrial/test_inventory_supply_chain.py",
    "integration/industrial/test_manufacturing_pipeline.py",
    "integration/industrial/test_resource_management.py",
    "integration/industrial/test_scheduling_routing.py",
    "integration/industrial/test_service_operations.py",
)
# ---- end of set "industrial" ------------------------------------------------------------

# ---- set "issue20": exactly the files issue 20's "done when" lists (903 tests on 0.2.5):
# the toolkit sets above, Resource's unit tests and the core's queue_and_resources files
SETS["issue20"] = tuple(sorted({
    *SETS["toolkit"], *SETS["toolkit-b"], *SETS["toolkit-b-resource"],
    "unit/components/test_resource.py",
    *(f for f in CORE_FILES if f.startswith("integration/queue_and_resources/")),
}))

# ---- set "toolkit-more": the peer's other tests of the toolkit packages (outside the
# issue's list: its visualization tests, the Inductor's unit tests, a storage test) ------
SETS["toolkit-more"] = (
    "unit/test_inductor_unit.py",
    "integration/storage/test_soft_ttl_cache.py",
    "integration/visualization/test_advanced_datastore_visualization.py",
    "integration/visualization/test_connection_pool_visualization.py",
    "integration/visualization/test_datastore_visualization.py",
    "integration/visualization/test_load_balancer_visualization.py",
    "integration/visualization/test_lru_algorithms_visualization.py",
    "integration/visualization/test_queue_policies_visualization.py",
    "integration/visualization/test_rate_limiter_visualization.py",
    "integration/visualization/test_resilience_visualization.py",
    "integration/visualization/test_sync_visualization.py",
)
EXCLUDED["unit/test_inductor_unit.py::TestInductorBurstQueuing::test_burst_events_get_queued"] = (
    "a constant-rate source is exactly periodic here (integer nanoseconds); 0.2.5's "
    "rounding made some gaps 1 ns short, so its Inductor queued a steady stream")
# ---- end of set "toolkit-more" ----------------------------------------------------------

# ---- set "all": every test file of the peer's tests/ (its perf/ benchmarks aside) -------
# Found in the checkout at run time (an empty tuple here stands for "discover").
SETS["all"] = ()


def _discover(tests: Path) -> tuple[str, ...]:
    """Every ``test_*.py`` under the copied ``tests/`` (``perf/`` is not copied)."""
    return tuple(sorted(p.relative_to(tests).as_posix() for p in tests.rglob("test_*.py")))

def _copy_tests(peer: Path, dest: Path) -> Path:
    src = peer / "tests"
    if not src.is_dir():
        raise SystemExit(f"{peer} has no tests/ directory; pass the peer checkout root")
    target = dest / "tests"
    shutil.copytree(src, target, ignore=shutil.ignore_patterns("__pycache__", "perf"))
    return target


def _run(python: str, tests: Path, pythonpath: Path, junit: Path,
         selected: tuple[str, ...] = CORE_FILES) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(pythonpath)
    env.setdefault("MPLBACKEND", "Agg")
    files = [str(tests / f) for f in selected if (tests / f).exists()]
    cmd = [
        python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
        "--continue-on-collection-errors", f"--junitxml={junit}", "-o",
        "junit_family=xunit2", *files,
    ]
    subprocess.run(cmd, cwd=tests.parent, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)


def _node_id(case: ET.Element, selected: tuple[str, ...] = CORE_FILES) -> tuple[str, str]:
    """(file relative to tests/, node id) of one junit test case."""
    classname = case.get("classname", "")
    name = case.get("name", "")
    parts = classname.split(".")
    # classname is "tests.unit.test_data.TestX" or "tests.unit.test_data"
    if parts and parts[0] == "tests":
        parts = parts[1:]
    for cut in range(len(parts), 0, -1):
        rel = "/".join(parts[:cut]) + ".py"
        if rel in selected:
            node = "::".join([rel, *parts[cut:], name])
            return rel, node
    return "/".join(parts) + ".py", "::".join([*parts, name])


def _outcomes(junit: Path, selected: tuple[str, ...] = CORE_FILES) -> dict[str, dict[str, str]]:
    """file -> {node id: outcome}; a file that failed at import has one '<import>' node."""
    per_file: dict[str, dict[str, str]] = defaultdict(dict)
    if not junit.exists():
        return per_file
    for case in ET.parse(junit).getroot().iter("testcase"):
        tags = {child.tag for child in case}
        if not case.get("classname"):
            # A collection failure: pytest names the module, not a test.
            module = case.get("name", "").split(".")
            rel = "/".join(module[1:] if module[:1] == ["tests"] else module) + ".py"
            per_file[rel][rel + "::<import>"] = "import-error"
            continue
        rel, node = _node_id(case, selected)
        if "failure" in tags:
            outcome = "failed"
        elif "error" in tags:
            outcome = "error"
        elif "skipped" in tags:
            outcome = "skipped"
        else:
            outcome = "passed"
        per_file[rel][node] = outcome
    return per_file


def _summarise(here: dict, ref: dict | None, selected: tuple[str, ...] = CORE_FILES) -> dict:
    rows = []
    totals: Counter = Counter()
    for rel in selected:
        mine = here.get(rel, {})
        counts = Counter(mine.values())
        excluded = sum(1 for n in mine if n in EXCLUDED)
        counted = {n: o for n, o in mine.items() if n not in EXCLUDED}
        passed = sum(1 for o in counted.values() if o == "passed")
        total = len([n for n in counted if not n.endswith("::<import>")])
        if ref is not None:
            ref_nodes = [n for n in ref.get(rel, {}) if n not in EXCLUDED
                         and not n.endswith("::<import>")]
            total = max(total, len(ref_nodes))
        import_error = counts.get("import-error", 0) > 0
        ref_passed = None
        if ref is not None:
            ref_passed = sum(1 for n, o in ref.get(rel, {}).items()
                             if o == "passed" and n not in EXCLUDED)
            totals["ref_passed"] += ref_passed
        rows.append({"file": rel, "passed": passed, "total": total, "ref_passed": ref_passed,
                     "failed": counts.get("failed", 0) + counts.get("error", 0),
                     "skipped": counts.get("skipped", 0), "excluded": excluded,
                     "import_error": import_error})
        totals["passed"] += passed
        totals["total"] += total
        totals["excluded"] += excluded
        totals["import_errors"] += int(import_error)
    return {"files": rows, "totals": dict(totals)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("peer", type=Path, help="root of a checkout of the peer project")
    ap.add_argument("--python", default=sys.executable,
                    help="interpreter that runs the suite against this package")
    ap.add_argument("--reference-python", default=None,
                    help="Python >= 3.13 to run the same files against the peer itself")
    ap.add_argument("--json", type=Path, default=None, help="also write counts here")
    ap.add_argument("--set", dest="sets", action="append", choices=sorted(SETS),
                    help="test set(s) to run (default: core); repeatable")
    args = ap.parse_args(argv)
    reports = {}
    for name in args.sets or ["core"]:
        print(f"== set {name}")
        reports[name] = _run_set(args, SETS[name])
    if args.json:
        args.json.write_text(json.dumps(reports if len(reports) > 1 else
                                        next(iter(reports.values())), indent=2))
    return 0


def _run_set(args: argparse.Namespace, selected: tuple[str, ...]) -> dict:
    with tempfile.TemporaryDirectory(prefix="peer-suite-") as tmp:
        tests = _copy_tests(args.peer.resolve(), Path(tmp))
        selected = selected or _discover(tests)
        junit = Path(tmp) / "here.xml"
        _run(args.python, tests, REPO, junit, selected)
        here = _outcomes(junit, selected)
        ref = None
        if args.reference_python:
            ref_junit = Path(tmp) / "ref.xml"
            _run(args.reference_python, tests, args.peer.resolve(), ref_junit, selected)
            ref = _outcomes(ref_junit, selected)
    report = _summarise(here, ref, selected)
    width = max(len(r["file"]) for r in report["files"])
    print(f"{'file':<{width}}  passed/total  failed  skipped  excluded  peer passes")
    for r in report["files"]:
        note = "  (import error)" if r["import_error"] else ""
        ref = "" if r["ref_passed"] is None else f"{r['ref_passed']:>11}"
        print(f"{r['file']:<{width}}  {r['passed']:>6}/{r['total']:<5}  {r['failed']:>6}"
              f"  {r['skipped']:>7}  {r['excluded']:>8}  {ref}{note}")
    t = report["totals"]
    if "ref_passed" in t:
        _print_gaps(report)
        print(f"the peer itself passes {t['ref_passed']} of these {t['total']}")
    elif t["import_errors"]:
        print("(files failing at import count only what was collected: pass "
              "--reference-python for the peer's own test counts)")
    pct = 100.0 * t["passed"] / t["total"] if t["total"] else 0.0
    print(f"TOTAL {t['passed']}/{t['total']} passed ({pct:.1f} %), "
          f"{t['excluded']} excluded as deliberate differences, "
          f"{t['import_errors']} of {len(selected)} files fail at import")
    return report


def _print_gaps(report: dict, top: int = 25) -> None:
    """The files where this package passes fewest of the tests the peer passes."""
    gaps = sorted(((r["ref_passed"] - r["passed"], r) for r in report["files"]
                   if r["ref_passed"] is not None and r["ref_passed"] > r["passed"]),
                  key=lambda g: (-g[0], g[1]["file"]))
    if not gaps:
        return
    print(f"\nbiggest gaps (tests the peer passes and this package does not), top {top}:")
    for gap, r in gaps[:top]:
        note = "  (import error)" if r["import_error"] else ""
        print(f"  {gap:>5}  {r['file']}{note}")
    print()


if __name__ == "__main__":
    raise SystemExit(main())
