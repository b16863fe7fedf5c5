"""Random streams by purpose: each source and entity draws from a generator of its own,
seeded from the simulation's seed and the entity's name.

Why: with one shared generator, a change anywhere (a faster server, one more arrival)
shifts every later draw of every component, so two runs with the same seed are not
comparable draw for draw. With a stream per purpose, arrivals in two runs with the same
seed are the same arrivals, and service times the same service times (common random
numbers that work).

>>> stream_seed("1", "entity:Server") == stream_seed("1", "entity:Server")
True
>>> stream_seed("1", "entity:Server") != stream_seed("1", "entity:Source")
True
"""

from __future__ import annotations

import random

try:  # CPython's own BLAKE2: `hashlib` would also load OpenSSL (about 4 MB of RSS)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - other interpreters
    from hashlib import blake2b

__all__ = ["stream_seed", "new_stream", "seed_root"]


def seed_root(seed: object) -> str:
    """The text every stream of a simulation with ``seed`` is derived from."""
    return repr(seed)


def stream_seed(root: str, purpose: str) -> int:
    """A 128-bit seed from (root, purpose): blake2b, stable across processes and Python
    versions (``hash()`` is salted per process, so it cannot be used)."""
    h = blake2b(f"{root}\x00{purpose}".encode(), digest_size=16)
    return int.from_bytes(h.digest(), "big")


def new_stream(root: str, purpose: str) -> random.Random:
    """A `random.Random` for ``purpose`` (same numbers in every run with the same root)."""
    return random.Random(stream_seed(root, purpose))
