"""Base classes of every Losant model.

``LosantModel`` is the base of every object model: unknown fields are kept
(``extra="allow"``), fields are filled by their Python name or by the API's camelCase
name, and the HTTP response and decoded JSON a model was read from stay reachable.
``LosantRootModel`` is the base of schemas that are not objects (arrays, unions...).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, PlainSerializer, PrivateAttr, RootModel

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
        regex_engine="python-re",
    )

    # Set to True on models whose schema forbids unknown keys (additionalProperties:
    # false); enforced only when validating request bodies, never on responses.
    __losant_closed__: ClassVar[bool] = False

    _losant_response: requests.Response | None = PrivateAttr(default=None)
    _losant_raw: Any = PrivateAttr(default=None)
    _losant_pager: Any = PrivateAttr(default=None)  # set on paginated results

    def http_response(self) -> requests.Response | None:
        """The ``requests.Response`` this model was read from (None if built by hand)."""
        return self._losant_response

    def raw_json(self) -> Any:
        """The decoded JSON this model was read from (None if built by hand)."""
        return self._losant_raw


class LosantRootModel(RootModel[RootT], LosantModel, Generic[RootT]):  # type: ignore[misc]
    """Base of models whose schema is not an object; the value is in ``.root``."""

    model_config = ConfigDict(extra=None)


class GenericModel(LosantModel):
    """Any JSON object from an endpoint that has no published schema; fields are extras."""


class GenericRootModel(LosantRootModel[Any]):
    """Any non-object JSON (list, string, number, null) from an untyped endpoint."""
