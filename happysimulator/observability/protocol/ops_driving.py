"""Session operations that drive the run: run, run_until, resume, pause, step, peek."""

from __future__ import annotations

import inspect
import math

import msgspec

from happysimulator.observability.protocol import messages as m
from happysimulator.observability.protocol.answers import _event_info, _size
from happysimulator.observability.protocol.errors import ProtocolError, _ModelFault


class DrivingOps:
    """``run``/``run_until``/``resume``/``pause``/``step``/``peek`` of `SessionProtocol`
    (mixed into it: works on its simulation, runner and lock)."""

    def _op_run(self, req: m.RunRequest) -> m.RunResponse:
        with self._lock:
            self._require_idle("run")
            sim = self._sim
            control = sim.control
            if control.is_complete:
                raise ProtocolError("state", "the run is complete: reset to run it again",
                                    ["reset", "query", "export"])
            if req.until is not None:
                self._check_until(req.until)
                until = req.until
                self._start(lambda: control.run_until(until))
            elif control.is_paused:
                self._start(control.resume)
            else:
                self._start(sim.run)
        return m.RunResponse(state=self._settle(req.wait_s))

    def _op_run_until(self, req: m.RunUntilRequest) -> m.RunUntilResponse:
        with self._lock:
            self._require_idle("run_until")
            control = self._sim.control
            if control.is_complete:
                raise ProtocolError("state", "the run is complete: reset to run it again",
                                    ["reset"])
            self._check_until(req.time)
            t = req.time
            self._start(lambda: control.run_until(t))
        return m.RunUntilResponse(state=self._settle(req.wait_s))

    def _check_until(self, t: float) -> None:
        from happysimulator.observability.breakpoints import MAX_TIME_S

        now = self._sim.now.to_seconds()
        if not math.isfinite(t):
            raise ProtocolError("bad_request", f"until/time must be finite seconds, got {t}")
        if t > MAX_TIME_S:  # (refused here, not a fault of the run `run_until` refuses)
            raise ProtocolError("bad_request", f"until/time must be at most {MAX_TIME_S:.4g} "
                                f"s (the range of the engine clock, in ns), got {t:g}")
        if t < now:
            raise ProtocolError("bad_request",
                                f"time {t:g} s is in the past: the simulation is at {now:g} s")

    def _op_resume(self, req: m.ResumeRequest) -> m.ResumeResponse:
        with self._lock:
            self._require_idle("resume")
            control = self._sim.control
            if not control.is_paused:
                st = self._state_info().status
                raise ProtocolError("state", f"resume needs a paused simulation, but it is "
                                    f"{st.replace('_', ' ')}",
                                    ["run"] if st == "not_started" else ["reset"])
            if req.ignore_breakpoints:
                if "ignore_breakpoints" not in inspect.signature(control.resume).parameters:
                    raise ProtocolError("bad_request", "this engine cannot resume ignoring "
                                        "breakpoints; clear_breakpoints first")
                self._start(lambda: control.resume(ignore_breakpoints=True))
            else:
                self._start(control.resume)
        return m.ResumeResponse(state=self._settle(req.wait_s))

    def _op_pause(self, req: m.PauseRequest) -> m.PauseResponse:
        with self._lock:
            control = self._sim.control
            if self._running():
                self._runner.pause()
            elif control.is_complete:
                raise ProtocolError("state", "the run is complete: there is nothing to pause",
                                    ["reset"])
            elif not control.is_paused:
                control.pause()  # before the start: the next run returns at once, paused
                return m.PauseResponse(state=self._state_info())
            else:
                return m.PauseResponse(state=self._state_info())
        return m.PauseResponse(state=self._settle(req.wait_s))

    def _op_step(self, req: m.StepRequest) -> m.StepResponse:
        self._require_idle("step")
        control = self._sim.control
        self._fault = None
        try:
            events = self._call(lambda: control.step(req.n))
        except Exception as exc:
            self._fault = self._fault_info(exc)
            raise _ModelFault(exc) from exc
        infos = msgspec.to_builtins([_event_info(e) for e in events])
        state = self._state_info()
        head = _size(msgspec.to_builtins(m.StepResponse(events=[], state=state)))
        shown, cut = self._cut(infos, req.budget_bytes - head, "events",
                               asked=req.budget_bytes)
        return m.StepResponse(events=[m.EventInfo(**e) for e in shown], state=state,
                              truncated=cut)

    def _op_peek(self, req: m.PeekRequest) -> m.PeekResponse:
        events = self._call(lambda: self._sim.control.peek_next(req.n))
        return m.PeekResponse(events=[_event_info(e) for e in events])
