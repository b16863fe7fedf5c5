"""What-if branches of a session: fork, branches, compare, rewind — by deterministic
replay.

A session holds named branches, each its own simulation (``main`` is the run as given).
Every request names its branch (``branch``, default ``main``); the session's code reads
``self._sim`` / ``self._runner`` / ``self._fault`` of the branch the current thread
serves. Each branch keeps a **history**: the changes made to it that a rebuilt model
must see again — breakpoints added and removed, settings applied at a fork — each with
its position (model events processed, simulated time). Running, stepping and pausing are
not history: a paused and resumed run equals the uninterrupted one.

**Replay.** A branch is rebuilt from the model factory with its parameters and seed,
and its history is re-applied at the same positions (by event count, so a change lands
between the same two events), then the model runs to the target. A run that does not
reach a recorded position at its recorded time has diverged (the model reads the wall
clock, outside input or a global random generator): the replay is refused, never
silently different. A fork with new ``params`` is another model from the start: its
history is re-applied by simulated time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import msgspec

from happysimulator.observability.protocol import messages as m
from happysimulator.observability.protocol.answers import _jsonable, _size
from happysimulator.observability.protocol.errors import ProtocolError
from happysimulator.observability.settings import SettingError, apply_settings
from operators.simtime import ticks as _ticks

MAX_BRANCHES = 16
# ops whose effect a rebuilt model must see again (recorded in the branch's history)
HISTORY_OPS = frozenset({"add_breakpoint", "remove_breakpoint", "clear_breakpoints"})
# ops that only make sense on main
MAIN_ONLY = frozenset({"load", "reset"})
_NS = 1_000_000_000


@dataclass
class Action:
    """One history entry: an op (or a setting) applied at a position of the run."""

    events: int
    time_ns: int
    op: str
    request: dict[str, Any]
    made: int | None = None  # the breakpoint id an add_breakpoint made
    pending: int | None = None  # digest of the events scheduled then (`_pending`)

    def describe(self) -> str:
        args = {k: v for k, v in self.request.items() if k not in ("op", "branch")}
        return f"t={self.time_ns / _NS:g}s #{self.events} {self.op} {args}"


@dataclass
class Branch:
    """One simulation of the session and how to build it again."""

    name: str
    sim: Any = None
    runner: Any = None
    fault: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    parent: str | None = None
    forked_at: float | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    history: list[Action] = field(default_factory=list)


def _position(sim: Any) -> tuple[int, int]:
    return sim.events_processed, sim.now_ns


def _pending(sim: Any) -> int:
    """A digest of the model events scheduled now (their count and times): a replay that
    reaches the same position with other events ahead has diverged."""
    total = count = 0
    for e in sim._events.entries:
        if e[1] and not (e[3]._x is not None and e[3]._x.cancelled):
            total += e[0]
            count += 1
    return (total + count * 1_000_003) % (1 << 61)


class BranchOps:
    """Branches of `SessionProtocol` (mixed into it; see the module doc)."""

    # ---- the branch the current thread serves -------------------------------------------------
    @property
    def _branch_map(self) -> dict[str, Branch]:
        d = self.__dict__
        if "_branches" not in d:
            d["_branches"] = {"main": Branch("main")}
            d["_branch_tls"] = threading.local()
            d["_fork_ids"] = iter(range(1, 10**9))
        return d["_branches"]

    @property
    def _current(self) -> Branch:
        branches = self._branch_map
        name = getattr(self.__dict__["_branch_tls"], "name", "main")
        branch = branches.get(name)
        if branch is None:  # dropped by another request while this one waited
            raise ProtocolError("unknown_name", f"branch {name!r} was dropped",
                                [n for n in branches if not n.startswith("~")])
        return branch

    @property
    def _sim(self) -> Any:
        return self._current.sim

    @_sim.setter
    def _sim(self, value: Any) -> None:
        self._current.sim = value

    @property
    def _runner(self) -> Any:
        return self._current.runner

    @_runner.setter
    def _runner(self, value: Any) -> None:
        self._current.runner = value

    @property
    def _fault(self) -> Any:
        return self._current.fault

    @_fault.setter
    def _fault(self, value: Any) -> None:
        self._current.fault = value

    @contextmanager
    def _serving(self, name: str) -> Iterator[Branch]:
        branches = self._branch_map
        if name not in branches:
            raise ProtocolError("unknown_name", f"no branch named {name!r}", list(branches))
        tls = self.__dict__["_branch_tls"]
        old = getattr(tls, "name", "main")
        tls.name = name
        try:
            yield branches[name]
        finally:
            tls.name = old

    def _on_this_branch(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        """`fn`, serving the branch this thread serves wherever it is called (a call at an
        event boundary runs on the run thread, which serves no request)."""
        tls = self.__dict__["_branch_tls"]
        name = getattr(tls, "name", "main")

        def served() -> Any:
            old = getattr(tls, "name", "main")
            tls.name = name
            try:
                return fn()
            finally:
                tls.name = old

        return served

    def _branch_op(self, op: str, req: Any, fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """`fn` (an ``_op_*``) served on the request's branch; a history op is applied at
        an event boundary and recorded with its position."""
        name = getattr(req, "branch", "main")

        def on_branch(r: Any) -> Any:
            with self._serving(name) as branch:
                if op in MAIN_ONLY and name != "main":
                    raise ProtocolError("state", f"{op} works on main only; a branch is "
                                        "rebuilt with rewind or made with fork",
                                        ["rewind", "fork"])
                if op in MAIN_ONLY:
                    resp = fn(r)
                    branch.history.clear()  # a new model: nothing to replay
                    branch.params, branch.seed = dict(self._params), self._seed
                    return resp
                if op not in HISTORY_OPS or self._sim is None:
                    return fn(r)
                return self._recorded(branch, op, r, fn)

        return on_branch

    def _recorded(self, branch: Branch, op: str, req: Any, fn: Callable[[Any], Any]) -> Any:
        sim = branch.sim
        seen: list[tuple[int, int]] = []

        def at_boundary() -> Any:
            seen.append((*_position(sim), _pending(sim)))
            return fn(req)

        resp = self._call(at_boundary)
        events, now_ns, pending = seen[0]
        request = msgspec.to_builtins(req)
        request.pop("branch", None)
        made = resp.breakpoint.id if op == "add_breakpoint" else None
        branch.history.append(Action(events, now_ns, op, request, made, pending))
        return resp

    # ---- building a branch again ---------------------------------------------------------------
    def _require_factory(self, what: str) -> None:
        if self._factory is None:
            raise ProtocolError("state", f"{what} needs a model that can be built again: this "
                                "session was opened on a Simulation object. Open it on a "
                                "factory or a MODEL spec (path/file.py:factory) to replay",
                                ["query", "run"])

    def _replay(self, branch: Branch, actions: list[Action], *, at_events: int | None,
                at_time_ns: int | None, by_time: bool, at_pending: int | None = None,
                extra: Callable[[Any], None] | None = None) -> tuple[Any, m.ReplayInfo,
                                                                        list[Action]]:
        """A new simulation of `branch`'s model with `actions` re-applied, run to
        `at_events` model events (checked to land at `at_time_ns`) or to `at_time_ns`.
        Returns it (not attached), what the replay did, and the actions as applied."""
        from happysimulator.observability.protocol.runner import SimRunner

        t0 = time.perf_counter()
        sim = self._build(branch.params, branch.seed)
        applied: list[Action] = []
        ids: dict[int, int] = {}  # breakpoint ids: the original's -> the replay's
        tls = self.__dict__["_branch_tls"]
        temp = Branch(f"~replay-{branch.name}", sim=sim, runner=SimRunner(sim),
                      params=branch.params, seed=branch.seed)
        self._branch_map[temp.name] = temp
        old = getattr(tls, "name", "main")
        tls.name = temp.name
        try:
            for action in actions:
                if by_time:
                    self._advance_to(sim, None, action.time_ns)
                else:
                    self._reach(sim, action.events, action.time_ns, action.describe(),
                                action.pending)
                events, now_ns = _position(sim)
                pending = _pending(sim)
                done = self._apply_action(action, ids, events, now_ns)
                done.pending = pending
                applied.append(done)
            if at_events is not None and not by_time:
                assert at_time_ns is not None
                self._reach(sim, at_events, at_time_ns, f"the fork point (event {at_events})",
                            at_pending)
            elif at_time_ns is not None:
                self._advance_to(sim, None, at_time_ns)
            if extra is not None:
                extra(sim)
        finally:
            tls.name = old
            self._branch_map.pop(temp.name, None)
        info = m.ReplayInfo(to_time=sim.now.to_seconds(), events=sim.events_processed,
                            actions=len(applied), wall_s=round(time.perf_counter() - t0, 6))
        return sim, info, applied

    @staticmethod
    def _advance_to(sim: Any, events: int | None, time_ns: int | None) -> None:
        """Run `sim` (on this thread) to exactly `events` model events, or through every
        event at or before `time_ns`; breakpoints that fire on the way are passed."""
        control = sim.control
        while not control.is_complete:
            if events is not None:
                left = events - sim.events_processed
                if left <= 0:
                    return
                control.run(max_events=left)
            else:
                assert time_ns is not None
                control.run(until_ns=time_ns)
                if control.get_state().stop_reason != "paused":
                    return
        if events is not None and sim.events_processed < events:
            raise ProtocolError("state", f"the replay ended after {sim.events_processed} "
                                f"events, before event {events}: the model did not run the "
                                "same way again (does it read the wall clock, outside input "
                                "or a global random generator?)")

    def _reach(self, sim: Any, events: int, time_ns: int, what: str,
               pending: int | None = None) -> None:
        """Run `sim` to the position (`events` model events, clock at `time_ns`) a run
        was at; a model that gets there otherwise has diverged."""
        self._advance_to(sim, events, None)
        if sim.now_ns < time_ns and not sim.control.is_complete:
            # the original's clock had moved on past its last event (run_until): every
            # event up to then had run there, so none may run here
            self._advance_to(sim, None, time_ns)
        if sim.now_ns != time_ns or sim.events_processed != events or (
                pending is not None and _pending(sim) != pending):
            raise self._diverged(what, time_ns, sim, events)

    def _diverged(self, what: str, want_ns: int, sim: Any, events: int) -> ProtocolError:
        return ProtocolError("state", f"the replay diverged at {what}: it is at "
                             f"t={sim.now_ns / _NS:g}s after {sim.events_processed} events, "
                             f"the original was at t={want_ns / _NS:g}s after {events} (or "
                             "other events were scheduled next). "
                             "A replayable model is built by its "
                             "factory alone, draws only from the simulation's random "
                             "streams (self.rng) and reads no wall clock or outside input")

    def _apply_action(self, action: Action, ids: dict[int, int], events: int,
                      now_ns: int) -> Action:
        """Re-apply `action` to the current branch; the action as applied (breakpoint ids
        are the new simulation's: `ids` maps the original's to them)."""
        request = dict(action.request)
        if action.op == "set":
            apply_settings(self._sim, request["set"])
            return Action(events, now_ns, "set", request)
        if action.op == "remove_breakpoint":
            request["id"] = ids.get(request["id"], request["id"])
        req = msgspec.convert({**request, "op": action.op}, m.OPS[action.op][0], strict=True)
        resp = getattr(self, f"_op_{action.op}")(req)
        made = None
        if action.op == "add_breakpoint":
            made = resp.breakpoint.id
            if action.made is not None:
                ids[action.made] = made
        return Action(events, now_ns, action.op, request, made)

    def _branch_info(self, branch: Branch) -> m.BranchInfo:
        with self._serving(branch.name):
            state = self._call(self._state_info)
        return m.BranchInfo(name=branch.name, parent=branch.parent,
                            forked_at=branch.forked_at, set=_jsonable(branch.settings),
                            params=_jsonable(branch.params), status=state.status,
                            current_time=state.current_time,
                            events_processed=state.events_processed)

    # ---- operations ----------------------------------------------------------------------------
    def _op_fork(self, req: m.ForkRequest) -> m.ForkResponse:
        self._require_factory("fork")
        self._require_idle("fork")
        source = self._current
        if source.name == "main":
            source.params, source.seed = dict(self._params), self._seed
        branches = self._branch_map
        name = req.name or next(f"fork-{i}" for i in self.__dict__["_fork_ids"]
                                if f"fork-{i}" not in branches)
        if name in branches:
            raise ProtocolError("bad_request", f"a branch named {name!r} exists already",
                                list(branches))
        if len(branches) >= MAX_BRANCHES:
            raise ProtocolError("state", f"at most {MAX_BRANCHES} branches: this session has "
                                f"{len(branches)}", list(branches))
        sim = source.sim
        events, now_ns = _position(sim)
        if req.at is not None and _ticks(req.at) > now_ns:
            raise ProtocolError("bad_request", f"at = {req.at:g} s is after the branch's "
                                f"current time ({now_ns / _NS:g} s): fork at or before now")
        if req.params:
            from happysimulator.observability.protocol.models import (
                ModelSpecError,
                check_params,
            )

            try:
                check_params(self._factory, req.params)
            except ModelSpecError as exc:
                raise ProtocolError("bad_request", str(exc)) from None
        new = Branch(name, params={**source.params, **req.params}, seed=source.seed,
                     parent=source.name)
        by_time = bool(req.params)
        at_pending = None
        if req.at is None:
            at_events, at_ns = events, now_ns
            at_pending = None if by_time else self._call(lambda: _pending(sim))
        else:
            at_events, at_ns = None, _ticks(req.at)
        actions = [a for a in source.history
                   if (at_events is not None and a.events <= at_events)
                   or (at_events is None and a.time_ns <= at_ns)]
        applied_lines: list[str] = []

        def change(built: Any) -> None:
            try:
                applied_lines.extend(apply_settings(built, req.set))
            except SettingError as exc:
                raise ProtocolError("bad_request" if exc.valid is None else "unknown_name",
                                    str(exc), exc.valid) from None

        built, info, applied = self._replay(new, actions, at_events=at_events,
                                            at_time_ns=at_ns, by_time=by_time,
                                            at_pending=at_pending, extra=change)
        if req.set:
            e, t = _position(built)
            applied.append(Action(e, t, "set", {"set": dict(req.set)}))
        new.history = applied
        new.forked_at = built.now.to_seconds()
        new.settings = dict(req.set)
        branches[name] = new
        with self._serving(name):
            self._attach_branch(built)
            state = self._state_info()
        return m.ForkResponse(branch=self._branch_info(new), applied=applied_lines,
                              replayed=info, state=state)

    def _attach_branch(self, sim: Any) -> None:
        """Attach a replayed simulation to the current branch (keeping the answers)."""
        from happysimulator.observability.protocol.runner import SimRunner

        if self._runner is not None:
            self._runner.close()
        self._sim = sim
        self._runner = SimRunner(sim)
        self._fault = None

    def _op_branches(self, req: m.BranchesRequest) -> m.BranchesResponse:
        return m.BranchesResponse(branches=[self._branch_info(b)
                                            for b in list(self._branch_map.values())
                                            if not b.name.startswith("~")])

    def _op_rewind(self, req: m.RewindRequest) -> m.RewindResponse:
        self._require_factory("rewind")
        self._require_idle("rewind")
        branch = self._current
        if branch.name == "main":
            branch.params, branch.seed = dict(self._params), self._seed
        now_ns = branch.sim.now_ns
        to_ns = _ticks(req.to)
        if to_ns > now_ns:
            raise ProtocolError("bad_request", f"to = {req.to:g} s is after the branch's "
                                f"current time ({now_ns / _NS:g} s): rewind goes back only")
        keep = [a for a in branch.history if a.time_ns <= to_ns]
        dropped = [a.describe() for a in branch.history if a.time_ns > to_ns]
        own_set_dropped = branch.settings and any(
            a.op == "set" for a in branch.history if a.time_ns > to_ns)
        built, info, applied = self._replay(branch, keep, at_events=None, at_time_ns=to_ns,
                                            by_time=False)
        branch.history = applied
        if own_set_dropped:
            # back before the fork point: its settings went with the history after `to`,
            # so the branch is now its parent's run up to `to` (what `branches` says)
            branch.settings = {}
            branch.forked_at = to_ns / _NS
        self._attach_branch(built)
        return m.RewindResponse(replayed=info, dropped=dropped, state=self._state_info())

    def _op_compare(self, req: m.CompareRequest) -> m.CompareResponse:
        names = list(req.branches) or [b for b in self._branch_map if not b.startswith("~")]
        if len(set(names)) != len(names):
            raise ProtocolError("bad_request", "compare: a branch is named twice")
        results: dict[str, dict[str, Any]] = {}
        ranges: dict[str, m.CompareRange] = {}
        for name in names:
            with self._serving(name):
                if self._running():
                    raise ProtocolError("state", f"branch {name!r} is running: pause it "
                                        "first", ["pause"])
                r = self._execute(req.query).to_dict()
                now = self._sim.now.to_seconds()
            results[name] = r
            ranges[name] = m.CompareRange(start=_jsonable(r.get("start")),
                                          end=_jsonable(r.get("end")), now=now,
                                          weighting=r["weighting"], exact=r["exact"])
        base = names[0]
        diffs = _differences(names, results)
        resp = m.CompareResponse(branches=names, base=base, ranges=ranges, differences=[])
        room = req.budget_bytes - _size(msgspec.to_builtins(resp)) - 100
        used = kept = 0
        for d in diffs:
            used += _size(msgspec.to_builtins(d)) + 1
            if used > room:
                break
            kept += 1
        resp.differences = diffs[:kept]
        resp.omitted = len(diffs) - kept
        return resp

    def _op_drop_branch(self, req: m.DropBranchRequest) -> m.DropBranchResponse:
        branches = self._branch_map
        branch = self._current
        others = [n for n in branches if n != "main" and not n.startswith("~")]
        if branch.name == "main":
            raise ProtocolError("bad_request", "main cannot be dropped: name the what-if "
                                "branch to drop in branch" + ("" if others else
                                                              " (this session has none)"),
                                others)
        if branch.runner is not None:
            branch.runner.close()  # (a running branch is paused first)
        del branches[branch.name]
        branch.sim = branch.runner = branch.fault = None
        branch.history = []
        return m.DropBranchResponse(dropped=branch.name,
                                    branches=[n for n in branches if not n.startswith("~")])

    def _close_branches(self) -> None:
        """Pause every what-if branch's background run (the session is closing)."""
        for branch in list(self._branch_map.values()):
            if branch.name != "main" and branch.runner is not None:
                branch.runner.close()

    # ---- Python methods -------------------------------------------------------------------------
    def fork(self, at: float | None = None, set: dict[str, Any] | None = None,  # noqa: A002
             params: dict[str, Any] | None = None, name: str | None = None,
             branch: str = "main") -> dict[str, Any]:
        """The ``fork`` operation (raises `ProtocolError` on a failed request)."""
        return self._ask("fork", {"at": at, "set": set, "params": params, "name": name,
                                  "branch": branch})

    def branches(self) -> list[dict[str, Any]]:
        """The ``branches`` operation: every branch of the session."""
        return self._ask("branches", {})["branches"]

    def compare(self, query: dict[str, Any], branches: list[str] | None = None) -> dict[str, Any]:
        """The ``compare`` operation (raises `ProtocolError` on a failed request)."""
        return self._ask("compare", {"query": query, "branches": branches})

    def rewind(self, to: float, branch: str = "main") -> dict[str, Any]:
        """The ``rewind`` operation (raises `ProtocolError` on a failed request)."""
        return self._ask("rewind", {"to": to, "branch": branch})

    def drop_branch(self, branch: str) -> dict[str, Any]:
        """The ``drop_branch`` operation: the what-if `branch` is gone (main stays)."""
        return self._ask("drop_branch", {"branch": branch})


