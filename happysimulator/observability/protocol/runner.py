"""The session's run thread: the simulation runs in the background while requests are
answered from other threads at event boundaries.

`SimRunner.call(fn)` runs ``fn()`` where it is safe: directly (under a lock) when the
simulation is not running, or on the run thread between two events while it runs, so a
query or a ``pause`` sees a consistent state and never races the loop. With the engine's
own ``sim.control.call`` (an interrupt on the heap, no per-event cost) the runner uses
it; otherwise it serves calls from a per-event hook.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from happysimulator.observability.pending_call import PendingCall


class SimRunner:
    """Runs one simulation's ``run``/``resume``/``run_until`` on a worker thread."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self._lock = threading.RLock()
        self._inbox: list[PendingCall] = []
        self._running = False
        self._thread: threading.Thread | None = None
        self._run_thread_id: int | None = None
        self._stopped = threading.Event()
        self._stopped.set()
        self.fault: BaseException | None = None
        self.fault_event: Any = None
        native = getattr(sim.control, "call", None)
        self._native: Any = native if callable(native) else None
        self._unhook = (lambda: None) if self._native else sim.control.on_event(self._drain)

    @property
    def running(self) -> bool:
        return self._running

    def close(self) -> None:
        """Unhook from the simulation (a running stretch is paused first)."""
        if self._running:
            self.pause()
            self.wait(None)
        self._unhook()

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
        if self._native is not None:
            return self._native(fn)
        if threading.get_ident() == self._run_thread_id:
            return fn()
        with self._lock:
            if not self._running:
                return fn()
            item = PendingCall(fn)
            self._inbox.append(item)
        item.done.wait()
        if item.error is not None:
            raise item.error
        return item.result

    def _drain(self, _event: Any = None) -> None:
        # called by the loop after every model event: one list test when nothing waits
        if self._inbox:
            with self._lock:
                items, self._inbox = self._inbox, []
            for item in items:
                item.run()

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
        self._run_thread_id = threading.get_ident()
        try:
            fn()
        except BaseException as exc:  # a model fault: kept for the session to report
            self.fault = exc
            self.fault_event = getattr(self.sim.control.get_state(), "last_event", None)
        finally:
            with self._lock:
                self._running = False
                self._run_thread_id = None
                items, self._inbox = self._inbox, []
                for item in items:  # asked for while the run was stopping
                    item.run()
                self._stopped.set()

    def wait(self, timeout: float | None) -> bool:
        """Wait up to ``timeout`` wall-clock seconds (None: forever) for the run to stop;
        True if it is stopped."""
        return self._stopped.wait(timeout)
