"""Queueing-theory checks. Tolerances: 4 standard errors estimated by batch means over the
run itself (valid for autocorrelated waits), plus 1% for start-up bias. Fixed seeds."""

import statistics

from engine_testkit import RecordingInstr, batch_means, erlang_c, make_sim

from happysimulator import ConstantLatency, ExponentialLatency, LatencyTracker, Server, Source


def _run(lam, service, c, n, seed):
    server = Server("S", concurrency=c, service_time=service)
    sink = LatencyTracker("K")
    server.downstream = sink
    instr = RecordingInstr(server)
    server._instr = instr
    src = Source.poisson(rate=lam, target=server, limit=n)
    make_sim(observability=False, sources=[src], entities=[server, sink], seed=seed).run()
    assert sink.count == n
    return instr.waits, sink.data.raw_values(), instr.services


def _close(xs, theory):
    mean, se = batch_means(xs)
    assert abs(mean - theory) <= 4 * se + 0.01 * theory, (mean, theory, se)
    return mean, se


def test_mm1_wait_and_sojourn():
    lam, mu = 5.0, 10.0
    waits, sojourns, services = _run(lam, ExponentialLatency(1 / mu), 1, 60_000, seed=1)
    rho = lam / mu
    _close(waits, rho / (mu - lam))  # Wq = 0.1
    _close(sojourns, 1 / (mu - lam))  # W = 0.2
    _close(services, 1 / mu)


def test_mm1_heavy_load():
    lam, mu = 8.0, 10.0
    waits, sojourns, _ = _run(lam, ExponentialLatency(0.1), 1, 60_000, seed=2)
    _close(sojourns, 1 / (mu - lam))


def test_mmc_erlang_c():
    c, lam, mu = 3, 2.4, 1.0
    waits, sojourns, _ = _run(lam, ExponentialLatency(1 / mu), c, 40_000, seed=3)
    pw = erlang_c(c, lam / mu)
    wq = pw / (c * mu - lam)
    _close(waits, wq)
    _close(sojourns, wq + 1 / mu)
    # probability of waiting
    frac_wait = sum(1 for w in waits if w > 0) / len(waits)
    assert abs(frac_wait - pw) < 0.03, (frac_wait, pw)


def test_md1_pollaczek_khinchine():
    lam, d = 5.0, 0.1
    waits, sojourns, services = _run(lam, ConstantLatency(d), 1, 60_000, seed=4)
    rho = lam * d
    wq = lam * d * d / (2 * (1 - rho))  # P-K with E[S^2] = d^2
    _close(waits, wq)
    _close(sojourns, wq + d)
    assert statistics.pstdev(services) == 0


def test_tolerance_rejects_wrong_theory():
    """The tolerance is tight enough to tell M/M/1 from M/D/1 at the same load."""
    lam, mu = 5.0, 10.0
    waits, _, _ = _run(lam, ExponentialLatency(1 / mu), 1, 60_000, seed=1)
    mean, se = batch_means(waits)
    md1 = lam * (1 / mu) ** 2 / (2 * (1 - lam / mu))
    assert abs(mean - md1) > 4 * se + 0.01 * md1
