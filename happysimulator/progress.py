"""Optional progress bars (tqdm, else rich) for long runs and replications.

``enabled=None`` shows a bar only on a terminal or in a notebook, when tqdm or rich is
installed (in a notebook: tqdm's widget with ipywidgets, its text bar without);
simulated seconds show with one decimal (``12.5/200.0 sim s``);
``True`` insists (ImportError naming the extra when neither is); ``False`` never shows one.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["ProgressBar", "progress_bar"]


class ProgressBar:
    """``update(n)``, ``set_postfix(text)``, ``close()``; a no-op when disabled."""

    def __init__(self, bar: Any = None, rich: Any = None, task: Any = None) -> None:
        self._bar, self._rich, self._task = bar, rich, task

    @property
    def enabled(self) -> bool:
        return self._bar is not None or self._rich is not None

    def update(self, n: float = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)
        elif self._rich is not None:
            self._rich.update(self._task, advance=n)

    def set_total(self, total: float | None) -> None:
        if self._bar is not None:
            self._bar.total = total
            self._bar.refresh()
        elif self._rich is not None:
            self._rich.update(self._task, total=total)

    def set_postfix(self, text: str) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)
        elif self._rich is not None:
            self._rich.update(self._task, info=text)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._rich is not None:
            self._rich.stop()
            self._rich = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _is_seconds(unit: str) -> bool:
    return unit == "s" or unit.endswith(" s")


def _tqdm_class() -> Any:
    """tqdm's notebook widget where ipywidgets can draw it, else its text bar (in a
    notebook without ipywidgets, ``tqdm.auto`` would warn "IProgress not found" and
    fall back anyway; the text bar prints to the cell's stderr)."""
    try:
        from tqdm.std import tqdm
    except ImportError:
        return None
    if "ipykernel" in sys.modules:
        try:
            import ipywidgets  # noqa: F401
        except ImportError:
            return tqdm
        from tqdm.auto import tqdm as auto

        return auto
    return tqdm


def progress_bar(total: float | None, desc: str, enabled: bool | None, *,
                 unit: str = "it", file: Any = None) -> ProgressBar:
    """A progress bar, or a no-op one (see the module docstring for `enabled`)."""
    if enabled is False:
        return ProgressBar()
    if enabled is not None and enabled is not True:
        raise TypeError(f"progress must be True, False or None, got {enabled!r}")
    out = file if file is not None else sys.stderr
    interactive = (hasattr(out, "isatty") and out.isatty()) or "ipykernel" in sys.modules
    if enabled is None and not interactive:  # (a notebook counts: tqdm.auto draws a widget)
        return ProgressBar()
    tqdm = _tqdm_class()
    if tqdm is not None:
        kw: dict[str, Any] = {}
        if _is_seconds(unit):
            # simulated seconds are floats: tqdm would print them raw (2519.960479098sim s)
            kw["bar_format"] = (
                "{desc}: {percentage:3.0f}%|{bar}| {n:,.1f}/{total:,.1f} " + unit
                + " [{elapsed}<{remaining}{postfix}]" if total is not None else
                "{desc}: {n:,.1f} " + unit + " [{elapsed}{postfix}]")
        return ProgressBar(bar=tqdm(total=total, desc=desc, unit=unit, file=out,
                                    dynamic_ncols=True, leave=True, **kw))
    try:
        from rich.progress import Progress, TextColumn
    except ImportError:
        if enabled is None:
            return ProgressBar()
        raise ImportError("progress=True needs tqdm or rich: pip install 'happysim-rx[progress]'"
                          ) from None
    rich = Progress(*Progress.get_default_columns(), TextColumn("{task.fields[info]}"))
    task = rich.add_task(desc, total=total, info="")
    rich.start()
    return ProgressBar(rich=rich, task=task)
