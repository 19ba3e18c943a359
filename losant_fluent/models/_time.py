"""``LosantTime``: a time the API lets be a date string, a number or ``{"$date": ...}``.

Device states, commands and events take their ``time`` in any of those forms; answers
carry a date string. The date string is read as a ``datetime``, as every ``date-time``
field is, and written back in Losant's form; a number, another string or a ``$date``
object stays as it is (the union's other shapes).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationUnexpectedValue

from ._display import iso

__all__ = ["LosantTime"]

_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
# pydantic's own (lax) reading of a date-time string, as for every other ``date-time``
# field: ``datetime.fromisoformat`` before Python 3.11 refuses a trailing ``Z``.
_AS_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)


def _read(value: Any) -> Any:
    """A date string as a ``datetime``; anything else unchanged (for the other shapes)."""
    if isinstance(value, str) and _DATE_TIME.match(value):
        try:
            return _AS_DATETIME.validate_python(value)
        except ValidationError:
            return value
    return value


def _write(value: Any) -> Any:
    """A ``datetime`` as Losant writes it; anything else is another shape's to write."""
    if isinstance(value, datetime):
        return iso(value)
    raise PydanticSerializationUnexpectedValue("not a datetime")


# The first shape of a union (``LosantTime | str | LosantNumber | ...Time``): date strings
# become datetimes on JSON and Python input alike (lazy fields are built from Python data).
LosantTime = Annotated[
    datetime, BeforeValidator(_read), PlainSerializer(_write, when_used="json")
]
