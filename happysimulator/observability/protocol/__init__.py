"""The typed, versioned session protocol behind `JsonSession`, the MCP server and the
browser debugger: requests ``{"op": ..., ...}``, answers ``{"ok": ...}``.

    from happysimulator.observability.protocol import SessionProtocol
    session = SessionProtocol("examples/m_m_1_queue.py:build", params={"customers": 2000})
    session.handle({"op": "run"})

See ``docs/protocol.md`` for the operations, errors and budgets; the JSON Schemas are in
``docs/schemas/session-v1.schema.json`` (and ``{"op": "help"}`` returns them).
"""

from happysimulator.observability.protocol.messages import ERROR_KINDS, OPS, PROTOCOL_VERSION
from happysimulator.observability.protocol.models import (
    ModelSpecError,
    load_factory,
    parse_param,
)
from happysimulator.observability.protocol.session import ProtocolError, SessionProtocol

__all__ = ["ERROR_KINDS", "OPS", "PROTOCOL_VERSION", "ModelSpecError", "ProtocolError",
           "SessionProtocol", "load_factory", "parse_param"]
