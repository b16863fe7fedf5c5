"""``happysimulator.load.providers.poisson_arrival`` (module path of happysim 0.2.5)."""

from happysimulator.load.providers.arrivals import PoissonArrivalTimeProvider

__all__ = ["PoissonArrivalTimeProvider"]
