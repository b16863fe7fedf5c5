"""How a `LoadBalancer` picks a backend: ``select(backends, request) -> backend | None``.

``backends`` are the healthy ones, in the order they were added. Randomized strategies
draw from ``rng``, which the load balancer sets to its own random stream (the
simulation's, so seeded runs reproduce); alone they use a private generator seeded
with 0, never the global ``random`` module.
"""

from __future__ import annotations

import bisect
import hashlib
import random
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from happysimulator.core.entity import Entity
from happysimulator.core.event import Event

_KEYS = ("client_id", "client_ip", "session_id", "user_id")


@runtime_checkable
class LoadBalancingStrategy(Protocol):
    """Picks one of ``backends`` for ``request`` (None: none fits)."""

    def select(self, backends: list[Entity], request: Event) -> Entity | None: ...


class _Randomized:
    rng: random.Random | None = None

    def _random(self) -> random.Random:
        if self.rng is None:
            self.rng = random.Random(0)
        return self.rng


def backend_load(backend: Any) -> int:
    """Requests outstanding at ``backend``: a queued resource's waiting plus in-service
    ones, else its ``active_connections`` / ``active_requests`` / ``in_flight_count`` /
    ``stats.active_requests``, else 0."""
    depth = getattr(backend, "depth", None)
    in_flight = getattr(backend, "in_flight", None)
    if type(depth) is int and type(in_flight) is int:
        return depth + in_flight
    for attr in ("active_connections", "active_requests", "in_flight_count"):
        value = getattr(backend, attr, None)
        if value is not None and not callable(value):
            return value
    stats = getattr(backend, "stats", None)
    value = getattr(stats, "active_requests", None)
    return value if isinstance(value, int) else 0


def request_key(request: Event, keys: tuple[str, ...] = _KEYS) -> str | None:
    """The first of ``keys`` found in the request's metadata, as a string."""
    meta = request.context.get("metadata", {})
    for key in keys:
        if key in meta:
            return str(meta[key])
    return None


def _hash(key: str) -> int:
    return int.from_bytes(hashlib.md5(key.encode()).digest(), "big")


class RoundRobin:
    """Each backend in turn."""

    def __init__(self) -> None:
        self._index = 0

    def select(self, backends: list[Entity], request: Event) -> Entity | None:
        if not backends:
            return None
        backend = backends[self._index % len(backends)]
        self._index += 1
        return backend

    def reset(self) -> None:
        self._index = 0


class _Weighted:
    def __init__(self) -> None:
        self._weights: dict[str, int] = {}

    def set_weight(self, backend: Entity, weight: int) -> None:
        if weight < 1:
            raise ValueError(f"weight must be >= 1, got {weight}")
        self._weights[backend.name] = weight

    def get_weight(self, backend: Entity) -> int:
        return self._weights.get(backend.name, 1)


class WeightedRoundRobin(_Weighted):
    """Smooth weighted round robin (nginx's): a backend of weight w gets w of every
    sum-of-weights requests, interleaved."""

    def __init__(self) -> None:
        super().__init__()
        self._current: dict[str, int] = {}

    def select(self, backends: list[Entity], request: Event) -> Entity | None:
        if not backends:
            return None
        total = 0
        best = None
        for b in backends:
            w = self.get_weight(b)
            total += w
            cur = self._current[b.name] = self._current.get(b.name, 0) + w
            if best is None or cur > self._current[best.name]:
                best = b
        self._current[best.name] -= total
        return best


