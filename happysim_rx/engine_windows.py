"""Ranges and windows of answers relative to now, and windows on snapped edges.

The clock follows the data while a simulation runs: time after now has not happened,
so a range reaching past now answers up to just after now (`_clip_end`), and windows
entirely after now answer "nothing yet" (`_split_at_now`).
"""

from __future__ import annotations

from typing import Any

from operators.simtime import is_instant, just_after, seconds, ticks, window_index


def _split_at_now(windows: list[tuple[float, float]], now: float | None
                  ) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """(windows that have begun, the one reaching past now cut there; windows entirely
    after now, which answer "nothing yet")."""
    if now is None:
        return windows, []
    begun = [(a, _clip_end(b, now)) for a, b in windows if a <= now]
    return begun, [(a, b) for a, b in windows if a > now]


def _clip_end(end: float, now: float) -> float:
    """A range's end past now cut to just after now: [start, now] — what happened up to
    and including the current instant (the values in effect at now count)."""
    return just_after(now) if end > now else end


def _window_start(t: float, window: float) -> float:
    """The edge of the window holding ``t`` (on ticks, as `QueryEngine._windows` cuts
    them): where an open range's start goes down to when the query is windowed."""
    w_ns = ticks(window)
    return seconds(window_index(t, w_ns) * w_ns) if w_ns > 0 else t


def _cut_at_now(row: dict[str, Any], past_now: float | None) -> dict[str, Any]:
    """A row a bounded store answered over a range snapped to its rollup buckets past now
    (``[0, 1)`` for a window ``[0.5, now]`` at now = 0.67) says it stops just after now:
    nothing was recorded after now, so its values are those of the stated range cut
    there; only its rate changes, divided by the time covered up to now."""
    if past_now is None or not row["end"] > past_now:
        return row
    a, b = row["start"], row["end"]
    rate = row.get("rate")
    if rate is not None:
        row["rate"] = None if is_instant(a, past_now) else rate * ((b - a) / (past_now - a))
    row["end"] = past_now
    return row


def _edges(windows: list[tuple[float, float]]) -> list[float]:
    return [a for a, _ in windows] + ([windows[-1][1]] if windows else [])


def _snapped_windows(
    edges: list[float], asked: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    """Windows between snapped edges; windows whose edges snapped together are merged
    into the neighbour that now holds their data (rows partition the snapped range)."""
    if len(asked) == 1 and asked[0][0] == asked[0][1]:
        return [(edges[0], edges[-1])]
    out = []
    for a, b in zip(edges, edges[1:], strict=False):
        if b > a:
            out.append((a, b))
    return out
