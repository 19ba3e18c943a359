"""How the client turns JSON into models and checks request bodies.

* :func:`model_for` finds the model class of a schema by its file name (``"devices"``).
* :func:`parse_response` reads a response body leniently: it never raises.
* :func:`validate_body` checks a request body strictly before it is sent.
"""

from __future__ import annotations

import importlib
import re
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, RootModel, ValidationError

from .._exceptions import BodyValidationError
from ._base import GenericModel, GenericRootModel, LosantModel
from ._generated import SCHEMAS
from ._lenient import lenient_build

if TYPE_CHECKING:
    import requests

__all__ = ["attach_response", "model_for", "parse_response", "validate_body"]


def model_for(schema_name: str) -> type[LosantModel]:
    """The model class of a schema, by file stem (``"devices"`` -> ``Devices``).

    Raises ``KeyError`` for a name that is not a published schema.
    """
    module_name, class_name = SCHEMAS[schema_name]
    module = importlib.import_module(f"{__package__}._generated.{module_name}")
    cls: type[LosantModel] = getattr(module, class_name)
    return cls


def attach_response(model: LosantModel, response: requests.Response | None, raw: Any) -> None:
    """Remember the HTTP response and the decoded JSON a model was read from."""
    private = model.__pydantic_private__
    if private is None:
        object.__setattr__(
            model, "__pydantic_private__", {"_losant_response": response, "_losant_raw": raw}
        )
    else:
        private.update(_losant_response=response, _losant_raw=raw)


def parse_response(
    schema_name: str | None, data: Any, response: requests.Response | None
) -> LosantModel:
    """Read a decoded JSON response body into its model; never raises.

    The model is validated normally first. When the body does not match (a field the
    schema does not know, an enum value added since, a broken item in a list), the
    parts that do match are still validated and the rest is kept as plain JSON, one
    nested object or list item at a time. A schema-less endpoint (``schema_name`` None,
    or a name with no published schema) gives a :class:`GenericModel` for a JSON object
    and a :class:`GenericRootModel` (value in ``.root``) for any other JSON value. So
    does a non-object value where the schema expects an object.
    """
    cls: type[LosantModel] | None = None
    if schema_name is not None:
        try:
            cls = model_for(schema_name)
        except (KeyError, ImportError):
            cls = None
    if cls is None:
        cls = GenericModel if isinstance(data, dict) else GenericRootModel
    try:
        model: LosantModel = cls.model_validate(data)
    except Exception:  # ValidationError mostly; nothing may escape for a 2xx response
        model = _lenient(cls, data)
    attach_response(model, response, data)
    return model


def _lenient(cls: type[LosantModel], data: Any) -> LosantModel:
    """The lenient build of ``data``, or a ``GenericRootModel`` holding it as it is."""
    try:
        built = lenient_build(cls, data)
    except Exception:  # defensive: the fallback itself must never fail a response
        built = None
    if isinstance(built, LosantModel):
        return built
    return GenericRootModel.model_construct(root=data)


def validate_body(schema_name: str, body: Any) -> Any:
    """Check a request body against its schema; return the JSON data to send.

    A dict or list is returned unchanged (it is sent as given); a model instance is
    returned as ``model_dump(mode="json", by_alias=True, exclude_unset=True)``. Keys must
    be the API's (camelCase) names; unknown keys are refused where the schema forbids
    them; enums, patterns, lengths and required fields are enforced. On failure raises
    ``BodyValidationError`` naming each offending field by its API path.
    """
    cls = model_for(schema_name)
    if isinstance(body, BaseModel):
        data: Any = body.model_dump(mode="json", by_alias=True, exclude_unset=True)
    else:
        data = body
    try:
        model = cls.model_validate(data)
    except ValidationError as error:
        problems = [(_location(item["loc"]), item["msg"]) for item in error.errors()]
        raise _body_error(problems) from None
    problems = []
    _check_keys(model, data, (), problems)
    if problems:
        raise _body_error(problems)
    return data


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _body_error(problems: list[tuple[str, str]]) -> BodyValidationError:
    text = "; ".join(f"body{'.' if where else ''}{where}: {what}" for where, what in problems)
    return BodyValidationError(f"invalid request body: {text}", problems)


def _pattern_key(cls: type[LosantModel], key: str) -> bool:
    """Whether ``key`` matches one of the model's patternProperties (searched, as in JSON
    Schema)."""
    return any(re.search(pattern, key) for pattern in cls.__losant_key_patterns__)


def _check_keys(
    value: Any, data: Any, path: tuple[int | str, ...], problems: list[tuple[str, str]]
) -> None:
    """Walk a validated body beside its input: refuse unknown and non-API keys."""
    if isinstance(value, RootModel):
        _check_keys(value.root, data, path, problems)
        return
    if isinstance(value, LosantModel) and isinstance(data, dict):
        fields = type(value).model_fields
        by_alias = {(info.alias or name): name for name, info in fields.items()}
        for key, item in data.items():
            name = by_alias.get(key)
            if name is not None:
                _check_keys(getattr(value, name), item, (*path, key), problems)
            elif key in fields:
                hint = f"use the API name {fields[key].alias!r}"
                problems.append((_location((*path, key)), hint))
            elif type(value).__losant_closed__ and not _pattern_key(type(value), key):
                problems.append((_location((*path, key)), "Extra inputs are not permitted"))
    elif isinstance(value, list) and isinstance(data, list):
        for index, (item, raw) in enumerate(zip(value, data, strict=False)):
            _check_keys(item, raw, (*path, index), problems)
    elif isinstance(value, dict) and isinstance(data, dict):
        for key, item in data.items():
            if key in value:
                _check_keys(value[key], item, (*path, key), problems)
