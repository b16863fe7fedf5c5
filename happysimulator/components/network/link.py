"""``NetworkLink``: a one-way link with latency, jitter, bandwidth and loss."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from happysimulator.core.entity import Entity, bind_simulation
from happysimulator.core.event import Event, _Extra, new_event
from happysimulator.core.observed import ObservedEntity, counter, gauge, sample
from happysimulator.distributions.latency_distribution import as_distribution

_NS = 1_000_000_000


@dataclass(frozen=True)
class NetworkLinkStats:
    """Counts of a `NetworkLink` (``packets_sent``: delivered)."""

    bytes_transmitted: int = 0
    packets_sent: int = 0
    packets_dropped: int = 0


def payload_size(event: Event) -> int:
    """An event's size in bytes: its metadata's ``payload_size`` or ``size`` (else 0)."""
    meta = event.context.get("metadata") or {}
    return int(meta.get("payload_size") or meta.get("size") or 0)


def carry_over(src: Event, dst: Event) -> None:
    """Move `src`'s completion hooks and daemon flag to `dst` (the event it became:
    `src` is done only when `dst` is)."""
    x = src._x
    if x is not None and (x.on_complete or x.daemon):
        y = dst._x
        if y is None:
            y = dst._x = _Extra()
        y.daemon = x.daemon
        if x.on_complete:
            y.on_complete = (y.on_complete or []) + x.on_complete
            x.on_complete = None


def hop_route(event: Event, dest: Entity | None) -> tuple[Any, Any]:
    """A hop span's ``source`` and ``destination``: the route in the event's metadata
    (a `Network` fills it in), else the destination entity's name (None: unknown)."""
    c = event._ctx
    # (a partial context has no metadata: not completed for this)
    meta = (c.get("metadata") if c.__class__ is dict else event.context.get("metadata")) or {}
    to = meta.get("destination")
    if to is None and dest is not None:
        to = getattr(dest, "name", None)
    return meta.get("source"), to


class _Arrival:
    """Target of a link's in-flight packets: at their arrival it records the delivery
    and hands the packet to its destination (``name``/``entity``: the link)."""

    __slots__ = ("entity", "name")

    def __init__(self, link: NetworkLink) -> None:
        self.entity = link
        self.name = link.name

    def handle_event(self, packet: Event) -> Event | None:
        return self.entity._arrive(packet)


class _Packet(Event):
    __slots__ = ("dest", "sent_ns", "size", "original")


