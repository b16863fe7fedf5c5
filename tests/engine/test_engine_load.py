"""Profiles and sources."""

import math

import pytest
from engine_testkit import make_sim

from happysimulator import Profile, Sink, Source


def test_profile_rates():
    ramp = Profile.linear(0.0, 10.0, 10.0)
    assert ramp.rate(5.0) == pytest.approx(5.0)
    assert ramp.rate(20.0) == 10.0 and ramp.rate(-1.0) == 0.0
    step = Profile.step([(0.0, 1.0), (5.0, 3.0)])
    assert step.rate(4.999) == 1.0 and step.rate(5.0) == 3.0
    with pytest.raises(ValueError):
        Profile([(0.0, -1.0)])


def test_profile_advance_integrates_rate():
    ramp = Profile.linear(0.0, 10.0, 10.0)  # integral up to t is t^2 / 2
    assert ramp.advance(0.0, 2.0) == pytest.approx(2.0)
    step = Profile.step([(0.0, 0.0), (3.0, 2.0)])
    assert step.advance(0.0, 1.0) == pytest.approx(3.5)
    assert Profile.step([(0.0, 1.0), (2.0, 0.0)]).advance(0.0, 5.0) is None


def test_constant_source_counts():
    sink = Sink()
    src = Source.constant(rate=10.0, target=sink, stop_after=10.0)
    make_sim(sources=[src], entities=[sink]).run()
    assert sink.count == 100
    assert sink.data.times()[0] == pytest.approx(0.1)


def test_profiled_poisson_follows_integral():
    """Linear ramp 0 -> 100/s over 20 s: expected 1000 arrivals, 500 in the last 5 s..."""
    sink = Sink()
    src = Source.with_profile(Profile.linear(0.0, 100.0, 20.0), sink, stop_after=20.0)
    make_sim(sources=[src], entities=[sink], seed=8).run()
    n = sink.count
    assert abs(n - 1000) < 4 * math.sqrt(1000)
    first_half = sink.data.between(0.0, 10.0).count()  # expected 250
    assert abs(first_half - 250) < 4 * math.sqrt(250)


def test_deterministic_profile_source():
    sink = Sink()
    src = Source.with_profile(
        Profile.step([(0.0, 2.0), (5.0, 4.0)]), sink, poisson=False, stop_after=10.0
    )
    make_sim(sources=[src], entities=[sink]).run()
    assert sink.count == 10 + 20


def test_source_needs_target_and_positive_rate():
    with pytest.raises(ValueError):
        Source.poisson(rate=0.0, target=Sink())
