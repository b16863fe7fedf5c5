"""A notebook executed headless (nbclient, the real consumer): progress bars without
ipywidgets fall back to text with a total and formatted simulated seconds; result views
render; plots carry units on the value axis."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

CELLS = [
    f"import sys; sys.path.insert(0, {str(REPO)!r})\n"
    "import matplotlib; matplotlib.use('Agg')\n"
    "from happysimulator.experiments import replicate, sweep\n"
    "from tests.models import mm_server\n"
    "from tests.experiments.models import mmc",
    # a run whose sources stop at t=150: that is the bar's total
    "sim = mm_server(seed=4, stop_after=150.0)\n"
    "summary = sim.run(progress=True)",
    "reps = replicate(mmc, n=3, seed=1, executor='serial', progress=True,\n"
    "                 params={'customers': 300}, metrics=['wait_time', 'queue_depth'])\n"
    "reps",
    "print(reps.plot('wait_time', entity='Server').get_ylabel())\n"
    "sw = sweep(mmc, {'mu': [10.0, 12.0]}, replications=2, seed=1, executor='serial',\n"
    "           params={'customers': 200}, metrics=['queue_depth'])\n"
    "print(sw.plot('queue_depth', entity='Server').get_ylabel())",
]


def _text(cell) -> str:
    out = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream":
            out.append(o["text"])
        elif "data" in o:
            out.append(o["data"].get("text/html", "") or o["data"].get("text/plain", ""))
        elif o.get("output_type") == "error":
            out.append("\n".join(o.get("traceback", [])))
    return "".join(out)


def test_notebook_progress_views_and_plot_units() -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("tqdm")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(REPO)}}).execute()
    texts = [_text(c) for c in nb.cells]
    everything = "".join(texts)
    assert "IProgress not found" not in everything  # no ipywidgets: the text bar
    run = texts[1]
    assert re.search(r"\d+\.\d/150\.0 sim s", run), run  # a total, one decimal
    assert not re.search(r"\d\.\d{4,}\s*sim s", run), run  # never 2519.960479098sim s
    reps = texts[2]
    assert re.search(r"\b3/3\b", reps) and "<b>Replications</b> n=3" in reps
    assert "Server.wait_time mean (s)" in texts[3]
    assert "Server.queue_depth mean (requests) (95% CI)" in texts[3]
