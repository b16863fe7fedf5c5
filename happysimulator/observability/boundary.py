"""`SimulationControl` methods that run at an event boundary, whichever thread calls."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from happysimulator.observability.control import SimulationControl


def _at_boundary(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run a `SimulationControl` method through `call` (safe from any thread)."""

    @functools.wraps(method)
    def wrapper(self: SimulationControl, *args: Any, **kwargs: Any) -> Any:
        if self._run_thread == threading.get_ident():
            return method(self, *args, **kwargs)
        return self.call(method, self, *args, **kwargs)

    return wrapper
