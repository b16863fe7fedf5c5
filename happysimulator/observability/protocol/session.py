"""`SessionProtocol`: one live simulation, driven and questioned through typed requests.

    session = SessionProtocol("examples/metastable_failure.py:build", params={"seed": 3})
    session.handle({"op": "add_breakpoint", "metric": {"source": "Server",
                    "name": "queue_depth", "operator": "gt", "threshold": 20}})
    session.handle({"op": "run", "wait_s": 5})        # -> {"ok": true, "state": {...}}
    session.handle({"op": "query", "query": {"kind": "metrics", "name": "queue_depth",
                    "entity": "Server", "last_s": 10, "aggregates": ["mean", "max"]}})

`handle` never raises: every answer is ``{"ok": true, "op": ..., ...}`` or
``{"ok": false, "error": {"kind", "message", "valid"?}}``. The simulation runs on a
worker thread; ``run``/``resume``/``run_until`` answer when it stops or after
``wait_s`` wall-clock seconds (it goes on in the background), and every other request
is served between two events, so ``pause`` and queries work while it runs.
"""

from __future__ import annotations

import functools
import itertools
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import msgspec

from happysimulator.observability.breakpoints import VALID_OPERATORS
from happysimulator.observability.protocol import messages as m
from happysimulator.observability.protocol.answers import (
    _event_info,
    _jsonable,
)
from happysimulator.observability.protocol.budgets import AnswerBudgets, FittedAnswers
from happysimulator.observability.protocol.errors import ProtocolError, _ModelFault
from happysimulator.observability.protocol.models import (
    ModelSpecError,
    check_params,
    factory_parameters,
    load_factory,
)
from happysimulator.observability.protocol.ops_branches import BranchOps
from happysimulator.observability.protocol.ops_breakpoints import BreakpointOps
from happysimulator.observability.protocol.ops_driving import DrivingOps
from happysimulator.observability.protocol.ops_hypotheses import HypothesisOps
from happysimulator.observability.protocol.ops_questions import QuestionOps
from happysimulator.observability.protocol.runner import SimRunner
from operators.aggregators import AGGREGATE_NAMES

__all__ = ["SessionProtocol", "ProtocolError"]

_WAITING_OPS = frozenset({"run", "resume", "run_until", "pause", "state"})
# reads that touch nothing of the session but its simulation (and the cut-answer handles)
_AT_BOUNDARY = frozenset({"query", "trace", "catalog", "peek", "snapshot",
                          "list_breakpoints"})
# units of the auto-instrumented series (the documented contract)
_UNITS = {"queue_depth": "requests", "in_flight": "requests", "wait_time": "s",
          "service_time": "s", "latency": "s", "arrivals": "requests",
          "completed": "requests", "dropped": "requests", "generated": "requests"}


