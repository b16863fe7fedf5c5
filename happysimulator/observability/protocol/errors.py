"""The session protocol's two failures: a request it cannot serve (`ProtocolError`,
answered ``{"ok": false, "error": ...}``) and a fault of the model's own code."""

from __future__ import annotations

__all__ = ["ProtocolError"]


class ProtocolError(Exception):
    """A request that cannot be served; becomes ``{"ok": false, "error": ...}``."""

    def __init__(self, kind: str, message: str, valid: list[str] | None = None) -> None:
        super().__init__(message)
        self.kind, self.message, self.valid = kind, message, valid


class _ModelFault(Exception):
    def __init__(self, exc: BaseException) -> None:
        super().__init__(str(exc))
        self.exc = exc
