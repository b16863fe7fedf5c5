"""docs/protocol.md documents every operation (a row of its table) and the replay model
(what makes a model replayable and what is refused otherwise)."""

from __future__ import annotations

import re
from pathlib import Path

from happysimulator.observability.protocol import OPS

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def test_every_operation_has_a_row() -> None:
    rows = set()
    for line in DOC.read_text().splitlines():
        if line.startswith("| `"):  # the first cell names the op(s): `a` / `b` (`id`)
            rows |= set(re.findall(r"`(\w+)`", line.split("|")[1]))
    assert set(OPS) <= rows, sorted(set(OPS) - rows)


def test_the_replay_model_is_documented() -> None:
    text = " ".join(DOC.read_text().split())
    section = text[text.index("## What-if branches"):]
    for words in ("factory", "seed", "wall clock", "outside input", "diverges",
                  "refused", "drop_branch", "at most 16"):
        assert words in section, words
