"""Turning a verb call into exactly what goes over the wire, as Losant's own clients send it.

:func:`encode` checks a call against the catalog (unknown or missing keywords raise
``TypeError``, with the nearest valid name suggested; nothing is sent) and encodes it into
a :class:`WireCall`:

* query flags ``_actions=false&_links=true&_embedded=true`` first, unless the caller gives them;
* query parameters of ``type: object`` as one JSON string; other structured values in bracket
  form (``tagFilter[0][key]=k``); scalars by :func:`_values.query_text` (booleans
  ``true``/``false``, datetimes as epoch milliseconds);
* ``header`` parameters as headers; the body as JSON bytes (checked against its schema
  unless ``validate=False``); ``multipart`` parameters as form fields (files as file parts,
  objects as JSON text), streamed and re-readable for re-sends.

Published enums are advice (shown in ``help()`` and the type hints), not a gate: Losant's
lists are incomplete, so a value outside them is sent as given.
"""

from __future__ import annotations

import difflib
import mimetypes
import ntpath
import os
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote, urlencode

from ._deadline import check_seconds
from ._values import dumps, json_ready, query_text

if TYPE_CHECKING:
    from ._catalog import Endpoint

__all__ = ["DEFAULT_FLAGS", "MultipartBody", "WireCall", "encode", "encode_raw", "encode_segment"]

DEFAULT_FLAGS = (("_actions", "false"), ("_links", "true"), ("_embedded", "true"))
# Characters kept as they are in a path segment (RFC 3986 sub-delims, ":" and "@");
# "/", "?", "#", "%", spaces and everything else are percent-encoded.
_SEGMENT_SAFE = "!$&'()*+,;=:@"
_CALL_OPTIONS = ("timeout", "validate")


def encode_segment(value: object, what: str = "id") -> str:
    """Percent-encode one path segment, refusing values that cannot name a resource."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"{what} must be a string, not {type(value).__name__}")
    text = str(value)
    if text in ("", ".", ".."):
        raise ValueError(f"{what} cannot be {text!r}")
    return quote(text, safe=_SEGMENT_SAFE)


@dataclass(frozen=True)
class WireCall:
    """One encoded call: everything the pipeline needs to send it (again) byte for byte.

    ``url`` is set for requests that do not go to the API (OAuth token endpoints); then
    ``path`` is only for messages and logs.
    """

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | MultipartBody | None = None
    content_type: str | None = None
    endpoint: Endpoint | None = None
    timeout: float | None = None
    validate: bool | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        if self.timeout is not None:  # a verb's timeout=: finite and > 0, as API's
            check_seconds("timeout", self.timeout)

    def target(self) -> str:
        """Path and query string, as they go in the request line."""
        return self.path + (f"?{urlencode(self.query)}" if self.query else "")

    def query_value(self, name: str) -> str | None:
        """The (last) value sent for query parameter ``name``."""
        found = None
        for key, value in self.query:
            if key == name:
                found = value
        return found

    def with_query(self, name: str, value: str) -> WireCall:
        """A copy with query parameter ``name`` set to ``value`` (where the catalog puts it)."""
        pairs = list(self.query)
        for index, (key, _) in enumerate(pairs):
            if key == name:
                pairs[index] = (name, value)
                return replace(self, query=tuple(pairs))
        order = list(self.endpoint.keyword_params) if self.endpoint is not None else []
        rank = {key: i for i, key in enumerate(order)}
        mine = rank.get(name, len(order))
        at = len(pairs)
        for index, (key, _) in enumerate(pairs):
            if key in rank and rank[key] > mine and not _is_flag(key):
                at = index
                break
        pairs.insert(at, (name, value))
        return replace(self, query=tuple(pairs))


def _is_flag(name: str) -> bool:
    return name in ("_actions", "_links", "_embedded")


def _flags(given: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The three query flags, first and in this order, with the caller's values if given."""
    return [
        (name, query_text(given[name], name) if given.get(name) is not None else default)
        for name, default in DEFAULT_FLAGS
    ]


# -- keyword checks ----------------------------------------------------------------------------


def _squash(name: str) -> str:
    return name.replace("_", "").lower()


def suggest(name: str, valid: list[str]) -> str | None:
    """The valid name meant by a misspelt keyword (``per_page`` -> ``perPage``), if any."""
    squashed = {_squash(v): v for v in valid}
    if _squash(name) in squashed:
        return squashed[_squash(name)]
    close = difflib.get_close_matches(_squash(name), list(squashed), n=1, cutoff=0.75)
    return squashed[close[0]] if close else None


