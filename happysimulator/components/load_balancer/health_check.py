"""``HealthChecker``: probes a load balancer's backends and marks them (un)healthy.

Every ``interval`` seconds each backend gets a probe event (type ``check_event_type``);
a probe answered within ``timeout`` passes, else it fails. ``unhealthy_threshold``
consecutive failures take a backend out of the balancer, ``healthy_threshold``
consecutive passes bring it back. A probe refused on its way (a downstream rejection)
fails at once. Observed: ``checks`` counter (tag ``outcome``: passed / failed /
timed_out), ``healthy`` gauge (tag ``backend``: 1 or 0), ``probe_time`` sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from happysimulator.components.forwarding import rejection
from happysimulator.core.entity import Entity
from happysimulator.core.event import Event
from happysimulator.core.observed import ObservedEntity, counter, gauge, sample
from happysimulator.core.temporal import Duration, Instant

if TYPE_CHECKING:
    from happysimulator.components.load_balancer.load_balancer import LoadBalancer

CYCLE = "_health_check_cycle"
TIMEOUT = "_health_check_timeout"


@dataclass(frozen=True)
class HealthCheckStats:
    """Snapshot of a health checker's counts."""

    checks_performed: int = 0
    checks_passed: int = 0
    checks_failed: int = 0
    checks_timed_out: int = 0
    backends_marked_healthy: int = 0
    backends_marked_unhealthy: int = 0


@dataclass
class BackendHealthState:
    """The checker's view of one backend."""

    consecutive_successes: int = 0
    consecutive_failures: int = 0
    last_check_time: Instant | None = None
    last_check_passed: bool | None = None
    is_checking: bool = False


