"""Changing a model in place for a what-if: ``{"Entity.attribute": value}``.

    apply_settings(sim, {"Server.concurrency": 2, "Client.max_retries": 0,
                         "Server.service_time": 0.08})

An attribute keeps its type: an int stays an int (a float is refused), a float takes an
int or a float, a bool takes a bool, a string a string; an attribute that is None takes
any JSON scalar. A service-time distribution takes a number (the new mean, same family)
or ``{"distribution": "exponential" | "constant", "mean": seconds}``. The entity's own
setter checks the value (``concurrency`` must be an int >= 1). Nested attributes are
dotted: ``"Client.retry_policy.max_attempts"``. Nothing is coerced; an unknown entity or
attribute is an error naming the valid ones.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["SettingError", "apply_settings", "entities_by_name", "settable"]


class SettingError(ValueError):
    """A setting that cannot be applied; ``valid`` lists the accepted names."""

    def __init__(self, message: str, valid: list[str] | None = None) -> None:
        super().__init__(message)
        self.valid = valid


def entities_by_name(sim: Any) -> dict[str, Any]:
    """Every entity of the model (the ones reachable from its sources and entities)."""
    from happysimulator.observability.integration import _reachable

    out: dict[str, Any] = {}
    for e in _reachable(list(sim.sources) + list(sim.entities)):
        out.setdefault(getattr(e, "name", type(e).__name__), e)
    return out


def _is_distribution(x: Any) -> bool:
    return hasattr(x, "sample") and hasattr(type(x), "mean")


def _scalar(x: Any) -> bool:
    return x is None or isinstance(x, bool | int | float | str)


def settable(obj: Any) -> list[str]:
    """The public attributes of `obj` a setting may change (scalars and distributions)."""
    names = set()
    for key, value in vars(obj).items():
        if not key.startswith("_") and (_scalar(value) or _is_distribution(value)):
            names.add(key)
    for klass in type(obj).__mro__:
        for key, member in vars(klass).items():
            if isinstance(member, property) and member.fset is not None and \
                    not key.startswith("_"):
                try:
                    value = getattr(obj, key)
                except Exception:  # a property that cannot be read now
                    continue
                if _scalar(value) or _is_distribution(value):
                    names.add(key)
    return sorted(names)


def _distribution(current: Any, value: Any, where: str) -> Any:
    from happysimulator.distributions.latency_distribution import (
        ConstantLatency,
        ExponentialLatency,
    )

    families = {"exponential": ExponentialLatency, "constant": ConstantLatency}
    if isinstance(value, dict):
        unknown = set(value) - {"distribution", "mean"}
        if unknown or "mean" not in value:
            raise SettingError(f"{where}: a distribution is {{distribution, mean}}, got "
                               f"{value!r}", ["distribution", "mean"])
        family = value.get("distribution", "exponential")
        if family not in families:
            raise SettingError(f"{where}: unknown distribution {family!r}", list(families))
        cls, mean = families[family], value["mean"]
    else:
        cls, mean = type(current), value
    if isinstance(mean, bool) or not isinstance(mean, int | float) or not (
            math.isfinite(mean) and mean > 0):
        raise SettingError(f"{where}: a mean service time is a number of seconds > 0, got "
                           f"{mean!r}")
    if cls not in families.values():
        raise SettingError(f"{where}: {type(current).__name__} cannot be rebuilt from a mean; "
                           "give {distribution, mean}", list(families))
    return cls(float(mean))


def _checked(current: Any, value: Any, where: str) -> Any:
    if _is_distribution(current):
        return _distribution(current, value, where)
    if not _scalar(value):
        raise SettingError(f"{where}: a value is a JSON number, string, boolean or null, "
                           f"got {type(value).__name__}")
    if current is None or value is None and current is None:
        return value
    if isinstance(current, bool):
        ok = isinstance(value, bool)
    elif isinstance(current, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(current, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(current, str):
        ok = isinstance(value, str)
    else:
        raise SettingError(f"{where} holds a {type(current).__name__}, which a setting "
                           "cannot replace")
    if not ok:
        raise SettingError(f"{where} is a {type(current).__name__} ({current!r}); got "
                           f"{type(value).__name__} {value!r} (values are not converted)")
    return value


def apply_settings(sim: Any, settings: dict[str, Any]) -> list[str]:
    """Apply every ``"Entity.attribute": value`` of `settings` to `sim`'s entities (all
    checked first, then all applied). Returns a line per change, ``old -> new``."""
    entities = entities_by_name(sim)
    plan = []
    for key, value in settings.items():
        if not isinstance(key, str) or "." not in key:
            raise SettingError(f"a setting is named 'Entity.attribute', got {key!r}",
                               [f"{n}.<attribute>" for n in entities])
        name, path = key.split(".", 1)
        obj = entities.get(name)
        if obj is None:
            raise SettingError(f"no entity named {name!r}", sorted(entities))
        parts = path.split(".")
        for part in parts[:-1]:
            if part.startswith("_") or not hasattr(obj, part):
                raise SettingError(f"{key}: {type(obj).__name__} has no attribute {part!r}",
                                   settable(obj))
            obj = getattr(obj, part)
        attr = parts[-1]
        if attr.startswith("_") or not hasattr(obj, attr) or attr not in settable(obj):
            raise SettingError(f"{key}: {type(obj).__name__} has no settable attribute "
                               f"{attr!r}", settable(obj))
        current = getattr(obj, attr)
        plan.append((key, obj, attr, current, _checked(current, value, key)))
    done = []
    for key, obj, attr, current, value in plan:
        try:
            setattr(obj, attr, value)
        except (ValueError, TypeError) as exc:
            raise SettingError(f"{key}: {exc}") from None
        done.append(f"{key}: {_show(current)} -> {_show(value)}")
    return done


def _show(x: Any) -> str:
    if _is_distribution(x):
        try:
            return f"{type(x).__name__}(mean={x.mean:g})"
        except Exception:
            return type(x).__name__
    return repr(x)
