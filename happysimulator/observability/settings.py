"""Changing a model in place for a what-if: ``{"Entity.attribute": value}``.

    apply_settings(sim, {"Server.concurrency": 2, "Server.service_time.mean": 0.08,
                         "Users.rate": 16.0, "Client.retry_policy.max_attempts": 1})

What can be set is what the entity was configured with: the public attributes its
constructor's parameters name, and its public properties with a setter — not the counts
it keeps, nor its ``name``. An attribute keeps its type: an int stays an int (a float is
refused), a float takes an int or a float, a bool takes a bool, a string a string; an
attribute that is None takes what its constructor parameter's annotation admits
(``limit: int | None`` an int). A service-time distribution takes a number (the new mean, same family)
or ``{"distribution": "exponential" | "constant", "mean": seconds}``;
``"Server.service_time.mean": 0.2`` says the same (a distribution is replaced, never
changed in place). The entity's own setter checks the value (``concurrency`` must be an
int >= 1, a source's ``rate`` a number >= 1e-9). Nested attributes are dotted:
``"Client.retry_policy.max_attempts": 1`` turns retries off. A plain attribute is also
held to what the entity's constructor accepts (``Server.queue_capacity`` -1 is refused
as ``Server("S", queue_capacity=-1)`` is), a part to what its own constructor accepts.
A part a class closes (``_closed_setting_parts``: a `Source`'s event provider) is
refused naming where to set it instead. Nothing is coerced; an unknown entity or
attribute is an error naming the valid ones.
"""

from __future__ import annotations

import inspect
import math
import re
from typing import Any

__all__ = ["SettingError", "apply_settings", "choices", "entities_by_name", "settable"]


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


def _parameters(cls: type) -> dict[str, str]:
    """The keyword parameters the constructors of `cls` (and its bases) take, each with
    its annotation as text ("" when none)."""
    out: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        init = vars(klass).get("__init__")
        if init is None:
            continue
        try:
            sig = inspect.signature(init)
        except (TypeError, ValueError):
            continue
        for p in sig.parameters.values():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name == "self":
                continue
            a = p.annotation
            out[p.name] = "" if a is p.empty else a if isinstance(a, str) else \
                getattr(a, "__name__", str(a))
    return out


def _none_accepts(annotation: str) -> set[type]:
    """The JSON scalar types an attribute annotated `annotation` (now None) may take: the
    members of its top-level union (``int | None``), not names inside brackets (a
    ``Callable[[Instant, int], dict] | None`` takes no int)."""
    wrapped = re.fullmatch(r"\s*(?:typing\.)?(Optional|Union)\[(.*)\]\s*", annotation)
    if wrapped is not None:  # Optional[X] / Union[X, Y]: the members inside
        return _none_accepts(wrapped.group(2).replace(",", "|") if wrapped.group(1) ==
                             "Union" else wrapped.group(2))
    depth, top = 0, []
    for ch in annotation:
        depth += ch in "[("
        depth -= ch in "])"
        top.append(ch if depth == 0 and ch not in "])" else " ")
    words = set(re.findall(r"[A-Za-z_.]+", "".join(top)))
    return {t for t in (bool, int, float, str) if t.__name__ in words}


def settable(obj: Any) -> list[str]:
    """What a setting may change on `obj`: what it was configured with — the public
    attributes named by its constructor's parameters, and its public properties with a
    setter — when their value is a number, string, boolean or service-time distribution
    (or None, when the parameter's annotation admits one of them). Not its state (the
    counts it keeps) and not its ``name`` (series are keyed by it)."""
    params = _parameters(type(obj))
    names = set()
    for key in params:  # (never `vars(obj)`: reading an instance's __dict__ slows it)
        if _class_member(obj, key) is not None:
            continue  # a property (below) or a class attribute, not what it was given
        try:
            value = getattr(obj, key)
        except AttributeError:
            continue
        if _configurable(key, value, params[key]):
            names.add(key)
    for klass in type(obj).__mro__:
        for key, member in vars(klass).items():
            if isinstance(member, property) and member.fset is not None:
                try:
                    value = getattr(obj, key)
                except Exception:  # a property that cannot be read now
                    continue
                if _configurable(key, value, params.get(key, "")):
                    names.add(key)
    names.update(_named_choices(obj))
    return sorted(names)


