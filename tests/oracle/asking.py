"""Asking a simulation one of the fuzzer's queries, through the Python API, the JSON
protocol or the export path, and reading back one `Answer` whatever the interface."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import msgspec


@dataclass
class Answer:
    rows: list[dict[str, Any]]
    exact: bool
    error_bound: float | None
    weighting: str | None
    start: float | None = None
    end: float | None = None


class Refused(Exception):
    """The system refused the question with a clear error (message kept)."""


class Crashed(Exception):
    """The system failed in a way that is not a clear error."""


def _resolve(q: dict[str, Any], start_time: float, now: float,
             interface: str = "json") -> dict[str, Any]:
    out = dict(q)
    if out.get("last_s") is not None:
        if interface == "json":
            return out  # (the protocol resolves it; the reference reads it in check_query)
        last = out.pop("last_s")  # the Python API's spelling of "the last s seconds"
        out["start"], out["end"] = now - last, math.nextafter(now, math.inf)
        return out
    for key in ("start", "end"):
        v = out.get(key)
        if isinstance(v, tuple):
            anchor, off = v
            base = {"start": start_time, "now": now, "abs": 0.0}[anchor]
            out[key] = base + off
    if out.get("start") is not None and out.get("end") is not None and out["start"] > out["end"]:
        out["start"], out["end"] = out["end"], out["start"]
    return out


def ask(sim: Any, q: dict[str, Any], interface: str, budget: int) -> Answer:
    from happysim_rx.query import Query, QueryError

    if interface == "python":
        try:
            r = sim.query.execute(Query.from_dict(q))
        except QueryError as e:
            raise Refused(str(e)) from None
        except Exception as e:
            raise Crashed(f"{type(e).__name__}: {e}") from None
        return Answer(r.rows, r.exact, r.error_bound, r.weighting, r.start, r.end)
    if interface == "export":
        from happysimulator.observability import Exporter

        try:
            text = Exporter(sim).to_json(Query.from_dict(q))
        except QueryError as e:
            raise Refused(str(e)) from None
        except Exception as e:
            raise Crashed(f"{type(e).__name__}: {e}") from None
        d = msgspec.json.decode(text)
        return Answer(d["rows"], d["exact"], d["error_bound"], d["weighting"],
                      d.get("start"), d.get("end"))
    if interface == "json":
        from happysimulator.observability.json_api import JsonSession

        session = JsonSession(sim)
        spec = {k: v for k, v in q.items() if v not in (None, [], {}, ())}
        spec = {k: (list(v) if isinstance(v, tuple) else v) for k, v in spec.items()}
        resp = _json_roundtrip(session, {"op": "query", "query": spec, "budget_bytes": budget})
        if not resp.get("ok"):
            err = resp.get("error") or {}
            if err.get("kind") in ("bad_request", "unknown_name") and err.get("message"):
                raise Refused(err["message"])
            raise Crashed(f"protocol error {err!r}")
        res = resp["result"]
        rows = list(res["rows"])
        trunc = resp.get("truncated")
        seen = 0
        fetch_budget = budget
        while trunc:
            seen += 1
            if seen > 2000:
                raise Crashed(f"fetch loop does not end (budget {budget}): {trunc!r}")
            fr = _json_roundtrip(session, {"op": "fetch", "handle": trunc["handle"],
                                           "offset": trunc["next_offset"],
                                           "budget_bytes": fetch_budget})
            err = fr.get("error") or {}
            if (not fr.get("ok") and err.get("kind") == "bad_request"
                    and "too small for the next item" in (err.get("message") or "")
                    and fetch_budget < 1_000_000):
                # the next row alone is larger than the budget: the refusal names the
                # remedy; a client takes it (a larger budget, the same handle and offset)
                # and must get the rest, nothing lost
                fetch_budget *= 2
                continue
            if not fr.get("ok"):
                raise Crashed(f"fetch failed: {fr.get('error')!r}")
            fetch_budget = budget
            if not fr["items"] and fr.get("truncated") and (
                    fr["truncated"]["next_offset"] == trunc["next_offset"]):
                raise Crashed(f"fetch makes no progress at budget {budget}: "
                              f"offset {trunc['next_offset']} again, 0 items")
            rows += fr["items"]
            trunc = fr.get("truncated")
        return Answer(rows, res["exact"], res["error_bound"], res["weighting"],
                      res.get("start"), res.get("end"))
    raise ValueError(interface)


def _json_roundtrip(session: Any, request: dict[str, Any]) -> dict[str, Any]:
    """Through JSON text both ways, as a remote client sees it."""
    text = session.handle_json(msgspec.json.encode(request))
    return msgspec.json.decode(text)
