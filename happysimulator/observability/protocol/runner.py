"""The session's run thread: the simulation runs in the background while requests are
answered from other threads at event boundaries.

`SimRunner.call(fn)` runs ``fn()`` where it is safe, through the engine's
``sim.control.call``: directly (under the simulation's lock) when it is not running, or on
the run thread between two events while it runs, so a query or a ``pause`` sees a
consistent state and never races the loop.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

# While a stretch runs in the background, its thread holds the GIL between events, and a
# reader thread (an MCP request, a query) waits for it up to the interpreter's switch
# interval (5 ms by default) each time it needs it: a request that wakes a worker, hands
# its call to the run thread and returns needs it several times, and N concurrent readers
# queue behind one another (40 readers: 0.3 s at the median). A short interval while a
# background run is active bounds each wait; it costs the run nothing while no other
# thread wants the GIL (the switch is only requested by a waiting thread).
READER_SWITCH_INTERVAL_S = 0.0005
_switch_lock = threading.Lock()
_switch_users = 0
_switch_saved = 0.005


def _short_switch_interval(on: bool) -> None:
    """Count background runs; the first sets the short switch interval, the last
    restores what was there before (unless someone changed it meanwhile)."""
    global _switch_users, _switch_saved
    with _switch_lock:
        if on:
            _switch_users += 1
            if _switch_users == 1:
                _switch_saved = sys.getswitchinterval()
                if _switch_saved > READER_SWITCH_INTERVAL_S:
                    sys.setswitchinterval(READER_SWITCH_INTERVAL_S)
        else:
            _switch_users -= 1
            if _switch_users == 0 and sys.getswitchinterval() == READER_SWITCH_INTERVAL_S:
                sys.setswitchinterval(_switch_saved)


class SimRunner:
    """Runs one simulation's ``run``/``resume``/``run_until`` on a worker thread."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self._lock = threading.RLock()
        self._running = False
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._stopped.set()
        self.fault: BaseException | None = None
        self.fault_event: Any = None

    @property
    def running(self) -> bool:
        return self._running

    def close(self) -> None:
        """Stop using the simulation (a running stretch is paused first)."""
        if self._running:
            self.pause()
            self.wait(None)

    def pause(self) -> None:
        """Ask a running stretch to pause after the current event (nothing if it stopped
        by itself meanwhile: a pause must not carry over to the next run)."""
        control = self.sim.control

        def pause() -> None:
            if control.get_state().is_running:
                control.pause()

        self.call(pause)

    # ---- calls at event boundaries --------------------------------------------------------
    def call(self, fn: Callable[[], Any]) -> Any:
        """``fn()`` at a consistent point: now if the simulation is idle, else between two
        events on the run thread. Blocks until done; re-raises what ``fn`` raised."""
        return self.sim.control.call(fn)

    def submit(self, fn: Callable[[], Any]) -> bool:
        """``fn()`` at the run's next event boundary, on the run thread, without waiting
        (see `SimulationControl.submit`); False when no run is active."""
        return bool(self.sim.control.submit(fn))

    # ---- running ------------------------------------------------------------------------
    def start(self, fn: Callable[[], Any]) -> None:
        """Run ``fn()`` (``sim.run``, ``control.resume``, ...) on the worker thread."""
        with self._lock:
            if self._running:
                raise RuntimeError("the simulation is already running")
            self._running = True
            self._stopped.clear()
            self.fault = None
            self._thread = threading.Thread(target=self._work, args=(fn,),
                                            name="happysim-rx-session-run", daemon=True)
            self._thread.start()

    def _work(self, fn: Callable[[], Any]) -> None:
        _short_switch_interval(True)
        try:
            fn()
        except BaseException as exc:  # a model fault: kept for the session to report
            self.fault = exc
            self.fault_event = getattr(self.sim.control.get_state(), "last_event", None)
        finally:
            _short_switch_interval(False)
            with self._lock:
                self._running = False
                self._stopped.set()

    def wait(self, timeout: float | None) -> bool:
        """Wait up to ``timeout`` wall-clock seconds (None: forever) for the run to stop;
        True if it is stopped."""
        return self._stopped.wait(timeout)
