"""Names of arrival-process shapes (for configuration without importing classes)."""

from enum import Enum, auto


class DistributionType(Enum):
    POISSON = auto()
    CONSTANT = auto()


__all__ = ["DistributionType"]
