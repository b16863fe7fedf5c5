"""Latency distributions (drawing from the caller's stream, e.g. a component's
``self.rng``) and value distributions."""

from happysimulator.distributions.distribution_type import DistributionType
from happysimulator.distributions.latency_distribution import (
    CallableLatency,
    ConstantLatency,
    ExponentialLatency,
    LatencyDistribution,
    UniformLatency,
    as_distribution,
)
from happysimulator.distributions.percentile_fitted import PercentileFittedLatency
from happysimulator.distributions.uniform import UniformDistribution
from happysimulator.distributions.value_distribution import ValueDistribution
from happysimulator.distributions.zipf import ZipfDistribution

__all__ = [
    "CallableLatency",
    "ConstantLatency",
    "DistributionType",
    "ExponentialLatency",
    "LatencyDistribution",
    "PercentileFittedLatency",
    "UniformDistribution",
    "UniformLatency",
    "ValueDistribution",
    "ZipfDistribution",
    "as_distribution",
]
