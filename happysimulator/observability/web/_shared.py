"""What every part of the debugger's worker uses: the error reply and "just past now"."""

from __future__ import annotations

from typing import Any

# the end of a range that counts the values in effect at now: the next float after now,
# the query layer's own rule (now + 1e-9 is now itself past ~1.7e7 s)
from operators.simtime import just_after as _past_now  # noqa: F401 - for the worker


def _err(kind: str, message: str, valid: list[str] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"kind": kind, "message": message}
    if valid is not None:
        error["valid"] = valid
    return {"ok": False, "error": error}
