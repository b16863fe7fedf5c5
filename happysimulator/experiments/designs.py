"""Space-filling designs: points for `sweep` when a full grid is too many.

A space maps each parameter to a range ``(low, high)`` (a float drawn in it) or to a list
of choices (one picked by the design's coordinate: equal shares of the unit interval)::

    space = {"rate": (5.0, 9.0), "servers": [1, 2, 3]}
    sweep(build, latin_hypercube(space, n=8, seed=1), replications=5)

`latin_hypercube` puts exactly one point in each of ``n`` equal slices of every range;
`sobol` takes the first ``n`` points of a scrambled Sobol' sequence (best balanced when
``n`` is a power of two). Both use ``scipy.stats.qmc``
(``pip install 'happysim-rx[design]'``) and are reproducible from ``seed``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["latin_hypercube", "sobol"]


def _qmc() -> Any:
    try:
        from scipy.stats import qmc
    except ImportError as exc:  # pragma: no cover - scipy comes with the 'design' extra
        raise ImportError("latin_hypercube and sobol need scipy: "
                          "pip install 'happysim-rx[design]'") from exc
    return qmc


def _check(space: Mapping[str, Any], n: Any, seed: Any) -> list[tuple[str, Any]]:
    if not isinstance(space, Mapping) or not space:
        raise ValueError("space must be a non-empty dict {name: (low, high) or [choices]}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise TypeError(f"seed must be a non-negative int, got {seed!r}")
    dims = []
    for name, dim in space.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"space keys are parameter names, got {name!r}")
        if isinstance(dim, tuple):
            if len(dim) != 2 or not all(isinstance(x, int | float) and not isinstance(x, bool)
                                        and math.isfinite(x) for x in dim):
                raise ValueError(f"space[{name!r}]: a range is (low, high) with finite "
                                 f"numbers, got {dim!r}")
            if not dim[0] < dim[1]:
                raise ValueError(f"space[{name!r}]: low must be < high, got {dim!r}")
        elif isinstance(dim, Sequence) and not isinstance(dim, str | bytes):
            if not dim:
                raise ValueError(f"space[{name!r}]: the list of choices is empty")
        else:
            raise TypeError(f"space[{name!r}] must be (low, high) or a list of choices, "
                            f"got {dim!r}")
        dims.append((name, dim))
    return dims


def _points(dims: list[tuple[str, Any]], unit: np.ndarray) -> list[dict[str, Any]]:
    out = []
    for row in unit:
        point: dict[str, Any] = {}
        for (name, dim), u in zip(dims, row, strict=True):
            if isinstance(dim, tuple):
                point[name] = float(dim[0] + u * (dim[1] - dim[0]))
            else:
                point[name] = dim[min(int(u * len(dim)), len(dim) - 1)]
        out.append(point)
    return out


def _engine(cls: Any, d: int, seed: int, **kw: Any) -> Any:
    try:
        return cls(d, rng=np.random.default_rng(seed), **kw)  # scipy >= 1.15
    except TypeError:
        return cls(d, seed=seed, **kw)


def latin_hypercube(space: Mapping[str, Any], n: int, seed: int = 1) -> list[dict[str, Any]]:
    """``n`` points, one in each of ``n`` equal slices of every parameter's range."""
    dims = _check(space, n, seed)
    qmc = _qmc()
    return _points(dims, _engine(qmc.LatinHypercube, len(dims), int(seed)).random(n))


def sobol(space: Mapping[str, Any], n: int, seed: int = 1) -> list[dict[str, Any]]:
    """The first ``n`` points of a scrambled Sobol' sequence over the space (use a power
    of two for its balance properties; scipy warns otherwise)."""
    dims = _check(space, n, seed)
    qmc = _qmc()
    return _points(dims, _engine(qmc.Sobol, len(dims), int(seed), scramble=True).random(n))
