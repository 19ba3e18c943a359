"""Every use of pydantic beyond its documented API, in one place.

The rest of the package uses pydantic's public API only (``BaseModel``, ``RootModel``,
``TypeAdapter``, ``pydantic_core.core_schema``, the documented ``model_*`` methods and
``__pydantic_init_subclass__``). What is here relies on how pydantic 2 builds models: each
use says what it relies on and why, and the suite runs on the lowest pydantic
``pyproject.toml`` accepts and on the newest, so a change shows up as a failing test.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, TypeAdapter

__all__ = [
    "ShortDirMeta",
    "equal_data",
    "field_values",
    "private_state",
    "python_validator",
    "set_extra",
]


# The dict where a model keeps its field values: ``field_values(model)``.
# Relies on: pydantic 2 keeps every field value in the instance ``__dict__`` (its
# ``__getattr__`` is only called for names not found there). Lazy fields (``_lazy.py``)
# read and replace their pending JSON there, which a descriptor cannot do otherwise
# without recursing into itself. An ``attrgetter`` rather than a function: a lazy field's
# every read goes through it, and a C call costs a third of a Python one.
field_values: Callable[[BaseModel], dict[str, Any]] = operator.attrgetter("__dict__")


def private_state(model: BaseModel) -> dict[str, Any]:
    """The dict of private values of ``model`` (its response, raw JSON, pager), made if none.

    Relies on: ``__pydantic_private__`` being a plain dict or None, writable with
    ``object.__setattr__``. Declaring private attributes the public way makes pydantic run
    a Python ``model_post_init`` for every instance, which more than doubles the time to
    read a page, so the response and pager are kept there without declaring them.
    """
    private = model.__pydantic_private__
    if private is None:
        private = {}
        object.__setattr__(model, "__pydantic_private__", private)
    return private


def set_extra(model: BaseModel, extras: dict[str, Any]) -> None:
    """Add unknown keys to ``model`` as pydantic would have kept them (``extra="allow"``).

    Relies on: ``__pydantic_extra__`` being a plain dict or None, writable with
    ``object.__setattr__``; ``model_construct`` (used for lenient reads) has no way to pass
    extras apart from fields.
    """
    extra = model.__pydantic_extra__
    if extra is None:
        extra = {}
        object.__setattr__(model, "__pydantic_extra__", extra)
    extra.update(extras)


_MISSING = object()


def equal_data(model: BaseModel, other: BaseModel, bookkeeping: str) -> bool:
    """pydantic's ``BaseModel.__eq__``, leaving out the private values whose key starts with
    ``bookkeeping`` (a result's response, raw JSON and pager: where it came from, not what
    it holds), so two answers of equal JSON are equal, and equal to the model validated
    from that JSON.

    Relies on: ``__pydantic_generic_metadata__["origin"]`` (generic models compare by
    origin), ``__pydantic_private__`` and ``__pydantic_extra__`` being dicts or None, and
    field values living in ``__dict__``: what pydantic's own ``__eq__`` compares.
    """
    own_type = model.__pydantic_generic_metadata__["origin"] or type(model)
    other_type = other.__pydantic_generic_metadata__["origin"] or type(other)
    if own_type is not other_type:
        return False
    if _kept(model.__pydantic_private__, bookkeeping) != _kept(
            other.__pydantic_private__, bookkeeping):
        return False
    if (model.__pydantic_extra__ or {}) != (other.__pydantic_extra__ or {}):
        return False
    values, others = model.__dict__, other.__dict__
    return all(values.get(name, _MISSING) == others.get(name, _MISSING)
               for name in type(model).model_fields)


def _kept(private: dict[str, Any] | None, bookkeeping: str) -> dict[str, Any]:
    return {key: value for key, value in (private or {}).items()
            if not key.startswith(bookkeeping)}


def python_validator(tp: Any) -> Callable[[Any], Any]:
    """pydantic-core's ``validate_python`` for ``tp``: no per-call Python layer.

    Relies on: ``TypeAdapter.validator`` (a ``SchemaValidator``) being public and stable,
    as it is in every 2.x release; ``TypeAdapter.validate_python`` adds a Python call per
    value, which a lazy field pays on every first read.
    """
    validate: Callable[[Any], Any] = TypeAdapter(tp).validator.validate_python
    return validate


# The metaclass of pydantic models, without importing it from ``pydantic._internal``.
# Relies on: subclassing it (to change nothing but ``__dir__``) being harmless; pydantic
# does not document its metaclass, but every 2.x release accepts a subclass. Type checkers
# see pydantic's own metaclass (``RootModel`` has one of its own for them only).
if TYPE_CHECKING:
    from pydantic._internal._model_construction import ModelMetaclass as ShortDirMeta
else:

    class ShortDirMeta(type(BaseModel)):
        """Pydantic's model metaclass with ``dir(cls)`` answered by ``cls.__losant_dir__()``.

        ``help(DevicePost)`` then shows the field table and the library's methods rather
        than 500 lines of pydantic's; every pydantic method still works, only unlisted.
        """

        def __dir__(cls):
            listing = getattr(cls, "__losant_dir__", None)
            return listing() if listing is not None else super().__dir__()