class SessionProtocol(BranchOps, DrivingOps, BreakpointOps, QuestionOps, HypothesisOps,
                      AnswerBudgets, FittedAnswers):
    """A live, stateful session over one simulation (see the module doc).

    Args:
        model: a `Simulation`, a factory ``(**params) -> Simulation``, a MODEL spec
            (``path/file.py:factory`` or ``package.module:factory``), or None (then the
            first request must be ``load`` with a ``model``, which needs ``allow_load``).
        params: keyword parameters for the factory.
        seed: passed to the factory as ``seed`` (when it takes one).
        default_wait_s: how long ``run``/``resume``/``run_until``/``pause`` wait for the
            run to stop when the request gives no ``wait_s`` (None: until it stops).
        allow_load: let ``load`` open another MODEL spec (it imports and runs its code).
    """

    def __init__(self, model: Any = None, *, params: dict[str, Any] | None = None,
                 seed: int | None = None, default_wait_s: float | None = 5.0,
                 allow_load: bool = False) -> None:
        self.default_wait_s = default_wait_s
        self.allow_load = allow_load
        self._lock = threading.RLock()
        self._handles: OrderedDict[str, tuple[str, Any]] = OrderedDict()
        self._handle_ids = itertools.count(1)
        self._fault: m.FaultInfo | None = None
        self._help: dict[str, Any] | None = None
        self.last_internal: str | None = None  # the traceback of the last internal error
        self._sim: Any = None
        self._runner: SimRunner | None = None
        self._factory: Callable[..., Any] | None = None
        self._spec: str | None = None
        self._params: dict[str, Any] = dict(params or {})
        self._seed = seed
        if model is None:
            if params or seed is not None:
                raise ValueError("params/seed need a model (a factory or a MODEL spec)")
            return
        if isinstance(model, str):
            self._spec = model
            self._factory = load_factory(model)
        elif getattr(model, "control", None) is not None and hasattr(model, "query"):
            if params or seed is not None:
                raise ValueError("params/seed need a factory; this is a built Simulation")
            self._attach(model)
            return
        elif callable(model):
            self._factory = model
        else:
            raise TypeError(
                "SessionProtocol needs a Simulation with observability, a factory or a "
                f"MODEL spec, got {type(model).__name__}")
        check_params(self._factory, self._params)
        self._attach(self._build(self._params, seed))

    @classmethod
    def from_factory(cls, factory: Callable[..., Any] | str,
                     params: dict[str, Any] | None = None, **kwargs: Any) -> SessionProtocol:
        """A session over ``factory(**params)`` (a callable or a MODEL spec); `reset` and
        `load` can build it again."""
        if not (callable(factory) or isinstance(factory, str)) or hasattr(factory, "control"):
            raise TypeError(f"from_factory needs a factory or a MODEL spec, got "
                            f"{type(factory).__name__}")
        return cls(factory, params=params, **kwargs)

    # ---- the public entry points ----------------------------------------------------------
    @property
    def sim(self) -> Any:
        """The current simulation (None before a model is loaded)."""
        return self._sim

    @property
    def running(self) -> bool:
        """True while the simulation runs in the background (reads are then answered at
        its event boundaries)."""
        return self._running()

    def handle(self, request: dict[str, Any] | str | bytes) -> dict[str, Any]:
        """Answer one request (a dict or JSON text). Never raises."""
        op: str | None = None
        try:
            req, op = self._decode(request)
            fn = self._branch_op(op, req, getattr(self, f"_op_{op}"))
            if op in _WAITING_OPS:
                resp = fn(req)  # takes the lock itself: a long wait must not block pause
            elif self._at_boundary(op, req):
                # a read while main runs: answered wholly at the next event boundary, on
                # the run thread, with every other reader waiting there (one batch; not
                # one reader per boundary behind this session's lock)
                return self._call(functools.partial(self._answer, op, fn, req))
            else:
                with self._lock:
                    resp = fn(req)
            return msgspec.to_builtins(resp)
        except Exception as exc:
            return self._failed(exc, op)

    def handle_soon(self, request: dict[str, Any] | str | bytes,
                    on_done: Callable[[dict[str, Any]], Any]) -> None:
        """Answer `request` by calling ``on_done(answer)``: for a read of a running main
        (query, trace, catalog, peek, snapshot, list_breakpoints) later, on the run
        thread at its next event boundary, together with every other reader waiting
        there, without a thread blocked meanwhile (an event loop serving many clients
        waits on a future); for anything else at once, in this thread, as `handle`.
        ``on_done`` runs on the run thread then: it must be quick and must not raise."""
        try:
            req, op = self._decode(request)
            if self._at_boundary(op, req):
                fn = self._branch_op(op, req, getattr(self, f"_op_{op}"))
                if self._runner is not None and self._runner.submit(
                        lambda: on_done(self._answer(op, fn, req))):
                    return
        except Exception:  # (a bad request: `handle` gives the answer that says so)
            pass
        on_done(self.handle(request))

    def _at_boundary(self, op: str, req: Any) -> bool:
        return op in _AT_BOUNDARY and req.branch == "main" and self._running()

    def _answer(self, op: str, fn: Callable[[Any], Any], req: Any) -> dict[str, Any]:
        """``fn(req)`` as a JSON-ready answer (errors as error answers): never raises."""
        try:
            return msgspec.to_builtins(fn(req))
        except Exception as exc:
            return self._failed(exc, op)

    def _failed(self, exc: Exception, op: str | None) -> dict[str, Any]:
        """The error answer for what a request raised."""
        if isinstance(exc, ProtocolError):
            return self._error(exc.kind, exc.message, exc.valid, op)
        if isinstance(exc, _ModelFault):
            return self._error("model_fault", self._fault_text(exc.exc), None, op,
                               with_state=True)
        if isinstance(exc, msgspec.ValidationError):
            return self._error("bad_request", f"invalid {op or 'request'}: {exc}", None, op)
        # a bug of ours, never the caller's fault: say so
        self.last_internal = traceback.format_exc()
        return self._error(
            "internal", f"{type(exc).__name__}: {exc} (this is a bug in happysim-rx; "
            f"{traceback.format_exc(limit=3).splitlines()[-1]})", None, op)

    def handle_json(self, request: str | bytes) -> str:
        """JSON text in, JSON text out."""
        return msgspec.json.encode(self.handle(request)).decode()

    def close(self) -> None:
        """Pause a background run (main's and every branch's) and unhook from the
        simulation."""
        with self._lock:
            self._close_branches()
            if self._runner is not None:
                self._runner.close()
                self._runner = None

    # ---- decoding and errors ----------------------------------------------------------------
    def _decode(self, request: Any) -> tuple[Any, str]:
        ops = list(m.OPS)
        if isinstance(request, str | bytes | bytearray):
            try:
                request = msgspec.json.decode(request)
            except msgspec.DecodeError as exc:
                raise ProtocolError("bad_request", f"the request is not valid JSON: {exc}") from None
            except RecursionError:  # (the caller's input, not a bug of ours)
                raise ProtocolError("bad_request", "the request nests too deeply (JSON "
                                    "arrays/objects thousands of levels deep)") from None
        if not isinstance(request, dict):
            raise ProtocolError("bad_request", "a request is a JSON object with an 'op' "
                                f"field, got {type(request).__name__}", ops)
        op = request.get("op")
        if op not in m.OPS:
            raise ProtocolError("unknown_name" if isinstance(op, str) else "bad_request",
                                f"unknown op {op!r}" if "op" in request else
                                "the request has no 'op'", ops)
        try:
            req = msgspec.convert(request, m.OPS[op][0], strict=True)
        except msgspec.ValidationError as exc:
            raise ProtocolError("bad_request", f"invalid {op} request: {exc}") from None
        except RecursionError:
            raise ProtocolError("bad_request", f"invalid {op} request: it nests too "
                                "deeply") from None
        if op not in ("help", "load") and self._sim is None:
            raise ProtocolError("state", "no model is loaded: send load with a 'model' first",
                                ["load", "help"])
        return req, op

    def _error(self, kind: str, message: str, valid: list[str] | None, op: str | None,
               with_state: bool = False) -> dict[str, Any]:
        resp = m.ErrorResponse(error=m.ErrorInfo(kind=kind, message=message, valid=valid, op=op))
        if with_state or kind == "model_fault":
            try:
                resp.state = self._call(self._state_info)
            except Exception:
                pass
        return msgspec.to_builtins(resp)

    def _fault_text(self, exc: BaseException) -> str:
        notes = "; ".join(getattr(exc, "__notes__", ()) or ())
        return f"{type(exc).__name__}: {exc}" + (f" ({notes})" if notes else "")

    # ---- model life-cycle ---------------------------------------------------------------------
    def _build(self, params: dict[str, Any], seed: int | None) -> Any:
        assert self._factory is not None
        kwargs = dict(params)
        if seed is not None:
            if "seed" not in factory_parameters(self._factory) and \
                    "**" not in factory_parameters(self._factory):
                raise ProtocolError("bad_request", "this model's factory takes no 'seed'",
                                    sorted(factory_parameters(self._factory)))
            kwargs["seed"] = seed
        try:
            sim = self._factory(**kwargs)
        except TypeError as exc:
            raise ProtocolError("bad_request", f"the factory refused its parameters: {exc}",
                                sorted(factory_parameters(self._factory))) from None
        except Exception as exc:
            raise _ModelFault(exc) from exc
        if getattr(sim, "control", None) is None or not hasattr(sim, "query"):
            raise ProtocolError("bad_request", "the factory must return a Simulation with "
                                f"observability, got {type(sim).__name__}")
        return sim

    def _attach(self, sim: Any) -> None:
        if self._runner is not None:
            self._runner.close()
        self._sim = sim
        self._runner = SimRunner(sim)
        self._fault = None
        self._handles.clear()

    def _model_info(self) -> m.ModelInfo:
        seed = getattr(self._sim, "seed", None) if self._sim is not None else None
        return m.ModelInfo(spec=self._spec, params=_jsonable(self._params),
                           seed=seed if isinstance(seed, int) else None,
                           can_reset=self._factory is not None)

    # ---- threading helpers ----------------------------------------------------------------------
    def _call(self, fn: Callable[[], Any]) -> Any:
        assert self._runner is not None
        # (`fn` may run on the branch's run thread: it serves the same branch there)
        return self._runner.call(self._on_this_branch(fn))

    def _running(self) -> bool:
        return self._runner is not None and self._runner.running

    def _state_info(self) -> m.StateInfo:
        sim = self._sim
        self._collect_fault()
        st = sim.control.get_state()
        if self._running():
            status = "running"
        elif st.is_complete:
            status = "complete"
        elif self._fault is not None:
            status = "faulted"
        elif st.is_paused:
            status = "paused"
        else:
            status = "not_started"
        end = sim.end_time
        return m.StateInfo(
            status=status,
            current_time=st.current_time.to_seconds(),
            events_processed=st.events_processed,
            heap_size=st.heap_size,
            primary_events_remaining=st.primary_events_remaining,
            is_paused=st.is_paused and status != "running",
            is_running=status == "running",
            is_complete=st.is_complete,
            paused_by=st.paused_by,
            stop_reason=st.stop_reason,
            last_event=None if st.last_event is None else _event_info(st.last_event),
            wall_clock_elapsed_s=float(st.wall_clock_elapsed),
            end_time=None if end is None else end.to_seconds(),
            fault=self._fault,
        )

    def _start(self, fn: Callable[[], Any]) -> None:
        assert self._runner is not None
        self._fault = None
        self._runner.start(fn)

    def _collect_fault(self) -> BaseException | None:
        """A fault the run thread left behind, now recorded in the session's state."""
        runner = self._runner
        if runner is None or runner.running or runner.fault is None:
            return None
        exc, runner.fault = runner.fault, None
        self._fault = self._fault_info(exc)
        return exc

    def _settle(self, wait_s: float | None, raise_fault: bool = True) -> m.StateInfo:
        """Wait for the run to stop (up to `wait_s`), then the state; a fault that stopped
        it is a model_fault error (the state keeps it under ``fault``)."""
        runner = self._runner
        assert runner is not None
        runner.wait(self.default_wait_s if wait_s is None else wait_s)
        with self._lock:
            exc = self._collect_fault()
            if exc is not None and raise_fault:
                raise _ModelFault(exc)
            return self._call(self._state_info)

    def _fault_info(self, exc: BaseException) -> m.FaultInfo:
        sim = self._sim
        # the engine names the event whose handler raised (`sim.failed_event`)
        ev = getattr(sim, "failed_event", None)
        if ev is None and self._runner is not None:
            ev = self._runner.fault_event
        is_event = ev is not None and hasattr(ev, "time") and hasattr(ev, "event_type")
        target = getattr(ev, "target", None) if is_event else None
        return m.FaultInfo(
            exception=type(exc).__name__, message=self._fault_text(exc),
            time=sim.now.to_seconds(),
            event=_event_info(ev) if is_event else None,
            entity=(getattr(target, "name", None) or type(target).__name__)
            if target is not None else None)

    def _require_idle(self, what: str) -> None:
        if self._running():
            raise ProtocolError("state", f"{what} needs a stopped simulation, but it is "
                                "running: send pause first (or state with wait_s to wait)",
                                ["pause", "state"])

    # ---- operations: session ------------------------------------------------------------------
    def _op_help(self, req: m.HelpRequest) -> m.HelpResponse:
        from happysimulator.observability.protocol.schema import help_document

        doc = self._help = self._help or help_document()
        ops = doc["ops"]
        if req.about is not None:
            if req.about not in ops:
                raise ProtocolError("unknown_name", f"unknown op {req.about!r}", list(ops))
            ops = {req.about: ops[req.about]}
        return self._fit_help(m.HelpResponse(
            protocol=m.PROTOCOL_VERSION, ops={k: m.OpHelp(**v) for k, v in ops.items()},
            errors=doc["errors"], error_schema=doc["error_schema"], notes=doc["notes"]),
            req.budget_bytes)

    def _op_load(self, req: m.LoadRequest) -> m.LoadResponse:
        factory, spec = self._factory, self._spec
        if req.model is not None and req.model != self._spec:
            if not self.allow_load:
                raise ProtocolError("state", "this session only runs its own model "
                                    f"({self._spec or 'a Simulation object'}); loading "
                                    "another needs allow_load (happysim-rx mcp --allow-load)")
            try:
                factory, spec = load_factory(req.model), req.model
            except ModelSpecError as exc:
                raise ProtocolError("bad_request", str(exc)) from None
            except Exception as exc:
                raise _ModelFault(exc) from exc
        if factory is None:
            raise ProtocolError("state", "this session was opened on a Simulation object: "
                                "there is no factory to build it again")
        try:
            check_params(factory, req.params)
        except ModelSpecError as exc:
            raise ProtocolError("bad_request", str(exc),
                                sorted(factory_parameters(factory))) from None
        if self._running():
            self._runner.close()
        old = self._factory
        self._factory = factory
        try:
            sim = self._build(req.params, req.seed)
        except BaseException:
            self._factory = old
            raise
        self._spec, self._params, self._seed = spec, dict(req.params), req.seed
        self._attach(sim)
        return m.LoadResponse(model=self._model_info(), state=self._state_info())

    def _op_reset(self, req: m.ResetRequest) -> m.ResetResponse:
        if self._factory is None:
            raise ProtocolError("state", "this session was opened on a Simulation object: "
                                "reset needs a model factory (open the session with a "
                                "factory or a MODEL spec)")
        seed = req.seed
        if seed is None:
            seed = self._seed if self._seed is not None else getattr(self._sim, "seed", None)
            if "seed" not in factory_parameters(self._factory):
                seed = None  # the factory fixes its own seed: the same model again
        if self._running():
            self._runner.close()
        sim = self._build(self._params, seed)
        self._seed = seed
        self._attach(sim)
        return m.ResetResponse(model=self._model_info(), state=self._state_info())

    def _op_state(self, req: m.StateRequest) -> m.StateResponse:
        state = self._settle(req.wait_s or 0.0, raise_fault=False) \
            if self._running() else None
        with self._lock:
            if state is None:
                state = self._call(self._state_info)
            bps = self._call(self._breakpoint_infos)
            return self._fit_state(m.StateResponse(state=state, model=self._model_info(),
                                                   breakpoints=bps), req.budget_bytes)

    def _op_catalog(self, req: m.CatalogRequest) -> m.CatalogResponse:
        return self._fit_catalog(m.CatalogResponse(catalog=self._call(self._catalog)),
                                 req.budget_bytes)

    def _catalog(self) -> m.CatalogInfo:
        engine = self._sim.query
        cat = engine.catalog()
        series = []
        for info in cat["metrics"]:
            name, source, kind = info["name"], info["source"], info["series_kind"]
            unit = info.get("unit") or _UNITS.get(name)
            # (the keys a tag filter accepts: declared plus carried, see engine.catalog)
            series.append(m.SeriesInfo(source=source, name=name, kind=kind, unit=unit,
                                       tags=list(info.get("tags") or [])))
        return m.CatalogInfo(
            entities=[msgspec.convert(_jsonable(e), m.EntityInfo)
                      for e in cat.get("entities", [])],
            metrics=series, span_entities=list(cat["span_entities"]),
            span_attributes=dict(cat.get("span_attributes") or {}),
            events=[_jsonable(e) for e in cat["events"]],
            aggregates=[*AGGREGATE_NAMES, "pNN", "pNN.N"],
            breakpoint_operators=list(VALID_OPERATORS),
            stores={k: v for k, v in cat["stores"].items()})
