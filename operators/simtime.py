"""Simulated time as integer nanosecond ticks and as float seconds: the one conversion.

The engine orders events on integer nanoseconds; every reader (live streams, stores,
queries, the session protocol, the debugger) sees float seconds. One instant must reach
every reader as the *same* float, at any magnitude of time, so every path converts with
these functions and nothing else:

- :func:`seconds` / :func:`seconds_array`: ticks -> the correctly rounded float seconds
  (the float nearest ``ticks / 1e9``). ``ticks / 1e9`` is not that past 2**53 ns
  (~104 days): the tick count is rounded to a float first, then the quotient again, and
  ``1000000001875000000 / 1e9`` gives ``1000000001.8750001``, one ulp off the instant.
- :func:`ticks`: float seconds -> the nearest tick (``round(t * 1e9)`` is up to 64 ns off
  at t = 1e9 s, more than half a float's spacing there, so a time would not come back
  as itself).
- :func:`just_after`: the end of a range that includes the instant ``t`` (``[a, t]`` is
  ``[a, just_after(t))``); ``t + 1e-9`` is ``t`` itself past ~1.7e7 s.
- :func:`is_instant`: whether ``[a, b)`` holds at most one float time (no duration to
  divide by).
- :func:`window_index`: the window ``[k w, (k+1) w)`` (edges ``seconds(k * w_ticks)``)
  a float time falls in.

>>> seconds(1_000_000_001_875_000_000)
1000000001.875
>>> ticks(1000000001.875)
1000000001875000000
>>> just_after(2.0)
2.0000000000000004
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["TICKS_PER_SECOND", "seconds", "seconds_array", "ticks", "just_after",
           "is_instant", "window_index"]

#: Simulated time is quantized to integer ticks of one nanosecond (the engine's resolution).
TICKS_PER_SECOND = 1_000_000_000

_EXACT_INT = 2**53  # ticks below this convert to float exactly
_FAST_P = 2.0**50  # |t * 1e9| below this: the product is within 1/16 tick of the truth


def seconds(ticks_: int) -> float:
    """Float seconds of integer ticks, correctly rounded (``inf`` stays ``inf``).

    Python's int / int rounds the exact quotient once. Hot paths inline the same
    expression, ``ns / TICKS_PER_SECOND``, with the integer constant.
    """
    return ticks_ / TICKS_PER_SECOND


def seconds_array(ticks_: Any) -> Any:
    """:func:`seconds` of an integer numpy array (int64 ticks), element for element."""
    import numpy as np

    ns = np.asarray(ticks_)
    out = ns / 1e9  # exact cast below 2**53 ticks: one rounding, the correct one
    if ns.size and ns.dtype.kind in "iu" and (
            int(ns.max()) >= _EXACT_INT or int(ns.min()) <= -_EXACT_INT):
        big = np.abs(ns) >= _EXACT_INT
        whole, frac = np.divmod(ns[big], TICKS_PER_SECOND)
        # whole seconds (exact as a float) plus the fraction: |t| >= 2**23 s here, where
        # float midpoints are multiples of 2**-30 s, at least 4.7e-16 s from any multiple
        # of 1 ns that is not one; the fraction's own rounding is under 5.6e-17 s, so the
        # one remaining rounding lands where the exact quotient's would
        out[big] = whole + frac / 1e9
    return out


def ticks(t: float) -> int:
    """The tick nearest float seconds ``t`` (ties to even). Raises ``ValueError`` for NaN
    and ``OverflowError`` for infinities, like ``round``."""
    p = t * 1e9
    n = round(p)
    if -_FAST_P < p < _FAST_P and -0.4375 < p - n < 0.4375:
        return n  # the rounded product is within 1/16 tick of t * 1e9: the same nearest
    num, den = float(t).as_integer_ratio()
    q, r = divmod(num * TICKS_PER_SECOND, den)
    r += r
    if r > den or (r == den and q & 1):
        q += 1
    return q


def just_after(t: float) -> float:
    """The next float after ``t``: ``[a, just_after(t))`` is ``[a, t]``."""
    return math.nextafter(t, math.inf)


def is_instant(a: float, b: float) -> bool:
    """Whether ``[a, b)`` holds at most one float time: an instant (or nothing), over
    which no rate can be taken; any range holding two times has a duration."""
    return not b > math.nextafter(a, math.inf)


def window_index(t: float, w_ticks: int) -> int:
    """The ``k`` whose window ``[seconds(k * w_ticks), seconds((k + 1) * w_ticks))``
    holds the float time ``t``: windows are cut on ticks, and compared as the floats
    every reader sees (a time within half a float spacing of an edge is on the side its
    float is; at 1e9 s floats are 119 ns apart).

    >>> window_index(2.0, 1_000_000_000), window_index(just_after(2.0), 1_000_000_000)
    (2, 2)
    >>> window_index(math.nextafter(2.0, 0.0), 1_000_000_000)
    1
    """
    k = ticks(t) // w_ticks
    while seconds(k * w_ticks) > t:
        k -= 1
    while seconds((k + 1) * w_ticks) <= t:
        k += 1
    return k