class HealthChecker(ObservedEntity):
    """Active health checks for a `LoadBalancer` (see the module docstring); start it by
    scheduling ``checker.start()``."""

    observed_series = (
        counter("checks", "probes", "health probes by outcome", tags=("outcome",)),
        gauge("healthy", "", "1 while a backend is in the balancer, 0 while out",
              tags=("backend",)),
        sample("probe_time", "s", "probe sent to answer, for answered probes"),
    )
    downstream_attributes = ("load_balancer",)

    def __init__(self, name: str, load_balancer: LoadBalancer, interval: float = 10.0,
                 timeout: float = 5.0, healthy_threshold: int = 2,
                 unhealthy_threshold: int = 3, check_event_type: str = "health_check"
                 ) -> None:
        super().__init__(name)
        if not interval > 0:
            raise ValueError(f"interval must be > 0 seconds, got {interval}")
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
        if timeout >= interval:
            raise ValueError(f"timeout ({timeout}) must be < interval ({interval})")
        if healthy_threshold < 1:
            raise ValueError(f"healthy_threshold must be >= 1, got {healthy_threshold}")
        if unhealthy_threshold < 1:
            raise ValueError(f"unhealthy_threshold must be >= 1, got {unhealthy_threshold}")
        self._load_balancer = load_balancer
        self._interval = interval
        self._timeout = timeout
        self._healthy_threshold = healthy_threshold
        self._unhealthy_threshold = unhealthy_threshold
        self._check_event_type = check_event_type
        self._backend_states: dict[str, BackendHealthState] = {}
        self._pending: dict[str, tuple[int, Event]] = {}
        self._next_check_id = 0
        self._checks_performed = 0
        self._checks_passed = 0
        self._checks_failed = 0
        self._checks_timed_out = 0
        self._backends_marked_healthy = 0
        self._backends_marked_unhealthy = 0
        self._is_running = False

    @property
    def stats(self) -> HealthCheckStats:
        return HealthCheckStats(self._checks_performed, self._checks_passed,
                                self._checks_failed, self._checks_timed_out,
                                self._backends_marked_healthy, self._backends_marked_unhealthy)

    @property
    def load_balancer(self) -> LoadBalancer:
        return self._load_balancer

    @property
    def interval(self) -> float:
        return self._interval

    @property
    def timeout(self) -> float:
        return self._timeout

    @property
    def healthy_threshold(self) -> int:
        return self._healthy_threshold

    @property
    def unhealthy_threshold(self) -> int:
        return self._unhealthy_threshold

    @property
    def is_running(self) -> bool:
        return self._is_running

    def downstream_entities(self) -> list[Entity]:
        return [self._load_balancer]

    def start(self) -> Event:
        """The first check cycle's event (schedule it); cycles repeat until `stop`."""
        self._is_running = True
        sim = self._sim
        return Event(Instant.Epoch if sim is None else Instant(sim.now_ns), CYCLE, self,
                     daemon=True, context={})

    def stop(self) -> None:
        self._is_running = False

    def get_backend_state(self, backend: Entity) -> BackendHealthState:
        return self._backend_states.setdefault(backend.name, BackendHealthState())

    def get_backend_state_by_name(self, name: str) -> BackendHealthState | None:
        return self._backend_states.get(name)

    def handle_event(self, event: Event) -> Any:
        if event.event_type == CYCLE:
            return self._cycle()
        if event.event_type == TIMEOUT:
            meta = event.context["metadata"]
            return self._settle(meta["backend_name"], meta["check_id"], passed=False,
                                timed_out=True)
        return None

    def _cycle(self) -> list[Event]:
        if not self._is_running:
            return []
        out: list[Event] = []
        for backend in self._load_balancer.all_backends:
            out.extend(self._probe(backend))
        out.append(Event(self.now + Duration.from_seconds(self._interval), CYCLE, self,
                         daemon=True, context={}))
        return out

    def _probe(self, backend: Entity) -> list[Event]:
        state = self.get_backend_state(backend)
        if state.is_checking:
            return []
        state.is_checking = True
        state.last_check_time = self.now
        self._next_check_id += 1
        cid = self._next_check_id
        self._checks_performed += 1
        probe = Event(self.now, self._check_event_type, backend, context={"metadata": {
            "_health_check_id": cid, "_health_checker": self.name,
            "_backend_name": backend.name}})
        start = self.now.to_seconds()
        name = backend.name
        probe.add_completion_hook(lambda _t: self._settle(
            name, cid, passed=rejection(probe) is None, timed_out=False, start=start))
        timer = Event(self.now + Duration.from_seconds(self._timeout), TIMEOUT, self,
                      daemon=True, context={"metadata": {"check_id": cid,
                                                         "backend_name": name}})
        self._pending[name] = (cid, timer)
        return [probe, timer]

    def _settle(self, name: str, cid: int, passed: bool, timed_out: bool,
                start: float | None = None) -> None:
        pending = self._pending.get(name)
        if pending is None or pending[0] != cid:
            return None  # a late answer or timer of a settled probe
        del self._pending[name]
        state = self._backend_states.get(name)
        if state is None:
            return None
        state.is_checking = False
        state.last_check_passed = passed
        lb = self._load_balancer
        info = lb.get_backend_info_by_name(name)
        if passed:
            state.consecutive_successes += 1
            state.consecutive_failures = 0
            self._checks_passed += 1
            self.increment("checks", outcome="passed")
            if start is not None:
                self.observe("probe_time", self.now.to_seconds() - start)
            if (info is not None and not info.is_healthy
                    and state.consecutive_successes >= self._healthy_threshold):
                lb.mark_healthy(info.backend)
                self._backends_marked_healthy += 1
                self.set_gauge("healthy", 1, backend=name)
        else:
            state.consecutive_failures += 1
            state.consecutive_successes = 0
            self._checks_failed += 1
            if timed_out:
                self._checks_timed_out += 1
            self.increment("checks", outcome="timed_out" if timed_out else "failed")
            if (info is not None and info.is_healthy
                    and state.consecutive_failures >= self._unhealthy_threshold):
                lb.mark_unhealthy(info.backend)
                self._backends_marked_unhealthy += 1
                self.set_gauge("healthy", 0, backend=name)
        return None


__all__ = ["BackendHealthState", "HealthCheckStats", "HealthChecker"]