def check_keywords(endpoint: Endpoint, given: Mapping[str, Any]) -> None:
    """Raise ``TypeError`` for keywords the endpoint does not take or required ones missing."""
    valid = endpoint.keyword_params
    unknown = [name for name in given if name not in valid]
    if unknown:
        names = sorted(valid) + list(_CALL_OPTIONS)
        hints = []
        for name in unknown:
            meant = suggest(name, names)
            hints.append(f"{name!r}" + (f" (did you mean {meant!r}?)" if meant else ""))
        raise TypeError(
            f"{endpoint.id} ({endpoint.method} {endpoint.path}) got unexpected keyword "
            f"argument(s) {', '.join(hints)}; valid ones: {', '.join(names)}"
        )
    missing = [p.name for p in valid.values() if p.required and given.get(p.name) is None]
    if missing:
        raise TypeError(
            f"{endpoint.id} ({endpoint.method} {endpoint.path}) missing required keyword "
            f"argument(s): {', '.join(repr(n) for n in missing)}"
        )


# -- encoding ----------------------------------------------------------------------------------


def flatten(key: str, value: Any, out: list[tuple[str, str]]) -> None:
    """Bracket-form encoding of nested query values (``key[0][name]=v``); ``None`` is skipped."""
    if value is None:
        return
    if hasattr(value, "model_dump"):
        value = json_ready(value, key)
    if isinstance(value, Mapping):
        for sub_key, sub_value in value.items():
            flatten(f"{key}[{sub_key}]", sub_value, out)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            flatten(f"{key}[{index}]", item, out)
    else:
        out.append((key, query_text(value, key)))


