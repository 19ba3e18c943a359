"""Base classes of every Losant model.

``LosantModel`` is the base of every object model: unknown fields are kept
(``extra="allow"``), fields are filled by their Python name or by the API's camelCase
name, and the HTTP response and decoded JSON a model was read from stay reachable.
``LosantRootModel`` is the base of schemas that are not objects (arrays, unions...).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, PlainSerializer, RootModel

from .._pagination import PagedResultMixin

if TYPE_CHECKING:
    import requests

__all__ = [
    "GenericModel",
    "GenericRootModel",
    "LosantDateTime",
    "LosantModel",
    "LosantNumber",
    "LosantRootModel",
]

RootT = TypeVar("RootT")

# Field names whose values are credentials: shown as '***' by repr() and str().
_SECRET_NAME = re.compile(r"(password|secret|(^|_)token$|^token|private_?key)", re.IGNORECASE)
_MASK = "***"


def _masked(args: Iterable[tuple[str | None, Any]]) -> Iterable[tuple[str | None, Any]]:
    for name, value in args:
        if name and isinstance(value, str) and _SECRET_NAME.search(name):
            yield name, _MASK
        else:
            yield name, value


def _js_iso(value: Any) -> Any:
    """Write a datetime the way Losant (JavaScript's toISOString) does: UTC, milliseconds.

    Anything else (a value kept as-is by lenient parsing) is written unchanged.
    """
    if not isinstance(value, datetime):
        return value
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _js_number(value: Any) -> Any:
    """Write whole numbers without a fraction, as JavaScript (and so Losant) does."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# The type of every ``number`` field: a float in Python, ``5`` rather than ``5.0`` in JSON.
LosantNumber = Annotated[float, PlainSerializer(_js_number, when_used="json")]

# The type of every ``date-time`` field: a datetime in Python, Losant's format in JSON.
LosantDateTime = Annotated[datetime, PlainSerializer(_js_iso, when_used="json")]


class LosantModel(PagedResultMixin, BaseModel):  # type: ignore[misc]  # __iter__: items
    """Base of every generated model: lenient about extra fields, aware of its response."""

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        protected_namespaces=(),
    )

    # Set to True on models whose schema forbids unknown keys (additionalProperties:
    # false); enforced only when validating request bodies, never on responses.
    __losant_closed__: ClassVar[bool] = False
    # Regular expressions (JSON Schema patternProperties) of the further keys a closed
    # model accepts besides its fields; their values are kept as plain JSON.
    __losant_key_patterns__: ClassVar[tuple[str, ...]] = ()

    # The response, raw JSON and pager of a result live in ``__pydantic_private__``, set by
    # ``_registry.attach_response`` and ``_pagination.attach_pager``. They are deliberately
    # not declared as pydantic private attributes: declaring any makes pydantic run a
    # Python ``model_post_init`` for every instance, which more than doubles parsing time.

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        """Fields for ``repr``/``str``, with tokens, passwords and secrets masked."""
        return _masked(super().__repr_args__())

    def http_response(self) -> requests.Response | None:
        """The ``requests.Response`` this model was read from (None if built by hand)."""
        private = self.__pydantic_private__
        response: requests.Response | None = private.get("_losant_response") if private else None
        return response

    def raw_json(self) -> Any:
        """The decoded JSON this model was read from (None if built by hand)."""
        private = self.__pydantic_private__
        return private.get("_losant_raw") if private else None


class LosantRootModel(RootModel[RootT], LosantModel, Generic[RootT]):  # type: ignore[misc]
    """Base of models whose schema is not an object; the value is in ``.root``."""

    model_config = ConfigDict(extra=None)


class GenericModel(LosantModel):
    """Any JSON object from an endpoint that has no published schema; fields are extras."""


class GenericRootModel(LosantRootModel[Any]):
    """Any non-object JSON (list, string, number, null) from an untyped endpoint."""
