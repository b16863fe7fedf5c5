"""Open the session protocol the debugger is a client of.

The page speaks the session protocol (``{"op": ..., ...}`` in, ``{"ok": ...}`` out);
`open_session` builds it from a `Simulation`, a model factory (with parameters) or a
``"path/file.py:factory"`` / ``"package.module:factory"`` spec.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def load_factory(spec: str) -> Callable[..., Any]:
    """The callable named by ``path/file.py:factory`` or ``package.module:factory``."""
    if ":" not in spec:
        raise ValueError(f"a model is 'path/file.py:factory' or 'package.module:factory', "
                         f"got {spec!r}")
    where, name = spec.rsplit(":", 1)
    if where.endswith(".py"):
        path = Path(where)
        if not path.is_file():
            raise FileNotFoundError(f"no model file {where!r}")
        mod_name = f"_happysim_model_{path.stem}"
        loader = importlib.util.spec_from_file_location(mod_name, path)
        if loader is None or loader.loader is None:
            raise ValueError(f"cannot import {where!r}")
        module = importlib.util.module_from_spec(loader)
        sys.modules[mod_name] = module
        loader.loader.exec_module(module)
    else:
        module = importlib.import_module(where)
    factory = getattr(module, name, None)
    if not callable(factory):
        names = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")]
        raise ValueError(f"{where} has no factory {name!r}; callables: {', '.join(names)}")
    return factory


def open_session(model: Any, params: dict[str, Any] | None = None) -> Any:
    """A session protocol object (``handle(dict) -> dict``) over `model`."""
    return _interim_session(model, params)  # until the session protocol module lands
    from happysimulator.observability.protocol import SessionProtocol
    if isinstance(model, str):
        model = load_factory(model)
    if callable(model) and not hasattr(model, "control"):
        return SessionProtocol.from_factory(model, params or {})
    if params:
        raise ValueError("params need a model factory, not a built Simulation")
    return SessionProtocol(model)


class _Interim:
    """TEMPORARY: JsonSession behind the protocol's op names until the protocol lands."""

    def __init__(self, factory: Callable[..., Any] | None, sim: Any, params: dict) -> None:
        from happysimulator.observability import JsonSession
        self.factory, self.params = factory, dict(params)
        self.sim = sim if sim is not None else self._build()
        self.js = JsonSession(self.sim)

    def _build(self) -> Any:
        built = self.factory(**self.params)
        return built[0] if isinstance(built, tuple) else built

    def handle(self, req: dict[str, Any]) -> dict[str, Any]:
        from happysim_rx.export import Exporter as QExporter
        from happysimulator.observability import Exporter, JsonSession
        op = req.get("op")
        try:
            if op == "list_breakpoints":
                r = self.js.handle({"op": "breakpoints"})
            elif op == "run_until":
                r = self.js.handle({"op": "run", "until": req["time"]})
            elif op == "pause":
                self.sim.control.pause()
                r = {"ok": True, "state": self.sim.control.get_state().to_dict()}
            elif op == "clear_breakpoints":
                self.sim.control.clear_breakpoints()
                r = {"ok": True}
            elif op == "export":
                fmt = req.get("format")
                if fmt == "summary":
                    r = {"ok": True, "content": Exporter(self.sim).summary_json()}
                elif fmt == "csv":
                    r = {"ok": True, "content": QExporter(self.sim.query).to_csv(req["query"])}
                else:
                    r = {"ok": True, "content": QExporter(self.sim.query).to_json(req["query"])}
            elif op == "reset":
                if "seed" in req:
                    self.params["seed"] = req["seed"]
                self.sim = self._build()
                self.js = JsonSession(self.sim)
                r = {"ok": True, "state": self.sim.control.get_state().to_dict()}
            else:
                r = self.js.handle(req)
        except Exception as exc:
            r = {"ok": False, "error": {"type": type(exc).__name__, "message": str(exc)}}
        if not r.get("ok"):
            r["error"] = {"kind": "bad_request", "message": r["error"]["message"]}
        return r


def _interim_session(model: Any, params: dict[str, Any] | None) -> Any:
    if isinstance(model, str):
        model = load_factory(model)
    if callable(model) and not hasattr(model, "control"):
        return _Interim(model, None, params or {})
    return _Interim(None, model, {})
