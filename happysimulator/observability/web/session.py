"""The session protocol the debugger is a client of.

The page speaks the session protocol (``{"op": ..., ...}`` in, ``{"ok": ...}`` out, see
docs/protocol.md); the server forwards every request to one `SessionProtocol` and adds
only what a page needs on top (runs in slices, live charts, the model graph).
"""

from __future__ import annotations

from typing import Any

from happysimulator.observability.protocol import SessionProtocol

__all__ = ["open_session"]

_SLICE_WAIT_S = 600.0  # the protocol's longest wait: a slice always ends before it


def open_session(model: Any, params: dict[str, Any] | None = None) -> SessionProtocol:
    """A `SessionProtocol` over `model`: a `Simulation`, a factory (called with `params`)
    or a ``path/file.py:factory`` / ``package.module:factory`` spec."""
    if isinstance(model, SessionProtocol):
        if params:
            raise ValueError("params need a model factory, not an open session")
        return model
    return SessionProtocol(model, params=params, default_wait_s=_SLICE_WAIT_S)
