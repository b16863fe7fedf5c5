"""The debugger's model graph: entities and the request flows between them."""

from __future__ import annotations

from typing import Any

from happysimulator.observability.web._shared import span_flows


class GraphOps:
    """``graph`` (mixed into `Debugger`: uses its worker's queries)."""

    def _op_graph(self, req: dict[str, Any]) -> dict[str, Any]:
        """Entities (from the catalog and the spans) and the request flows between them."""
        cat = self._forward({"op": "catalog"})
        if not cat.get("ok"):
            return cat
        catalog = cat["catalog"]
        nodes: dict[str, list[str]] = {}
        for m in catalog.get("metrics", []):
            nodes.setdefault(m["source"], []).append(m["name"])
        for e in catalog.get("span_entities", []):
            nodes.setdefault(e, [])
        now = self.state.get("current_time", 0.0)
        edges = span_flows(self._query, now, limit=5000)
        for a, b in edges:
            nodes.setdefault(a, [])
            nodes.setdefault(b, [])
        order = _flow_order(list(nodes), list(edges))
        return {"ok": True, "nodes": [{"id": n, "series": sorted(nodes[n])} for n in order],
                "edges": [{"from": a, "to": b, "count": c} for (a, b), c in edges.items()]}


def _flow_order(nodes: list[str], edges: list[tuple[str, str]]) -> list[str]:
    """Nodes upstream first (Kahn's order; cycles and loose nodes keep catalog order)."""
    indeg = {n: 0 for n in nodes}
    for _, b in edges:
        indeg[b] += 1
    order: list[str] = []
    ready = [n for n in nodes if indeg[n] == 0]
    while ready:
        n = ready.pop(0)
        order.append(n)
        for a, b in edges:
            if a == n:
                indeg[b] -= 1
                if indeg[b] == 0:
                    ready.append(b)
    return order + [n for n in nodes if n not in order]
