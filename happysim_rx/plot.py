"""`QueryResult.plot()`: matplotlib pictures of query answers.

- raw metric samples: a time series; a gauge as a step line (it holds its value until
  the next change, up to the end of the range);
- windowed aggregates: a time series per aggregate at the window starts, drawn as steps
  over each window;
- grouped results: one line per group (the legend names it);
- one row of aggregates: a bar per aggregate; spans: duration against start time;
- replication results (`Replications.over_time`): the mean per window with its
  confidence band.
"""

from __future__ import annotations

from typing import Any

__all__ = ["plot_result", "axes"]


def axes(ax: Any = None) -> Any:
    """The given Axes, or a new figure's."""
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError("plot() needs matplotlib: pip install 'happysim-rx[plot]'") from e
    _, ax = plt.subplots()
    return ax


def _label(key: Any) -> str:
    return ", ".join(map(str, key)) if isinstance(key, tuple) else str(key)


def plot_result(result: Any, ax: Any = None, *, aggregate: str | None = None) -> Any:
    """Draw `result` on `ax` (a new figure when None) and return the Axes."""
    q = result.query
    kind = q.get("kind")
    ax = axes(ax)
    windowed = q.get("window") is not None
    groups = result.groups() if result.group_by else {None: result.rows}
    aggs = list(result.aggregates)
    if aggregate is not None:
        if aggregate not in aggs:
            raise ValueError(f"aggregate {aggregate!r} was not computed; computed: {aggs}")
        aggs = [aggregate]
    gauge = getattr(result, "series_kind", None) == "gauge"
    title = f"{q.get('name') or kind}" + (f" @ {q['entity']}" if q.get("entity") != "*" else "")

    if not aggs:  # raw rows
        tkey, vkey = ("start", "duration") if kind == "spans" else ("time", "value")
        for key, rows in groups.items():
            if kind == "metrics" and result.group_by == [] and len(
                    {r.get("source") for r in rows}) > 1:
                by_src: dict[Any, list] = {}
                for r in rows:
                    by_src.setdefault(r.get("source"), []).append(r)
                parts = list(by_src.items())
            else:
                parts = [(key, rows)]
            for label, part in parts:
                xs = [r[tkey] for r in part]
                ys = [r.get(vkey) for r in part]
                if gauge and xs:
                    end = result.end if result.end is not None else xs[-1]
                    ax.step(xs + [max(end, xs[-1])], ys + [ys[-1]], where="post",
                            label=None if label is None else _label(label))
                else:
                    ax.plot(xs, ys, marker=".", linestyle="-" if kind == "metrics" else "",
                            label=None if label is None else _label(label))
        ax.set_xlabel("simulated time (s)")
        ax.set_ylabel("duration (s)" if kind == "spans" else str(q.get("name")))
    elif windowed:
        for key, rows in groups.items():
            for agg in aggs:
                xs = [r["start"] for r in rows] + ([rows[-1]["end"]] if rows else [])
                ys = [r.get(agg) for r in rows]
                ys = ys + ys[-1:]
                parts = [p for p in (None if key is None else _label(key),
                                     agg if len(aggs) > 1 or key is None else None) if p]
                (line,) = ax.step(xs, [float("nan") if y is None else y for y in ys],
                                  where="post", label=" ".join(parts) or None)
                if rows and "ci_low" in rows[0]:  # across replications: the CI band
                    nan = float("nan")
                    lo = [nan if r["ci_low"] is None else r["ci_low"] for r in rows]
                    hi = [nan if r["ci_high"] is None else r["ci_high"] for r in rows]
                    ax.fill_between(xs, lo + lo[-1:], hi + hi[-1:], step="post", alpha=0.2,
                                    color=line.get_color())
        ax.set_xlabel("simulated time (s)")
        ax.set_ylabel(f"{q.get('name')} ({', '.join(aggs)}, {result.weighting}-weighted)")
    else:  # one row per group: bars
        labels, values = [], []
        for key, rows in groups.items():
            for agg in aggs:
                labels.append(agg if key is None else f"{_label(key)} {agg}")
                v = rows[0].get(agg) if rows else None
                values.append(float("nan") if v is None else v)
        ax.bar(range(len(values)), values)
        ax.set_xticks(range(len(values)), labels)
        ax.set_ylabel(f"{q.get('name')} ({result.weighting}-weighted)")
    ax.set_title(title)
    if ax.get_legend_handles_labels()[1]:
        ax.legend()
    return ax
