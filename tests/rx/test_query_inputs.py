"""Inputs are never reinterpreted: bad values give a clear error naming what is valid."""

import math

import pytest

from happysim_rx import ManualClock, MetricStore, ObservationBus, Query, QueryEngine, QueryError
from operators.aggregators import canonical_aggregate, parse_quantile


def engine():
    clock = ManualClock()
    bus = ObservationBus(clock)
    bus.attach_store(MetricStore())
    t = bus.metric("S", "lat", "sample")
    for i in range(101):
        t.emit(float(i), float(i))
    clock.advance_to(100.0)
    return QueryEngine(bus)


@pytest.mark.parametrize("bad", ["p101", "p1000", "p100.5", "p050", "p-1", "p", "p99x"])
def test_out_of_range_percentiles_are_errors(bad):
    assert parse_quantile(bad) is None
    with pytest.raises(QueryError, match="p0..p100"):
        engine().metrics("lat").aggregate(bad)


@pytest.mark.parametrize("spec,q", [("p0", 0.0), ("p5", 0.05), ("p100", 1.0), ("p99.9", 0.999),
                                    ("p999", 0.999), ("p9999", 0.9999), ("p100.0", 1.0)])
def test_valid_percentiles(spec, q):
    assert parse_quantile(spec) == pytest.approx(q)
    r = engine().metrics("lat").between(0, 101).aggregate(spec).execute()
    assert r.scalar == pytest.approx(100 * q)


def test_aliases_are_canonical_everywhere():
    r = engine().metrics("lat").aggregate("avg", "Median", " P99 ", "average").execute()
    assert r.aggregates == ["mean", "p50", "p99"]
    assert r.value("avg") == r.value("mean") == r.value("average") == 50.0
    assert r.value("median") == 50.0 and r.value("p99") == r.value("P99") == 99.0
    assert canonical_aggregate("std") == "stddev"
    with pytest.raises(QueryError, match="not computed"):
        r.value("max")
    with pytest.raises(TypeError, match="must be a string"):
        engine().metrics("lat").aggregate(99)


def test_from_dict_checks_every_field_like_the_builder():
    eng = engine()
    ok = {"kind": "metrics", "name": "lat", "aggregates": ["p99"]}
    assert eng.execute(ok).scalar == pytest.approx(99.0)
    bad = [
        ({"weighting": "foo"}, "weighting must be 'time' or 'sample'"),
        ({"limit": -1}, "non-negative int"),
        ({"limit": "x"}, "non-negative int"),
        ({"limit": True}, "non-negative int"),
        ({"aggregates": "p99"}, r"must be a list of strings.*\['p99'\]"),
        ({"group_by": "entity"}, "must be a list of strings"),
        ({"name": 123}, "non-empty string"),
        ({"start": "a", "end": 5}, "seconds"),
        ({"end": math.nan}, "NaN"),
        ({"window": -1}, "positive"),
        ({"entity": 5}, "non-empty string"),
        ({"kind": "metric"}, "kind must be one of"),
        ({"bogus": 1}, "unknown query fields"),
        ({"tags": [1]}, "tags must be"),
    ]
    for patch, msg in bad:
        with pytest.raises(QueryError, match=msg):
            eng.execute({**ok, **patch})
    with pytest.raises(QueryError, match="needs a kind"):
        Query.from_dict({"name": "lat"})
    with pytest.raises(QueryError, match="weighting must be"):
        eng.metrics("lat").weighting("foo")


def test_round_trip_survives_validation():
    q = engine().metrics("lat").from_entity("S").between(0, 50).window(10).group_by("entity") \
        .aggregate("avg", "p99").limit(3).weighting("sample")
    assert Query.from_dict(q.to_dict()).to_dict() == q.to_dict()
    assert Query.from_json(q.to_json()).to_dict()["aggregates"] == ["mean", "p99"]
