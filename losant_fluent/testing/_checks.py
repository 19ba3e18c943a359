"""What every request must satisfy before its handler runs, checked from the catalog:
required query parameters present and the body valid against its documented schema.

Losant answers both with 400 ``{"type": "Validation", "message": ...}`` naming the
parameter or field; so does the emulator. Values outside a query parameter's published
enum stay accepted (Losant's own examples use some).
"""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from .._catalog import Endpoint
from ._errors import validation
from ._schema import problem, schema


def check_request(ep: Endpoint, query: MultiDict[str, str], body: Any, multipart: bool) -> None:
    """Raise a 400 :class:`Fault` for a missing required parameter or a body off its schema."""
    for param in ep.params:
        if param.location == "query" and param.required and not query.get(param.name):
            raise validation(f"{param.name} is required")
    body_param = ep.body_param
    if body_param is None or multipart:
        return
    if body is None:
        if body_param.required:
            raise validation(f"{body_param.name} is required")
        return
    found = schema(body_param.schema) if body_param.schema else None
    if found is None:  # an unpublished schema (the 1.31 OAuth clients): any JSON object
        if not isinstance(body, dict):
            raise validation(f"{body_param.name} must be an object")
        return
    message = problem(found, body, body_param.name)
    if message:
        raise validation(message)
