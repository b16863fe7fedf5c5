"""A function handed to the simulation's run thread, and its outcome (for `control.call`
and the session runner): the caller waits on ``done``, then reads ``result`` or re-raises
``error`` in its own thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class PendingCall:
    """``fn(*args, **kwargs)`` to run on another thread; ``run()`` never raises."""

    __slots__ = ("fn", "args", "kwargs", "done", "result", "error")

    def __init__(self, fn: Callable[..., Any], args: tuple = (), kwargs: dict | None = None
                 ) -> None:
        self.fn, self.args, self.kwargs = fn, args, kwargs or {}
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.fn(*self.args, **self.kwargs)
        except BaseException as exc:  # handed back to the calling thread
            self.error = exc
        finally:
            self.done.set()
