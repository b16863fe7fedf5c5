"""B1 (session 8): a first answer that holds no row, because even one row is larger than
the whole budget, is refused at once with the size needed; it used to answer no rows and
a handle whose first fetch was refused."""

from __future__ import annotations

from tests.oracle.harness import run_case
from tests.oracle.repros import REPROS


def test_a_row_larger_than_the_budget_is_refused_at_once() -> None:
    assert run_case(REPROS["B1"]) == []
