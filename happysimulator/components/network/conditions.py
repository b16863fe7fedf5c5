"""Link presets for common network conditions (latency, bandwidth, loss, jitter)."""

from __future__ import annotations

from happysimulator.components.network.link import NetworkLink
from happysimulator.distributions.latency_distribution import (
    ConstantLatency,
    ExponentialLatency,
)


def _link(name: str, latency_s: float, bandwidth_bps: float | None, loss: float,
          jitter_mean_s: float | None, constant_jitter: bool = False) -> NetworkLink:
    jitter = None
    if jitter_mean_s is not None:
        jitter = (ConstantLatency(jitter_mean_s) if constant_jitter
                  else ExponentialLatency(jitter_mean_s))
    return NetworkLink(name=name, latency=ConstantLatency(latency_s),
                       bandwidth_bps=bandwidth_bps, packet_loss_rate=loss, jitter=jitter)


def local_network(name: str = "local") -> NetworkLink:
    """Same host / rack: 0.1 ms, 1 Gbps, no loss, no jitter."""
    return _link(name, 0.0001, 1e9, 0.0, None)


def datacenter_network(name: str = "datacenter") -> NetworkLink:
    """Within a datacenter: 0.5 ms + 0.1 ms jitter, 10 Gbps, no loss."""
    return _link(name, 0.0005, 10e9, 0.0, 0.0001, constant_jitter=True)


def cross_region_network(name: str = "cross_region") -> NetworkLink:
    """Between regions: 50 ms + exponential jitter (mean 5 ms), 1 Gbps, 0.01 % loss."""
    return _link(name, 0.050, 1e9, 0.0001, 0.005)


def internet_network(name: str = "internet") -> NetworkLink:
    """Over the internet: 100 ms + jitter (mean 20 ms), 100 Mbps, 0.1 % loss."""
    return _link(name, 0.100, 100e6, 0.001, 0.020)


def satellite_network(name: str = "satellite") -> NetworkLink:
    """Geostationary satellite: 600 ms + jitter (mean 50 ms), 10 Mbps, 0.5 % loss."""
    return _link(name, 0.600, 10e6, 0.005, 0.050)


def lossy_network(loss_rate: float, name: str = "lossy",
                  base_latency: float = 0.010) -> NetworkLink:
    """A link losing ``loss_rate`` of its packets (``base_latency`` s, 100 Mbps)."""
    if not 0.0 <= loss_rate <= 1.0:
        raise ValueError(f"loss_rate must be in [0, 1], got {loss_rate!r}")
    return _link(name, base_latency, 100e6, loss_rate, None)


def slow_network(latency_seconds: float, name: str = "slow",
                 bandwidth_bps: float = 1_000_000) -> NetworkLink:
    """A slow link: ``latency_seconds``, ``bandwidth_bps`` (1 Mbps), no loss."""
    return _link(name, latency_seconds, bandwidth_bps, 0.0, None)


def mobile_3g_network(name: str = "mobile_3g") -> NetworkLink:
    """3G: 100 ms + jitter (mean 30 ms), 2 Mbps, 0.5 % loss."""
    return _link(name, 0.100, 2e6, 0.005, 0.030)


def mobile_4g_network(name: str = "mobile_4g") -> NetworkLink:
    """4G: 50 ms + jitter (mean 15 ms), 20 Mbps, 0.1 % loss."""
    return _link(name, 0.050, 20e6, 0.001, 0.015)


__all__ = [
    "cross_region_network",
    "datacenter_network",
    "internet_network",
    "local_network",
    "lossy_network",
    "mobile_3g_network",
    "mobile_4g_network",
    "satellite_network",
    "slow_network",
]