class Random(_Randomized):
    """A uniformly random backend."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self.rng = rng

    def select(self, backends: list[Entity], request: Event) -> Entity | None:
        if not backends:
            return None
        return backends[self._random().randrange(len(backends))]


class LeastConnections:
    """The backend with the fewest outstanding requests (`backend_load`; ties: first)."""

    def select(self, backends: list[Entity], request: Event) -> Entity | None:
        if not backends:
            return None
        return min(backends, key=backend_load)

    _get_connections = staticmethod(backend_load)


class WeightedLeastConnections(_Weighted):
    """The backend with the fewest outstanding requests per unit of weight."""

    def select(self, backends: list[Entity], request: Event) -> Entity | None:
        if not backends:
            return None
        return min(backends, key=lambda b: backend_load(b) / self.get_weight(b))

    _get_connections = staticmethod(backend_load)


class LeastResponseTime(_Randomized):
    """The backend with the lowest EWMA (weight ``alpha``) of response times; backends
    never measured are tried first (at random)."""

    def __init__(self, alpha: float = 0.3, rng: random.Random | None = None) -> None:
        if not 0 < alpha <= 1:
            raise ValueError(f"alpha must be in (0, 1], got {alpha}")
        self._alpha = alpha
        self._response_times: dict[str, float] = {}
        self.rng = rng

    def record_response_time(self, backend: Entity, response_time: float) -> None:
        old = self._response_times.get(backend.name)
        self._response_times[backend.name] = (
            response_time if old is None else self._alpha * response_time
            + (1 - self._alpha) * old)

    def get_response_time(self, backend: Entity) -> float:
        return self._response_times.get(backend.name, 0.0)

    def select(self, backends: list[Entity], request: Event) -> Entity | None:
        if not backends:
            return None
        unknown = [b for b in backends if b.name not in self._response_times]
        if unknown:
            return unknown[self._random().randrange(len(unknown))]
        return min(backends, key=self.get_response_time)


class IPHash:
    """Hash of the request's key (``get_key(request)``, default the metadata's
    ``client_id`` / ``client_ip`` / ``session_id`` / ``user_id``) modulo the backends;
    requests without a key go round robin."""

    def __init__(self, get_key: Callable[[Event], str | None] | None = None) -> None:
        self._get_key = get_key or request_key
        self._fallback = RoundRobin()

    def select(self, backends: list[Entity], request: Event) -> Entity | None:
        if not backends:
            return None
        key = self._get_key(request)
        if key is None:
            return self._fallback.select(backends, request)
        return backends[_hash(key) % len(backends)]


class ConsistentHash:
    """A hash ring with ``virtual_nodes`` points per backend: a key goes to the first
    point at or after its hash, so adding or losing a backend moves only its share of
    the keys. Keys as `IPHash` (plus ``key``); requests without one go round robin."""

    def __init__(self, virtual_nodes: int = 100,
                 get_key: Callable[[Event], str | None] | None = None) -> None:
        if virtual_nodes < 1:
            raise ValueError(f"virtual_nodes must be >= 1, got {virtual_nodes}")
        self._virtual_nodes = virtual_nodes
        self._get_key = get_key or (lambda r: request_key(r, (*_KEYS, "key")))
        self._ring: list[tuple[int, str]] = []
        self._hashes: list[int] = []
        self._backends: dict[str, Entity] = {}
        self._fallback = RoundRobin()

    def add_backend(self, backend: Entity) -> None:
        if backend.name in self._backends:
            return
        self._backends[backend.name] = backend
        for i in range(self._virtual_nodes):
            self._ring.append((_hash(f"{backend.name}:{i}"), backend.name))
        self._ring.sort()
        self._hashes = [h for h, _ in self._ring]

    def remove_backend(self, backend: Entity) -> None:
        if self._backends.pop(backend.name, None) is not None:
            self._ring = [(h, n) for h, n in self._ring if n != backend.name]
            self._hashes = [h for h, _ in self._ring]

    def select(self, backends: list[Entity], request: Event) -> Entity | None:
        if not backends:
            return None
        names = {b.name for b in backends}
        for b in backends:
            if b.name not in self._backends:
                self.add_backend(b)
        key = self._get_key(request)
        if key is None or not self._ring:
            return self._fallback.select(backends, request)
        ring, n = self._ring, len(self._ring)
        i = bisect.bisect_left(self._hashes, _hash(key))
        # the first point at or after the key whose backend is among those offered
        # (an unhealthy backend's keys move to the next one, not everywhere)
        for k in range(n):
            name = ring[(i + k) % n][1]
            if name in names:
                return self._backends[name]
        return self._fallback.select(backends, request)


class PowerOfTwoChoices(_Randomized):
    """Two distinct random backends; the less loaded of them (`backend_load`)."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self.rng = rng

    def select(self, backends: list[Entity], request: Event) -> Entity | None:
        if not backends:
            return None
        if len(backends) == 1:
            return backends[0]
        a, b = self._random().sample(backends, 2)
        return a if backend_load(a) <= backend_load(b) else b

    _get_connections = staticmethod(backend_load)


def bind_rng(strategy: object, rng: random.Random) -> None:
    """Give a randomized strategy without a generator the load balancer's stream."""
    if isinstance(strategy, _Randomized) and strategy.rng is None:
        strategy.rng = rng


#: strategies by name (each built with its defaults): what a what-if setting
#: ``"LB.strategy": "least_connections"`` names
STRATEGIES: dict[str, Callable[[], Any]] = {
    "round_robin": RoundRobin, "weighted_round_robin": WeightedRoundRobin,
    "random": Random, "least_connections": LeastConnections,
    "weighted_least_connections": WeightedLeastConnections,
    "least_response_time": LeastResponseTime, "ip_hash": IPHash,
    "consistent_hash": ConsistentHash, "power_of_two_choices": PowerOfTwoChoices,
}

__all__ = ["ConsistentHash", "IPHash", "LeastConnections", "LeastResponseTime",
           "LoadBalancingStrategy", "PowerOfTwoChoices", "Random", "RoundRobin", "STRATEGIES",
           "WeightedLeastConnections", "WeightedRoundRobin", "backend_load", "bind_rng",
           "request_key"]
