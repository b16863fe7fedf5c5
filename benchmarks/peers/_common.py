"""Shared bits of the M/M/1 peer scripts (stdlib only: peers run in several venvs).

Every peer simulates the same M/M/1 queue -- Poisson arrivals at LAMBDA = 8/s, one
server with exponential service at MU = 10/s, FIFO, infinite buffer -- and prints one
JSON object on stdout:

    {"peer", "customers", "wall_s", "customers_per_s", "mean_wait", "mean_sojourn",
     "python", ...peer-specific extras}

``wall_s`` times model construction + the run only (not interpreter start-up or
imports); ``customers`` is the number of customers that completed service.
Theory (rho = 0.8): Wq = rho / (mu - lambda) = 0.4 s, W = 1 / (mu - lambda) = 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys

LAMBDA = 8.0
MU = 10.0
THEORY_WAIT = (LAMBDA / MU) / (MU - LAMBDA)  # 0.4 s
THEORY_SOJOURN = 1.0 / (MU - LAMBDA)  # 0.5 s


def parse_args(description: str, extra=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--customers", type=int, default=100_000, help="customers to serve")
    p.add_argument("--seed", type=int, default=42, help="RNG seed")
    if extra is not None:
        extra(p)
    return p.parse_args()


def emit(
    peer: str,
    customers: int,
    wall_s: float,
    mean_wait: float | None,
    mean_sojourn: float | None,
    **extra,
) -> None:
    out = {
        "peer": peer,
        "customers": customers,
        "wall_s": wall_s,
        "customers_per_s": customers / wall_s if wall_s > 0 else None,
        "mean_wait": mean_wait,
        "mean_sojourn": mean_sojourn,
        "python": platform.python_version(),
    }
    out.update(extra)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    sys.stdout.flush()
