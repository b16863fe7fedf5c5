"""Pieces of partitioned (parallel) simulation that happysim 0.2.5 models import:
the event router of a partition (``make_event_router``)."""

from happysimulator.parallel.routing import make_event_router

__all__ = ["make_event_router"]
