"""MODEL specs: ``path/to/file.py:factory`` or ``package.module:factory``.

A factory takes keyword parameters and returns a `Simulation`, so one model file serves
scripts, the command line, the MCP server and sweeps::

    factory = load_factory("examples/metastable_failure.py:build")
    sim = factory(seed=3, end_time=120.0)
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


class ModelSpecError(ValueError):
    """A MODEL spec that cannot be resolved (the message says what was expected)."""


def load_factory(spec: str) -> Callable[..., Any]:
    """The factory named by ``spec`` (``file.py:name`` or ``package.module:name``)."""
    if not isinstance(spec, str) or spec.count(":") < 1:
        raise ModelSpecError(
            f"a MODEL is 'path/to/file.py:factory' or 'package.module:factory', got {spec!r}")
    target, _, name = spec.rpartition(":")
    if not name.isidentifier():
        raise ModelSpecError(f"factory name {name!r} in {spec!r} is not a Python identifier")
    if target.endswith(".py") or "/" in target or "\\" in target:
        path = Path(target).expanduser().resolve()
        if not path.is_file():
            raise ModelSpecError(f"no model file {target!r} (resolved to {path})")
        # a stable module name per file: dataclasses & co. look their module up
        digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
        mod_name = f"_happysim_model_{path.stem}_{digest}"
        module = sys.modules.get(mod_name)
        if module is None:
            spec_ = importlib.util.spec_from_file_location(mod_name, path)
            if spec_ is None or spec_.loader is None:
                raise ModelSpecError(f"cannot import {path}")
            module = importlib.util.module_from_spec(spec_)
            sys.modules[mod_name] = module
            try:
                spec_.loader.exec_module(module)
            except BaseException:
                sys.modules.pop(mod_name, None)
                raise
    else:
        try:
            module = importlib.import_module(target)
        except ModuleNotFoundError as exc:
            raise ModelSpecError(f"cannot import module {target!r}: {exc}") from None
    factory = getattr(module, name, None)
    if factory is None:
        callables = sorted(n for n, v in vars(module).items()
                           if callable(v) and not n.startswith("_") and not inspect.isclass(v)
                           and getattr(v, "__module__", None) == module.__name__)
        raise ModelSpecError(f"{target!r} has no {name!r}; its functions: "
                             f"{', '.join(callables) or 'none'}")
    if not callable(factory):
        raise ModelSpecError(f"{spec!r} is not callable")
    return factory


def factory_parameters(factory: Callable[..., Any]) -> dict[str, Any]:
    """Keyword parameters of ``factory`` and their defaults (``inspect.Parameter.empty``
    when required); ``{"**": ...}`` marks a factory that takes any keyword."""
    out: dict[str, Any] = {}
    for p in inspect.signature(factory).parameters.values():
        if p.kind is p.VAR_KEYWORD:
            out["**"] = inspect.Parameter.empty
        elif p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            out[p.name] = p.default
    return out


def check_params(factory: Callable[..., Any], params: dict[str, Any]) -> None:
    """A clear error for parameters the factory does not take."""
    accepted = factory_parameters(factory)
    if "**" in accepted:
        return
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ModelSpecError(
            f"unknown model parameter(s) {', '.join(unknown)}; valid: "
            f"{', '.join(accepted) or 'none'}")


def parse_param(text: str) -> tuple[str, Any]:
    """``"rate=9.5"`` -> ``("rate", 9.5)``: values are Python literals (numbers, strings,
    True/False/None, lists), anything else is taken as a string."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key.isidentifier():
        raise ModelSpecError(f"a parameter is name=value, got {text!r}")
    try:
        value = ast.literal_eval(raw.strip())
    except (ValueError, SyntaxError):
        value = raw
    return key, value
