"""Nested objects of a response, built into models on first use.

A page of 1,000 devices holds some 5,000 nested objects (connection info, tags,
attributes). Building every one of them as a model while the page is read took more time
than reading the page itself, and most scripts never look at most of them. So a field
that holds models (``connection_info``, ``tags``...) is marked :data:`LAZY` by the model
generator, and:

* when a response is validated from its JSON bytes (``model_validate_json``, the path every
  response takes), the field keeps the plain JSON it was sent, in a form no built value
  takes, so ``{}`` or ``[]`` waiting to be built is never mistaken for a built value: a
  list field keeps its JSON array as a ``tuple`` (a built list is a ``list``), a model
  field its JSON object as a ``dict`` (a built one is a model), both made in pydantic-core
  with no Python call; any other field, or JSON of an unexpected kind, a :class:`Pending`.
  A built value that would look unbuilt (a leniently kept dict, a tuple you assign) is
  kept in a built :class:`Pending` instead;
* the first time the field is read, :class:`LazyField` builds its models (validated as
  usual; a value that does not match its schema is built leniently, as a whole response
  would be) under a lock, once: every thread, and every copy made before the read, gets
  the same object, as they would from an eager model;
* ``model_dump``, ``==``, ``repr``, ``dict(model)``, copies and pickling see the models,
  built or not (a copy builds them first, so it shares them as an eager copy does):
  nothing outside this module can tell a lazy field from an eager one (except
  ``vars()``/``__dict__``, which show the JSON of an unread field).

Validating Python data (``Device(...)``, ``model_validate(dict)``, request bodies) builds
everything at once, as before: only the JSON fast path is lazy. So does validating JSON
strictly (``model_validate_json(content, strict=True)``): a page walk asks for that once
its loop has read nested fields, since building a whole page at once costs far less than
building each item's fields on read. The items of a collection
are never lazy (they are what a walk yields), and neither are the fields of models that
are one shape of a union, since pydantic tells union shapes apart by their nested fields.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Annotated, Any, Final, get_origin

from pydantic import BaseModel, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from . import _compat
from ._types import is_model_class, is_root_model, members

__all__ = [
    "LAZY", "LazyField", "Pending", "install", "keep_assigned", "materialize", "pending_json",
    "was_read",
]

# Held while one field's models are built: concurrent first reads of a field build it
# once. One lock for all fields: a build is pure Python work, so threads could not build
# in parallel anyway, and one lock costs nothing per item.
_BUILDING = threading.RLock()


class _Unbuilt:
    """The value of a :class:`Pending` not built yet (copies and pickles stay this one)."""

    def __repr__(self) -> str:
        return "<unbuilt>"

    def __reduce__(self) -> str:
        return "_UNBUILT"


_UNBUILT: Final = _Unbuilt()


class Pending:
    """The JSON of a lazy field not read yet, and its models once built.

    Kept in the model's field values until the first read replaces it by its models.
    Shared (not copied) by ``copy.copy``/``model_copy`` as an eager model shares its nested
    objects, so the copy and the original read the same built objects.
    """

    __slots__ = ("raw", "value")

    def __init__(self, raw: Any, value: Any = _UNBUILT) -> None:
        self.raw = raw
        self.value = value

    def __repr__(self) -> str:
        return f"Pending({self.raw!r})" if self.value is _UNBUILT else f"Pending(={self.value!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Pending, (self.raw, self.value))

    def build(self, build: Callable[[Any], Any]) -> Any:
        """The models, built by ``build`` on the first call only (any thread)."""
        value = self.value
        if value is _UNBUILT:
            with _BUILDING:
                value = self.value
                if value is _UNBUILT:
                    value = self.value = build(self.raw)
                    self.raw = None  # the JSON is no longer needed
        return value


class _LazyInJSON:
    """The mark of a lazily built field (``Annotated[X | None, LAZY, ...]``)."""

    def __repr__(self) -> str:
        return "LAZY"

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        eager = handler(source)
        pending = core_schema.no_info_plain_validator_function(Pending)
        raw = raw_type(source)
        kept: core_schema.CoreSchema
        if raw is tuple:  # a JSON array stays an array (a tuple), made in Rust
            kept = core_schema.union_schema(
                [core_schema.tuple_schema([core_schema.any_schema()], variadic_item_index=0),
                 pending], mode="left_to_right")
        elif raw is dict:  # a JSON object stays an object (a dict), made in Rust
            kept = core_schema.union_schema([core_schema.dict_schema(), pending],
                                            mode="left_to_right")
        else:
            kept = pending
        return core_schema.json_or_python_schema(
            # The JSON as sent, built on first read; all at once when validated strictly
            # (a walk whose loop reads nested fields asks for that: ``PageWalk``). null
            # stays None in Rust (nullable).
            json_schema=core_schema.lax_or_strict_schema(
                lax_schema=core_schema.nullable_schema(kept), strict_schema=eager,
            ),
            python_schema=eager,
            serialization=core_schema.wrap_serializer_function_ser_schema(
                _serializer(source, raw), schema=eager
            ),
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # The field's JSON Schema is its type's, not the "any JSON" it is read as.
        python_schema = schema.get("python_schema", schema) if isinstance(schema, dict) else schema
        return handler(python_schema)


LAZY: Final = _LazyInJSON()


def raw_type(source: Any) -> type | None:
    """The type a field of type ``source`` keeps its unread JSON as, when no built value
    has it: ``tuple`` for a list field, ``dict`` for a model field; else None (``Pending``).
    """
    found = [member for member in members(source) if member is not type(None)]
    if len(found) != 1:
        return None
    if get_origin(found[0]) is list:
        return tuple
    if is_model_class(found[0]) and not is_root_model(found[0]):
        return dict
    return None


def _serializer(source: Any, raw: type | None) -> Callable[[Any, Any], Any]:
    """A serializer that builds a field's models first when it still holds plain JSON."""
    builder = _Builder(source)

    def serialize(value: Any, write: core_schema.SerializerFunctionWrapHandler) -> Any:
        kind = type(value)
        if kind is Pending:  # built (once, shared with the field's read) to be written
            value = value.build(builder)
        elif kind is raw:  # unread: its models, built to be written (kept by a read only)
            value = builder(value)
        return write(value)

    return serialize


