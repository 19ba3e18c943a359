"""How the client turns JSON into models and checks request bodies.

* :func:`model_for` finds the model class of a schema by its file name (``"devices"``).
* :func:`parse_response` reads a response body leniently: it never raises.
* :func:`validate_body` checks a request body strictly before it is sent.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from .._exceptions import BodyValidationError
from .._pagination import NOT_EAGER
from . import _bodies
from ._base import RAW_FROM_RESPONSE, GenericModel, GenericRootModel, LosantModel
from ._compat import private_state
from ._generated import SCHEMAS
from ._lenient import lenient_build

if TYPE_CHECKING:
    import requests

__all__ = [
    "attach_response",
    "model_for",
    "parse_response",
    "parse_response_json",
    "validate_body",
]


def model_for(schema_name: str) -> type[LosantModel]:
    """The model class of a schema, by file stem (``"devices"`` -> ``Devices``).

    Raises ``KeyError`` for a name that is not a published schema.
    """
    cls = _CLASSES.get(schema_name)
    if cls is None:
        module_name, class_name = SCHEMAS[schema_name]
        module = importlib.import_module(f"{__package__}._generated.{module_name}")
        cls = _CLASSES[schema_name] = getattr(module, class_name)
    return cls


_CLASSES: dict[str, type[LosantModel]] = {}  # model classes already imported, by schema
# Below this size a response makes too few objects for the collector to matter.
_PAUSE_ABOVE = 32768


def attach_response(model: LosantModel, response: requests.Response | None, raw: Any) -> None:
    """Remember the HTTP response and the decoded JSON a model was read from."""
    private_state(model).update(_losant_response=response, _losant_raw=raw)


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


def parse_response_json(
    schema_name: str, content: bytes, response: requests.Response | None, eager: bool = False
) -> LosantModel:
    """Read a JSON response body (bytes) straight into its model; raises only for non-JSON.

    Validating from the bytes skips building the plain JSON first (about a third of the
    work for a page of devices); the plain JSON is decoded again only if the fast path
    fails (then leniently, as :func:`parse_response` does) or when ``raw_json()`` asks.
    Nested objects are built on first read (``_lazy.py``); ``eager=True`` builds them now,
    by validating strictly, and falls back to the lazy read when the strict one fails
    (then the result's ``__pydantic_private__`` says ``_losant_not_eager``).
    Raises ``ValueError`` when ``content`` is not JSON at all.
    """
    try:
        cls = model_for(schema_name)
    except (KeyError, ImportError):
        return parse_response(schema_name, json.loads(content), response)
    try:
        if len(content) > _PAUSE_ABOVE:
            with _collection_paused():
                model, built = _validate_json(cls, content, eager)
        else:
            model, built = _validate_json(cls, content, eager)
    except ValidationError as error:
        if any(item["type"] == "json_invalid" for item in error.errors()):
            json.loads(content)  # raises the JSON syntax error with its position
        return parse_response(schema_name, json.loads(content), response)
    attach_response(model, response, RAW_FROM_RESPONSE)
    if eager and not built:
        private_state(model)[NOT_EAGER] = True
    return model


def _validate_json(
    cls: type[LosantModel], content: bytes, eager: bool
) -> tuple[LosantModel, bool]:
    """``cls`` from JSON bytes, and whether its nested objects are built already."""
    if eager:
        try:
            return cls.model_validate_json(content, strict=True), True
        except ValidationError:  # a value strict validation refuses (an int for a bool...)
            pass
    return cls.model_validate_json(content), False


# Pausing the collector while a big response is parsed: raising its first threshold, never
# gc.disable()/gc.enable() (another thread's pause, or the application's own gc.disable(),
# would be undone by our enable). The first thread in raises it, the last one out puts the
# threshold back, unless the application changed it meanwhile.
_PAUSE_LOCK = threading.Lock()
_PAUSED_THRESHOLD = 1_000_000  # no response makes that many objects
_pausing = 0  # threads parsing with the threshold raised
_saved_threshold: tuple[int, ...] = ()


@contextlib.contextmanager
def _collection_paused() -> Iterator[None]:
    """Let no collection start while one response is turned into models.

    A page of 1,000 devices makes some 20,000 objects, none of them garbage yet; the
    collector would run dozens of times over them (and its older generations over
    everything else alive), doubling the time to build the page. Its generation-0
    threshold is raised for the time of the parse and put back after; a collector the
    application disabled (``gc.disable()``, or a threshold of 0) stays as it is.
    """
    global _pausing, _saved_threshold
    with _PAUSE_LOCK:
        if _pausing == 0:
            current = gc.get_threshold()
            if current[0] != 0:  # 0: automatic collection off, nothing to pause
                _saved_threshold = current
                gc.set_threshold(_PAUSED_THRESHOLD, *current[1:])
            else:
                _saved_threshold = ()
        _pausing += 1
    try:
        yield
    finally:
        with _PAUSE_LOCK:
            _pausing -= 1
            if _pausing == 0 and _saved_threshold:
                if gc.get_threshold()[0] == _PAUSED_THRESHOLD:  # else: the application's now
                    gc.set_threshold(*_saved_threshold)
                _saved_threshold = ()


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

    The body may be a dict, a list or a model instance (dumped by API name, fields set
    only). Datetimes are taken wherever the API takes a time: a timezone-aware datetime
    becomes epoch milliseconds (an int) where the schema wants a number (``start``,
    ``end``, ``time`` of queries...) and ISO 8601 in UTC with milliseconds and ``Z``
    elsewhere; a naive datetime is refused, naming the field. ``Decimal`` becomes a
    number; NaN, infinities, bytes and sets are refused, naming the field. A body that
    needed none of this is returned as it is (the same object).

    Keys must be the API's (camelCase) names; unknown keys are refused where the schema
    forbids them; enums, patterns, lengths and required fields are enforced. On failure
    raises ``BodyValidationError``, whose ``errors`` are ``(location, message)`` pairs
    with locations in API form (``columns[0].constraint``; ``""`` for the body itself)
    and messages that name the allowed values. When the body may take several shapes
    (an object or a list of them...), the errors are those of the shape it came closest
    to.
    """
    cls = model_for(schema_name)
    problems: list[tuple[str, str]] = []
    data = _bodies.prepare(cls, body, problems)
    if problems:
        raise _body_error(problems)
    try:
        model = cls.model_validate(data)
    except ValidationError as error:
        problems = _bodies.explain(cls, data, error)
        extra: list[tuple[str, str]] = []
        _bodies.unknown_keys(cls, data, extra)
        problems += [problem for problem in extra if problem not in problems]
        raise _body_error(problems) from None
    _bodies.check_keys(model, data, (), problems)
    if problems:
        raise _body_error(problems)
    return data


def _body_error(problems: list[tuple[str, str]]) -> BodyValidationError:
    text = "; ".join(
        f"body{'' if not where or where.startswith('[') else '.'}{where}: {what}"
        for where, what in problems
    )
    return BodyValidationError(f"invalid request body: {text}", problems)
