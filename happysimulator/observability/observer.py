"""`SimulationObserver`: callbacks on a simulation's life cycle."""

from __future__ import annotations

from typing import Any


class SimulationObserver:
    """Subclass and override what you need; register with `sim.control.add_observer`.

    Set ``wants_observations = True`` to receive every observation in `on_observation`
    (this subscribes to the whole bus, so it costs a little per observation).
    """

    wants_observations: bool = False

    def on_start(self, state: Any) -> None:
        """The run loop is about to process its first event."""

    def on_pause(self, state: Any) -> None:
        """The run paused (breakpoint, `pause()`, `step()` or `run_until()` finished)."""

    def on_resume(self, state: Any) -> None:
        """A paused run continues."""

    def on_end(self, state: Any) -> None:
        """The simulation completed (no more primary events, or end_time reached)."""

    def on_observation(self, observation: Any) -> None:
        """One observation, when `wants_observations` is True."""
