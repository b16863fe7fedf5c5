"""Top-level names of the component toolkit, imported on first use.

``import happysimulator`` stays fast: ``happysimulator.Network`` imports
``happysimulator.components.network`` only when it is first asked for. Each toolkit
package lists its public names here (name -> module that defines it).
"""

from __future__ import annotations

# -- client, resilience, rate_limiter, load_balancer, routers, core extras
DISTRIBUTED_A: dict[str, str] = {}

# -- queue_policies, network, faults, sync, datastore
DISTRIBUTED_B: dict[str, str] = {}

# -- industrial, Resource
INDUSTRIAL: dict[str, str] = {}

LAZY_NAMES: dict[str, str] = {**DISTRIBUTED_A, **DISTRIBUTED_B, **INDUSTRIAL}
