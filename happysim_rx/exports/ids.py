"""Trace and span ids as the W3C / OpenTelemetry formats want them: 16 and 8 bytes, hex,
never all zero. Integer ids (request numbers) map one to one; anything else is hashed.

>>> trace_id_hex(5), span_id_hex(5005)
('00000000000000000000000000000005', '000000000000138d')
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["trace_id_hex", "span_id_hex"]


def _hex(value: Any, nbytes: int) -> str:
    bits = 8 * nbytes
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < (1 << bits):
        return f"{value:0{2 * nbytes}x}"
    # negative, zero, too large or not an int: a stable hash, made non-zero
    digest = hashlib.blake2b(repr(value).encode(), digest_size=nbytes).digest()
    h = digest.hex()
    return h if int(h, 16) else "0" * (2 * nbytes - 1) + "1"


def trace_id_hex(trace_id: Any) -> str:
    return _hex(trace_id, 16)


def span_id_hex(span_id: Any) -> str:
    return _hex(span_id, 8)
