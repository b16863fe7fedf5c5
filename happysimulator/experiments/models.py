"""Model factories for experiments: the command line's MODEL specs, or callables.

A factory takes keyword parameters (always ``seed``) and returns a `Simulation`::

    def build(*, seed: int, rate: float = 8.0) -> Simulation: ...

Strings (``"path/file.py:factory"``, ``"package.module:factory"``) are resolved by the
same loader as the command line and the session protocol
(`happysimulator.observability.protocol.models.load_factory`); a string is also what
travels to worker processes (each worker loads the file itself, by the absolute path
`absolute_spec` resolved in this process). A callable travels by
pickle (cloudpickle when installed), so a function defined in a notebook works.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from happysimulator.observability.protocol.models import (
    ModelSpecError,
    factory_parameters,
)
from happysimulator.observability.protocol.models import (
    load_factory as _load_spec,
)

__all__ = ["ModelSpec", "ModelSpecError", "absolute_spec", "load_factory", "check_params"]

#: What `replicate` and `sweep` accept as a model.
ModelSpec = str | Callable[..., Any]

_LOADED: dict[str, Callable[..., Any]] = {}  # per process: workers load a file once


def load_factory(model: ModelSpec) -> Callable[..., Any]:
    """The factory callable named by `model` (a callable is returned as is)."""
    if callable(model):
        return model
    if not isinstance(model, str):
        raise TypeError(
            "a model is 'path/file.py:factory', 'package.module:factory' or a callable, "
            f"got {type(model).__name__}")
    factory = _LOADED.get(model)
    if factory is None:
        factory = _LOADED[model] = _load_spec(model)
    return factory


def absolute_spec(model: ModelSpec) -> ModelSpec:
    """``"path/file.py:factory"`` with the path made absolute (resolved against this
    process's working directory, once: a Dask worker's directory is another one);
    module specs and callables unchanged.

    >>> absolute_spec("pkg.mod:build")
    'pkg.mod:build'
    """
    if not isinstance(model, str) or ":" not in model:
        return model
    target, _, name = model.rpartition(":")
    if not (target.endswith(".py") or "/" in target or "\\" in target):
        return model
    return f"{Path(target).expanduser().resolve()}:{name}"


def check_params(factory: Callable[..., Any], params: dict[str, Any], label: str) -> None:
    """Fail early (before any process starts) on parameters the factory cannot take."""
    try:
        accepted = factory_parameters(factory)
    except (TypeError, ValueError):  # no signature (a C callable): cannot check
        return
    if "**" in accepted:
        return
    if "seed" not in accepted:
        raise TypeError(
            f"{label} must take a 'seed' keyword (each replication gets its own seed); "
            f"it takes: {', '.join(sorted(accepted)) or 'nothing'}")
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise TypeError(
            f"{label} has no parameter(s) {unknown}; it takes: {', '.join(sorted(accepted))}")