def _json_text(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value  # already JSON text
    return dumps(json_ready(value, where)).decode("utf-8")


def _body(endpoint: Endpoint | None, body: Any, validate: bool) -> bytes:
    """The JSON bytes of a body: checked against its schema first when asked to."""
    param = endpoint.body_param if endpoint is not None else None
    try:
        if validate and param is not None and param.schema:
            from .models._registry import validate_body

            body = validate_body(param.schema, body)
        return dumps(json_ready(body, "body"))
    except RecursionError:  # a body nested thousands deep (or one containing itself)
        raise ValueError("body: nested too deeply (or it contains itself); nothing was "
                         "sent") from None


def encode(
    endpoint: Endpoint,
    path: str,
    body: Any,
    params: Mapping[str, Any],
    *,
    validate: bool,
    timeout: float | None = None,
) -> WireCall:
    """Check and encode one call of a catalog endpoint; raise before anything is sent."""
    check_keywords(endpoint, params)
    body_param = endpoint.body_param
    if body_param is None and body is not None:
        raise TypeError(
            f"{endpoint.id} ({endpoint.method} {endpoint.path}) takes no body; "
            "give its parameters as keywords (get(**params))"
        )
    if body_param is not None and body_param.required and body is None:
        raise TypeError(f"{endpoint.id} ({endpoint.method} {endpoint.path}) needs a body")
    given = {name: value for name, value in params.items() if value is not None}
    query = _flags(given)
    headers: list[tuple[str, str]] = []
    parts: list[_Part] = []
    for name, param in endpoint.keyword_params.items():
        if name not in given or _is_flag(name):
            continue
        value = given[name]
        if param.location == "header":
            headers.append((name, query_text(value, name)))
        elif param.location == "multipart":
            parts.append(_part(name, param.type, value))
        elif param.type == "object":
            query.append((name, _json_text(value, name)))
        else:
            flatten(name, value, query)
    call = WireCall(
        method=endpoint.method,
        path=path,
        query=tuple(query),
        headers=tuple(headers),
        endpoint=endpoint,
        timeout=timeout,
        validate=validate,
    )
    if parts:
        multipart = MultipartBody(parts)
        return replace(call, body=multipart, content_type=multipart.content_type)
    if body is not None:
        return replace(call, body=_body(endpoint, body, validate), content_type="application/json")
    return call


def encode_raw(
    method: str,
    path: str,
    body: Any,
    query: Mapping[str, Any],
    headers: Mapping[str, str] | None,
    files: Mapping[str, Any] | list[tuple[str, Any]] | None,
    timeout: float | None,
) -> WireCall:
    """Encode a call outside the catalog (``node.at(...)``): keywords become query values."""
    pairs = _flags(query)
    for name, value in query.items():
        if _is_flag(name):
            continue
        if name == "query" and (isinstance(value, Mapping) or hasattr(value, "model_dump")):
            pairs.append((name, _json_text(value, name)))
        else:
            flatten(name, value, pairs)
    call = WireCall(
        method=method,
        path=path,
        query=tuple(pairs),
        headers=tuple((k, query_text(v, k)) for k, v in (headers or {}).items()),
        timeout=timeout,
    )
    if files:
        fields = files.items() if isinstance(files, Mapping) else files
        multipart = MultipartBody([_part(name, "file", value) for name, value in fields])
        return replace(call, body=multipart, content_type=multipart.content_type)
    if body is not None:
        return replace(call, body=_body(None, body, False), content_type="application/json")
    return call


# -- multipart bodies --------------------------------------------------------------------------


class _Part:
    """One form field: its header bytes and a way to produce its content (again)."""

    def __init__(self, head: bytes, size: int, chunks: Any) -> None:
        self.head = head
        self.size = size
        self.chunks = chunks  # callable returning an iterator of bytes


def _disposition(name: str, filename: str | None, content_type: str | None) -> bytes:
    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace('"', "%22").replace("\r", "").replace("\n", "")

    line = f'Content-Disposition: form-data; name="{escape(name)}"'
    if filename is not None:
        line += f'; filename="{escape(filename)}"'
    lines = [line]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def _guess_type(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def _basename(path: str) -> str:
    """The file name of a path, for POSIX and Windows-style (``C:\\dir\\file.zip``) paths."""
    return ntpath.basename(path) if "\\" in path else os.path.basename(path)


def _file_chunks(path: str, size: int) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        left = size
        while left > 0:
            chunk = handle.read(min(65536, left))
            if not chunk:
                raise OSError(f"{path} shrank while it was being sent")
            left -= len(chunk)
            yield chunk


def _handle_chunks(handle: BinaryIO, start: int, size: int) -> Iterator[bytes]:
    handle.seek(start)
    left = size
    while left > 0:
        chunk = handle.read(min(65536, left))
        if not chunk:
            raise OSError("a file given for upload shrank while it was being sent")
        left -= len(chunk)
        yield chunk


def _part(name: str, kind: str | None, value: Any) -> _Part:
    """Encode one multipart field from what the caller gave."""
    if kind != "file":
        text = _json_text(value, name) if kind == "object" else query_text(value, name)
        data = text.encode("utf-8")
        return _Part(_disposition(name, None, None), len(data), lambda: iter((data,)))
    filename: str | None = None
    content_type: str | None = None
    if isinstance(value, tuple):  # (filename, data[, content_type])
        given = value
        filename, value = given[0], given[1]
        content_type = given[2] if len(given) > 2 else None
    if isinstance(value, (str, os.PathLike)):
        path = os.fspath(value)
        if not isinstance(path, str):
            path = os.fsdecode(path)
        size = os.stat(path).st_size
        filename = filename or _basename(path)
        head = _disposition(name, filename, content_type or _guess_type(filename))
        return _Part(head, size, lambda: _file_chunks(path, size))
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        filename = filename or name
        head = _disposition(name, filename, content_type or _guess_type(filename))
        return _Part(head, len(data), lambda: iter((data,)))
    if hasattr(value, "read"):
        handle_name = getattr(value, "name", None)
        if filename is None:
            filename = _basename(handle_name) if isinstance(handle_name, str) else name
        head = _disposition(name, filename, content_type or _guess_type(filename))
        seekable = getattr(value, "seekable", None)
        if callable(seekable) and seekable():
            start = value.tell()
            end = value.seek(0, os.SEEK_END)
            value.seek(start)
            handle = value
            return _Part(head, end - start, lambda: _handle_chunks(handle, start, end - start))
        data = value.read()  # not seekable: read once, so every send carries the same bytes
        if not isinstance(data, bytes):
            raise TypeError(f"{name}: open the file in binary mode ('rb')")
        return _Part(head, len(data), lambda: iter((data,)))
    raise TypeError(
        f"{name}: give a path, bytes or a binary file object, not {type(value).__name__}"
    )


class MultipartBody:
    """A ``multipart/form-data`` body that can be sent again with the same bytes.

    Iterating it produces the body: paths are opened anew and file objects rewound each
    time, under one boundary; ``len()`` is its size, so it is sent with a Content-Length.
    """

    def __init__(self, parts: list[_Part]) -> None:
        self._parts = parts
        self._boundary = uuid.uuid4().hex
        self.content_type = f"multipart/form-data; boundary={self._boundary}"

    def __len__(self) -> int:
        dash = len(self._boundary) + 4  # "--" boundary "\r\n"
        total = sum(dash + len(p.head) + p.size + 2 for p in self._parts)
        return total + len(self._boundary) + 6  # "--" boundary "--\r\n"

    def __iter__(self) -> Iterator[bytes]:
        boundary = self._boundary.encode("ascii")
        for part in self._parts:
            yield b"--" + boundary + b"\r\n" + part.head
            yield from part.chunks()
            yield b"\r\n"
        yield b"--" + boundary + b"--\r\n"

    def __repr__(self) -> str:
        return f"<MultipartBody {len(self._parts)} part(s), {len(self)} bytes>"

    @classmethod
    def from_fields(cls, fields: list[tuple[str, Any]], files: list[tuple[str, Any]]
                    ) -> MultipartBody:
        """Plain text ``fields`` first, in order, then ``files`` (paths, bytes or binary
        file objects), as a storage host's signed POST form wants them."""
        parts = [_part(name, "string", value) for name, value in fields]
        parts += [_part(name, "file", value) for name, value in files]
        return cls(parts)
