"""Nested objects of a response, built into models on first use.

A page of 1,000 devices holds some 5,000 nested objects (connection info, tags,
attributes). Building every one of them as a model while the page is read took more time
than reading the page itself, and most scripts never look at most of them. So a field
that holds models (``connection_info``, ``tags``...) is marked :data:`LAZY` by the model
generator, and:

* when a response is validated from its JSON bytes (``model_validate_json``, the path every
  response takes), the field keeps the plain JSON it was sent, wrapped in a
  :class:`Pending` (so ``{}`` or ``[]`` waiting to be built is never mistaken for a value
  that is built already);
* the first time the field is read, :class:`LazyField` builds its models (validated as
  usual; a value that does not match its schema is built leniently, as a whole response
  would be) under a lock, once: every thread, and every copy made before the read, gets
  the same object, as they would from an eager model;
* ``model_dump``, ``==``, ``repr``, ``dict(model)``, copies and pickling see the models,
  built or not: nothing outside this module can tell a lazy field from an eager one
  (except ``vars()``/``__dict__``, which show the :class:`Pending` of an unread field).

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
from typing import Annotated, Any, Final

from pydantic import BaseModel, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from . import _compat

__all__ = ["LAZY", "LazyField", "Pending", "install", "materialize", "pending_json", "was_read"]

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
        return core_schema.json_or_python_schema(
            # The JSON as sent, built on first read; all at once when validated strictly
            # (a walk whose loop reads nested fields asks for that: ``PageWalk``).
            json_schema=core_schema.lax_or_strict_schema(
                # null stays None in Rust (nullable); anything else goes straight to
                # ``Pending``: one Python call per field rather than two (walk speed).
                lax_schema=core_schema.nullable_schema(
                    core_schema.no_info_plain_validator_function(Pending)
                ),
                strict_schema=eager,
            ),
            python_schema=eager,
            serialization=core_schema.wrap_serializer_function_ser_schema(
                _serializer(source), schema=eager
            ),
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # The field's JSON Schema is its type's, not the "any JSON" it is read as.
        python_schema = schema.get("python_schema", schema) if isinstance(schema, dict) else schema
        return handler(python_schema)


LAZY: Final = _LazyInJSON()


def _serializer(source: Any) -> Callable[[Any, Any], Any]:
    """A serializer that builds a field's models first when it still holds plain JSON."""
    builder = _Builder(source)

    def serialize(value: Any, write: core_schema.SerializerFunctionWrapHandler) -> Any:
        if type(value) is Pending:  # built (once, shared with the field's read) to be written
            value = value.build(builder)
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

            return _lenient_value(self.source, value)


class LazyField:
    """The attribute of a lazy field: builds the field's models on first read."""

    __slots__ = ("_build", "name")

    def __init__(self, name: str, source: Any) -> None:
        self.name = name
        self._build = _Builder(source)

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
        if type(value) is not Pending:
            return value
        built = value.build(self._build)
        with _BUILDING:  # unless assigned meanwhile, the models replace the JSON
            if values.get(self.name) is value:
                values[self.name] = built
        return built

    def __set__(self, model: BaseModel, value: Any) -> None:
        # pydantic's own ``__setattr__`` writes the field values directly; this only runs
        # for ``object.__setattr__``-style writes.
        _compat.field_values(model)[self.name] = value

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


def was_read(model: Any) -> bool:
    """Whether a lazy field of ``model`` holds built models (it was read, or read eagerly)."""
    values = _compat.field_values(model)
    for name in getattr(type(model), "__losant_lazy__", ()):
        value = values.get(name)
        if value and type(value) is not Pending:  # a model, or a non-empty list of them
            return True
    return False


def pending_json(model: BaseModel, name: str) -> Any:
    """The JSON a lazy field of ``model`` was sent, if it is still unread; else None.

    Lets a reader that wants the JSON anyway (``to_pandas`` of a time series) use it as
    the response's single decode left it, instead of decoding the body a second time.
    """
    value = _compat.field_values(model).get(name)
    if type(value) is Pending and value.value is _UNBUILT:
        return value.raw
    return None


def materialize(model: BaseModel) -> None:
    """Build every lazy field of ``model`` that is still pending (its JSON unread)."""
    values = _compat.field_values(model)
    for name in getattr(type(model), "__losant_lazy__", ()):
        if type(values.get(name)) is Pending:
            getattr(model, name)
