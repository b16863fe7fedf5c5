"""What every part of the debugger's worker uses: the error reply and "just past now"."""

from __future__ import annotations

from typing import Any

_EPS = 1e-9  # a query's end this far past now counts the values at now


def _err(kind: str, message: str, valid: list[str] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"kind": kind, "message": message}
    if valid is not None:
        error["valid"] = valid
    return {"ok": False, "error": error}
