"""A directory of finished replications: ``replicate(..., cache=directory)`` loads the
ones already computed for the same model, parameters, seed and settings, runs the rest,
and adds each one as it completes (so an interrupted sweep resumes where it stopped).

The key of a replication hashes: the model (a file spec: its absolute path and the file's
bytes; a module spec: its name and its source file's bytes; a callable: its module,
qualified name and source code, and the values it runs with: its closure's captured
values and its defaults, a ``functools.partial``'s arguments -- a captured value the key
cannot capture, such as an arbitrary object, is a ``ValueError`` naming ``params=``), the parameters, the seed, and every setting that
changes the summary (metrics, aggregates, warm-up, end, window, measure). Editing the
model file or the factory's code therefore misses the cache; editing a module the
factory imports does not (clear the directory then).

Entries are pickles: load caches only from directories you trust.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import inspect
import os
import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np

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
    return _function_identity(fn, set())


def _function_identity(fn: Any, seen: set[int]) -> str:
    if isinstance(fn, functools.partial):
        return (f"partial:{_function_identity(fn.func, seen)}:"
                f"{_value_key(fn.args, 'partial args', seen)}:"
                f"{_value_key(fn.keywords, 'partial keywords', seen)}")
    try:
        code = inspect.getsource(fn)
    except (OSError, TypeError):
        code = repr(getattr(getattr(fn, "__code__", None), "co_code", fn))
    name = f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}"
    out = f"callable:{name}:{hashlib.blake2b(code.encode(), digest_size=16).hexdigest()}"
    if id(fn) in seen:  # (a recursive closure refers to itself)
        return out
    seen.add(id(fn))
    # the values the code runs with: two factories made by one function with different
    # arguments share their source, not their closure cells or defaults
    bound = []
    for i, cell in enumerate(getattr(fn, "__closure__", None) or ()):
        try:
            contents = cell.cell_contents
        except ValueError:  # an empty cell
            bound.append("<empty>")
            continue
        var = fn.__code__.co_freevars[i] if hasattr(fn, "__code__") else str(i)
        bound.append(f"{var}={_value_key(contents, f'{name} captures {var!r}', seen)}")
    for what, defaults in (("defaults", getattr(fn, "__defaults__", None)),
                           ("keyword defaults", getattr(fn, "__kwdefaults__", None))):
        if defaults:
            bound.append(_value_key(defaults, f"{name}'s {what}", seen))
    return f"{out}:{'|'.join(bound)}" if bound else out


_PLAIN = (int, float, complex, str, bytes, bool, type(None), range)


def _value_key(v: Any, what: str, seen: set[int]) -> str:
    """A key of a value a model's code runs with, equal exactly when the values are;
    a value with no such key (an arbitrary object) is refused rather than keyed by its
    address or a repr that may hide its state."""
    if isinstance(v, _PLAIN):
        return f"{type(v).__name__}:{v!r}"
    if isinstance(v, tuple | list):
        return f"{type(v).__name__}[{','.join(_value_key(x, what, seen) for x in v)}]"
    if isinstance(v, set | frozenset):
        return f"{type(v).__name__}{{{','.join(sorted(_value_key(x, what, seen) for x in v))}}}"
    if isinstance(v, dict):
        items = sorted(f"{_value_key(k, what, seen)}:{_value_key(x, what, seen)}"
                       for k, x in v.items())
        return f"dict{{{','.join(items)}}}"
    if isinstance(v, np.ndarray):
        digest = hashlib.blake2b(np.ascontiguousarray(v).tobytes(), digest_size=16).hexdigest()
        return f"ndarray:{v.dtype.str}:{v.shape}:{digest}"
    if isinstance(v, np.generic):
        return f"{type(v).__name__}:{v!r}"
    if isinstance(v, type) or inspect.ismodule(v):
        return f"{getattr(v, '__module__', '')}.{getattr(v, '__qualname__', v.__name__)}"
    if inspect.isfunction(v) or isinstance(v, functools.partial):
        return _function_identity(v, seen)
    raise ValueError(
        f"cache= cannot key this model: {what}, a {type(v).__name__} whose state a cache "
        "key cannot capture (another model would be answered with this one's "
        "replications); pass such values as params= of the factory (numbers, strings, "
        "tuples), or run without cache=")


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
