"""One BLAS thread for every replication, wherever it runs.

Why: a dot product's last bits depend on how many threads OpenBLAS splits it over (the
partial sums are added in another order), so a replication summarized in a Dask worker
(pinned to one thread by Dask) and the same one summarized in this process (one thread
per core) differed in the 16th digit. Every replication is summarized with one BLAS
thread, so all executors give the same bits.

Two mechanisms, because a library reads its thread count once, when it is loaded:

- environment variables (``OPENBLAS_NUM_THREADS=1`` & co.) set before NumPy is imported:
  what the local pool's workers get before they import anything;
- for a BLAS that is already loaded (this process, where NumPy is imported, or a worker
  that preloaded it), OpenBLAS's own ``openblas_set_num_threads`` through ctypes, for the
  duration of the replication (the previous count is restored afterwards). Other BLAS
  builds (MKL, Accelerate) have no such call here; there the variables are all we set.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["BLAS_ENV", "blas_threads", "one_blas_thread", "pin_environment"]

#: the variables BLAS and OpenMP runtimes read at load time
BLAS_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "VECLIB_MAXIMUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1"}

_LOCK = threading.Lock()
_depth = 0
_saved: int | None = None
_api: tuple[Any, Any] | None | bool = False  # False: not looked up yet; None: none found


def pin_environment() -> None:
    """Set the variables (for a BLAS loaded after this call, in this process and in the
    processes it starts)."""
    os.environ.update(BLAS_ENV)


def _openblas() -> tuple[Any, Any] | None:
    """(set_num_threads, get_num_threads) of the OpenBLAS loaded in this process."""
    global _api
    if _api is not False:
        return _api  # type: ignore[return-value]
    _api = None
    if "numpy" not in sys.modules:
        _api = False  # look again once NumPy is loaded
        return None
    for path in _loaded_libraries():
        if "openblas" not in os.path.basename(path).lower():
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", ""):
                setter = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                getter = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                if setter is not None and getter is not None:
                    setter.argtypes, setter.restype = [ctypes.c_int], None
                    getter.argtypes, getter.restype = [], ctypes.c_int
                    _api = (setter, getter)
                    return _api
    return None


def _loaded_libraries() -> list[str]:
    try:
        with open("/proc/self/maps") as f:  # Linux: every mapped shared object
            return sorted({line.split()[-1] for line in f if ".so" in line})
    except OSError:
        import glob

        import numpy as np  # elsewhere: the wheel's bundled libraries

        base = os.path.dirname(os.path.dirname(np.__file__))
        return glob.glob(os.path.join(base, "numpy*libs", "*openblas*"))


def blas_threads() -> int | None:
    """OpenBLAS's current thread count in this process (None: no OpenBLAS found)."""
    api = _openblas()
    return None if api is None else int(api[1]())


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """One BLAS thread inside the block (nested and concurrent uses share it; the count
    in effect before the outermost one is restored after it)."""
    global _depth, _saved
    api = _openblas()
    with _LOCK:
        _depth += 1
        if _depth == 1 and api is not None:
            _saved = int(api[1]())
            if _saved != 1:
                api[0](1)
    try:
        yield
    finally:
        with _LOCK:
            _depth -= 1
            if _depth == 0 and api is not None and _saved is not None and _saved != 1:
                api[0](_saved)
