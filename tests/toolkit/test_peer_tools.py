"""The peer-comparison tools: the ``all`` sets find every test file and example, and the
headline numbers are read from the examples' printed tables."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[2] / "tools"


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(f"tool_{name}", TOOLS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(spec.name, None)
    return module


def test_all_sets_discover_every_test_file_and_example(tmp_path):
    suite, examples = _tool("peer_suite"), _tool("peer_examples")
    for rel in ("tests/test_a.py", "tests/unit/x/test_b.py", "tests/unit/helper.py",
                "examples/q/m.py", "examples/lb/common.py", "examples/lb/__init__.py",
                "examples/v/web.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    (tmp_path / "examples/q/m.py").write_text('ap.add_argument("--no-viz")\n')
    (tmp_path / "examples/v/web.py").write_text("from x import serve\nserve(sim)\n")
    assert suite._discover(tmp_path / "tests") == ("test_a.py", "unit/x/test_b.py")
    assert examples._discover(tmp_path) == (("examples/q/m.py", ("--no-viz",)),
                                            ("examples/v/web.py", ()))
    assert examples._serves_at_import(tmp_path / "examples/v/web.py")
    assert not examples._serves_at_import(tmp_path / "examples/q/m.py")


def test_headlines_read_the_printed_tables():
    ex = _tool("peer_examples")
    out = ("Overall Latency:\n  Average: 63.6ms\n"
           "  15% Pkt Loss             1000    718   28.2%      6.8     28.9\n"
           "  Recovery                 1000   1007   -0.7%      7.2     28.3\n")
    heads = dict(ex.HEADLINES["examples/distributed/degraded_network.py"])
    assert ex._headline(out, heads["latency avg ms"]) == 63.6
    assert ex._headline(out, heads["15% Pkt Loss received"]) == 718
    assert ex._headline(out, heads["Recovery avg ms"]) == 7.2
    assert ex._headline(out, heads["Recovery p99 ms"]) == 28.3
    assert ex._headline(out, heads["Normal avg ms"]) is None
    assert ex._ratio([2.0, 4.0], [3.0, 3.0]) == "1.000"
    assert ex._ratio([1.0, None], [1.0, 1.0]) == "-"  # a failed run: no mean
