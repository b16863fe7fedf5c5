"""`SimulationControl` methods that run at an event boundary, whichever thread calls."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
_C = TypeVar("_C")  # SimulationControl or one of its mixins


def _at_boundary(method: Callable[Concatenate[_C, P], R]) -> Callable[Concatenate[_C, P], R]:
    """Run a `SimulationControl` method through `call` (safe from any thread). Typed
    with ParamSpec so that type checkers see the method's own signature."""

    @functools.wraps(method)
    def wrapper(self: _C, /, *args: P.args, **kwargs: P.kwargs) -> R:
        control: Any = self  # (a mixin's self: the SimulationControl at run time)
        if control._run_thread == threading.get_ident():
            return method(self, *args, **kwargs)
        result: R = control.call(method, self, *args, **kwargs)
        return result

    return wrapper
