"""Trace ids that are not int64 integers: a string, a float, an int beyond int64.

A model may give a request any hashable context id (happysim 0.2.5 models use strings);
the trace store keeps such a request's spans beside its integer columns. A station's
facts are packed into int64 columns at a flush, so the few spans of such requests are
taken out of the columns there and handed to the store as rows, with the id the model
gave: never truncated, never merged into another request's trace.
"""

from __future__ import annotations

from functools import partial
from struct import error as _StructError
from struct import pack_into
from typing import Any

import numpy as np

__all__ = ["is_int64_id", "split_odd", "trace_id_array"]

_LOW, _HIGH = -(2**63), 2**63


def is_int64_id(x: Any) -> bool:
    """A trace id the columns hold: an int strictly inside int64 (what the trace store
    takes as an integer id; int64's lowest value is the columns' "none")."""
    return type(x) is int and _LOW < x < _HIGH


def trace_id_array(values: list[Any]) -> np.ndarray:
    """A list of trace ids as an array, and the list emptied: int64 when every id is
    an int64 integer (the common case, packed), else an object array of the ids as given.

    >>> trace_id_array([1, 2]).dtype, trace_id_array([1, "r1"]).tolist()
    (dtype('int64'), [1, 'r1'])
    """
    n = len(values)
    out = np.empty(n, dtype=np.int64)
    if n:
        try:
            # (through a `partial`: ``f(*values)`` copies the list once, where
            # ``pack_into(fmt, out, 0, *values)`` builds a list, then a tuple)
            partial(pack_into, f"{n}q", out, 0)(*values)
            odd = out.min() == _LOW  # (packed, but the columns' "none": a row)
        except _StructError:  # a str, a float, an int beyond int64
            odd = True
        if odd and not all(map(is_int64_id, values)):
            out = np.empty(n, dtype=object)
            out[:] = values
    values.clear()
    return out


def split_odd(spans: Any, name_rank_rows: Any) -> tuple[Any, list[tuple]]:
    """`spans` (an `EntitySpans` whose trace ids are an object array) as the
    `EntitySpans` of its int64 ids (None if none) and the rows (`Span`'s fields) of the
    others, in each request's causal order (end, then rank, then start, as
    `SpanBatch.columns` orders them). `name_rank_rows` builds the `EntitySpans`."""
    tids = spans.trace_ids
    good = np.fromiter(map(is_int64_id, tids), dtype=bool, count=tids.size)
    rows = []
    for j in np.flatnonzero(~good).tolist():
        if spans.latency is not None:
            attrs = {"latency": float(spans.latency[j])}
        elif spans.split is not None:
            attrs = {"wait": float(spans.split[0][j]), "service": float(spans.split[1][j])}
        elif spans.dropped:
            attrs = {"status": "dropped"}
        else:
            attrs = None
        rows.append((tids[j], None, None, spans.name, float(spans.starts[j]),
                     float(spans.ends[j]), attrs))
    rows.sort(key=lambda r: (r[5], spans.rank, r[4]))
    at = np.flatnonzero(good)
    kept = None
    if at.size:
        kept = name_rank_rows(
            spans.name, spans.rank, tids[at].astype(np.int64), spans.starts[at],
            spans.ends[at], None if spans.latency is None else spans.latency[at],
            spans.dropped,
            None if spans.split is None else (spans.split[0][at], spans.split[1][at]),
            None if spans.parents is None else spans.parents[at])
    return kept, rows
