"""Best-effort model building for response bodies that do not match their schema.

Used only after normal validation failed. Every nested object and list item is tried on
its own: whatever validates is kept validated; whatever does not is built without
validation (unknown keys kept as extras, odd scalars kept as plain JSON values).
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError

from ._compat import set_extra
from ._types import field_type, is_model_class, is_root_model, keys_of, members

__all__ = ["lenient_build"]


def lenient_build(cls: type[BaseModel], data: Any) -> BaseModel | None:
    """Build ``cls`` from ``data`` as well as possible; None if ``data`` cannot fit at all."""
    if "root" in cls.model_fields and not cls.model_fields["root"].alias:
        if is_root_model(cls):
            root = _lenient_value(field_type(cls, "root"), data)
            return cls.model_construct(root=root)
    if not isinstance(data, dict):
        return None
    return _lenient_object(cls, data)


def _lenient_object(cls: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    """Build one object model field by field, keeping unknown keys as extras."""
    fields = cls.model_fields
    by_key = keys_of(cls)
    values: dict[str, Any] = {}
    extras: dict[str, Any] = {}
    for key, item in data.items():
        name = by_key.get(key)
        if name is None:
            extras[key] = item
            continue
        values[name] = _lenient_field(cls, name, item)
    fields_set = set(values)
    for name, info in fields.items():
        if name not in values and info.is_required():
            values[name] = None  # missing required field: readable as None
    model = cls.model_construct(_fields_set=fields_set, **values)
    if extras:
        set_extra(model, extras)
    return model


@cache
def _adapter(cls: type[BaseModel], name: str) -> TypeAdapter[Any]:
    return TypeAdapter(field_type(cls, name))


def _lenient_field(cls: type[BaseModel], name: str, value: Any) -> Any:
    """Validate one field's value; on failure, build it leniently from its type."""
    if isinstance(value, (list, dict)):
        # Containers are rebuilt piecewise, each item validated on its own: validating
        # the whole container first would only repeat the work that just failed.
        return _lenient_value(field_type(cls, name), value)
    try:
        return _adapter(cls, name).validate_python(value)
    except (ValidationError, TypeError, ValueError):
        return _lenient_value(field_type(cls, name), value)
    except Exception:  # pragma: no cover - defensive: never fail a response
        return value


def _lenient_value(tp: Any, value: Any) -> Any:
    """Best-effort value of type ``tp``: models and containers are rebuilt piecewise."""
    if value is None:
        return None
    found = members(tp)
    if isinstance(value, dict):
        models = [m for m in found if is_model_class(m)]
        for model in models:
            try:
                return model.model_validate(value)
            except (ValidationError, TypeError, ValueError):
                continue
        objects = [m for m in models if not is_root_model(m)]
        if objects:
            best = max(objects, key=lambda m: len(set(value) & set(keys_of(m))))
            return _lenient_object(best, value)
        for member in found:
            if get_origin(member) is dict and len(get_args(member)) == 2:
                item_type = get_args(member)[1]
                return {key: _lenient_value(item_type, item) for key, item in value.items()}
        return value
    if isinstance(value, list):
        for member in found:
            if get_origin(member) in (list, tuple, set) and get_args(member):
                item_type = get_args(member)[0]
                return [_lenient_item(item_type, item) for item in value]
        return value
    return value


def _lenient_item(tp: Any, value: Any) -> Any:
    """One list item: validated on its own, so a bad item does not spoil its siblings."""
    try:
        return _item_adapter(tp).validate_python(value)
    except (ValidationError, TypeError, ValueError):
        return _lenient_value(tp, value)
    except Exception:  # pragma: no cover - defensive
        return value


def _item_adapter(tp: Any) -> TypeAdapter[Any]:
    try:
        return _cached_adapter(tp)
    except TypeError:  # unhashable type expression
        return TypeAdapter(tp)


@lru_cache(maxsize=1024)
def _cached_adapter(tp: Any) -> TypeAdapter[Any]:
    return TypeAdapter(tp)
