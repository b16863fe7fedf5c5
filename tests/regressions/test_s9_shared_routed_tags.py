"""An Rx subscriber that edits one observation (its tags, a span's attributes) edits that
observation only.

Found by the session-9 review (helper rev): since adcbfb3 a `LoadBalancer` emits one
``{"backend": name}`` dict per backend, shared by every ``routed`` sample it records for
that backend (the store keeps it by reference). A subscriber that edits the tags it is
given (``o.tags["backend"] = ...``, or enriching them with a key of its own) then rewrites
every sample of that backend, past and future, in the store: ``group_by("backend")``
answers change for samples the subscriber never saw. At the session start (2c315f4)
each sample had its own dict, so only the one observation it edited changed. Fixed:
subscribers get their own copy of tags and span attributes, and query rows too (a
reader editing a row's tags changed the stored samples sharing that dict)."""

from __future__ import annotations

from happysimulator import ExponentialLatency, Instant, Server, Simulation
from happysimulator.components.client import Client
from happysimulator.components.load_balancer import LoadBalancer, RoundRobin
from happysimulator.observability import ObservabilityConfig


def _lb_model() -> Simulation:
    servers = [Server(f"S{i}", service_time=ExponentialLatency(0.05)) for i in range(2)]
    lb = LoadBalancer("LB", backends=servers, strategy=RoundRobin())
    client = Client("Client", lb, timeout=5.0)
    sim = Simulation(start_time=Instant.Epoch, end_time=Instant.from_seconds(60),
                     entities=[*servers, lb, client], seed=1,
                     observability=ObservabilityConfig.full())
    for i in range(40):
        request = client.send_request()
        request.time = Instant.from_seconds(i * 0.5)
        sim.schedule(request)
    return sim


def _counts(sim: Simulation) -> dict:
    return {r["backend"]: r["count"] for r in
            sim.query.metrics("routed").group_by("backend").aggregate("count").execute().rows}


def test_a_subscriber_editing_one_observations_tags_does_not_rewrite_other_samples():
    sim = _lb_model()
    edited = []

    def edit_first(obs):
        if not edited:
            edited.append(obs.tags["backend"])
            obs.tags["backend"] = "edited"

    sim.observations.metrics("routed").subscribe(edit_first)
    sim.run()
    counts = _counts(sim)
    assert edited == ["S0"]
    assert counts.get("edited", 0) <= 1  # at most the one observation it edited
    assert counts.get("S0", 0) >= 19


def test_editing_a_query_rows_tags_changes_nothing_recorded():
    sim = _lb_model()
    sim.run()
    before = _counts(sim)
    rows = sim.query.metrics("routed").execute().rows
    rows[0]["tags"]["backend"] = "edited"
    assert _counts(sim) == before == {"S0": 20, "S1": 20}


def test_editing_a_spans_attributes_changes_nothing_recorded():
    """Through a live subscriber and through a query: the stored spans keep theirs."""
    sim = _lb_model()

    def edit(obs):
        if obs.value.attributes:
            obs.value.attributes["backend"] = "edited-live"

    sim.observations.spans().subscribe(edit)
    sim.run()
    spans = sim.query.trace_store.spans()
    for s in spans:
        if s.attributes:
            s.attributes["backend"] = "edited-read"
    backends = sorted({s.attributes.get("backend") for s in sim.query.trace_store.spans()
                       if s.attributes and s.entity == "LB"})
    assert backends == ["S0", "S1"]


def test_a_subscriber_editing_one_spans_attributes_does_not_rewrite_other_spans():
    # (a `Client` shares ``{"attempt": n, "outcome": "ok"}`` between its answered spans)
    server = Server("S0", service_time=ExponentialLatency(0.05))
    client = Client("Client", server, timeout=5.0)
    sim = Simulation(start_time=Instant.Epoch, end_time=Instant.from_seconds(60),
                     entities=[server, client], seed=1,
                     observability=ObservabilityConfig.full())
    for i in range(40):
        request = client.send_request()
        request.time = Instant.from_seconds(i * 0.5)
        sim.schedule(request)
    edited = []

    def edit_first(obs):
        span = obs.value
        if span.entity == "Client" and not edited:
            edited.append(dict(span.attributes))
            span.attributes["outcome"] = "edited"

    sim.observations.spans().subscribe(edit_first)
    sim.run()
    outcomes = [r["attributes"].get("outcome") for r in sim.query.spans().execute().rows
                if r["entity"] == "Client"]
    assert edited == [{"attempt": 1, "outcome": "ok"}]
    assert len(outcomes) == 40
    assert outcomes.count("edited") <= 1  # at most the one span it edited
