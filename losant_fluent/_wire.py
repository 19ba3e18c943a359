"""Turning a verb call into exactly what goes over the wire, as Losant's own clients send it.

Checks the call against the catalog (unknown or missing keywords raise ``TypeError``, values
outside an enum raise ``ValueError``; nothing is sent) and encodes it:

* query flags ``_actions=false&_links=true&_embedded=true`` first, unless the caller gives them;
* query parameters of ``type: object`` as one JSON string; other structured values in bracket
  form (``tagFilter[0][key]=k``); booleans as ``true``/``false``;
* ``header`` parameters as headers; the body as JSON; ``multipart`` parameters as form fields
  (files as file parts, objects as JSON text).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from ._catalog import Endpoint, Param

DEFAULT_FLAGS = (("_actions", "false"), ("_links", "true"), ("_embedded", "true"))
# Characters kept as they are in a path segment (RFC 3986 sub-delims, ":" and "@");
# "/", "?", "#", "%", spaces and everything else are percent-encoded.
_SEGMENT_SAFE = "!$&'()*+,;=:@"


def encode_segment(value: object, what: str = "id") -> str:
    """Percent-encode one path segment, refusing values that cannot name a resource."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"{what} must be a string, not {type(value).__name__}")
    text = str(value)
    if text in ("", ".", ".."):
        raise ValueError(f"{what} cannot be {text!r}")
    return quote(text, safe=_SEGMENT_SAFE)


@dataclass
class WireCall:
    """A fully checked and encoded request, ready for the transport."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    json_body: Any = None
    has_json_body: bool = False
    files: list[tuple[str, Any]] | None = None
    timeout: float | tuple[float, float] | None = None
    endpoint_id: str | None = None


def scalar(value: Any) -> str:
    """A single query value as text: booleans as ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def flatten(key: str, value: Any, out: dict[str, str]) -> None:
    """Bracket-form encoding of nested query values (``key[0][name]=v``); ``None`` is skipped."""
    if value is None:
        return
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, Mapping):
        for sub_key, sub_value in value.items():
            flatten(f"{key}[{sub_key}]", sub_value, out)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            flatten(f"{key}[{index}]", item, out)
    else:
        out[key] = scalar(value)


def _json_text(value: Any) -> str:
    if isinstance(value, str):
        return value  # already JSON text
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return json.dumps(value)


def _file_part(name: str, value: Any) -> Any:
    if isinstance(value, tuple):
        return value
    if isinstance(value, (str, os.PathLike)):
        path = os.fspath(value)
        with open(path, "rb") as handle:
            return (os.path.basename(path), handle.read())
    if isinstance(value, (bytes, bytearray)):
        return (name, bytes(value))
    handle_name = getattr(value, "name", None)
    filename = os.path.basename(handle_name) if isinstance(handle_name, str) else name
    return (filename, value)


def _check_enum(endpoint: Endpoint, param: Param, value: Any) -> None:
    if param.enum is None or value is None:
        return
    if scalar(value) not in {scalar(v) for v in param.enum}:
        allowed = ", ".join(repr(v) for v in param.enum)
        raise ValueError(
            f"{endpoint.id}: {param.name}={value!r} is not allowed; use one of {allowed}"
        )


def check_keywords(endpoint: Endpoint, given: Mapping[str, Any]) -> None:
    """Raise ``TypeError`` for keywords the endpoint does not take or required ones missing."""
    valid = endpoint.keyword_params
    unknown = [name for name in given if name not in valid]
    if unknown:
        names = ", ".join(sorted(valid)) + ", timeout, validate"
        raise TypeError(
            f"{endpoint.id} ({endpoint.method} {endpoint.path}) got unexpected keyword "
            f"argument(s) {', '.join(repr(n) for n in unknown)}; valid ones: {names}"
        )
    missing = [p.name for p in valid.values() if p.required and given.get(p.name) is None]
    if missing:
        raise TypeError(
            f"{endpoint.id} ({endpoint.method} {endpoint.path}) missing required keyword "
            f"argument(s): {', '.join(repr(n) for n in missing)}"
        )
    for name, value in given.items():
        _check_enum(endpoint, valid[name], value)


def encode(
    endpoint: Endpoint, path: str, body: Any, params: Mapping[str, Any], send_body: bool
) -> WireCall:
    """Encode a checked call. ``body`` must already be JSON-ready (see ``_node``)."""
    call = WireCall(method=endpoint.method, path=path, endpoint_id=endpoint.id)
    call.query.update(DEFAULT_FLAGS)
    files: list[tuple[str, Any]] = []
    for name, param in endpoint.keyword_params.items():
        if name not in params or params[name] is None:
            continue
        value = params[name]
        if param.location == "header":
            call.headers[name] = scalar(value)
        elif param.location == "multipart":
            if param.type == "file":
                files.append((name, _file_part(name, value)))
            elif param.type == "object":
                files.append((name, (None, _json_text(value))))
            else:
                files.append((name, (None, scalar(value))))
        elif param.type == "object":
            call.query[name] = _json_text(value)
        else:
            flatten(name, value, call.query)
    if files:
        call.files = files
    if send_body:
        call.json_body = body
        call.has_json_body = True
    return call