# not part of a row's identity: the values, and the end of a range (clipped to each
# branch's own now: branches that ended at other instants still compare window by window)
_VALUE_KEYS = ("value", "time", "end")


def _differences(names: list[str], results: dict[str, dict[str, Any]]) -> list[m.Difference]:
    """Rows matched by their identifying fields; each aggregate side by side."""
    table: dict[tuple, dict[str, dict[str, Any]]] = {}
    order: list[tuple] = []
    for name in names:
        result = results[name]
        aggs = set(result["aggregates"]) or {"value"}
        skip = set(_VALUE_KEYS)
        q = result.get("query") or {}
        if result["aggregates"] and q.get("window") is None:
            # one row per group over the whole range: its start is where that branch's
            # data begins (each branch's range is in `ranges`), not what the row is
            skip.add("start")
        for row in result["rows"]:
            ident = {k: v for k, v in row.items() if k not in aggs and k not in skip}
            key = tuple(sorted((k, repr(v)) for k, v in ident.items()))
            if key not in table:
                table[key] = {"~row": ident}
                order.append(key)
            table[key][name] = {a: row.get(a) for a in aggs}
    base = names[0]
    out = []
    for key in order:
        entry = table[key]
        aggs = sorted({a for n in names if n in entry for a in entry[n]})
        for agg in aggs:
            values = {n: entry[n][agg] for n in names
                      if n in entry and isinstance(entry[n].get(agg), int | float)}
            if not values:
                continue
            d = m.Difference(row=_jsonable(entry["~row"]), aggregate=agg,
                             values=_jsonable(values))
            b = values.get(base)
            if b is not None:
                d.delta = {n: v - b for n, v in values.items() if n != base}
                if b != 0:
                    d.relative = {n: (v - b) / abs(b) for n, v in values.items() if n != base}
            out.append(d)
    return out
