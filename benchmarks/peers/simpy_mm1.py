"""M/M/1 in idiomatic SimPy 4: a Resource(capacity=1) and generator processes.

This is the textbook SimPy shape (one process per customer that requests the
resource, records its wait, holds it for an exponential service time, and records
its time in system), not a tuned one.
"""

from __future__ import annotations

import random
import time

import simpy
from _common import LAMBDA, MU, emit, parse_args


def customer(env, server, rng, waits, sojourns):
    arrive = env.now
    with server.request() as req:
        yield req
        waits.append(env.now - arrive)
        yield env.timeout(rng.expovariate(MU))
    sojourns.append(env.now - arrive)


def source(env, n, server, rng, waits, sojourns):
    for _ in range(n):
        env.process(customer(env, server, rng, waits, sojourns))
        yield env.timeout(rng.expovariate(LAMBDA))


def run(customers: int, seed: int) -> tuple[list[float], list[float]]:
    rng = random.Random(seed)
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=1)
    waits: list[float] = []
    sojourns: list[float] = []
    env.process(source(env, customers, server, rng, waits, sojourns))
    env.run()
    return waits, sojourns


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    t0 = time.perf_counter()
    waits, sojourns = run(args.customers, args.seed)
    wall = time.perf_counter() - t0
    n = len(sojourns)
    emit("simpy", n, wall, sum(waits) / len(waits), sum(sojourns) / n, simpy=simpy.__version__)


if __name__ == "__main__":
    main()
