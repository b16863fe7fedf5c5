"""`core.attributes.attribute_values` equals ``__dict__``'s values, without making the
dict (which slows every later attribute access on CPython 3.11)."""

from __future__ import annotations

import gc

from happysimulator import ExponentialLatency, LatencyTracker, Server, Simulation, Source
from happysimulator.core.attributes import attribute_values
from happysimulator.core.entity import Entity


def _has_dict(obj: object) -> bool:
    """True if the instance's attributes were turned into a dict (3.11+: made on the
    first read of ``__dict__``); read through the GC, which does not make it."""
    refs = [r for r in gc.get_referents(obj) if r is not type(obj)]
    return len(refs) == 1 and type(refs[0]) is dict


class Plain:
    def __init__(self, n: int) -> None:
        for i in range(n):
            setattr(self, f"a{i}", [i] if i % 2 else f"v{i}")


class Slotted:
    __slots__ = ("s", "__p", "__dict__")

    def __init__(self) -> None:
        self.s = "slot"
        self.__p = "mangled"
        self.x = "inst"
        self.y = None


def test_attribute_values_equal_dict_values_for_many_shapes():
    for n in range(0, 12):
        obj = Plain(n)
        before = _has_dict(obj)
        vals = attribute_values(obj)
        assert sorted(map(id, vals)) == sorted(id(getattr(obj, f"a{i}")) for i in range(n))
        if n > 1:
            assert _has_dict(obj) is before is False  # (still inline)
    lone = Plain(0)
    lone.d = {"k": 1}  # a lone dict attribute: told apart by reading __dict__
    assert attribute_values(lone) == [{"k": 1}]
    gone = Plain(4)
    del gone.a1
    assert sorted(map(id, attribute_values(gone))) == sorted(
        id(getattr(gone, k)) for k in ("a0", "a2", "a3"))
    made = Plain(5)
    _ = made.__dict__  # already a dict: its values
    assert attribute_values(made) == list(made.__dict__.values())
    s = Slotted()
    assert sorted(map(id, attribute_values(s))) == sorted(map(id, ["inst", None]))


def test_a_simulation_leaves_its_entities_attributes_inline():
    server = Server("Server", service_time=ExponentialLatency(0.1))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    source = Source.poisson(rate=5.0, target=server, stop_after=2.0)
    sim = Simulation(sources=[source], entities=[server], seed=1)
    assert sink._sim is sim  # (found through the server's attributes and registered)
    sim.run()
    for e in (server, sink, source):
        assert not _has_dict(e), e


def test_registration_finds_entities_in_lists_and_tuples_as_before():
    class Holder(Entity):
        def __init__(self) -> None:
            super().__init__("H")
            self.kids = [Entity("a"), Entity("b")]
            self.pair = (Entity("c"),)
            self._hidden = Entity("d")
            self.table = {"e": Entity("e")}  # (dict values are not walked)

    h = Holder()
    sim = Simulation(entities=[h], seed=1)
    assert all(k._sim is sim for k in (*h.kids, *h.pair, h._hidden))
    assert h.table["e"]._sim is None