def _named_choices(obj: Any) -> dict[str, tuple[str, list[str]]]:
    """Attributes `obj` lets a setting give by name (``_setting_choices()``): each with
    ``"one"`` (a name: a balancer's strategy) or ``"some"`` (a list of distinct names:
    its backends) and the names it accepts."""
    declared = getattr(obj, "_setting_choices", None)
    return declared() if callable(declared) else {}


def _checked_names(current: Any, value: Any, where: str, how: str, names: list[str]) -> Any:
    """A setting of an attribute given by name: a name (``one``) or a non-empty list of
    distinct names (``some``) among `names`, else refused listing them."""
    if how == "one":
        if not isinstance(value, str) or value not in names:
            raise SettingError(f"{where} takes one of {names}, got {value!r}", names)
        return value
    if (not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value)
            or len(set(value)) < len(value) or set(value) - set(names)):
        raise SettingError(f"{where} takes a non-empty list of distinct names among "
                           f"{names}, got {value!r}", names)
    return list(value)


def _entity_type() -> type:
    from happysimulator.core.entity import Entity

    return Entity


def _closed_parts(obj: Any) -> dict[str, str]:
    """Parts of `obj` a setting may not go through, each with where to set it instead: a
    class names them in ``_closed_setting_parts`` (a `Source` reads its event provider's
    type and stop time only when built: they are its own ``event_type`` / ``stop_after``)."""
    return getattr(type(obj), "_closed_setting_parts", None) or {}


def _part(obj: Any, key: str) -> bool:
    """Whether a setting may go through `obj.key`: something `obj` was configured with
    (a constructor parameter or a property), not a part of its running state."""
    if key in _closed_parts(obj):
        return False
    if key in _parameters(type(obj)):
        return True
    return any(isinstance(vars(k).get(key), property) for k in type(obj).__mro__)


def choices(obj: Any) -> list[str]:
    """What a setting may name on `obj`: its `settable` attributes, and those of the
    objects it was configured with (``retry_policy.max_attempts``), never other
    entities."""
    entity = _entity_type()
    out = settable(obj)
    for key in _parameters(type(obj)):
        if key.startswith("_") or key == "name" or key in _closed_parts(obj):
            continue
        try:
            value = getattr(obj, key, None)
        except Exception:
            continue
        if value is None or _scalar(value) or _is_distribution(value) or \
                isinstance(value, entity | list | tuple | dict):
            continue
        out += [f"{key}.{inner}" for inner in settable(value)]
    return out


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _configurable(key: str, value: Any, annotation: str) -> bool:
    if key.startswith("_") or key == "name":
        return False
    if value is None:
        return bool(_none_accepts(annotation))
    return _scalar(value) or _is_distribution(value)


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


def _checked(current: Any, value: Any, where: str, annotation: str = "") -> Any:
    if _is_distribution(current):
        return _distribution(current, value, where)
    if not _scalar(value):
        raise SettingError(f"{where}: a value is a JSON number, string, boolean or null, "
                           f"got {type(value).__name__}")
    if current is None:  # its type is what its constructor parameter admits
        accepts = _none_accepts(annotation)
        if value is None:
            return value
        if type(value) is int and int not in accepts and float in accepts:
            return float(value)
        if type(value) not in accepts:
            names = " or ".join(t.__name__ for t in sorted(accepts, key=str)) or "?"
            raise SettingError(f"{where} is None now and takes {names} or null; got "
                               f"{type(value).__name__} {value!r} (values are not converted)")
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
        raise SettingError(f"{where} is {_a(type(current).__name__)} ({current!r}); got "
                           f"{type(value).__name__} {value!r} (values are not converted)")
    return value


