"""The columnar EventStore against a brute-force list of rows: processed events (raw
items converted by source and name) mixed with finished rows, bounded or not, read at
arbitrary points."""

from collections import deque
from fnmatch import fnmatchcase

from hypothesis import given, settings
from hypothesis import strategies as st

from happysim_rx.observation import ObservationKind
from happysim_rx.stores import EventStore


class _Info:
    def __init__(self, kind, source, name):
        self.kind, self.source, self.name = kind, source, name


class _Target:  # an entity-like source, unhashable like a dataclass with eq
    __hash__ = None

    def __init__(self, name):
        self.name = name


TARGETS = [_Target("Server"), _Target("Sink")]


def _convert(t_ns, target, event_type):
    return (t_ns / 1e9, "event", target.name, str(event_type), None, None)


_op = st.tuples(
    st.sampled_from(["raw", "row", "state", "read"]),
    st.integers(0, 1),
    st.sampled_from(["request", "done"]),
    st.one_of(st.none(), st.integers(0, 9)),
)


@settings(max_examples=80, deadline=None)
@given(st.lists(_op, max_size=80), st.one_of(st.none(), st.integers(1, 7)))
def test_columns_match_a_list_of_rows(ops, cap):
    store = EventStore(max_events=cap)
    raw = store.raw_sink(_convert)
    emit = store.appender(_Info(ObservationKind.EVENT, "Cache", "evicted"))
    state = store.appender(_Info(ObservationKind.STATE, "Cache", "mode"))
    ref: deque = deque(maxlen=cap)
    total = 0
    t_ns = 0
    for what, target, name, value in ops:
        t_ns += 250_000_000
        t = t_ns / 1e9
        if what == "raw":
            raw.extend((t_ns, TARGETS[target], name))
            store.materialize_if_full()
            ref.append((t, "event", TARGETS[target].name, name, None, None))
        elif what == "row":
            emit(t, {"key": value}, {"tag": value} if value else None)
            ref.append((t, "event", "Cache", "evicted", {"key": value},
                        {"tag": value} if value else None))
        elif what == "state":
            state(t, value)
            ref.append((t, "state", "Cache", "mode", value, None))
        else:
            assert len(store) == len(ref)
            continue
        total += 1
    keys = ("time", "kind", "source", "name", "value", "tags")
    assert [tuple(r.values()) for r in store.between(-1.0, 1e9)] == list(ref)
    assert len(store) == len(ref) and store.n_total == total
    got = store.between(1.0, 10.0, name="re*", source="S*")
    want = [dict(zip(keys, r, strict=True)) for r in ref if 1.0 <= r[0] < 10.0
            and fnmatchcase(r[3], "re*") and fnmatchcase(r[2], "S*")]
    assert got == want
    assert store.between(0.0, 1e9, kind="state") == [
        dict(zip(keys, r, strict=True)) for r in ref if r[1] == "state"]


_range = st.one_of(st.just((-float("inf"), float("inf"))),
                   st.tuples(st.integers(-1, 30), st.integers(0, 32)).map(
                       lambda ab: (ab[0] / 4, ab[1] / 4)))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.sampled_from(["request", "done"]),
                          st.integers(0, 2)), max_size=40),
       st.integers(0, 40), _range, st.sampled_from(["*", "request", "d*", "none"]),
       st.sampled_from(["*", "Server", "S*"]), st.one_of(st.none(), st.integers(1, 6)),
       st.sampled_from([4096, 3]))
def test_rows_of_a_range_from_raw_items_equal_the_columns(events, read_at, ab, name, source,
                                                           limit, scan_max):
    """A range or limited read while processed events are raw items (found by time,
    only what is returned converted; after `read_at` events the columns were built)
    equals the same read of the columns, rows and latest time; with a scan budget of 3
    raw events, wider reads build the columns instead."""
    stores = EventStore(), EventStore()
    raws = [s.raw_sink(_convert) for s in stores]
    t_ns = 0
    for i, (target, ev, gap) in enumerate(events):
        if i == read_at:
            for s in stores:
                len(s)
        t_ns += gap * 250_000_000
        for r in raws:
            r.extend((t_ns, TARGETS[target], ev))
    fresh, built = stores
    len(built)
    fresh._RAW_SCAN_MAX = scan_max
    a, b = ab
    got = fresh.between_first(a, b, name=name, source=source, limit=limit)
    assert got == built.between_first(a, b, name=name, source=source, limit=limit)
    assert fresh.between(a, b, name=name) == built.between(a, b, name=name)