class NetworkLink(ObservedEntity):
    """Carries events one way to ``egress`` (or, inside a `Network`, to the destination).

    Each event is lost with probability ``packet_loss_rate``; otherwise it arrives after
    ``latency`` (+ ``jitter``) seconds, plus, with ``bandwidth_bps``, the time to put its
    ``payload_size`` bytes on the wire — one packet at a time: a packet sent while the
    link is busy waits for the packets before it (the link serializes). Randomness comes
    from the simulation's stream.

    Observed: ``delivered`` and ``lost`` counters, ``delay`` samples (send to arrival,
    s), ``in_transit`` gauge (packets on the link), ``bytes`` counter; and a span per
    event it carries (send to arrival; a lost one zero-length at the send), so a trace
    shows the hop: attributes ``source`` and ``destination`` (entity names: the
    network's route, else the egress; None where unknown) and ``outcome``
    (``delivered`` / ``lost``).
    """

    observed_series = (
        counter("delivered", "packets", "packets that arrived"),
        counter("lost", "packets", "packets lost on the link"),
        sample("delay", "s", "send to arrival"),
        gauge("in_transit", "packets", "packets on the link"),
        counter("bytes", "bytes", "payload bytes delivered"),
    )
    downstream_attributes = ("egress",)
    span_attributes = ("source", "destination", "outcome")

    def __init__(self, name: str, latency: Any, bandwidth_bps: float | None = None,
                 packet_loss_rate: float = 0.0, jitter: Any = None,
                 egress: Entity | None = None) -> None:
        super().__init__(name)
        self.latency = as_distribution(latency, "latency")
        self.jitter = None if jitter is None else as_distribution(jitter, "jitter")
        if bandwidth_bps is not None and not bandwidth_bps > 0:
            raise ValueError(f"bandwidth_bps must be > 0 or None, got {bandwidth_bps!r}")
        self.bandwidth_bps = bandwidth_bps
        self.packet_loss_rate = packet_loss_rate
        self.egress = egress
        self.bytes_transmitted = 0
        self.packets_sent = 0
        self.packets_dropped = 0
        self._in_transit = 0
        self._bytes_in_transit = 0
        self._free_ns = 0  # when the transmitter finishes the packets handed to it
        self._port = _Arrival(self)

    @property
    def packet_loss_rate(self) -> float:
        """Probability in [0, 1] that a packet is lost."""
        return self._loss

    @packet_loss_rate.setter
    def packet_loss_rate(self, value: float) -> None:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"packet_loss_rate must be in [0, 1], got {value!r}")
        self._loss = float(value)

    @property
    def link_stats(self) -> NetworkLinkStats:
        return NetworkLinkStats(self.bytes_transmitted, self.packets_sent, self.packets_dropped)

    @property
    def current_utilization(self) -> float:
        """Bits on the link now over its bandwidth (0.0 without a bandwidth limit)."""
        if not self.bandwidth_bps:
            return 0.0
        return min(1.0, self._bytes_in_transit * 8 / self.bandwidth_bps)

    def downstream_entities(self) -> list[Entity]:
        return [] if self.egress is None else [self.egress]

    def handle_event(self, event: Event) -> Event | None:
        return self.transmit(event, self.egress)

    def transmit(self, event: Event, dest: Entity | None) -> Event | None:
        """Send `event` to `dest`: None if lost, else the packet (arriving later)."""
        sim = self._sim or bind_simulation(self)
        rng = self.rng  # (the link's own stream: loss draws do not shift other entities')
        if self._loss > 0.0 and rng.random() < self._loss:
            self.packets_dropped += 1
            self.increment("lost")
            if self._tracing():
                self.record_span(event, sim.now_ns / _NS,
                                 **self._hop_attributes(event, dest, "lost"))
            return None
        now = sim.now_ns
        delay = self.latency.sample(rng)
        if self.jitter is not None:
            delay += self.jitter.sample(rng)
        size = payload_size(event)
        depart = now
        if self.bandwidth_bps:
            start = max(now, self._free_ns)
            depart = self._free_ns = start + round(size * 8 / self.bandwidth_bps * _NS)
        arrive = depart + max(0, round(delay * _NS))
        p = object.__new__(_Packet)
        p._time_ns = arrive
        p.event_type = event.event_type
        p.target = self._port
        c = event._ctx
        p._ctx = event if c is None else c
        p._x = None
        p.dest, p.sent_ns, p.size, p.original = dest, now, size, event
        if event._x is not None:
            carry_over(event, p)  # the event ends when it is delivered
        self._in_transit += 1
        self._bytes_in_transit += size
        self.set_gauge("in_transit", self._in_transit)
        return p

    @staticmethod
    def _hop_attributes(event: Event, dest: Entity | None, outcome: str) -> dict[str, Any]:
        """A hop span's attributes."""
        source, destination = hop_route(event, dest)
        return {"source": source, "destination": destination, "outcome": outcome}

    def _tracing(self) -> bool:
        """Whether this entity's spans are recorded (attributes are built only then)."""
        rec = self._recording()
        return rec is not None and rec.traces

    def _arrive(self, p: _Packet) -> Event | None:
        now = self._sim.now_ns
        self._in_transit -= 1
        self._bytes_in_transit -= p.size
        self.packets_sent += 1
        self.bytes_transmitted += p.size
        self.increment("delivered")
        if p.size:
            self.increment("bytes", p.size)
        self.observe("delay", (now - p.sent_ns) / _NS)
        self.set_gauge("in_transit", self._in_transit)
        if self._tracing():
            self.record_span(p.original, p.sent_ns / _NS,
                             **self._hop_attributes(p.original, p.dest, "delivered"))
        if p.dest is None:
            return None  # nowhere to go (no egress): delivered into the void
        out = new_event(now, p.event_type, p.dest, p)
        if p._x is not None:
            carry_over(p, out)
        return out


__all__ = ["NetworkLink", "NetworkLinkStats", "carry_over", "hop_route", "payload_size"]
