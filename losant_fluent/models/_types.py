"""Reading model classes as types: their JSON keys, field types, union members, and the
type the schema gives a value at a path. The one home of these helpers in the package."""

from __future__ import annotations

import types
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Union, get_args, get_origin

if TYPE_CHECKING:  # pydantic is imported with the first model, not with this module
    from pydantic import BaseModel

__all__ = [
    "expanded",
    "field_type",
    "is_model_class",
    "is_root_model",
    "item_type",
    "keys_of",
    "member_type",
    "members",
    "read",
    "tabular_kind",
    "object_type",
    "strip",
    "top_type",
    "type_at",
]

_UNION_TYPES: tuple[Any, ...] = (Union, types.UnionType)
_ANNOTATED: Any = Annotated  # subscripted with a runtime tuple below


def is_model_class(tp: Any) -> bool:
    """Whether ``tp`` is a model class (``list[X]`` passes ``isinstance(.., type)`` on 3.10)."""
    if not isinstance(tp, type) or isinstance(tp, types.GenericAlias):
        return False
    from pydantic import BaseModel

    return issubclass(tp, BaseModel)


def is_root_model(cls: type[BaseModel]) -> bool:
    """Whether ``cls`` is a ``RootModel`` (its value is its ``root`` field)."""
    from pydantic import RootModel  # not __pydantic_root_model__: the oldest pydantic lacks it

    return issubclass(cls, RootModel)


@cache
def keys_of(cls: type[BaseModel]) -> dict[str, str]:
    """JSON key (alias, or name) -> field name, for one model class."""
    keys = {name: name for name in cls.model_fields}
    keys.update({info.alias: name for name, info in cls.model_fields.items() if info.alias})
    return keys


@cache
def field_type(cls: type[BaseModel], name: str) -> Any:
    """The field's type with its constraints, as one ``Annotated`` type."""
    info = cls.model_fields[name]
    if info.metadata:
        args = (info.annotation, *info.metadata)
        return _ANNOTATED[args]
    return info.annotation


def strip(tp: Any) -> Any:
    """``tp`` without its ``Annotated`` layers."""
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def members(tp: Any) -> list[Any]:
    """The alternatives of a (possibly optional / annotated) union type."""
    tp = strip(tp)
    if get_origin(tp) in _UNION_TYPES:
        result: list[Any] = []
        for arg in get_args(tp):
            result.extend(members(arg))
        return result
    return [tp]


def top_type(cls: type[BaseModel]) -> Any:
    """The type of a model's JSON value: its root's type for a root model."""
    return field_type(cls, "root") if is_root_model(cls) else cls


def expanded(tp: Any) -> list[Any]:
    """Union members of ``tp``, with root models replaced by their value's members."""
    out: list[Any] = []
    for member in members(tp):
        if is_model_class(member) and is_root_model(member):
            out += expanded(field_type(member, "root"))
        else:
            out.append(member)
    return out


def object_type(tp: Any, value: Mapping[str, Any]) -> Any:
    """What a JSON object at a position of type ``tp`` is read as: a model class (the one
    sharing most keys with ``value``), a ``dict[K, V]`` type, or None (anything)."""
    if tp is None:
        return None
    found = expanded(tp)
    models = [m for m in found if is_model_class(m)]
    if models:
        keys = set(value)
        return max(models, key=lambda m: len(keys & set(keys_of(m))))
    for member in found:
        if get_origin(member) is dict and len(get_args(member)) == 2:
            return member
    return None


def member_type(container: Any, key: str) -> Any:
    """The type of member ``key`` of an object read as ``container``; None if untyped."""
    if container is None:
        return None
    if is_model_class(container):
        name = keys_of(container).get(key)
        return field_type(container, name) if name is not None else None
    return get_args(container)[1]


def item_type(tp: Any) -> Any:
    """The item type of a list type among ``tp``'s members; None if there is none."""
    if tp is None:
        return None
    for member in expanded(tp):
        if get_origin(member) in (list, tuple, set) and get_args(member):
            return get_args(member)[0]
    return None


def type_at(tp: Any, path: tuple[int | str, ...] | list[str], data: Any = None) -> Any:
    """The type the schema gives the value at ``path`` (keys and list indexes) below a value
    of type ``tp``; None when it does not say. ``data``, when given, picks union members
    by the keys the value has; without it, by the key looked up."""
    current = data
    for part in path:
        if isinstance(part, int):
            tp = item_type(tp)
            current = current[part] if isinstance(current, list) and part < len(current) else None
        else:
            mapping = current if isinstance(current, Mapping) else {part: None}
            tp = member_type(object_type(tp, mapping), part)
            current = mapping.get(part)
        if tp is None:
            return None
    return tp


_ATTRS: dict[type[Any], dict[str, str]] = {}


def read(obj: Any, name: str) -> Any:
    """The JSON member ``name`` of a decoded value: a mapping, or a model (field or extra)."""
    if isinstance(obj, Mapping):
        return obj.get(name)
    cls = type(obj)
    attrs = _ATTRS.get(cls)
    if attrs is None:
        fields = getattr(cls, "model_fields", None) or {}
        attrs = {(info.alias or attr): attr for attr, info in fields.items()}
        attrs.update({attr: attr for attr in fields if attr not in attrs})
        _ATTRS[cls] = attrs
    if name in attrs:
        return getattr(obj, attrs[name], None)
    extra = getattr(obj, "model_extra", None)
    return extra.get(name) if isinstance(extra, dict) else None


# Results with a tabular shape of their own, by the class they are (or derive from).
_TABULAR = (("TimeSeriesData", "time_series"), ("LastValueData", "last_values"),
            ("DeviceStates", "states"), ("DataTableRows", "table_rows"))


def tabular_kind(result: Any) -> str | None:
    """Which table ``to_pandas`` makes of ``result``: ``time_series``, ``last_values``,
    ``states``, ``table_rows``, ``collection`` (items, on this page and after), ``list``,
    or None (no tabular form). Read off the class, so this module imports no model."""
    cls = type(result)
    names = {klass.__name__ for klass in cls.__mro__
             if klass.__module__.startswith("losant_fluent.models")}
    for name, kind in _TABULAR:
        if name in names:
            return kind
    shape = getattr(cls, "__losant_shape__", None)
    if shape is None:
        return None
    walk = getattr(result, "_walk_pager", None)
    if "items" in cls.model_fields or (walk is not None and walk() is not None):
        return "collection"
    return "list" if shape == "list" else None
