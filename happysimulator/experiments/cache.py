"""A directory of finished replications: ``replicate(..., cache=directory)`` loads the
ones already computed for the same model, parameters, seed and settings, runs the rest,
and adds each one as it completes (so an interrupted sweep resumes where it stopped).

The key of a replication hashes: the model (a file spec: its absolute path and the file's
bytes; a module spec: its name and its source file's bytes; a callable: its module,
qualified name and source code), the parameters, the seed, and every setting that
changes the summary (metrics, aggregates, warm-up, end, window, measure). Editing the
model file or the factory's code therefore misses the cache; editing a module the
factory imports does not (clear the directory then).

Entries are pickles: load caches only from directories you trust.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import os
import pickle
import sys
from pathlib import Path
from typing import Any

from happysimulator.experiments.summarize import ReplicationSummary, Task

__all__ = ["ResultCache", "task_key"]

_FORMAT = 2  # bump when ReplicationSummary changes shape


def _file_digest(path: str | None) -> str:
    if not path:
        return ""
    try:
        return hashlib.blake2b(Path(path).read_bytes(), digest_size=16).hexdigest()
    except OSError:
        return ""


def _callable_identity(fn: Any) -> str:
    if fn is None:
        return ""
    if isinstance(fn, str):
        target, _, name = fn.rpartition(":")
        if target.endswith(".py") or os.sep in target or "/" in target:
            return f"file:{target}:{name}:{_file_digest(target)}"
        mod = sys.modules.get(target)
        return f"module:{fn}:{_file_digest(getattr(mod, '__file__', None))}"
    try:
        code = inspect.getsource(fn)
    except (OSError, TypeError):
        code = repr(getattr(getattr(fn, "__code__", None), "co_code", fn))
    name = f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}"
    return f"callable:{name}:{hashlib.blake2b(code.encode(), digest_size=16).hexdigest()}"


def task_key(task: Task) -> str:
    """The cache key of one replication (a hex digest)."""
    parts = (_FORMAT, _callable_identity(task.model), sorted(task.params.items(), key=str),
             task.seed, task.metrics, task.aggregates, task.warmup, task.until, task.window,
             _callable_identity(task.measure))
    return hashlib.blake2b(repr(parts).encode(), digest_size=20).hexdigest()


class ResultCache:
    """Finished replications in ``directory``, one file per replication."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        if self.directory.exists() and not self.directory.is_dir():
            raise NotADirectoryError(f"cache={str(directory)!r} is a file, not a directory")
        self.directory.mkdir(parents=True, exist_ok=True)
        self._keys: dict[tuple[int, int], str] = {}

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.pkl"

    def get(self, task: Task) -> ReplicationSummary | None:
        """The cached summary of ``task`` (renumbered to its point and replication)."""
        key = task_key(task)
        self._keys[(task.point, task.replication)] = key
        path = self._path(key)
        if not path.is_file():
            return None
        try:
            with path.open("rb") as f:
                summary = pickle.load(f)
        except Exception:  # a truncated or foreign file: compute it again
            return None
        if not isinstance(summary, ReplicationSummary) or summary.seed != task.seed:
            return None
        summary = copy.copy(summary)
        summary.point, summary.replication = task.point, task.replication
        return summary

    def put(self, summary: ReplicationSummary) -> None:
        """Store one finished replication (atomically: a reader never sees half a file)."""
        key = self._keys.get((summary.point, summary.replication))
        if key is None:
            return
        tmp = self._path(key).with_suffix(f".tmp{os.getpid()}")
        with tmp.open("wb") as f:
            pickle.dump(summary, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, self._path(key))

    def __len__(self) -> int:
        return sum(1 for _ in self.directory.glob("*.pkl"))
