"""Notebook views: `_repr_html_` of results, summaries, states and the catalog (parsed as
HTML), and `plot()` drawn with matplotlib's Agg backend (the data on the axes checked)."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pytest

from happysimulator import ExponentialLatency, LatencyTracker, Server, Simulation, Source
from happysimulator.observability import ObservabilityConfig
from tests.models import mm_server


class _Cells(HTMLParser):
    """Collects table cells and checks that tags balance."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self.stack: list[str] = []
        self._in = False

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)
        if tag in ("td", "th"):
            self._in = True
            self.cells.append("")

    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag, f"unbalanced </{tag}>"
        if tag in ("td", "th"):
            self._in = False

    def handle_data(self, data):
        if self._in:
            self.cells[-1] += data


def cells(html: str) -> list[str]:
    p = _Cells()
    p.feed(html)
    p.close()
    assert not p.stack, f"unclosed tags {p.stack}"
    return p.cells


@pytest.fixture(scope="module")
def sim() -> Simulation:
    s = mm_server(seed=2, rate=6.0, mean_service=0.1, limit=400, server_name="Server<1>")
    s.run()
    return s


def test_html_views_show_the_values_escaped(sim: Simulation) -> None:
    r = sim.query.metrics("latency").aggregate("mean", "p99").execute()
    got = cells(r._repr_html_())
    assert got[:2] == ["mean", "p99"] and got[2] == f"{r.value('mean'):.6g}"
    assert "weighting=sample, exact=True" in r._repr_html_()
    rows = sim.query.metrics("queue_depth").execute()
    html = rows._repr_html_()
    assert f"{len(rows.rows)} rows" in html and "... " in html and "more rows" in html
    summary = sim.summary()
    s_cells = cells(summary._repr_html_())
    assert "total_events_processed" in s_cells
    assert str(summary.total_events_processed) in s_cells
    assert "Server&lt;1&gt;" in summary._repr_html_()  # escaped, never raw markup
    state = sim.control.get_state()
    st = cells(state._repr_html_())
    assert st[st.index("events_processed") + 1] == str(state.events_processed)
    catalog = sim.query.catalog()
    assert isinstance(catalog, dict) and catalog["metrics"]
    c = cells(catalog._repr_html_())
    assert {"queue_depth", "wait_time", "latency", "gauge", "sample"} <= set(c)


def test_plots_draw_the_result_data() -> None:
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    server = Server("Server", concurrency=1, service_time=ExponentialLatency(0.1))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    source = Source.poisson(rate=6.0, target=server, limit=300)
    sim = Simulation(sources=[source], entities=[server, sink], seed=2,
                     observability=ObservabilityConfig.full())
    sim.run()
    q = sim.query
    # a gauge's raw changes: a step line that holds each value (to the end of the range)
    depth = q.metrics("queue_depth").from_entity("Server").execute()
    assert depth.series_kind == "gauge"
    ax = depth.plot()
    (line,) = ax.get_lines()
    assert line.get_drawstyle() == "steps-post"
    assert list(line.get_ydata()[:-1]) == [r["value"] for r in depth.rows]
    # windowed: one step series over the windows, values as computed
    w = q.metrics("latency").between(0, 40).window(10.0).aggregate("p99").execute()
    ax = w.plot()
    (line,) = ax.get_lines()
    assert list(line.get_xdata()) == [0.0, 10.0, 20.0, 30.0, 40.0]
    assert np.allclose(line.get_ydata()[:4], [r["p99"] for r in w.rows], equal_nan=True)
    # one line per group
    g = q.metrics("*_time").group_by("name").between(0, 40).window(20.0).aggregate("mean") \
        .execute()
    ax = g.plot()
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == [
        "service_time", "wait_time"]
    # a single row: bars per aggregate
    ax = q.metrics("latency").aggregate("p50", "p99").execute().plot()
    assert [p.get_height() for p in ax.patches] == pytest.approx(
        [q.metrics("latency").aggregate("p50").execute().scalar,
         q.metrics("latency").aggregate("p99").execute().scalar], rel=1e-12)
    ax.figure.canvas.draw()  # renders on Agg
    plt.close("all")


def test_sweep_plot_has_confidence_bands() -> None:
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection

    from happysimulator.experiments import sweep

    sw = sweep("tests/experiments/models.py:mmc", {"rate": [4.0, 6.0, 8.0]}, replications=4,
               seed=1, executor="serial", params={"customers": 300}, metrics=["wait_time"])
    ax = sw.plot("wait_time", entity="Server")
    (line,) = ax.get_lines()
    ests = sw.estimates("wait_time", entity="Server")
    assert list(line.get_xdata()) == [4.0, 6.0, 8.0]
    assert np.allclose(line.get_ydata(), [e.mean for e in ests])
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 1
    ys = bands[0].get_paths()[0].vertices[:, 1]
    assert ys.min() == pytest.approx(min(e.ci()[0] for e in ests))
    assert ys.max() == pytest.approx(max(e.ci()[1] for e in ests))
    ax = sw.at(rate=8.0).plot("wait_time", entity="Server")
    assert len(ax.get_lines()[0].get_ydata()) == 4
    with pytest.raises(ValueError, match="not a swept parameter"):
        sw.plot("wait_time", x="c")
    plt.close("all")


def test_replication_results_plot_with_error_bands() -> None:
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection

    from happysimulator.experiments import replicate

    reps = replicate("tests/experiments/models.py:mmc", n=3, seed=1, executor="serial",
                     window=40.0, params={"customers": 600}, metrics=["wait_time"])
    band = reps.over_time("wait_time", entity="Server")
    ax = band.plot()
    (line,) = ax.get_lines()
    assert np.allclose(line.get_ydata()[:-1], [r["mean"] for r in band.rows])
    (poly,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    ys = poly.get_paths()[0].vertices[:, 1]
    lows = [r["ci_low"] for r in band.rows if r["ci_low"] is not None]
    assert np.nanmin(ys) == pytest.approx(min(lows))
    assert "QueryResult" in band._repr_html_()
    plt.close("all")