def _resolve(entities: dict[str, Any], key: Any, value: Any) -> tuple[Any, Any, str, Any, Any]:
    """(entity, object, attribute, current value, checked new value) of one setting."""
    if not isinstance(key, str) or "." not in key:
        raise SettingError(f"a setting is named 'Entity.attribute', got {key!r}",
                           [f"{n}.<attribute>" for n in entities])
    name, path = key.split(".", 1)
    entity = obj = entities.get(name)
    if obj is None:
        raise SettingError(f"no entity named {name!r}", sorted(entities))
    parts = path.split(".")
    for i, part in enumerate(parts[:-1]):
        closed = _closed_parts(obj).get(part)
        if closed is not None:
            raise SettingError(f"{key}: {type(obj).__name__}.{part} is not settable; "
                               f"{closed}", [f"{name}.{c}" for c in choices(obj)])
        if part.startswith("_") or not hasattr(obj, part) or not _part(obj, part):
            raise SettingError(f"{key}: {type(obj).__name__} has no part {part!r} a "
                               "setting can reach", choices(obj))
        holder, obj = obj, getattr(obj, part)
        if isinstance(obj, _entity_type()):
            raise SettingError(f"{key}: {'.'.join([name, *parts[:i + 1]])} is another "
                               f"entity: name it, '{getattr(obj, 'name', '?')}."
                               f"{'.'.join(parts[i + 1:])}'", sorted(entities))
        if _is_distribution(obj):
            # a distribution is replaced, never changed in place (it may be shared, and
            # its holder caches what it draws): "X.service_time.mean" is its new mean
            rest = parts[i + 1:]
            if rest != ["mean"]:
                raise SettingError(f"{key}: a distribution takes only its mean "
                                   f"('{name}.{'.'.join(parts[:i + 1])}.mean')", ["mean"])
            if isinstance(value, dict):
                raise SettingError(f"{key}: a mean is a number of seconds; to change the "
                                   f"family set '{name}.{'.'.join(parts[:i + 1])}' to "
                                   "{distribution, mean}", ["mean"])
            if part not in settable(holder):
                raise SettingError(f"{key}: {type(holder).__name__}.{part} cannot be "
                                   "replaced", settable(holder))
            return entity, holder, part, obj, _distribution(obj, value, key)
    attr = parts[-1]
    if attr.startswith("_") or not hasattr(obj, attr):
        raise SettingError(f"{key}: {type(obj).__name__} has no settable attribute "
                           f"{attr!r}", choices(obj))
    current = getattr(obj, attr)
    named = _named_choices(obj).get(attr)
    if named is not None:  # (given by name: the holder turns the name into the object)
        return entity, obj, attr, current, _checked_names(current, value, key, *named)
    if attr not in settable(obj):
        from happysimulator.load.profile import Profile

        if isinstance(current, Profile):
            raise SettingError(f"{key} follows a {type(current).__name__} (a rate that "
                               "varies over time); a setting changes only a constant rate. "
                               "Fork with params if the model factory takes the load")
        inner = [] if _scalar(current) else settable(current)
        if inner:  # an object (a retry policy): its own attributes are the settings
            raise SettingError(f"{key} is {_a(type(current).__name__)}, which a setting does "
                               "not replace: set one of its attributes",
                               [f"{key}.{a}" for a in inner])
        if not (_scalar(current) or _is_distribution(current)) and _writable(obj, attr):
            raise SettingError(f"{key} holds a {type(current).__name__}, which a setting "
                               "cannot replace (a setting takes a number, string, boolean, "
                               "null or a service-time distribution)")
        raise SettingError(f"{key}: {type(obj).__name__} has no settable attribute "
                           f"{attr!r}", choices(obj))
    annotation = _parameters(type(obj)).get(attr, "")
    return entity, obj, attr, current, _checked(current, value, key, annotation)


class _StandIn:
    """What a trial entity gets for a required argument that is not a plain value (a
    target entity): a throwaway a constructor may bind or mark, never the model's."""


def _entity_problem(obj: Any, old: dict[str, Any]) -> str | None:
    """What an entity's constructor says of the plain values (numbers, strings, booleans,
    None) it holds now, where it accepted the ones it held before (`old`: the attributes
    changed, with their earlier values), or None: a plain attribute has no setter to
    check it (``queue_capacity`` -1 would be taken). The trial entity shares nothing
    with the model (a constructor may bind what it is given: a queue, a target): other
    arguments keep their defaults, or get a throwaway stand-in when required; a
    constructor that cannot be built so, or refused the earlier values too, is not
    asked."""
    try:
        sig = inspect.signature(type(obj))
    except (TypeError, ValueError):
        return None
    args: dict[str, Any] = {}
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY):
            continue
        try:
            value = getattr(obj, p.name)
        except Exception:
            value = _StandIn
        if _scalar(value):
            args[p.name] = value
        elif p.default is p.empty:
            args[p.name] = _StandIn()
    if not set(args) & set(old):
        return None
    try:
        type(obj)(**{**args, **{k: v for k, v in old.items() if k in args}})
    except Exception:
        return None
    try:
        type(obj)(**args)
    except (ValueError, TypeError) as exc:
        return str(exc)
    return None


