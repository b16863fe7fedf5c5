"""Servers."""

from happysimulator.components.server.server import SERVICE_DONE, Server, ServiceDone

__all__ = ["SERVICE_DONE", "Server", "ServiceDone"]
