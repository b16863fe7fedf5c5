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


def test_a_parts_plain_attributes_are_checked_by_its_constructor() -> None:
    """A retry policy's delays have no setter: the values it would hold are checked by
    rebuilding it (its constructor's checks), and refused ones change nothing."""
    from happysimulator.components.client import Client, ExponentialBackoff

    server = Server("S", service_time=ExponentialLatency(0.1))
    policy = ExponentialBackoff(max_attempts=3, initial_delay=0.1, max_delay=2.0)
    client = Client("Client", server, timeout=1.0, retry_policy=policy)
    sim = Simulation(sources=[Source.poisson(rate=5.0, target=client, name="Users")],
                     entities=[server, client], end_time=10.0)
    for setting, says in [({"Client.retry_policy.initial_delay": -5.0}, "initial_delay"),
                          ({"Client.retry_policy.multiplier": 0.0}, "multiplier"),
                          ({"Client.retry_policy.max_delay": 0.05}, "max_delay"),
                          ({"Client.retry_policy.max_attempts": 2,
                            "Client.retry_policy.jitter": -1.0}, "jitter")]:
        with pytest.raises(SettingError, match=says) as info:
            apply_settings(sim, setting)
        assert str(info.value).startswith("Client.retry_policy: ")
        assert (policy.initial_delay, policy.max_delay, policy.multiplier, policy.jitter,
                policy.max_attempts) == (0.1, 2.0, 2.0, 0.0, 3)
    assert apply_settings(sim, {"Client.retry_policy.initial_delay": 0.2}) == [
        "Client.retry_policy.initial_delay: 0.1 -> 0.2"]
