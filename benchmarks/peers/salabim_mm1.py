"""M/M/1 in idiomatic salabim: a customer generator, a Queue and a clerk Component.

This is the shape of salabim's own bank examples, not a tuned one. In both models a
``CustomerGenerator`` Component creates a ``Customer`` Component every
Exponential(rate=8) s, exactly N of them:

* ``--model queue`` (default): each Customer ``enter``-s a ``sim.Queue``, activates
  the ``Clerk`` Component if it is passive and ``passivate``-s; the Clerk pops
  customers, holds for an Exponential(rate=10) service time and re-activates them
  ("Bank, 1 clerk" with a Queue and a clerk process).
* ``--model resource``: each Customer does ``request(clerk)`` on a
  ``sim.Resource("clerk", capacity=1)``, holds for the service time and
  ``release()``-s ("Bank, 1 clerk" with a Resource).

``--mode yield`` (default: classic generator processes, ``yield self.hold(...)``,
i.e. ``sim.yieldless(False)``) or ``--mode yieldless`` (salabim's default since 24.0;
needs ``greenlet``). The defaults are the fastest combination with salabim 26.0.9
(queue ~10 % faster than resource, yield ~10 % faster than yieldless); all four give
the same trajectory for a given seed. No animation, no trace;
``sim.Environment(random_seed=S)`` seeds the stream the distributions draw from. The mean wait is salabim's own ``length_of_stay`` monitor of
the waiting queue (the Resource's requesters, or the Queue); every customer passes
through it, the ones served at once with a stay of 0. The sojourn is tallied in a
``sim.Monitor``. Exactly N customers; ``env.run()`` without ``till`` ends when the
event list is empty.
"""

from __future__ import annotations

import time

import salabim as sim
from _common import LAMBDA, MU, emit, parse_args


def _extra(p) -> None:
    p.add_argument("--model", choices=("queue", "resource"), default="queue")
    p.add_argument("--mode", choices=("yield", "yieldless"), default="yield")


def build_yieldless(env, n: int, model: str):
    iat = sim.Exponential(rate=LAMBDA)
    service = sim.Exponential(rate=MU)
    sojourn = sim.Monitor("sojourn")

    if model == "resource":
        clerk = sim.Resource("clerk", capacity=1)
        waiting = clerk.requesters()

        class Customer(sim.Component):
            def process(self):
                self.request(clerk)
                self.hold(service.sample())
                self.release()
                sojourn.tally(env.now() - self.creation_time())

    else:
        waiting = sim.Queue("waitingline")

        class Clerk(sim.Component):
            def process(self):
                while True:
                    while len(waiting) == 0:
                        self.passivate()
                    customer = waiting.pop()
                    self.hold(service.sample())
                    customer.activate()

        class Customer(sim.Component):
            def process(self):
                self.enter(waiting)
                if clerk.ispassive():
                    clerk.activate()
                self.passivate()
                sojourn.tally(env.now() - self.creation_time())

        clerk = Clerk()

    class CustomerGenerator(sim.Component):
        def process(self):
            for _ in range(n):
                Customer()
                self.hold(iat.sample())

    CustomerGenerator()
    return waiting, sojourn


def build_yield(env, n: int, model: str):
    iat = sim.Exponential(rate=LAMBDA)
    service = sim.Exponential(rate=MU)
    sojourn = sim.Monitor("sojourn")

    if model == "resource":
        clerk = sim.Resource("clerk", capacity=1)
        waiting = clerk.requesters()

        class Customer(sim.Component):
            def process(self):
                yield self.request(clerk)
                yield self.hold(service.sample())
                self.release()
                sojourn.tally(env.now() - self.creation_time())

    else:
        waiting = sim.Queue("waitingline")

        class Clerk(sim.Component):
            def process(self):
                while True:
                    while len(waiting) == 0:
                        yield self.passivate()
                    customer = waiting.pop()
                    yield self.hold(service.sample())
                    customer.activate()

        class Customer(sim.Component):
            def process(self):
                self.enter(waiting)
                if clerk.ispassive():
                    clerk.activate()
                yield self.passivate()
                sojourn.tally(env.now() - self.creation_time())

        clerk = Clerk()

    class CustomerGenerator(sim.Component):
        def process(self):
            for _ in range(n):
                Customer()
                yield self.hold(iat.sample())

    CustomerGenerator()
    return waiting, sojourn


def run(customers: int, seed: int, model: str, mode: str):
    env = sim.Environment(trace=False, random_seed=seed, yieldless=(mode == "yieldless"))
    build = build_yieldless if mode == "yieldless" else build_yield
    waiting, sojourn = build(env, customers, model)
    env.run()
    return waiting.length_of_stay, sojourn


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], _extra)
    t0 = time.perf_counter()
    wait_mon, sojourn_mon = run(args.customers, args.seed, args.model, args.mode)
    wall = time.perf_counter() - t0
    n = sojourn_mon.number_of_entries()
    emit(
        "salabim",
        n,
        wall,
        wait_mon.mean(),
        sojourn_mon.mean(),
        salabim=sim.__version__,
        model=args.model,
        mode=args.mode,
        waits_recorded=wait_mon.number_of_entries(),
    )


if __name__ == "__main__":
    main()