class _Builder:
    """Builds the models of one field's type from its JSON; never raises."""

    __slots__ = ("_validate", "source")

    def __init__(self, source: Any) -> None:
        self.source = source
        self._validate: Callable[[Any], Any] | None = None  # made on first use

    def __call__(self, value: Any) -> Any:
        validate = self._validate
        if validate is None:  # pydantic-core's own validator: no per-call Python layer
            validate = self._validate = _compat.python_validator(self.source)
        try:
            return validate(value)
        except Exception:  # a response's value that does not match its schema: lenient
            from ._lenient import _lenient_value

            return _lenient_value(self.source, list(value) if type(value) is tuple else value)


class LazyField:
    """The attribute of a lazy field: builds the field's models on first read."""

    __slots__ = ("_build", "name", "raw")

    def __init__(self, name: str, source: Any) -> None:
        self.name = name
        self._build = _Builder(source)
        # What the field's unread JSON is kept as (``tuple``, ``dict``), or None: Pending.
        self.raw = raw_type(source)

    def __repr__(self) -> str:
        return f"<lazy field {self.name!r}>"

    def __get__(self, model: BaseModel | None, owner: type | None = None) -> Any:
        if model is None:  # on the class: what pydantic would say
            raise AttributeError(self.name)
        values = _compat.field_values(model)
        try:
            value = values[self.name]
        except KeyError:  # deleted: pydantic's __getattr__ says so
            raise AttributeError(self.name) from None
        kind = type(value)
        if kind is Pending:
            built = value.value
            if built is not _UNBUILT:  # a built value kept in a Pending (see the module)
                return built
        elif kind is not self.raw:  # built (never the raw type: see ``kept``)
            return value
        return self._settle(values, value)

    def _settle(self, values: dict[str, Any], value: Any) -> Any:
        """Build the unread value of the field once (any thread) and keep its models."""
        with _BUILDING:
            value = values.get(self.name, _UNBUILT)  # again, under the lock
            if value is _UNBUILT:  # deleted meanwhile
                raise AttributeError(self.name)
            kind = type(value)
            if kind is Pending:  # shared with copies made before the read: built once
                built = value.build(self._build)
            elif kind is self.raw:
                built = self._build(value)
            else:  # built by another thread meanwhile
                return value
            values[self.name] = self.kept(built)
        return built

    def kept(self, built: Any) -> Any:
        """What the field's values hold for a built (or assigned) value ``built``."""
        if self.raw is not None and type(built) is self.raw:  # would look unread
            return Pending(None, built)
        return built

    def __set__(self, model: BaseModel, value: Any) -> None:
        # pydantic's own ``__setattr__`` writes the field values directly; this only runs
        # for ``object.__setattr__``-style writes.
        _compat.field_values(model)[self.name] = self.kept(value)

    def __delete__(self, model: BaseModel) -> None:
        # ``del model.field``: pydantic deletes through ``object.__delattr__``, which
        # lands here because this is a data descriptor; do what it does for eager fields.
        try:
            del _compat.field_values(model)[self.name]
        except KeyError:
            raise AttributeError(self.name) from None


