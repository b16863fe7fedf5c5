"""Pure-Python floor: a hand-written minimal heapq event loop for M/M/1.

No entities, no event objects, no dispatch: heap entries are ``(time, seq, kind)``
tuples and the loop body is inlined. This is roughly the fastest a general
"pop the next event, handle it, push new events" loop can go in CPython, so it is
the floor every DES engine (ours included) is compared against.
"""

from __future__ import annotations

import random
import time
from collections import deque
from heapq import heappop, heappush

from _common import LAMBDA, MU, emit, parse_args

ARRIVAL, DEPARTURE = 0, 1


def run(customers: int, seed: int) -> tuple[int, float, float]:
    rng = random.Random(seed)
    expo = rng.expovariate
    heap: list[tuple[float, int, int]] = [(expo(LAMBDA), 0, ARRIVAL)]
    seq = 1
    queue: deque[float] = deque()  # arrival times of waiting customers
    busy = False
    in_service_arrival = 0.0
    arrived = done = 0
    sum_wait = sum_sojourn = 0.0
    while heap:
        now, _, kind = heappop(heap)
        if kind == ARRIVAL:
            arrived += 1
            if arrived < customers:
                heappush(heap, (now + expo(LAMBDA), seq, ARRIVAL))
                seq += 1
            if busy:
                queue.append(now)
            else:
                busy = True
                in_service_arrival = now
                heappush(heap, (now + expo(MU), seq, DEPARTURE))
                seq += 1
        else:
            done += 1
            sum_sojourn += now - in_service_arrival
            if queue:
                in_service_arrival = queue.popleft()
                sum_wait += now - in_service_arrival
                heappush(heap, (now + expo(MU), seq, DEPARTURE))
                seq += 1
            else:
                busy = False
    return done, sum_wait, sum_sojourn


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    t0 = time.perf_counter()
    done, sum_wait, sum_sojourn = run(args.customers, args.seed)
    wall = time.perf_counter() - t0
    emit("heapq_floor", done, wall, sum_wait / done, sum_sojourn / done)


if __name__ == "__main__":
    main()
