"""Latency distributions (seeded from the simulation's RNG)."""

from happysimulator.distributions.latency_distribution import (
    CallableLatency,
    ConstantLatency,
    ExponentialLatency,
    LatencyDistribution,
    UniformLatency,
    as_distribution,
)

__all__ = [
    "CallableLatency",
    "ConstantLatency",
    "ExponentialLatency",
    "LatencyDistribution",
    "UniformLatency",
    "as_distribution",
]
