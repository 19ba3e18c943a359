"""Nested objects of a response, built into models on first use.

A page of 1,000 devices holds some 5,000 nested objects (connection info, tags,
attributes). Building every one of them as a model while the page is read took more time
than reading the page itself, and most scripts never look at most of them. So a field
that holds models (``connection_info``, ``tags``...) is marked :data:`LAZY` by the model
generator, and:

* when a response is validated from its JSON bytes (``model_validate_json``, the path every
  response takes), the field keeps the plain JSON it was sent;
* the first time the field is read, :class:`LazyField` builds its models (validated as
  usual; a value that does not match its schema is built leniently, as a whole response
  would be) and stores them in place of the JSON;
* ``model_dump``, ``==``, ``repr``, ``dict(model)`` and pickling see the models, built or
  not: nothing outside this module can tell a lazy field from an eager one.

Validating Python data (``Device(...)``, ``model_validate(dict)``, request bodies) builds
everything at once, as before: only the JSON fast path is lazy. So does validating JSON
strictly (``model_validate_json(content, strict=True)``): a page walk asks for that once
its loop has read nested fields, since building a whole page at once costs far less than
building each item's fields on read. The items of a collection
are never lazy (they are what a walk yields), and neither are the fields of models that
are one shape of a union, since pydantic tells union shapes apart by their nested fields.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Final

from pydantic import BaseModel, GetCoreSchemaHandler, GetJsonSchemaHandler, TypeAdapter
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

__all__ = ["LAZY", "LazyField", "install", "is_built", "materialize", "was_read"]


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
                lax_schema=core_schema.any_schema(), strict_schema=eager
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
        if value is not None and not is_built(value):
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
            validate = self._validate = TypeAdapter(self.source).validator.validate_python
        try:
            return validate(value)
        except Exception:  # a response's value that does not match its schema: lenient
            from ._lenient import _lenient_value

            return _lenient_value(self.source, value)


class LazyField:
    """The attribute of a lazy field: builds the field's models on first read.

    Whether a value is built is read from the value itself: plain JSON never holds a model,
    so a model, or a list or mapping of them, is built already (an eagerly read page holds
    nothing else). A value it cannot tell (a number or text in a union with models) is
    simply validated again, which is cheap.
    """

    __slots__ = ("_build", "name")

    def __init__(self, name: str, source: Any) -> None:
        self.name = name
        self._build = _Builder(source)

    def __repr__(self) -> str:
        return f"<lazy field {self.name!r}>"

    def __get__(self, model: BaseModel | None, owner: type | None = None) -> Any:
        if model is None:  # on the class: what pydantic would say
            raise AttributeError(self.name)
        values = model.__dict__
        try:
            value = values[self.name]
        except KeyError:
            raise AttributeError(self.name) from None
        if value is None or is_built(value):
            return value
        value = values[self.name] = self._build(value)
        return value

    def __set__(self, model: BaseModel, value: Any) -> None:
        # pydantic's own ``__setattr__`` writes ``__dict__`` directly; this only runs for
        # ``object.__setattr__``-style writes.
        model.__dict__[self.name] = value


def is_built(value: Any) -> bool:
    """Whether a lazy field's value holds models already (not plain JSON)."""
    if isinstance(value, BaseModel):
        return True
    if type(value) is list:
        return not value or isinstance(value[0], BaseModel)
    if type(value) is dict:
        return not value or isinstance(next(iter(value.values())), BaseModel)
    return False


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
    values = getattr(model, "__dict__", {})
    for name in getattr(type(model), "__losant_lazy__", ()):
        value = values.get(name)
        if value and is_built(value):
            return True
    return False


def materialize(model: BaseModel) -> None:
    """Build every lazy field of ``model`` that still holds plain JSON."""
    for name in getattr(type(model), "__losant_lazy__", ()):
        if name in model.__dict__:
            getattr(model, name)
