"""The fluent node: an immutable path on an ``API``, extended one segment at a time.

Generated subclasses (``_resources.py``) add one method per child segment and one verb
method per endpoint; each verb calls :meth:`Node._send`, which checks and encodes the call
(``_wire``), hands it to the ``API`` transport (``_client``) and turns the answer into a
model (``models``), a page walker (``_pagination``) or an event stream (``_streams``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar

from . import _catalog, _wire

if TYPE_CHECKING:
    from ._client import API

BodyInput = Mapping[str, Any] | Sequence[Any]
FileInput = Any  # bytes, a path, an open binary file, or (filename, data[, content_type])
_N = TypeVar("_N", bound="Node")
_M = TypeVar("_M", bound="Node")
_VERBS = ("get", "post", "patch", "put", "delete")


class _Missing(enum.Enum):
    """Marker for "no id given" (``None`` is refused as an id)."""

    MISSING = "MISSING"


MISSING: Final = _Missing.MISSING


class Node:
    """A position in the API's URL tree. Building nodes never sends anything."""

    __slots__ = ("_api", "_path")
    _template = "/"
    _api: API
    _path: str

    def __init__(self, api: API, path: str = "") -> None:
        object.__setattr__(self, "_api", api)
        object.__setattr__(self, "_path", path)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._path or '/'}>"

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and isinstance(other, Node)
            and other._api is self._api
            and other._path == self._path
        )

    def __hash__(self) -> int:
        return hash((type(self), id(self._api), self._path))

    def __dir__(self) -> list[str]:
        """Children, verbs and ``at``: what a REPL user can call next."""
        names = {n for cls in type(self).__mro__ for n in vars(cls) if not n.startswith("_")}
        return sorted(names)

    @property
    def path(self) -> str:
        """The URL path of this node, ids percent-encoded (``/applications/abc/devices``)."""
        return self._path or "/"

    def _child(self, segment: str, cls: type[_N]) -> _N:
        return cls(self._api, f"{self._path}/{segment}")

    def _child_or_item(
        self, segment: str, cls: type[_N], ident: object, item_cls: type[_M]
    ) -> _N | _M:
        path = f"{self._path}/{segment}"
        if ident is MISSING:
            return cls(self._api, path)
        return item_cls(self._api, f"{path}/{_wire.encode_segment(ident, f'{segment} id')}")

    def at(self, *segments: str) -> RawNode:
        """Reach a path the catalog does not know yet, below this node.

        Each argument is one path segment, percent-encoded: ``api.at("applications", app_id,
        "newFeature").get(someParam=1)``. The result offers all five verbs, with keyword
        arguments sent as query parameters (``headers=`` and ``files=`` go as such).
        """
        path = self._path
        for segment in segments:
            path += "/" + _wire.encode_segment(segment, "path segment")
        return RawNode(self._api, path)

    def _send(self, endpoint_id: str, body: Any, params: Mapping[str, Any]) -> Any:
        """Check, encode, send and decode one call of a catalog endpoint."""
        endpoint = _catalog.endpoint(endpoint_id)
        options = dict(params)
        timeout = options.pop("timeout", None)
        validate = options.pop("validate", None)
        _wire.check_keywords(endpoint, options)
        body_param = endpoint.body_param
        if body_param is not None and body_param.required and body is None:
            raise TypeError(f"{endpoint.id} ({endpoint.method} {endpoint.path}) needs a body")
        payload = self._api._prepare_body(body_param, body, validate)
        call = _wire.encode(endpoint, self._path, payload, options, body is not None)
        call.timeout = timeout
        if endpoint.sse:
            from ._streams import EventStream

            return EventStream(self._api._transmit(call, stream=True))
        response = self._api._transmit(call)
        result = self._api._decode(endpoint, response)
        if endpoint.pagination:
            from ._pagination import attach_pager

            attach_pager(result, self, endpoint, body, params)
        return result


class RawNode(Node):
    """A node outside the catalog (see :meth:`Node.at`): any verb, any parameter."""

    __slots__ = ()

    def _raw(
        self,
        method: str,
        body: Any,
        headers: Mapping[str, str] | None,
        files: Any,
        timeout: float | None,
        query: Mapping[str, Any],
    ) -> Any:
        call = _wire.WireCall(method=method, path=self._path, timeout=timeout)
        call.query.update(_wire.DEFAULT_FLAGS)
        for name, value in query.items():
            if isinstance(value, Mapping) and name == "query":
                call.query[name] = _wire._json_text(value)
            else:
                _wire.flatten(name, value, call.query)
        call.headers.update(headers or {})
        if body is not None:
            call.json_body = self._api._prepare_body(None, body, False)
            call.has_json_body = True
        call.files = list(files.items()) if isinstance(files, Mapping) else files
        return self._api._decode(None, self._api._transmit(call))

    def get(
        self, *, headers: Mapping[str, str] | None = None, timeout: float | None = None,
        **query: Any,
    ) -> Any:
        """Send GET to this path; keywords become query parameters."""
        return self._raw("GET", None, headers, None, timeout, query)

    def delete(
        self, body: Any = None, /, *, headers: Mapping[str, str] | None = None,
        timeout: float | None = None, **query: Any,
    ) -> Any:
        """Send DELETE to this path."""
        return self._raw("DELETE", body, headers, None, timeout, query)

    def post(
        self, body: Any = None, /, *, headers: Mapping[str, str] | None = None,
        files: Any = None, timeout: float | None = None, **query: Any,
    ) -> Any:
        """Send POST with ``body`` as JSON (or ``files`` as multipart) to this path."""
        return self._raw("POST", body, headers, files, timeout, query)

    def patch(
        self, body: Any = None, /, *, headers: Mapping[str, str] | None = None,
        timeout: float | None = None, **query: Any,
    ) -> Any:
        """Send PATCH with ``body`` as JSON to this path."""
        return self._raw("PATCH", body, headers, None, timeout, query)

    def put(
        self, body: Any = None, /, *, headers: Mapping[str, str] | None = None,
        timeout: float | None = None, **query: Any,
    ) -> Any:
        """Send PUT with ``body`` as JSON to this path."""
        return self._raw("PUT", body, headers, None, timeout, query)
