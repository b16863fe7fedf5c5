"""What the browser tests share: the OS's Chromium (``/usr/bin/chromium``, driven by the
venv's Playwright; no ``playwright install`` download), one browser per module, pages
that record their script errors and Content-Security-Policy violations, and waiting on
the page's state without ``eval`` (the page's CSP forbids it, and stays on in tests)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in ("true", "1")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 # two tabs of one window: the one behind must not be throttled to 1 frame/s
                 "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                 "--disable-backgrounding-occluded-windows"]


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    if found is None:
        if IN_CI:
            pytest.fail("Chromium is missing on the CI machine: .ci/run must install it "
                        "(apt-get install chromium)")
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    if IN_CI:
        from playwright.sync_api import sync_playwright
    else:
        sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class Pages:
    """Tabs of one browser profile (they share the debugger's cookie), with the errors
    their scripts raised and the CSP violations they caused."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                           accept_downloads=True)
        self.errors: list[str] = []

    def open(self, url: str) -> Any:
        page = self.context.new_page()
        page.set_default_timeout(20_000)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("console", lambda m: self.errors.append(f"console: {m.text}")
                if m.type == "error" and "Content Security Policy" in m.text else None)
        page.goto(url)
        wait_js(page, "window.dbg && window.dbg.ready === true")
        return page

    def close(self) -> None:
        self.context.close()


def wait_js(page: Any, expr: str, timeout: float = 30.0) -> Any:
    """Poll `expr` in the page until it is truthy (Playwright's wait_for_function
    evaluates strings with eval, which the page's CSP refuses)."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expr)
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {expr}"
        time.sleep(0.03)


def example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}",
                                                  ROOT / "examples" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
