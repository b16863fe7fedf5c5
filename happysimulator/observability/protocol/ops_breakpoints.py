"""Session operations on breakpoints: add, list, remove, clear."""

from __future__ import annotations

import dataclasses
import warnings
from fnmatch import fnmatchcase

from happysimulator.observability.anomaly import AnomalyDetector
from happysimulator.observability.breakpoints import VALID_OPERATORS, Breakpoint, MetricCondition
from happysimulator.observability.protocol import messages as m
from happysimulator.observability.protocol.errors import ProtocolError

_METRIC_FIELDS = frozenset(f.name for f in dataclasses.fields(MetricCondition))


class BreakpointOps:
    """``add_breakpoint``/``list_breakpoints``/``remove_breakpoint``/``clear_breakpoints`` of
    `SessionProtocol` (mixed into it: works on its simulation and runner)."""

    def _breakpoint_infos(self) -> list[m.BreakpointInfo]:
        return [m.BreakpointInfo(**bp.to_dict()) for bp in self._sim.control.list_breakpoints()]

    def _op_add_breakpoint(self, req: m.AddBreakpointRequest) -> m.AddBreakpointResponse:
        kinds = [k for k in ("time", "event_count", "event_type", "metric", "anomaly")
                 if getattr(req, k) is not None]
        if len(kinds) != 1:
            raise ProtocolError("bad_request", "add_breakpoint needs exactly one of time, "
                                f"event_count, event_type, metric, anomaly; got "
                                f"{', '.join(kinds) or 'none'}",
                                ["time", "event_count", "event_type", "metric", "anomaly"])
        kind = kinds[0]
        common = {"one_shot": req.one_shot, "name": req.name}

        def arm() -> tuple[Breakpoint, str | None]:
            if kind == "metric":
                spec = req.metric
                self._check_series(spec.source, spec.name, req.allow_unknown)
                extra = {k: v for k, v in (("hysteresis", spec.hysteresis),
                                            ("cooldown", spec.cooldown_s)) if v is not None}
                missing = [k for k in extra if k not in _METRIC_FIELDS]
                if missing:
                    raise ProtocolError("bad_request", f"this engine's MetricCondition has no "
                                        f"{', '.join(missing)}", sorted(_METRIC_FIELDS))
                try:
                    cond = MetricCondition(spec.source, spec.name, spec.operator,
                                           spec.threshold, for_=spec.for_s, **extra)
                except (TypeError, ValueError) as exc:
                    raise ProtocolError("bad_request", str(exc), list(VALID_OPERATORS)) from None
                bp = Breakpoint(metric_condition=cond, **common)
            elif kind == "anomaly":
                spec = req.anomaly
                self._check_series(spec.source, spec.metric, req.allow_unknown)
                try:
                    det = AnomalyDetector(spec.source, spec.metric, kind=spec.kind,
                                          window=spec.window, warmup=spec.warmup,
                                          confirm_after=spec.confirm_after,
                                          k_sigma=spec.k_sigma, min_increase=spec.min_increase,
                                          threshold=spec.threshold,
                                          peak_fraction=spec.peak_fraction)
                except (TypeError, ValueError) as exc:
                    raise ProtocolError("bad_request", str(exc)) from None
                bp = Breakpoint(anomaly=det, **common)
            else:
                try:
                    bp = Breakpoint(**{kind: getattr(req, kind)}, **common)
                except (TypeError, ValueError) as exc:
                    raise ProtocolError("bad_request", str(exc)) from None
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    self._sim.control.add_breakpoint(bp)
                except (TypeError, ValueError) as exc:
                    raise ProtocolError("bad_request", str(exc)) from None
            warning = "; ".join(str(w.message) for w in caught) or None
            return bp, warning

        bp, warning = self._call(arm)
        return m.AddBreakpointResponse(breakpoint=m.BreakpointInfo(**bp.to_dict()),
                                       warning=warning)

    def _check_series(self, source: str, name: str, allow_unknown: bool) -> None:
        known = [(s["source"], s["name"]) for s in self._sim.query.catalog()["metrics"]]
        if any(fnmatchcase(s, source) and fnmatchcase(n, name) for s, n in known):
            return
        if allow_unknown:
            return
        raise ProtocolError(
            "unknown_name", f"no series {source}.{name} is known (yet); give "
            "allow_unknown: true to arm it anyway (it fires only if the series appears)",
            sorted(f"{s}.{n}" for s, n in known))

    def _op_list_breakpoints(self, req: m.ListBreakpointsRequest) -> m.ListBreakpointsResponse:
        return m.ListBreakpointsResponse(breakpoints=self._call(self._breakpoint_infos))

    def _op_remove_breakpoint(self, req: m.RemoveBreakpointRequest) -> m.RemoveBreakpointResponse:
        control = self._sim.control

        def remove() -> None:
            ids = [bp.id for bp in control.list_breakpoints()]
            if req.id not in ids:
                raise ProtocolError("unknown_name", f"no breakpoint with id {req.id}",
                                    [str(i) for i in ids])
            control.remove_breakpoint(req.id)

        self._call(remove)
        return m.RemoveBreakpointResponse(removed=req.id)

    def _op_clear_breakpoints(self, req: m.ClearBreakpointsRequest) -> m.ClearBreakpointsResponse:
        control = self._sim.control

        def clear() -> list[int]:
            ids = [bp.id for bp in control.list_breakpoints()]
            control.clear_breakpoints()
            return ids

        return m.ClearBreakpointsResponse(removed=self._call(clear))
