"""The tag-key rule of span and event queries (the metrics' own is in `engine_metrics`):
a key in a filter or group_by is valid if a selected component declares it or any
recorded span / event of the selection carried it; any other key is refused naming the
valid ones, with or without data."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from happysim_rx.query import QueryError, _Spec

__all__ = ["RecordKeys"]

#: what a span row has besides its attributes (a group_by key that is one of them is
#: never an attribute key)
_SPAN_FIELDS = frozenset({"entity", "source", "trace_id", "span_id", "parent_id", "start",
                          "end", "duration"})
#: what an event row has besides its tags (a group_by key that is one of them is never a
#: tag key)
_EVENT_FIELDS = frozenset({"entity", "source", "name", "kind", "time", "value"})


class RecordKeys:
    """What `QueryEngine` knows of span attribute keys and event tag keys."""

    trace_store: Any
    event_store: Any
    #: entity -> the attribute keys its spans carry, as its component declares them
    declared_span_attributes: dict[str, tuple[str, ...]]
    #: (source, event type) -> the tag keys its events carry, as its component declares
    #: them (``ObservedEntity.event_tags``)
    declared_event_tags: dict[tuple[str, str], tuple[str, ...]]

    def _span_attribute_catalog(self, ts: Any) -> dict[str, list[str]]:
        """entity -> the attribute keys its spans declare or carried (entities with
        none left out)."""
        out: dict[str, set[str]] = {}
        if ts is not None and hasattr(ts, "attribute_keys_by_entity"):
            out = ts.attribute_keys_by_entity()
        for e, keys in self.declared_span_attributes.items():  # (names, not globs)
            out.setdefault(e, set()).update(keys)
        return {e: sorted(out[e]) for e in sorted(out) if out[e]}

    def span_attribute_keys(self, entity: str = "*") -> list[str]:
        """The attribute keys a span query on `entity` (a glob) may filter or group on:
        those its components declare (known before the run) plus those any of its
        recorded spans carried (a user's own ``record_span(..., lane=...)``)."""
        ts = self.trace_store
        keys = set() if ts is None or not hasattr(ts, "attribute_keys") else set(
            ts.attribute_keys(entity))
        keys.update(k for e, declared in self.declared_span_attributes.items()
                    if fnmatchcase(e, entity) for k in declared)
        return sorted(keys)

    def _check_attribute_keys(self, spec: _Spec, ts: Any, keys: set[str]) -> None:
        """Refuse attribute keys the selected entities' spans can never carry (the
        metrics' tag-key rule): a valid key filters or groups, possibly to nothing; any
        other is refused, with or without data, so a typo never reads ``count: 0``."""
        valid = self.span_attribute_keys(spec.entity)
        unknown = sorted(keys - set(valid))
        if unknown:
            raise QueryError(
                f"no span of {spec.entity!r} declares or carries attribute key(s) "
                f"{unknown}; valid attribute keys: {valid or 'none'} (the catalog lists "
                "them under span_attributes)", valid)

    def event_tag_keys(self, name: str = "*", source: str = "*") -> list[str]:
        """The tag keys an events query on type `name` from `source` (globs) may filter
        or group on: those its components declare plus those any recorded event of the
        selection carried (``emit_event(name, payload, region="eu")``)."""
        es = self.event_store
        keys = set() if es is None or not hasattr(es, "tag_keys") else set(
            es.tag_keys(name, source))
        keys.update(k for (src, nm), declared in self.declared_event_tags.items()
                    if fnmatchcase(nm, name) and fnmatchcase(src, source) for k in declared)
        return sorted(map(str, keys))

    def _event_types(self, es: Any) -> list[tuple[str, str, str]]:
        """The store's (kind, source, name) of events and state changes, with the event
        types components declare (``event_tags``: known before the first is emitted)."""
        types = set(es.catalog())
        types.update(("event", src, nm) for src, nm in self.declared_event_tags)
        return sorted(types)

    def _event_tag_catalog(self, es: Any) -> dict[tuple[str, str], list[str]]:
        """(source, event type) -> the tag keys its events declare or carried."""
        out: dict[tuple[str, str], set[str]] = {}
        if es is not None and hasattr(es, "tag_keys_by_type"):
            out = es.tag_keys_by_type()
        for key, keys in self.declared_event_tags.items():
            out.setdefault(key, set()).update(keys)
        return {key: sorted(map(str, keys)) for key, keys in out.items()}

    def _check_event_tag_keys(self, spec: _Spec, es: Any, keys: set[str]) -> None:
        """Refuse tag keys no selected event can carry (the metrics' tag-key rule): a
        valid key filters or groups, possibly to nothing; any other is refused, with or
        without data, so a typo (or a payload field) never reads ``count: 0``."""
        valid = self.event_tag_keys(spec.name or "*", spec.entity)
        unknown = sorted(map(str, keys - set(valid)))
        if unknown:
            raise QueryError(
                f"no event {spec.name or '*'!r} of {spec.entity!r} declares or carries tag "
                f"key(s) {unknown}; valid tag keys: {valid or 'none'} (an event's payload "
                "is its row's value, not tags; the catalog lists each event type's tags)",
                valid)
