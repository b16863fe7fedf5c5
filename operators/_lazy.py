"""Package names that load on first use (PEP 562), for every layer of the project.

It lives in `operators`, the bottom layer, so `happysim_rx` and `happysimulator` can use
it without importing upward. Importing a package then costs only what its users touch.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, namespace: dict[str, Any], exports: Mapping[str, str], *,
                 relative: bool = True) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: ``exports`` maps a public name to
    the module defining it (a submodule name when ``relative``, else a full module path).
    A name is imported on its first lookup and then kept in ``namespace`` (the package's
    globals), so later lookups are plain attribute reads. Other names resolve to
    submodules (``package.submodule`` works without importing it first)."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            return _submodule(package, name)
        value = getattr(importlib.import_module(
            f"{package}.{module}" if relative else module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(namespace.get("__all__", ())))

    return __getattr__, __dir__


def _submodule(package: str, name: str) -> Any:
    try:
        return importlib.import_module(f"{package}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{package}.{name}":
            raise  # the submodule exists but needs something missing: say what
        raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
