"""Random streams by purpose: every source and entity draws from its own stream (seed +
name), so runs with the same seed share arrivals and service times draw for draw."""

from __future__ import annotations

import random

import numpy as np
import pytest

from happysimulator import Entity, ExponentialLatency, Server, Simulation, Source
from happysimulator.core.random_streams import new_stream, seed_root
from tests.models import mm_server


def _series(sim, name: str, entity: str) -> tuple[np.ndarray, np.ndarray]:
    rows = sim.query.metrics(name).from_entity(entity).execute().rows
    return (np.array([r["time"] for r in rows]), np.array([r["value"] for r in rows]))


def test_service_rate_change_keeps_arrivals_and_scales_services_draw_for_draw() -> None:
    """mu 10 vs 10.5 with one seed: the same arrival instants, and the i-th service time
    is the same Exp(1) draw divided by mu (up to the nanosecond rounding)."""
    a = mm_server(seed=3, rate=8.0, mean_service=1 / 10, limit=400)
    b = mm_server(seed=3, rate=8.0, mean_service=1 / 10.5, limit=400)
    a.run()
    b.run()
    ta, _ = _series(a, "generated", "Source")
    tb, _ = _series(b, "generated", "Source")
    assert len(ta) == 400 and np.array_equal(ta, tb)
    _, sa = _series(a, "service_time", "Server")
    _, sb = _series(b, "service_time", "Server")
    assert len(sa) == len(sb) == 400
    np.testing.assert_allclose(sa * 10.0, sb * 10.5, atol=2e-8 * 10.5)


def test_entity_rng_is_its_own_stream_derived_from_seed_and_name() -> None:
    sim = mm_server(seed=5, limit=10)
    server = next(e for e in sim.entities if e.name == "Server")
    source = sim.sources[0]
    assert server.rng is server.rng  # one stream, kept
    assert server.rng is not source.rng and server.rng is not sim.rng
    expected = new_stream(seed_root(5), "entity:Server")
    assert [server.rng.random() for _ in range(3)] == [expected.random() for _ in range(3)]
    # another seed, another stream
    other = mm_server(seed=6, limit=10)
    o = next(e for e in other.entities if e.name == "Server")
    assert o.rng.random() != new_stream(seed_root(5), "entity:Server").random()


def test_draws_of_one_entity_do_not_move_another_entitys_stream() -> None:
    """An extra consumer of random numbers (model code on sim.rng, another entity) leaves
    the server's and the source's draws unchanged."""
    a = mm_server(seed=9, limit=200)
    b = mm_server(seed=9, limit=200)
    for _ in range(1000):
        b.rng.random()
    noisy = Server("Noisy", service_time=ExponentialLatency(0.1))
    b.add_entity(noisy)
    for _ in range(50):
        noisy.rng.random()
    a.run()
    b.run()
    assert np.array_equal(_series(a, "latency", "Sink")[1], _series(b, "latency", "Sink")[1])


def test_entities_sharing_a_name_get_distinct_streams() -> None:
    sim = Simulation(seed=1, observability=False)
    e1, e2 = Entity("twin"), Entity("twin")
    sim.add_entity(e1)
    sim.add_entity(e2)
    assert e1.rng.random() != e2.rng.random()


def test_an_assigned_rng_is_used_and_sim_rng_stays_for_model_code() -> None:
    class Own(Entity):
        def __init__(self) -> None:
            super().__init__("own")
            self.rng = random.Random(7)

    sim = Simulation(seed=1, observability=False)
    e = Own()
    sim.add_entity(e)
    assert e.rng.random() == random.Random(7).random()
    assert e._stream_random() == _second(random.Random(7))  # the hot-path draw follows it too
    assert sim.rng.random() == random.Random(1).random()  # sim.rng: seeded by the seed
    a = Simulation(seed=1, observability=False).random_stream("retries")
    b = Simulation(seed=1, observability=False).random_stream("retries")
    assert a.random() == b.random()
    with pytest.raises(TypeError, match="purpose must be a str"):
        sim.random_stream(3)  # type: ignore[arg-type]


def _second(r: random.Random) -> float:
    r.random()
    return r.random()


def test_an_entity_moved_to_another_simulation_takes_that_seed() -> None:
    e = Entity("mover")
    Simulation(seed=1, observability=False).add_entity(e)
    first = e._stream_random()
    Simulation(seed=2, observability=False).add_entity(e)
    assert e._stream_random() == new_stream(seed_root(2), "entity:mover").random()
    assert first == new_stream(seed_root(1), "entity:mover").random()


def test_source_stream_is_named_after_the_source() -> None:
    """A Source's arrivals depend on its name only: a renamed source draws other gaps."""
    def arrivals(name: str) -> np.ndarray:
        server = Server("Server", service_time=ExponentialLatency(0.01))
        src = Source.poisson(rate=5.0, target=server, limit=20, name=name)
        sim = Simulation(sources=[src], entities=[server], seed=4)
        sim.run()
        return _series(sim, "generated", name)[0]

    assert np.array_equal(arrivals("A"), arrivals("A"))
    assert not np.array_equal(arrivals("A"), arrivals("B"))
