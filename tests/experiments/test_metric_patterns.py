"""`replicate`/`sweep` refuse a ``metrics=`` pattern no series of any run matches (a typo
would return an empty result) naming the known series, and a confidence ``level`` outside
(0, 1) up front; patterns that match (names or globs) work as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from happysimulator.experiments import load, replicate, sweep

MMC = f"{Path(__file__).with_name('models.py')}:mmc"
_KW = dict(executor="serial", params={"customers": 60})


def test_a_pattern_matching_nothing_is_refused_naming_the_series() -> None:
    with pytest.raises(KeyError, match=r"\['wiat_\*'\].*known: .*wait_time"):
        replicate(MMC, n=2, metrics=["wait_time", "wiat_*"], **_KW)
    with pytest.raises(KeyError, match="nope"):
        sweep(MMC, {"rate": [5.0, 6.0]}, replications=1, metrics="nope", executor="serial",
              params={"customers": 60})


def test_matching_patterns_and_globs_still_work(tmp_path) -> None:
    reps = replicate(MMC, n=2, metrics=["wait_*", "queue_depth"], **_KW)
    assert {m for _, m, *_ in reps.runs[0].scalars} == {"wait_time", "queue_depth"}
    assert "service_time" in reps.runs[0].series  # (known, not selected)
    reps.save(tmp_path / "r")
    assert load(tmp_path / "r").runs[0].series == reps.runs[0].series


@pytest.mark.parametrize("level", [1.5, 0.0, 1.0, float("nan")])
def test_a_level_outside_0_1_is_refused_before_any_run(level: float) -> None:
    with pytest.raises(ValueError, match=r"confidence level must be in \(0, 1\)"):
        replicate("no/such/file.py:build", n=2, level=level, **_KW)
    with pytest.raises(ValueError, match=r"confidence level must be in \(0, 1\)"):
        sweep("no/such/file.py:build", {"rate": [1.0]}, level=level, executor="serial")
