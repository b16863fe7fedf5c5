"""Shared timing helpers for the benchmarks: interleaved runs, medians, ratios, peak RSS.

The machines are small and shared (2 cores, noisy neighbours), so every comparison is
made side by side in one run, interleaved A B C A B C ..., and summarised by the
median (plus the min, the least-disturbed run). Never compare numbers from two
separate invocations.

Two kinds of contender:

* ``Contender.command(name, argv)``: a subprocess. Wall time is measured around the
  whole process; peak RSS comes from ``os.wait4`` (this child only). If the process
  prints a JSON object as the last line of stdout, it is kept as ``report`` and its
  numeric fields can be summarised too (e.g. the ``wall_s`` a peer measured around its
  own run, which excludes interpreter start-up and imports).
* ``Contender.function(name, fn)``: an in-process callable (wall time only; its
  return value is kept as ``report`` when it is a dict).

Command line (generic use)::

    python benchmarks/_harness.py --repeats 5 --baseline a \\
        --cmd a='python -c "sum(range(10**7))"' --cmd b='python -c "sum(range(10**6))"'
    ... --json            # machine-readable output instead of the table
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Run:
    """One execution of one contender."""

    wall_s: float
    ok: bool
    returncode: int | None = None
    max_rss_kb: int | None = None
    report: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class Contender:
    name: str
    argv: list[str] | None = None
    fn: Callable[[], Any] | None = None
    env: dict[str, str] | None = None
    cwd: str | None = None
    timeout_s: float | None = None
    runs: list[Run] = field(default_factory=list)

    @classmethod
    def command(
        cls,
        name: str,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        timeout_s: float | None = None,
    ) -> Contender:
        return cls(name=name, argv=list(argv), env=env, cwd=cwd, timeout_s=timeout_s)

    @classmethod
    def function(cls, name: str, fn: Callable[[], Any]) -> Contender:
        return cls(name=name, fn=fn)

    def run_once(self) -> Run:
        if self.fn is not None:
            t0 = time.perf_counter()
            try:
                out = self.fn()
            except Exception as exc:  # a failing contender must not sink the others
                return Run(time.perf_counter() - t0, False, error=repr(exc))
            wall = time.perf_counter() - t0
            return Run(wall, True, report=out if isinstance(out, dict) else None)
        assert self.argv is not None
        return _run_process(self.argv, env=self.env, cwd=self.cwd, timeout_s=self.timeout_s)

    # ---- summaries ------------------------------------------------------------------
    def ok_runs(self) -> list[Run]:
        return [r for r in self.runs if r.ok]

    def values(self, metric: str) -> list[float]:
        """``wall_s`` (process/function wall time), ``max_rss_mb``, or ``report.<key>``."""
        out: list[float] = []
        for r in self.ok_runs():
            if metric == "wall_s":
                v: Any = r.wall_s
            elif metric == "max_rss_mb":
                v = None if r.max_rss_kb is None else r.max_rss_kb / 1024.0
            elif metric.startswith("report."):
                v = (r.report or {}).get(metric[len("report.") :])
            else:
                raise ValueError(f"unknown metric {metric!r}; use wall_s, max_rss_mb, report.<key>")
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                out.append(float(v))
        return out

    def median(self, metric: str = "wall_s") -> float | None:
        vals = self.values(metric)
        return statistics.median(vals) if vals else None

    def min(self, metric: str = "wall_s") -> float | None:
        vals = self.values(metric)
        return min(vals) if vals else None

    def max(self, metric: str = "wall_s") -> float | None:
        vals = self.values(metric)
        return max(vals) if vals else None

    def last_report(self) -> dict[str, Any] | None:
        for r in reversed(self.ok_runs()):
            if r.report is not None:
                return r.report
        return None

    def errors(self) -> list[str]:
        return [r.error or f"exit {r.returncode}" for r in self.runs if not r.ok]

    def to_dict(self, metrics: Sequence[str] = ("wall_s",)) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "argv": self.argv,
            "runs": len(self.runs),
            "ok_runs": len(self.ok_runs()),
            "errors": self.errors(),
        }
        for m in metrics:
            d[m] = {
                "median": self.median(m),
                "min": self.min(m),
                "max": self.max(m),
                "values": self.values(m),
            }
        d["max_rss_mb"] = {"median": self.median("max_rss_mb"), "max": self.max("max_rss_mb")}
        d["last_report"] = self.last_report()
        return d


def _run_process(
    argv: list[str], *, env: dict[str, str] | None, cwd: str | None, timeout_s: float | None
) -> Run:
    full_env = None if env is None else {**os.environ, **env}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        try:
            proc = subprocess.Popen(argv, stdout=out, stderr=err, env=full_env, cwd=cwd)
        except OSError as exc:
            return Run(0.0, False, error=f"cannot start {argv[0]}: {exc}")
        status, rusage = _wait(proc, timeout_s)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if status is None:
        return Run(wall, False, error=f"timeout after {timeout_s} s")
    rc = os.waitstatus_to_exitcode(status)
    report = _last_json_line(stdout)
    run = Run(
        wall, rc == 0, returncode=rc, max_rss_kb=getattr(rusage, "ru_maxrss", None), report=report
    )
    if rc != 0:
        tail = (stderr.strip().splitlines() or stdout.strip().splitlines() or ["?"])[-1]
        run.error = f"exit {rc}: {tail[:300]}"
    return run


def _wait(proc: subprocess.Popen, timeout_s: float | None):
    """Wait for ``proc`` and return (status, rusage of that child); (None, None) on timeout."""
    if timeout_s is None:
        _, status, rusage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        return status, rusage
    deadline = time.monotonic() + timeout_s
    while True:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return status, rusage
        if time.monotonic() > deadline:
            proc.kill()
            os.wait4(proc.pid, 0)
            proc.returncode = -9
            return None, None
        time.sleep(0.005)


def _last_json_line(text: str) -> dict[str, Any] | None:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError:
                return None
            return obj if isinstance(obj, dict) else None
    return None


def run_interleaved(
    contenders: Sequence[Contender],
    repeats: int,
    *,
    warmup: int = 0,
    progress: Callable[[str], None] | None = None,
) -> list[Contender]:
    """Run every contender ``repeats`` times, interleaved: A B C A B C ...

    ``warmup`` rounds are run first the same way and discarded. Results accumulate on
    each contender's ``runs``.
    """
    for rnd in range(warmup + repeats):
        for c in contenders:
            r = c.run_once()
            if rnd >= warmup:
                c.runs.append(r)
            if progress is not None:
                tag = "warmup" if rnd < warmup else f"{rnd - warmup + 1}/{repeats}"
                status = f"{r.wall_s:8.3f} s" if r.ok else f"FAILED ({r.error})"
                progress(f"  [{tag}] {c.name:<40} {status}")
    return list(contenders)


def ratios(
    contenders: Sequence[Contender], baseline: str, metric: str = "wall_s"
) -> dict[str, float | None]:
    """Median of ``metric`` for each contender divided by the baseline's median."""
    base = next((c for c in contenders if c.name == baseline), None)
    b = base.median(metric) if base is not None else None
    out: dict[str, float | None] = {}
    for c in contenders:
        m = c.median(metric)
        out[c.name] = None if (m is None or not b) else m / b
    return out


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(v: Any) -> str:
        if v is None:
            return "-"
        if isinstance(v, float):
            if v == 0:
                return "0"
            if abs(v) >= 1000:
                return f"{v:,.0f}"
            if abs(v) >= 10:
                return f"{v:.1f}"
            return f"{v:.3f}"
        return str(v)

    cells = [[cell(v) for v in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    lines = [
        "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    for r in cells:
        lines.append(
            "  ".join(
                (v.rjust(w) if i else v.ljust(w))
                for i, (v, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    return "\n".join(lines)


def summary_table(
    contenders: Sequence[Contender], baseline: str | None = None, metric: str = "wall_s"
) -> str:
    rat = ratios(contenders, baseline, metric) if baseline else {}
    rows = []
    for c in contenders:
        rows.append(
            [
                c.name,
                c.median(metric),
                c.min(metric),
                rat.get(c.name),
                c.median("max_rss_mb"),
                f"{len(c.ok_runs())}/{len(c.runs)}",
            ]
        )
    return format_table(
        ["contender", f"median {metric}", "min", f"ratio vs {baseline}", "peak RSS MB", "ok"], rows
    )


def git_head(repo: str) -> str:
    """``<short hash> <subject>`` of the checkout's HEAD ('' when it is not a git checkout)."""
    return subprocess.run(["git", "-C", repo, "log", "-1", "--format=%h %s"],
                          capture_output=True, text=True).stdout.strip()


def compile_packages(repo: str, packages: Sequence[str]) -> None:
    """Write the bytecode of ``repo``'s ``packages`` (what a pip install leaves behind)."""
    import compileall

    for pkg in packages:
        path = os.path.join(repo, pkg)
        if os.path.isdir(path):
            compileall.compile_dir(path, quiet=1)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Run commands interleaved; report medians.")
    p.add_argument(
        "--cmd",
        action="append",
        default=[],
        metavar="NAME=COMMAND",
        help="a contender (repeatable); COMMAND is split like a shell would",
    )
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--warmup", type=int, default=0)
    p.add_argument("--baseline", default=None, help="contender name the ratios are against")
    p.add_argument(
        "--metric",
        default="wall_s",
        help="wall_s, max_rss_mb or report.<key> of the JSON a command prints",
    )
    p.add_argument("--timeout", type=float, default=None, help="per-run timeout (s)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = p.parse_args(argv)
    if not args.cmd:
        p.error("give at least one --cmd NAME=COMMAND")
    contenders = []
    for spec in args.cmd:
        name, sep, command = spec.partition("=")
        if not sep or not name or not command:
            p.error(f"--cmd wants NAME=COMMAND, got {spec!r}")
        contenders.append(Contender.command(name, shlex.split(command), timeout_s=args.timeout))
    baseline = args.baseline or contenders[0].name
    log = None if args.json else (lambda s: print(s, file=sys.stderr))
    run_interleaved(contenders, args.repeats, warmup=args.warmup, progress=log)
    if args.json:
        json.dump(
            {
                "repeats": args.repeats,
                "baseline": baseline,
                "metric": args.metric,
                "ratios": ratios(contenders, baseline, args.metric),
                "contenders": [c.to_dict((args.metric,)) for c in contenders],
            },
            sys.stdout,
            indent=2,
        )
        print()
    else:
        print(summary_table(contenders, baseline, args.metric))
    return 0 if all(c.ok_runs() for c in contenders) else 1


if __name__ == "__main__":
    sys.exit(main())
