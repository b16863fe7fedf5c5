"""`Simulation.run(progress=True)`: a bar of simulated time and events/s that changes
nothing the run records."""

from __future__ import annotations

import re

import pytest

from happysimulator import Simulation
from tests.models import mm_server


def build(end_time: float | None = 200.0) -> Simulation:
    return mm_server(seed=4, rate=8.0, mean_service=0.1, stop_after=150.0, end_time=end_time)


@pytest.mark.parametrize("end_time", [200.0, None])
def test_progress_bar_shows_sim_time_and_changes_nothing(end_time, capsys) -> None:
    pytest.importorskip("tqdm")
    plain, shown = build(end_time), build(end_time)
    a = plain.run()
    b = shown.run(progress=True)
    err = capsys.readouterr().err
    assert "simulating" in err and "events/s" in err and "t=" in err
    if end_time is not None:
        assert re.search(r"200(\.0)?/200", err)  # simulated seconds up to end_time
    assert (a.stop_reason, a.end_time_s, a.total_events_processed) == \
        (b.stop_reason, b.end_time_s, b.total_events_processed)
    for name in ("latency", "queue_depth"):
        assert plain.query.metrics(name).execute().rows == shown.query.metrics(name).execute().rows
    assert shown.control.get_state().heap_size == plain.control.get_state().heap_size


def test_progress_false_and_bad_values() -> None:
    sim = build()
    sim.run(until=10.0, progress=False)
    with pytest.raises(TypeError, match="progress must be True, False or None"):
        sim.run(progress="yes")  # type: ignore[arg-type]
