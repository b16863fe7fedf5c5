"""``happysimulator.load.arrival_time_provider`` (module path of happysim 0.2.5)."""

from happysimulator.load.providers.arrivals import ArrivalTimeProvider

__all__ = ["ArrivalTimeProvider"]
