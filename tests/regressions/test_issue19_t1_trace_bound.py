"""Issue 19, T1 (found by the oracle's fuzzer): a bounded trace store evicted its oldest
traces when it was read; a pause reads it, so it could evict a request still in flight,
whose later spans then came back as a new, partial trace. A run paused and resumed kept
more spans than the uninterrupted one (36 for 27), or fewer (11 for 16).

The bound is now decided span by span in the order spans come, and an evicted trace's
later spans are dropped: the tiny (16-trace) store of a paused, stepped, broken-into run
equals the uninterrupted run's, and every spans answer holds against the oracle (an
answer stated exact equals brute force over the range it states)."""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.oracle.harness import Case, run_case
from tests.oracle.repros import REPROS
from tests.oracle.strategies import models, record_queries, schedules


def test_the_fuzzers_two_finds_hold():
    for key in ("T1", "T1b"):
        assert run_case(REPROS[key]) == [], key


_spans = record_queries().filter(lambda q: q["kind"] == "spans")


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
@given(models(), schedules().filter(bool), st.lists(_spans, min_size=1, max_size=3),
       st.sampled_from(["python", "json"]))
def test_a_paused_tiny_trace_store_equals_the_uninterrupted_one(model, schedule, qs, how):
    case = Case(model, "tiny", schedule=schedule, queries=tuple(qs), interface=how)
    mismatches = run_case(case)
    assert not mismatches, "\n".join([m.detail for m in mismatches[:3]] + [case.describe()])
