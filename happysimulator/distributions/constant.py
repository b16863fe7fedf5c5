"""``happysimulator.distributions.constant`` (module path of happysim 0.2.5)."""

from happysimulator.distributions.latency_distribution import ConstantLatency

__all__ = ["ConstantLatency"]
