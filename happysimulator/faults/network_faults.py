"""Network faults: extra latency or loss on a link, partitions (fixed or random)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from happysimulator.core.temporal import Duration, Instant
from happysimulator.distributions.latency_distribution import LatencyDistribution
from happysimulator.faults.fault import _check_window

if TYPE_CHECKING:
    from happysimulator.core.event import Event
    from happysimulator.faults.fault import FaultContext


class _AddedLatency(LatencyDistribution):
    """A link's latency plus a constant (what `InjectLatency` installs)."""

    def __init__(self, base: Any, extra_s: float) -> None:
        self._base = base
        self._extra_s = extra_s
        mean = getattr(base, "_mean_latency", None)
        super().__init__((mean or 0.0) + extra_s)

    def get_latency(self, current_time: Instant) -> Duration:
        base = self._base.get_latency(current_time).to_seconds()
        return Duration.from_seconds(base + self._extra_s)

    def sample(self, rng: Any = None) -> float:
        if hasattr(self._base, "sample"):
            return float(self._base.sample(rng)) + self._extra_s
        return self.get_latency(Instant.Epoch).to_seconds()


def _link(ctx: FaultContext, network_name: str | None, src: str, dst: str) -> Any:
    link = ctx.network(network_name).get_link(src, dst)
    if link is None:
        raise ValueError(f"no link {src!r} -> {dst!r} in the network")
    return link


@dataclass(frozen=True)
class InjectLatency:
    """Add ``extra_ms`` milliseconds to the ``source_name -> dest_name`` link from
    ``start`` to ``end`` seconds (then its own latency is back)."""

    source_name: str
    dest_name: str
    extra_ms: float
    start: float
    end: float
    network_name: str | None = None

    def __post_init__(self) -> None:
        _check_window(self.start, self.end)
        if self.extra_ms < 0:
            raise ValueError(f"extra_ms must be >= 0, got {self.extra_ms!r}")

    def generate_events(self, ctx: FaultContext) -> list[Event]:
        link = _link(ctx, self.network_name, self.source_name, self.dest_name)
        saved: list[Any] = []

        def on(_e: Event) -> None:
            saved.append(link.latency)
            link.latency = _AddedLatency(link.latency, self.extra_ms / 1000.0)

        def off(_e: Event) -> None:
            link.latency = saved.pop()

        return ctx.window(self, f"{self.source_name}->{self.dest_name}", self.start,
                          self.end, on, off, "latency")


@dataclass(frozen=True)
class InjectPacketLoss:
    """Raise the ``source_name -> dest_name`` link's loss rate by ``loss_rate`` (capped
    at 1) from ``start`` to ``end`` seconds."""

    source_name: str
    dest_name: str
    loss_rate: float
    start: float
    end: float
    network_name: str | None = None

    def __post_init__(self) -> None:
        _check_window(self.start, self.end)
        if not 0.0 <= self.loss_rate <= 1.0:
            raise ValueError(f"loss_rate must be in [0, 1], got {self.loss_rate!r}")

    def generate_events(self, ctx: FaultContext) -> list[Event]:
        link = _link(ctx, self.network_name, self.source_name, self.dest_name)
        saved: list[float] = []

        def on(_e: Event) -> None:
            saved.append(link.packet_loss_rate)
            link.packet_loss_rate = min(1.0, link.packet_loss_rate + self.loss_rate)

        def off(_e: Event) -> None:
            link.packet_loss_rate = saved.pop()

        return ctx.window(self, f"{self.source_name}->{self.dest_name}", self.start,
                          self.end, on, off, "loss")


@dataclass(frozen=True)
class NetworkPartition:
    """Cut the network between ``group_a`` and ``group_b`` (entity names) from
    ``start`` to ``end`` seconds; ``asymmetric``: only ``a -> b`` is cut."""

    group_a: list[str]
    group_b: list[str]
    start: float
    end: float
    asymmetric: bool = False
    network_name: str | None = None

    def __post_init__(self) -> None:
        _check_window(self.start, self.end)

    def generate_events(self, ctx: FaultContext) -> list[Event]:
        network = ctx.network(self.network_name)
        a = [ctx.entity(n) for n in self.group_a]
        b = [ctx.entity(n) for n in self.group_b]
        cut: list[Any] = []

        def on(_e: Event) -> None:
            cut.append(network.partition(a, b, asymmetric=self.asymmetric))

        def off(_e: Event) -> None:
            if cut:
                cut.pop().heal()

        label = f"{','.join(self.group_a)}|{','.join(self.group_b)}"
        return ctx.window(self, label, self.start, self.end, on, off, "partition")


@dataclass(frozen=True)
class RandomPartition:
    """Jepsen-style partitions: after exponential times of mean ``mtbf`` seconds the
    ``nodes`` are split at random in two halves, healed after exponential times of mean
    ``mttr``; repeats until the run ends. Draws come from ``seed`` if given, else from
    the simulation's random stream (so seeded runs reproduce)."""

    nodes: list[str]
    mtbf: float
    mttr: float
    seed: int | None = None
    network_name: str | None = None

    def __post_init__(self) -> None:
        if not self.mtbf > 0 or not self.mttr > 0:
            raise ValueError(f"mtbf and mttr must be > 0 seconds, got {self.mtbf!r}, "
                             f"{self.mttr!r}")
        if len(self.nodes) < 2:
            raise ValueError(f"a partition needs at least 2 nodes, got {self.nodes!r}")

    def generate_events(self, ctx: FaultContext) -> list[Event]:
        network = ctx.network(self.network_name)
        entities = {n: ctx.entity(n) for n in self.nodes}
        names = list(self.nodes)
        own = random.Random(self.seed) if self.seed is not None else None
        cut: list[Any] = []
        label = ",".join(self.nodes)

        def rng() -> random.Random:
            if own is not None:
                return own
            schedule = ctx.schedule
            return schedule.rng if schedule is not None else random.Random(0)

        def fail(e: Event) -> Event:
            r = rng()
            r.shuffle(names)
            half = max(1, len(names) // 2)
            cut.append(network.partition([entities[n] for n in names[:half]],
                                         [entities[n] for n in names[half:]]))
            heal_at = e.time.to_seconds() + r.expovariate(1.0 / self.mttr)
            return ctx.at(heal_at, "fault.random_partition.heal", heal, self, label, "end")

        def heal(e: Event) -> Event:
            if cut:
                cut.pop().heal()
            next_at = e.time.to_seconds() + rng().expovariate(1.0 / self.mtbf)
            return ctx.at(next_at, "fault.random_partition", fail, self, label, "start")

        first = ctx.start_time.to_seconds() + rng().expovariate(1.0 / self.mtbf)
        return [ctx.at(first, "fault.random_partition", fail, self, label, "start")]


__all__ = ["InjectLatency", "InjectPacketLoss", "NetworkPartition", "RandomPartition"]
