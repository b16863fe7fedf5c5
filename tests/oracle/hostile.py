"""Hostile inputs: values of the wrong type or out of range, through Python and JSON.

Each must be refused with a clear error (a `TypeError`/`ValueError` — `QueryError` is
one — with a message; the protocol's ``ok: false``), never coerced or accepted. The
checks are named; the fuzzer draws subsets of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = ["HOSTILE", "check_hostile"]


def _router(sim: Any) -> Any:
    return next((e for e in sim.entities if e.name == "Router"), None)


def _bp(**kw: Any) -> Callable[[Any], Any]:
    def f(sim: Any) -> Any:
        from happysimulator.observability import Breakpoint

        return sim.control.add_breakpoint(Breakpoint(**kw))
    return f


def _metric_threshold(sim: Any) -> Any:
    from happysimulator.observability import MetricCondition

    return MetricCondition("Server", "queue_depth", "gt", "5")


def _config(**kw: Any) -> Callable[[Any], Any]:
    def f(sim: Any) -> Any:
        from happysimulator.observability import ObservabilityConfig

        return ObservabilityConfig(**kw)
    return f


def _protocol(request: Any) -> Callable[[Any], Any]:
    def f(sim: Any) -> Any:
        from happysimulator.observability.json_api import JsonSession

        resp = JsonSession(sim).handle(request)
        if not resp.get("ok"):
            err = resp.get("error") or {}
            if err.get("kind") in ("bad_request", "unknown_name", "state"):
                raise ValueError(err.get("message"))
            raise RuntimeError(f"protocol answered {err!r}")
        return resp
    return f


def _deep_json(sim: Any) -> Any:
    return _protocol("[" * 100_000 + "]" * 100_000)(sim)


def _user(method: str, name: str, value: Any) -> Callable[[Any], Any]:
    def f(sim: Any) -> Any:
        r = _router(sim)
        if r is None:
            raise ValueError("(no user entity in this model)")
        return getattr(r, method)(name, value)
    return f


#: name -> (issue item, a call that must be refused)
HOSTILE: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "Breakpoint(time=inf)": ("19.15", _bp(time=math.inf)),
    "Breakpoint(time=1e300)": ("19.15", _bp(time=1e300)),
    "add_breakpoint time inf (protocol)": ("19.15", _protocol(
        '{"op": "add_breakpoint", "time": 1e400}')),
    "add_breakpoint time 1e300 (protocol)": ("19.15", _protocol(
        {"op": "add_breakpoint", "time": 1e300})),
    "observe('5')": ("19.16", _user("observe", "hops", "5")),
    "observe(True)": ("19.16", _user("observe", "hops", True)),
    "set_gauge('7')": ("19.16", _user("set_gauge", "load", "7")),
    "MetricCondition threshold '5'": ("19.16", _metric_threshold),
    "Breakpoint(time='3')": ("19.16", _bp(time="3")),
    "Breakpoint(time=-5)": ("19.16", _bp(time=-5)),
    "Breakpoint(event_type=5)": ("19.16", _bp(event_type=5)),
    "run_until('8')": ("19.16", lambda sim: sim.control.run_until("8")),
    "at_time(-1)": ("19.16", lambda sim: sim.control.at_time(-1, lambda: None)),
    "raw_samples=True": ("19.16", _config(raw_samples=True)),
    "relative_accuracy=1.5": ("19.16", _config(relative_accuracy=1.5)),
    "100000-deep JSON": ("19.16", _deep_json),
}


def check_hostile(sim: Any, names: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(item, name, what happened) for each hostile call that was not clearly refused."""
    out = []
    for name in names:
        item, call = HOSTILE[name]
        try:
            call(sim)
        except (TypeError, ValueError) as exc:
            if not str(exc):
                out.append((item, name, f"refused without a message ({type(exc).__name__})"))
            continue
        except RecursionError as exc:
            out.append((item, name, f"internal RecursionError: {str(exc)[:80]}"))
            continue
        except Exception as exc:  # noqa: BLE001 - the wrong kind of error is a finding
            out.append((item, name, f"{type(exc).__name__}: {str(exc)[:120]}"))
            continue
        out.append((item, name, "accepted"))
    return out
