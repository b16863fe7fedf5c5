"""``Network``: routes events between named entities over links, with partitions."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from happysimulator.components.network.link import NetworkLink
from happysimulator.core.entity import Entity, bind_simulation
from happysimulator.core.event import Event
from happysimulator.core.observed import ObservedEntity, counter, gauge


@dataclass(frozen=True)
class LinkStats:
    """One route's counts (`Network.traffic_matrix`)."""

    source: str = ""
    destination: str = ""
    packets_sent: int = 0
    packets_dropped: int = 0
    bytes_transmitted: int = 0


@dataclass
class Partition:
    """A partition made by `Network.partition`; ``heal()`` removes exactly its cuts."""

    pairs: frozenset[frozenset[str]]
    directed_pairs: frozenset[tuple[str, str]]
    _network: Network = field(repr=False)

    @property
    def is_active(self) -> bool:
        net = self._network
        return bool(self.pairs & net._cut_pairs) or bool(self.directed_pairs & net._cut_directed)

    def heal(self) -> None:
        net = self._network
        net._cut_pairs -= self.pairs
        net._cut_directed -= self.directed_pairs
        net._partitions_changed()


class Network(ObservedEntity):
    """Routes an event from ``metadata["source"]`` to ``metadata["destination"]`` (entity
    names; `send` fills them in) over the link added for that pair, else over
    ``default_link``. Events between partitioned entities, or with no route, are
    dropped. Delivery goes to the destination entity itself, also over the default link.

    Observed: ``routed``, ``dropped`` (tag ``reason``: ``partition``, ``no_route``),
    ``partitioned_pairs`` gauge; each link records its own ``delivered``, ``lost`` and
    ``delay``, and a span per event it carries. An event the network drops gets a
    zero-length span here (attributes ``source``, ``destination``, ``outcome``: the
    reason), so its trace ends where it was cut.
    """

    observed_series = (
        counter("routed", "events", "events handed to a link"),
        counter("dropped", "events", "events not routed", tags=("reason",)),
        gauge("partitioned_pairs", "pairs", "entity pairs cut by partitions"),
    )
    downstream_attributes = ("links",)
    span_attributes = ("source", "destination", "outcome")

    def __init__(self, name: str = "Network", default_link: NetworkLink | None = None) -> None:
        super().__init__(name)
        self.default_link = default_link
        self._routes: dict[tuple[str, str], NetworkLink] = {}
        self._known: dict[str, Entity] = {}
        self._cut_pairs: set[frozenset[str]] = set()
        self._cut_directed: set[tuple[str, str]] = set()
        self.events_routed = 0
        self.events_dropped_no_route = 0
        self.events_dropped_partition = 0

    # -- topology -------------------------------------------------------------------------
    @property
    def links(self) -> list[NetworkLink]:
        """Every link of the network (the default one last)."""
        out = list(dict.fromkeys(self._routes.values()))
        if self.default_link is not None and self.default_link not in out:
            out.append(self.default_link)
        return out

    @property
    def nodes(self) -> list[Entity]:
        """The entities the network knows by name."""
        return list(self._known.values())

    def add_link(self, source: Entity, dest: Entity, link: NetworkLink) -> None:
        """Route ``source -> dest`` over `link` (its egress becomes `dest`)."""
        self._known[source.name] = source
        self._known[dest.name] = dest
        link.egress = dest
        self._routes[(source.name, dest.name)] = link

    def add_bidirectional_link(self, a: Entity, b: Entity, link: NetworkLink) -> None:
        """Route ``a -> b`` over `link` and ``b -> a`` over a copy named
        ``"<link>_reverse"`` (same characteristics, its own counters)."""
        self.add_link(a, b, link)
        reverse = NetworkLink(f"{link.name}_reverse", copy.deepcopy(link.latency),
                              link.bandwidth_bps, link.packet_loss_rate,
                              copy.deepcopy(link.jitter))
        self.add_link(b, a, reverse)

    def get_link(self, source_name: str, dest_name: str) -> NetworkLink | None:
        """The link ``source -> dest`` (else the default link, else None)."""
        return self._routes.get((source_name, dest_name), self.default_link)

    def traffic_matrix(self) -> list[LinkStats]:
        """Per route: packets delivered and lost, bytes delivered."""
        return [LinkStats(s, d, link.packets_sent, link.packets_dropped,
                          link.bytes_transmitted)
                for (s, d), link in self._routes.items()]

    # -- partitions -----------------------------------------------------------------------
    def partition(self, group_a: Iterable[Entity], group_b: Iterable[Entity], *,
                  asymmetric: bool = False) -> Partition:
        """Cut every pair (a, b); ``asymmetric``: only a -> b. Returns its handle."""
        a_list, b_list = list(group_a), list(group_b)
        pairs: set[frozenset[str]] = set()
        directed: set[tuple[str, str]] = set()
        for a in a_list:
            self._known.setdefault(a.name, a)
            for b in b_list:
                self._known.setdefault(b.name, b)
                if asymmetric:
                    directed.add((a.name, b.name))
                else:
                    pairs.add(frozenset((a.name, b.name)))
        self._cut_pairs |= pairs
        self._cut_directed |= directed
        self._partitions_changed()
        return Partition(frozenset(pairs), frozenset(directed), self)

    def heal_partition(self) -> None:
        """Remove every partition."""
        self._cut_pairs.clear()
        self._cut_directed.clear()
        self._partitions_changed()

    def is_partitioned(self, source_name: str, dest_name: str) -> bool:
        """Whether traffic ``source -> dest`` is cut."""
        return (frozenset((source_name, dest_name)) in self._cut_pairs
                or (source_name, dest_name) in self._cut_directed)

    def _partitions_changed(self) -> None:
        self.set_gauge("partitioned_pairs", len(self._cut_pairs) + len(self._cut_directed))

    # -- traffic --------------------------------------------------------------------------
    def send(self, source: Entity, destination: Entity, event_type: str,
             payload: dict | None = None, daemon: bool = False) -> Event:
        """An event (at now) that the network will carry from `source` to `destination`;
        `payload` goes into its metadata."""
        self._known.setdefault(source.name, source)
        self._known.setdefault(destination.name, destination)
        event = Event(time=self.now, event_type=event_type, target=self, daemon=daemon)
        meta = event.context["metadata"]
        meta["source"] = source.name
        meta["destination"] = destination.name
        if payload:
            meta.update(payload)
        return event

    def _destination(self, name: str, link: NetworkLink) -> Entity | None:
        dest = self._known.get(name)
        if dest is None:
            sim = self._sim or bind_simulation(self)
            for e in getattr(sim, "entities", ()):
                if getattr(e, "name", None) == name:
                    dest = self._known[name] = e
                    break
        return dest if dest is not None else link.egress

    def handle_event(self, event: Event) -> Event | None:
        meta = event.context.get("metadata") or {}
        src, dst = meta.get("source"), meta.get("destination")
        if src is None or dst is None:
            return self._drop("no_route", event, src, dst)
        if self.is_partitioned(src, dst):
            self.events_dropped_partition += 1
            self.increment("dropped", reason="partition")
            self._drop_span(event, src, dst, "partition")
            return None
        link = self.get_link(src, dst)
        if link is None:
            return self._drop("no_route", event, src, dst)
        self.events_routed += 1
        self.increment("routed")
        if link._sim is None:
            link._sim = self._sim
        return link.transmit(event, self._destination(dst, link))

    def _drop(self, reason: str, event: Event, src: Any, dst: Any) -> None:
        self.events_dropped_no_route += 1
        self.increment("dropped", reason=reason)
        self._drop_span(event, src, dst, reason)
        return None

    def _drop_span(self, event: Event, src: Any, dst: Any, reason: str) -> None:
        rec = self._recording()
        if rec is not None and rec.traces:
            self.record_span(event, self.now.to_seconds(), source=src, destination=dst,
                             outcome=reason)


__all__ = ["LinkStats", "Network", "Partition"]