def install(cls: type[BaseModel]) -> tuple[str, ...]:
    """Put a :class:`LazyField` on ``cls`` for each of its fields marked :data:`LAZY`."""
    names = []
    for name, info in cls.model_fields.items():
        if any(meta is LAZY for meta in info.metadata):
            type.__setattr__(cls, name, LazyField(name, _field_type(info.annotation, info)))
            names.append(name)
    return tuple(names)


def _field_type(annotation: Any, info: Any) -> Any:
    """The field's type with its constraints (not the mark): what a built value must be."""
    others = tuple(meta for meta in info.metadata if meta is not LAZY)
    args = (annotation, *others)
    return _ANNOTATED[args] if others else annotation


_ANNOTATED: Any = Annotated  # subscripted with a runtime tuple above


def _fields(cls: type) -> dict[str, LazyField]:
    """The lazy fields of ``cls`` by name (:func:`install` puts one on every model class)."""
    return {name: cls.__dict__[name] for name in getattr(cls, "__losant_lazy__", ())}


def _unread(field: LazyField, value: Any) -> bool:
    kind = type(value)
    return (kind is Pending and value.value is _UNBUILT) or (
        field.raw is not None and kind is field.raw)


def was_read(model: Any) -> bool:
    """Whether a lazy field of ``model`` holds built models (it was read, or read eagerly)."""
    values = _compat.field_values(model)
    for name, field in _fields(type(model)).items():
        value = values.get(name)
        if value and type(value) is not Pending and not _unread(field, value):
            return True  # a model, or a non-empty list of them
    return False


def pending_json(model: BaseModel, name: str) -> Any:
    """The JSON a lazy field of ``model`` was sent, if it is still unread; else None.

    Lets a reader that wants the JSON anyway (``to_pandas`` of a time series) use it as
    the response's single decode left it, instead of decoding the body a second time.
    """
    value = _compat.field_values(model).get(name)
    if type(value) is Pending:
        return value.raw if value.value is _UNBUILT else None
    field = _fields(type(model)).get(name)
    if field is not None and _unread(field, value):
        return list(value) if type(value) is tuple else value
    return None


def materialize(model: BaseModel) -> None:
    """Build every lazy field of ``model`` that is still pending (its JSON unread)."""
    values = _compat.field_values(model)
    for name, field in _fields(type(model)).items():
        if name in values and _unread(field, values[name]):
            getattr(model, name)


def keep_assigned(model: BaseModel, names: Any) -> None:
    """After pydantic wrote ``names`` of ``model`` directly (assignment, ``model_copy(update=)``,
    ``model_construct``): keep a value that would look unread as the built value it is."""
    fields = _fields(type(model))
    if not fields:
        return
    values = _compat.field_values(model)
    for name in names:
        field = fields.get(name)
        if field is not None and name in values:
            values[name] = field.kept(values[name])
