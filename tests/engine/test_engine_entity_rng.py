"""``Entity.rng`` is read through a C getter of the instance's kept stream (made on the
first read): what it answers must not change -- the entity's stream in its current
simulation, or the generator the model assigned, whenever it was assigned."""

from __future__ import annotations

import random

from happysimulator import Entity, Simulation
from happysimulator.core.random_streams import new_stream, seed_root


def test_rng_is_the_stream_of_the_current_simulation_after_a_move():
    e = Entity("mover")
    Simulation(seed=1, observability=False).add_entity(e)
    first = e.rng
    assert e.rng is first
    assert first.random() == new_stream(seed_root(1), "entity:mover").random()
    Simulation(seed=2, observability=False).add_entity(e)
    assert e.rng is not first
    assert e.rng.random() == new_stream(seed_root(2), "entity:mover").random()


def test_a_generator_assigned_after_reads_wins_and_survives_a_move():
    e = Entity("own")
    Simulation(seed=1, observability=False).add_entity(e)
    e.rng.random()
    e._stream_random()  # (the hot-path draw bound to the stream)
    mine = random.Random(7)
    e.rng = mine
    assert e.rng is mine
    assert e._stream_random() == random.Random(7).random()  # the hot path follows it
    Simulation(seed=2, observability=False).add_entity(e)
    assert e.rng is mine


def test_a_models_own_underscore_rng_attribute_is_left_alone():
    class Model(Entity):
        def __init__(self) -> None:
            super().__init__("m")
            self._rng = random.Random(3)  # (a model's private attribute of that name)

    m = Model()
    Simulation(seed=4, observability=False).add_entity(m)
    assert m.rng is not m._rng
    assert m.rng.random() == new_stream(seed_root(4), "entity:m").random()
