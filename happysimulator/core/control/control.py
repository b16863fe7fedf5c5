"""``happysimulator.core.control.control`` (happysim 0.2.5 module path)."""

from typing import Any


def __getattr__(name: str) -> Any:
    if name in ("SimulationControl", "SimulationState"):
        from happysimulator.observability import control

        return getattr(control, name)
    raise AttributeError(name)


__all__ = ["SimulationControl", "SimulationState"]  # noqa: F822 (lazy)
