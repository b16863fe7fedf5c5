"""Model factories: ``"path/file.py:factory"``, ``"package.module:factory"`` or a callable.

A factory takes keyword parameters (always ``seed``) and returns a `Simulation`::

    def build(*, seed: int, rate: float = 8.0) -> Simulation: ...

The string form is what the command line accepts and what travels to worker processes
(each worker loads the file itself); a callable travels by pickle, so it must be defined
at the top level of an importable module.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["ModelSpec", "load_factory", "factory_params"]

#: What `replicate` and `sweep` accept as a model.
ModelSpec = str | Callable[..., Any]

_LOADED: dict[str, Callable[..., Any]] = {}


def load_factory(model: ModelSpec) -> Callable[..., Any]:
    """The factory callable named by `model` (a callable is returned as is)."""
    if callable(model):
        return model
    if not isinstance(model, str):
        raise TypeError(
            "a model is 'path/file.py:factory', 'package.module:factory' or a callable, "
            f"got {type(model).__name__}")
    cached = _LOADED.get(model)
    if cached is not None:
        return cached
    where, sep, name = model.rpartition(":")
    if not sep or not where or not name.isidentifier():
        raise ValueError(
            f"model {model!r} must be 'path/file.py:factory' or 'package.module:factory'")
    if where.endswith(".py"):
        path = Path(where).expanduser().resolve()
        if not path.is_file():
            raise FileNotFoundError(f"model file {where!r} not found (from {model!r})")
        # a stable module name per file: objects defined there pickle by reference
        key = hashlib.sha1(str(path).encode()).hexdigest()[:12]
        mod_name = f"_happysim_model_{path.stem}_{key}"
        module = sys.modules.get(mod_name)
        if module is None:
            spec = importlib.util.spec_from_file_location(mod_name, path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {path} as a Python module")
            module = importlib.util.module_from_spec(spec)
            sys.modules[mod_name] = module  # dataclasses & co. look their module up
            try:
                spec.loader.exec_module(module)
            except BaseException:
                sys.modules.pop(mod_name, None)
                raise
    else:
        module = importlib.import_module(where)
    factory = getattr(module, name, None)
    if factory is None or not callable(factory):
        found = sorted(n for n, v in vars(module).items()
                       if inspect.isfunction(v) and not n.startswith("_"))
        raise AttributeError(
            f"{where!r} has no callable {name!r}; its functions: {', '.join(found) or 'none'}")
    _LOADED[model] = factory
    return factory


def factory_params(factory: Callable[..., Any]) -> tuple[set[str], bool]:
    """(keyword parameter names, accepts **kwargs) of a factory."""
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):  # builtins, C callables: cannot check
        return set(), True
    names = {p.name for p in sig.parameters.values()
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    var_kw = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    return names, var_kw


def check_params(factory: Callable[..., Any], params: dict[str, Any], label: str) -> None:
    """Fail early (before any process starts) on parameters the factory cannot take."""
    names, var_kw = factory_params(factory)
    if var_kw:
        return
    if "seed" not in names:
        raise TypeError(
            f"{label} must take a 'seed' keyword (each replication gets its own seed); "
            f"it takes: {', '.join(sorted(names)) or 'nothing'}")
    unknown = sorted(set(params) - names)
    if unknown:
        raise TypeError(
            f"{label} has no parameter(s) {unknown}; it takes: {', '.join(sorted(names))}")
