"""Aggregate names: the valid names, aliases and percentile spellings (``p99.9``).

What a user may write where an aggregate is asked for (``window(...).aggregate("p99")``,
``tumbling_window(1.0, "avg")``), parsed and validated without building anything.
Re-exported by :mod:`operators.aggregators`.
"""

from __future__ import annotations

import difflib
import re
from decimal import Decimal

__all__ = ["AGGREGATE_NAMES", "canonical_aggregate", "parse_quantile", "valid_names_text"]

#: Names accepted by make_aggregator (quantiles also accept any pNN / pNN.N).
AGGREGATE_NAMES = (
    "count",
    "sum",
    "mean",
    "min",
    "max",
    "stddev",
    "variance",
    "p50",
    "p90",
    "p95",
    "p99",
    "p999",
    "rate",
    "last",
    "first",
)
_ALIASES = {"avg": "mean", "average": "mean", "std": "stddev", "var": "variance", "median": "p50"}


def valid_names_text() -> str:
    """The valid aggregate names, for error messages."""
    return (", ".join(AGGREGATE_NAMES) + ", and any percentile p0..p100 with optional"
            " decimals (e.g. p75, p99.9; p999 = p99.9, p9999 = p99.99); aliases: "
            + ", ".join(f"{a} = {c}" for a, c in _ALIASES.items()))


def parse_quantile(spec: str) -> float | None:
    """``'p99'`` -> 0.99, ``'p999'`` -> 0.999, ``'p99.9'`` -> 0.999, else None.

    Valid: ``p0`` .. ``p100`` with optional decimals, and the monitoring shorthand of
    three or more nines (``p999``, ``p9999``). Anything else (``p101``, ``p1000``) is
    not a percentile: never reinterpreted as p10.1 or p10.

    >>> parse_quantile("p50"), parse_quantile("p999"), parse_quantile("p5")
    (0.5, 0.999, 0.05)
    >>> parse_quantile("p101") is None, parse_quantile("p1000") is None
    (True, True)
    """
    m = re.fullmatch(r"p(\d+)(\.\d+)?", spec)
    if not m:
        return None
    digits, frac = m.group(1), m.group(2)
    if frac:
        pct = Decimal(digits + frac)  # Decimal: p99.9 is exactly 0.999
    elif len(digits) >= 3 and set(digits) == {"9"}:
        pct = Decimal("99." + digits[2:])  # p999 -> 99.9th, p9999 -> 99.99th
    elif len(digits) <= 2 or digits == "100":
        pct = Decimal(digits)
    else:
        return None
    return float(pct / 100) if pct <= 100 else None


def canonical_aggregate(spec: object) -> str:
    """The name an aggregate is computed and labelled under: aliases resolved
    (``"avg"`` -> ``"mean"``), case and surrounding blanks dropped. Raises ValueError
    (or TypeError for a non-string) naming the valid names.

    >>> canonical_aggregate(" AVG "), canonical_aggregate("P99.9")
    ('mean', 'p99.9')
    """
    if not isinstance(spec, str):
        raise TypeError(
            f"an aggregate name must be a string, got {type(spec).__name__} {spec!r}; "
            f"valid: {valid_names_text()}")
    key = spec.strip().lower()
    key = _ALIASES.get(key, key)
    if key in AGGREGATE_NAMES or parse_quantile(key) is not None:
        return key
    if re.fullmatch(r"p\d+(\.\d+)?", key):
        raise ValueError(
            f"percentile {spec!r} is out of range: use p0..p100 with optional decimals "
            "(p99.9), or p999 / p9999 for p99.9 / p99.99")
    close = difflib.get_close_matches(key, [*AGGREGATE_NAMES, *_ALIASES], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(f"unknown aggregate {spec!r}{hint}; valid: {valid_names_text()}")
