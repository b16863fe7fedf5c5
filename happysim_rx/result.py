"""`QueryResult`: the answer to a query, with its weighting and exactness."""

from __future__ import annotations

import math
from typing import Any

import msgspec
import numpy as np

from happysim_rx.observation import ObservationKind, Span
from happysim_rx.query import QueryError
from operators.aggregators import canonical_aggregate

__all__ = ["QueryResult"]


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


class QueryResult:
    """Rows plus honesty fields: ``weighting``, ``exact``, ``error_bound``.

    * no aggregate: ``rows`` are raw observations; ``series`` is [(time, value)].
    * aggregate, no window: one row per group; ``scalar`` is the single value.
    * window: one row per (group, window); ``series`` is [(window_start, value)].
    """

    def __init__(
        self,
        query: dict[str, Any],
        rows: list[dict[str, Any]],
        *,
        aggregates: list[str],
        weighting: str,
        exact: bool,
        error_bound: float | None = None,
        time_resolution: float | None = None,
        start: float | None = None,
        end: float | None = None,
    ) -> None:
        self.query = query
        self.rows = rows
        self.aggregates = aggregates
        self.weighting = weighting
        self.exact = exact
        self.error_bound = error_bound
        self.time_resolution = time_resolution
        self.start, self.end = start, end
        #: "gauge" / "sample" / "counter" for a metric result over one kind of series
        self.series_kind: str | None = None
        #: which observations the answer is of when not all of the run's (spans of a
        #: trace sample: ``exact`` is then False); None: all of them
        self.of: str | None = None

    @property
    def group_by(self) -> list[str]:
        return list(self.query.get("group_by") or [])

    @property
    def scalar(self) -> float | None:
        """The value of the first aggregate of an ungrouped, unwindowed result (None: no
        data); `value(name)` picks another one."""
        if not self.aggregates:
            raise QueryError("scalar needs an aggregate: add .aggregate('mean') (or use .rows)")
        self._one_row("scalar")
        if not self.rows:
            return None
        return self.rows[0].get(self.aggregates[0])

    def value(self, aggregate: str) -> float | None:
        """Scalar of one of several aggregates (aliases such as ``"avg"`` accepted)."""
        try:
            name = canonical_aggregate(aggregate)
        except ValueError as e:
            raise QueryError(str(e)) from None
        if name not in self.aggregates:
            raise QueryError(f"{aggregate!r} was not computed; computed: {self.aggregates}")
        self._one_row("value()")
        return self.rows[0].get(name) if self.rows else None

    def _one_row(self, what: str) -> None:
        if self.query.get("window") is not None or self.group_by:
            raise QueryError(
                f"{what} is ambiguous for a windowed/grouped result ({len(self.rows)} rows); "
                "use .series, .rows or .groups()"
            )

    @property
    def series(self) -> list[tuple[float, Any]]:
        """[(time, value)]: window starts and the first aggregate, or raw samples."""
        if self.group_by:
            raise QueryError("series of a grouped result is ambiguous: use .groups()")
        if not self.aggregates:
            key = "duration" if self.query.get("kind") == "spans" else "value"
            tkey = "start" if self.query.get("kind") == "spans" else "time"
            return [(r[tkey], r.get(key)) for r in self.rows]
        agg = self.aggregates[0]
        return [(r["start"], r.get(agg)) for r in self.rows]

    def groups(self) -> dict[Any, list[dict[str, Any]]]:
        """Rows keyed by the group-by values (a tuple when several keys)."""
        out: dict[Any, list[dict[str, Any]]] = {}
        for r in self.rows:
            key = tuple(r.get(k) for k in self.group_by)
            out.setdefault(key[0] if len(key) == 1 else key, []).append(r)
        return out

    def __len__(self) -> int:
        return len(self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "start": _clean(self.start),
            "end": _clean(self.end),
            "aggregates": self.aggregates,
            "weighting": self.weighting,
            "exact": self.exact,
            "error_bound": self.error_bound,
            "time_resolution": self.time_resolution,
            **({"of": self.of} if self.of is not None else {}),
            "rows": self.to_records(),
        }

    def to_json(self) -> str:
        return msgspec.json.encode(self.to_dict(), enc_hook=_enc_hook).decode()

    def to_records(self) -> list[dict[str, Any]]:
        return [{k: _clean(v) for k, v in r.items()} for r in self.rows]

    def to_pandas(self) -> Any:
        try:
            import pandas as pd
        except ImportError as e:  # pragma: no cover - optional dependency
            raise ImportError("to_pandas() needs pandas: pip install pandas") from e
        return pd.DataFrame.from_records(self.to_records())

    def _repr_html_(self) -> str:
        from happysim_rx.html import result_html

        return result_html(self)

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Draw the result with matplotlib (``pip install 'happysim-rx[plot]'``): windowed
        results as time series, gauges as step lines, one line per group; returns the Axes."""
        from happysim_rx.plot import plot_result

        return plot_result(self, ax=ax, **kwargs)

    def __repr__(self) -> str:
        head = (
            f"scalar={self.rows[0].get(self.aggregates[0])!r}"
            if (self.aggregates and len(self.rows) == 1)
            else f"rows={len(self.rows)}"
        )
        return (
            f"<QueryResult {head} weighting={self.weighting} exact={self.exact}"
            f" error_bound={self.error_bound}"
            + (f" of={self.of!r}" if self.of is not None else "") + ">"
        )


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, Span):
        return obj.to_dict()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, ObservationKind):
        return obj.value
    return repr(obj)
