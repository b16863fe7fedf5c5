"""`apply_settings` is all or nothing: a setting its entity refuses undoes the ones
applied before it, so a refused fork or what-if leaves the model as it was."""

from __future__ import annotations

import pytest

from happysimulator import ExponentialLatency, Server, Simulation, Source
from happysimulator.observability.settings import SettingError, apply_settings


def model() -> tuple[Simulation, Server, Source]:
    server = Server("S", concurrency=1, service_time=ExponentialLatency(0.1))
    source = Source.poisson(rate=5.0, target=server, name="Users")
    return Simulation(sources=[source], entities=[server], end_time=10.0), server, source


def test_a_refused_setting_undoes_the_ones_before_it() -> None:
    sim, server, source = model()
    service, rate = server.service_time, source.rate
    with pytest.raises(SettingError, match="concurrency"):
        apply_settings(sim, {"S.service_time.mean": 0.2, "Users.rate": 9.0,
                             "S.concurrency": 0})
    assert server.service_time is service and server.concurrency == 1
    assert source.rate == rate
    # and the same settings without the refused one apply
    done = apply_settings(sim, {"S.service_time.mean": 0.2, "Users.rate": 9.0})
    assert len(done) == 2 and server.service_time.mean == pytest.approx(0.2)
    assert source.rate == 9.0
