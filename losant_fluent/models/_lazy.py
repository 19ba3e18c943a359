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
  would be), stores them in place of the JSON and remembers that it did;
* ``model_dump``, ``==``, ``repr``, ``dict(model)`` and pickling see the models, built or
  not: nothing outside this module can tell a lazy field from an eager one.

Validating Python data (``Device(...)``, ``model_validate(dict)``, request bodies) builds
everything at once, as before: only the JSON fast path is lazy. The items of a collection
are never lazy (they are what a walk yields), and neither are the fields of models that
are one shape of a union, since pydantic tells union shapes apart by their nested fields.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Annotated, Any, Final

from pydantic import BaseModel, GetCoreSchemaHandler, GetJsonSchemaHandler, TypeAdapter
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

__all__ = ["LAZY", "LazyField", "build_fields", "built_fields", "install", "materialize"]

# The prefix of the keys, in a model's ``__pydantic_private__``, of its lazy fields built.
_BUILT: Final = "_losant_built_"


class _LazyInJSON:
    """The mark of a lazily built field (``Annotated[X | None, LAZY, ...]``)."""

    def __repr__(self) -> str:
        return "LAZY"

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        eager = handler(source)
        return core_schema.json_or_python_schema(
            json_schema=core_schema.any_schema(),  # the JSON as sent, built on first read
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
        if value is not None and not isinstance(value, BaseModel):  # JSON, or built lists
            value = builder(value)
        return write(value)

    return serialize


class _Builder:
    """Builds the models of one field's type from its JSON; never raises."""

    __slots__ = ("_validate", "_validate_many", "source")

    def __init__(self, source: Any) -> None:
        self.source = source
        self._validate: Callable[[Any], Any] | None = None  # made on first use
        self._validate_many: Callable[[Any], Any] | None = None

    def many(self, values: list[Any]) -> list[Any]:
        """The models of many values of the field at once (one call into pydantic-core)."""
        validate = self._validate_many
        if validate is None:
            adapter: TypeAdapter[Any] = TypeAdapter(_LIST[self.source])
            validate = self._validate_many = adapter.validator.validate_python
        try:
            built: list[Any] = validate(values)
        except Exception:  # one odd value: each on its own, leniently where needed
            built = [self(value) for value in values]
        return built

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

    That a field is built is noted in the model's ``__pydantic_private__`` (one key per
    field: a copy of the model gets its own dict of them, so it never believes a field it
    shares unbuilt JSON for is built).
    """

    __slots__ = ("_build", "_built", "name")

    def __init__(self, name: str, source: Any) -> None:
        self.name = name
        self._built = _BUILT + name
        self._build = _Builder(source)

    def __repr__(self) -> str:
        return f"<lazy field {self.name!r}>"

    def __get__(self, model: BaseModel | None, owner: type | None = None) -> Any:
        if model is None:  # on the class: what pydantic would say
            raise AttributeError(self.name)
        private = model.__pydantic_private__
        if private is not None and self._built in private:
            return model.__dict__[self.name]
        values = model.__dict__
        try:
            value = values[self.name]
        except KeyError:
            raise AttributeError(self.name) from None
        if value is not None and not isinstance(value, BaseModel):
            value = values[self.name] = self._build(value)
        self._mark(model)
        return value

    def __set__(self, model: BaseModel, value: Any) -> None:
        # pydantic's own ``__setattr__`` validates (when asked) and writes ``__dict__``
        # directly; this only runs for ``object.__setattr__``-style writes.
        model.__dict__[self.name] = value
        self._mark(model)

    def _mark(self, model: BaseModel) -> None:
        private = model.__pydantic_private__
        if private is None:
            object.__setattr__(model, "__pydantic_private__", {self._built: True})
        else:
            private[self._built] = True


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


_ANNOTATED: Any = Annotated  # subscripted with runtime types
_LIST: Any = list


def built_fields(model: Any) -> tuple[str, ...]:
    """The lazy fields of ``model`` that were read (built) so far."""
    private = getattr(model, "__pydantic_private__", None)
    if not private:
        return ()
    return tuple(
        name for name in getattr(type(model), "__losant_lazy__", ()) if _BUILT + name in private
    )


def build_fields(models: list[Any], names: tuple[str, ...]) -> None:
    """Build the lazy fields ``names`` of every model in ``models`` (fresh ones) in one go.

    A walk calls this with the fields its loop read on the page before: building a field
    for a whole page takes one call into pydantic-core, with Python's cyclic collector
    paused, instead of one per item with the collector running over every new object.
    Models that are not all of one class, or lack a field, are left to build on read.
    """
    if not names or not models:
        return
    cls = type(models[0])
    fields = [cls.__dict__.get(name) for name in names]  # ``install`` put them on the class
    if any(type(model) is not cls for model in models) or not all(
        isinstance(field, LazyField) for field in fields
    ):
        return
    lazy = [field for field in fields if isinstance(field, LazyField)]
    was_enabled = gc.isenabled()
    if was_enabled:
        gc.disable()
    try:
        try:
            columns = [
                field._build.many([m.__dict__[field.name] for m in models]) for field in lazy
            ]
        except KeyError:  # a model without the field in its __dict__: build on read
            return
        marks = {field._built: True for field in lazy}
        for model, *values in zip(models, *columns, strict=True):
            model.__dict__.update(zip(names, values, strict=True))
            private = model.__pydantic_private__
            if private is None:
                object.__setattr__(model, "__pydantic_private__", dict(marks))
            else:
                private.update(marks)
    finally:
        if was_enabled:
            gc.enable()


def materialize(model: BaseModel) -> None:
    """Build every lazy field of ``model`` that still holds plain JSON."""
    for name in getattr(type(model), "__losant_lazy__", ()):
        if name in model.__dict__:
            getattr(model, name)
