"""Docs and the README never point outside the repository (users only get the repo):
relative links and `../` paths stay inside it, and the contract is docs/design.md."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
_PATH = re.compile(r"`(\.\./[^`\s]+)`")


def test_no_link_leaves_the_repository() -> None:
    bad = []
    for page in PAGES:
        text = page.read_text()
        for target in _LINK.findall(text) + _PATH.findall(text):
            if re.match(r"[a-z]+://", target) or target.startswith("mailto:"):
                continue
            if not (page.parent / target).resolve().is_relative_to(ROOT):
                bad.append(f"{page.relative_to(ROOT)}: {target}")
        if "DESIGN.md" in text or "/shared/" in text:
            bad.append(f"{page.relative_to(ROOT)}: names a contract file outside the repo")
    assert not bad, bad


def test_the_guides_link_the_contract_that_ships() -> None:
    assert (ROOT / "docs" / "design.md").is_file()
    for page in ("observability.md", "internals.md"):
        assert "[design.md](design.md)" in (ROOT / "docs" / page).read_text(), page
    for page in ("design.md", "experiments.md", "exports.md"):
        text = (ROOT / "docs" / page).read_text()
        for target in _LINK.findall(text):
            if "://" not in target:
                assert (ROOT / "docs" / target).exists(), f"{page}: {target}"
