"""The guide's table of ObservabilityConfig fields states the defaults the code has."""

from __future__ import annotations

import re
from pathlib import Path

from happysimulator.observability import ObservabilityConfig

DOC = Path(__file__).resolve().parents[2] / "docs" / "observability.md"


def test_single_field_defaults_in_the_guide_match_the_code() -> None:
    rows = re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \|", DOC.read_text(), re.MULTILINE)
    documented = {name: cell.strip() for name, cell in rows}
    config = ObservabilityConfig()
    checked = 0
    for name in ("raw_samples", "rollup_s", "relative_accuracy", "trace_sample_rate",
                 "enabled", "store"):
        assert name in documented, f"{name} missing from the guide's table"
        cell = documented[name].strip("`").replace(",", "")
        value = getattr(config, name)
        if isinstance(value, bool):
            assert cell == str(value), name
        elif isinstance(value, str):
            assert cell == f'"{value}"', name
        else:
            assert float(cell) == float(value), f"{name}: guide {cell}, code {value}"
        checked += 1
    assert checked == 6
