"""``happysimulator.load.providers.constant_arrival`` (module path of happysim 0.2.5)."""

from happysimulator.load.providers.arrivals import ConstantArrivalTimeProvider

__all__ = ["ConstantArrivalTimeProvider"]