def _rebuild_problem(obj: Any) -> str | None:
    """What the constructor of a part an entity was configured with (a retry policy)
    says of the values it holds now, or None when it accepts them: its plain attributes
    have no setter to check them (``initial_delay`` -5 would be taken). Entities are
    not rebuilt (`_entity_problem`)."""
    if isinstance(obj, _entity_type()):
        return None
    params = _parameters(type(obj))
    try:
        kwargs = {k: getattr(obj, k) for k in params}
    except AttributeError:
        return None  # (a constructor parameter it does not keep: nothing to compare)
    try:
        type(obj)(**kwargs)
    except (ValueError, TypeError) as exc:
        return str(exc)
    return None


def _class_member(obj: Any, attr: str) -> Any:
    """What `obj`'s class defines under `attr` (None: nothing, an instance attribute)."""
    return next((vars(k)[attr] for k in type(obj).__mro__ if attr in vars(k)), None)


def _writable(obj: Any, attr: str) -> bool:
    member = _class_member(obj, attr)
    if member is None:
        return hasattr(obj, attr)  # an instance attribute
    return isinstance(member, property) and member.fset is not None


def apply_settings(sim: Any, settings: dict[str, Any]) -> list[str]:
    """Apply every ``"Entity.attribute": value`` of `settings` to `sim`'s entities (all
    checked first, then all applied). Returns a line per change, ``old -> new``.

    An entity that caches what it was configured with (e.g. a `Source` its arrival
    rate) defines ``_settings_changed()``: it is called after its settings are applied.
    An object whose state accrues under what is set (a token bucket's tokens under its
    refill rate) defines ``_before_setting(now)``: it is called, with the simulation's
    current `Instant`, before the first setting on it, so what accrued until now
    accrued under the old values.
    """
    entities = entities_by_name(sim)
    plan = [(key, *_resolve(entities, key, value)) for key, value in settings.items()]
    done = []
    touched: dict[int, Any] = {}
    applied: list[tuple[Any, str, Any]] = []
    now = getattr(sim, "now", None)
    settled: set[int] = set()
    for key, entity, obj, attr, current, value in plan:
        settle = getattr(obj, "_before_setting", None)
        if callable(settle) and id(obj) not in settled and now is not None:
            settled.add(id(obj))
            settle(now)
        try:
            setattr(obj, attr, value)
        except (ValueError, TypeError) as exc:
            # all or nothing: the settings applied before this one are undone, so a
            # refused setting leaves the model as it was
            for undo_obj, undo_attr, old in reversed(applied):
                setattr(undo_obj, undo_attr, old)
            raise SettingError(f"{key}: {exc}") from None
        applied.append((obj, attr, current))
        touched[id(entity)] = entity
        done.append(f"{key}: {_show(current)} -> {_show(value)}")
    parts = {id(o): (o, key.rsplit(".", 1)[0]) for key, _, o, _, _, _ in plan}
    for obj, where in parts.values():
        if isinstance(obj, _entity_type()):
            old = {a: v for o, a, v in applied if o is obj}
            problem = _entity_problem(obj, old)
        else:
            problem = _rebuild_problem(obj)
        if problem is not None:  # (a part's plain attribute: checked by its constructor)
            for undo_obj, undo_attr, old in reversed(applied):
                setattr(undo_obj, undo_attr, old)
            raise SettingError(f"{where}: {problem}")
    for entity in touched.values():
        refresh = getattr(entity, "_settings_changed", None)
        if callable(refresh):
            try:
                refresh()
            except (ValueError, TypeError) as exc:
                raise SettingError(f"{getattr(entity, 'name', entity)}: {exc}") from None
    return done


def _show(x: Any) -> str:
    if isinstance(x, list | tuple) and not all(_scalar(v) for v in x):
        return repr([getattr(v, "name", v) for v in x])  # (entities by name)
    if not (_scalar(x) or isinstance(x, list | tuple | dict)) and not _is_distribution(x) \
            and type(x).__repr__ is object.__repr__:
        return type(x).__name__  # (an object: a strategy)
    if _is_distribution(x):
        try:
            return f"{type(x).__name__}(mean={x.mean:g})"
        except Exception:
            return type(x).__name__
    return repr(x)
