"""Replication and sweep pictures: estimates with their confidence bands."""

from __future__ import annotations

from typing import Any

from happysim_rx.plot import axes


def _unit(reps: Any, metric: str, entity: str | None, aggregate: str) -> str:
    """" (unit)" for the value axis: the series' unit, except for aggregates with their
    own (a count, a rate per second)."""
    if aggregate == "count":
        return ""
    if aggregate == "rate":
        return " (1/s)"
    unit = reps.unit(metric, entity=entity) if reps.n else None
    return f" ({unit})" if unit else ""


def plot_replications(reps: Any, metric: str, *, entity: str | None, aggregate: str | None,
                      ax: Any) -> Any:
    """Each replication's value, their mean and the mean's confidence band."""
    est = reps.estimate(metric, entity=entity, aggregate=aggregate)
    ax = axes(ax)
    xs = list(range(est.n))
    ax.plot(xs, est.values, "o", label="replications")
    ax.axhline(est.mean, label=f"mean ({est.n} replications)")
    if est.n >= 2:
        lo, hi = est.ci()
        ax.axhspan(lo, hi, alpha=0.2, label=f"{est.level:.0%} CI")
    ax.set_xlabel("replication")
    ax.set_ylabel(f"{est.entity + '.' if est.entity else ''}{metric} {est.aggregate}"
                  f"{_unit(reps, metric, est.entity, est.aggregate)}")
    ax.legend()
    return ax


def plot_sweep(sweep: Any, metric: str, *, x: str | None, entity: str | None,
               aggregate: str | None, ax: Any) -> Any:
    """The estimate against parameter `x` (one line per value of the other parameters),
    with the confidence band of each point."""
    params = sweep.parameters
    if x is None:
        if len(params) != 1:
            raise ValueError(f"sweep over {params}: say which is on the x axis with x=")
        x = params[0]
    if x not in params:
        raise ValueError(f"x={x!r} is not a swept parameter; swept: {params}")
    ax = axes(ax)
    lines: dict[tuple, list[tuple[Any, Any]]] = {}
    for point, est in zip(sweep.points, sweep.estimates(metric, entity=entity,
                                                          aggregate=aggregate), strict=True):
        rest = tuple((k, v) for k, v in point.items() if k != x)
        lines.setdefault(rest, []).append((point[x], est))
    for rest, pts in lines.items():
        pts.sort(key=lambda p: p[0])
        xs = [p[0] for p in pts]
        means = [p[1].mean for p in pts]
        label = ", ".join(f"{k}={v}" for k, v in rest) or "mean"
        (line,) = ax.plot(xs, means, marker="o", label=label)
        if all(p[1].n >= 2 for p in pts):
            lows = [p[1].ci()[0] for p in pts]
            highs = [p[1].ci()[1] for p in pts]
            ax.fill_between(xs, lows, highs, alpha=0.2, color=line.get_color())
    est0 = pts[0][1]
    ax.set_xlabel(x)
    unit = _unit(sweep[0], metric, est0.entity, est0.aggregate)
    ax.set_ylabel(f"{est0.entity + '.' if est0.entity else ''}{metric} {est0.aggregate}"
                  f"{unit} ({est0.level:.0%} CI)")
    ax.legend()
    return ax
