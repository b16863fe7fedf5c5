"""A fetch whose next row alone exceeds the budget is refused with its remedy (a larger
budget_bytes, same handle and offset); the oracle takes the remedy and checks that the
rest of the answer then arrives, nothing lost, equal to the reference (fuzz seed 2029,
session 13: the oracle called the refusal a crash)."""

from __future__ import annotations

from tests.oracle.harness import Case, run_case
from tests.oracle.models import ModelSpec


def test_a_refused_fetch_is_followed_with_a_larger_budget_and_the_rows_agree() -> None:
    model = ModelSpec(seed=3, arrivals="poisson", rate=4.0, limit=40, start_time=1e9,
                      concurrency=2, service="exp", service_mean=1.0, queue_capacity=None,
                      router=False, worker=False, worker_service=0.0, cancels=(),
                      raise_at=None, probe=True, client_attempts=3, client_timeout=1.0,
                      client_backoff=True, balancer=False)
    query = {"kind": "metrics", "name": "*", "entity": "Server", "start": ("start", 0.5),
             "end": ("start", 5.0), "aggregates": ["stddev", "p99.9", "p90", "p50"],
             "window": 0.5, "group_by": ["name"]}
    case = Case(model=model, config="default", schedule=(("step", 6),), queries=(query,),
                interface="json", budget=600, live=None, hostile=())
    assert run_case(case) == []
