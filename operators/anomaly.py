"""Online anomaly and drift detection with any river model.

``detect_anomalies(model, ...)`` works with river anomaly detectors:

* unsupervised ones (``HalfSpaceTrees``, ``OneClassSVM``, ``LODA``...):
  ``score_one(x)`` / ``learn_one(x)`` on a feature dict ``x`` (default
  ``{"value": value}``; ``HalfSpaceTrees`` needs features in [0, 1] or ``limits=``);
* supervised ones (``GaussianScorer``, ``StandardAbsoluteDeviation``,
  ``PredictiveAnomalyDetection``): ``score_one(x, y)`` / ``learn_one(x, y)`` with the
  value as ``y`` and ``x = features(item)`` (default ``{}``);
* filters (``QuantileFilter``, ``ThresholdFilter``) wrapping either kind: their
  ``classify(score)`` decides when no ``threshold`` is given.

Order per item: **score first, then learn** (``score_one`` before ``learn_one``), so a
point never hides itself by being learned before it is judged.

``detect_drift(detector)`` works with river drift detectors (``PageHinkley``, ``ADWIN``,
``KSWIN``...): ``update(value)`` then ``drift_detected``.

>>> from river import anomaly
>>> import reactivex
>>> xs = [(float(i), 10.0 + (i % 3) * 0.1) for i in range(200)] + [(200.0, 50.0)]
>>> out = []
>>> _ = reactivex.from_iterable(xs).pipe(
...     detect_anomalies(anomaly.GaussianScorer(grace_period=20), threshold=0.999,
...                      only_anomalies=True)).subscribe(out.append)
>>> [(r.time, r.value) for r in out]
[(200.0, 50.0)]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import msgspec
from reactivex import Observable

from operators._common import Emit, TimeOf, ValueOf, accessors, per_subscription

__all__ = ["AnomalyResult", "DriftEvent", "detect_anomalies", "detect_drift", "is_supervised"]


class AnomalyResult(msgspec.Struct, frozen=True):
    """``score`` is the model's anomaly score for the item (computed before learning
    it); ``is_anomaly`` is False during warm-up."""

    time: float
    value: Any
    score: float
    is_anomaly: bool


class DriftEvent(msgspec.Struct, frozen=True):
    """A drift detected at ``time`` on ``value``; ``index`` is the 0-based position of
    the item in the stream (counting only the values given to the detector)."""

    time: float
    value: Any
    index: int


def is_supervised(model: Any) -> bool:
    """True when ``model`` (or the detector a filter wraps) takes ``(x, y)``."""
    try:
        from river import base
    except ImportError:  # pragma: no cover - river is a dependency
        return False
    inner = model
    for _ in range(8):
        if isinstance(inner, base.SupervisedAnomalyDetector):
            return True
        nxt = getattr(inner, "anomaly_detector", None)
        if nxt is None:
            return False
        inner = nxt
    return False


def _nan(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def detect_anomalies(
    model: Any,
    *,
    threshold: float | None = None,
    warmup: int = 0,
    features: Callable[[Any], dict[str, Any]] | None = None,
    supervised: bool | None = None,
    learn_anomalies: bool = True,
    only_anomalies: bool = False,
    clone: bool = False,
    time_of: TimeOf | None = None,
    value_of: ValueOf | None = None,
) -> Callable[[Observable[Any]], Observable[AnomalyResult]]:
    """Score each item with a river anomaly detector, then learn it.

    ``is_anomaly`` is ``score > threshold`` when ``threshold`` is given, else the
    model's ``classify(score)`` (river ``QuantileFilter``/``ThresholdFilter``); one of
    the two is required. The first ``warmup`` items are learned but never flagged.
    ``learn_anomalies=False`` skips learning items flagged as anomalies (protects the
    model from the anomalies it finds). ``only_anomalies=True`` emits only flagged
    items (default: one :class:`AnomalyResult` per item). ``supervised`` is detected
    from the model's class when None. The model is shared by all subscriptions (so you
    can inspect it) unless ``clone=True`` gives each subscription a fresh
    ``model.clone()``. ``None``/NaN values are skipped.
    """
    for attr in ("score_one", "learn_one"):
        if not callable(getattr(model, attr, None)):
            raise TypeError(f"model must be a river anomaly detector with {attr}()")
    if threshold is not None:
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
            raise ValueError(f"threshold must be a number, got {threshold!r}")
        if math.isnan(threshold):
            raise ValueError("threshold must not be NaN")
    elif not callable(getattr(model, "classify", None)):
        raise ValueError(
            "give threshold= or a model with classify(score) "
            "(e.g. river.anomaly.QuantileFilter(detector, q=0.99))"
        )
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be an integer >= 0, got {warmup!r}")
    sup = is_supervised(model) if supervised is None else bool(supervised)
    t_of, v_of = accessors(time_of, value_of)

    def make() -> Callable[[Any, Emit], None]:
        m = model.clone() if clone else model
        score_one, learn_one = m.score_one, m.learn_one
        classify = None if threshold is not None else m.classify
        seen = 0

        def step(item: Any, emit: Emit) -> None:
            nonlocal seen
            v = v_of(item)
            if _nan(v):
                return
            if sup:
                x = features(item) if features is not None else {}
                score = score_one(x, v)
            else:
                x = features(item) if features is not None else {"value": v}
                score = score_one(x)
            score = float(score)
            if seen < warmup:
                flag = False
            elif threshold is not None:
                flag = score > threshold
            else:
                flag = bool(classify(score))  # type: ignore[misc]
            seen += 1
            if learn_anomalies or not flag:
                if sup:
                    learn_one(x, v)
                else:
                    learn_one(x)
            if flag or not only_anomalies:
                emit(AnomalyResult(t_of(item), v, score, flag))

        return step

    return per_subscription(make)


def detect_drift(
    detector: Any,
    *,
    clone: bool = False,
    time_of: TimeOf | None = None,
    value_of: ValueOf | None = None,
) -> Callable[[Observable[Any]], Observable[DriftEvent]]:
    """Feed each value to a river drift detector (``update(value)``) and emit a
    :class:`DriftEvent` whenever ``detector.drift_detected`` becomes true.

    River detectors reset themselves after a drift, so later shifts are reported too.
    ``clone=True`` gives each subscription a fresh ``detector.clone()``. ``None``/NaN
    values are skipped.

    >>> from river import drift
    >>> import reactivex
    >>> xs = [(float(i), 0.0 if i < 100 else 5.0) for i in range(200)]
    >>> out = []
    >>> _ = reactivex.from_iterable(xs).pipe(detect_drift(drift.PageHinkley(threshold=10))
    ...     ).subscribe(out.append)
    >>> len(out) >= 1 and 100 <= out[0].time < 110
    True
    """
    if not callable(getattr(detector, "update", None)) or not hasattr(
        type(detector), "drift_detected"
    ) and not hasattr(detector, "drift_detected"):
        raise TypeError("detector must be a river drift detector with update() and drift_detected")
    t_of, v_of = accessors(time_of, value_of)

    def make() -> Callable[[Any, Emit], None]:
        d = detector.clone() if clone else detector
        index = 0

        def step(item: Any, emit: Emit) -> None:
            nonlocal index
            v = v_of(item)
            if _nan(v):
                return
            d.update(v)
            if d.drift_detected:
                emit(DriftEvent(t_of(item), v, index))
            index += 1

        return step

    return per_subscription(make)
