"""The asynchronous fluent node: the sync :class:`~losant_fluent._node.Node`, awaited.

Generated subclasses (``_async_resources.py``) have the same children and verbs as the sync
ones. Building nodes sends nothing; a verb encodes its call with ``_wire`` exactly as the
sync verb does and hands it to the :class:`~losant_fluent._async_pipeline.AsyncPipeline`:

* most verbs are coroutines returning the endpoint's model;
* paginated verbs return an :class:`~losant_fluent._async_pagination.AsyncPaged`, awaited
  for the first page or walked with ``async for``;
* streaming verbs return an :class:`~losant_fluent._async_streams.AsyncEventStream`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from . import _catalog, _splitting, _wire
from ._node import Node

if TYPE_CHECKING:
    from ._async_pagination import AsyncPaged
    from ._async_pipeline import AsyncPipeline
    from ._async_streams import AsyncEventStream
    from ._wire import WireCall

__all__ = ["AsyncNode", "AsyncRawNode"]


class AsyncNode(Node):
    """A position in the API's URL tree, for ``AsyncAPI``. Building nodes never sends."""

    __slots__ = ()

    @property
    def _async_pipeline(self) -> AsyncPipeline:
        return cast("AsyncPipeline", self._pipeline)

    def _call(self, endpoint_id: str, body: Any, params: Mapping[str, Any]) -> WireCall:
        """The encoded call of a catalog endpoint (the same encoding as the sync node's)."""
        endpoint = _catalog.endpoint(endpoint_id)
        options = dict(params)
        timeout = options.pop("timeout", None)
        validate = options.pop("validate", None)
        return _wire.encode(
            endpoint,
            self._path,
            body,
            options,
            validate=self._pipeline.options.validate if validate is None else bool(validate),
            timeout=timeout,
        )

    async def _send(self, endpoint_id: str, body: Any, params: Mapping[str, Any]) -> Any:
        """Build one call and await its result (several, merged, when too big: _splitting)."""
        split = _splitting.plan(endpoint_id, body, params)
        if split is not None:
            return await _splitting.arun(
                self._async_pipeline, split,
                lambda part, keywords: self._call(endpoint_id, part, keywords))
        return await self._async_pipeline.arequest(self._call(endpoint_id, body, params))

    def _paged(self, endpoint_id: str, body: Any, params: Mapping[str, Any]) -> AsyncPaged[Any]:
        """A paginated call, not sent yet: await it for the first page, or ``async for``."""
        from ._async_pagination import AsyncPaged

        return AsyncPaged(self._async_pipeline, self._call(endpoint_id, body, params))

    def _stream(self, endpoint_id: str, body: Any, params: Mapping[str, Any]
                ) -> AsyncEventStream:
        """A streaming call, opened when awaited or iterated."""
        from ._async_streams import AsyncEventStream

        return AsyncEventStream(self._async_pipeline, self._call(endpoint_id, body, params))

    def at(self, *segments: str) -> AsyncRawNode:  # type: ignore[override]
        """Reach a path the catalog does not know yet, below this node (see ``Node.at``).

        The verbs are awaited: ``await api.at("applications", app_id, "x").get(a=1)``.
        """
        path = self._path
        for segment in segments:
            path += "/" + _wire.encode_segment(segment, "path segment")
        return AsyncRawNode(self._pipeline, path)


class AsyncRawNode(AsyncNode):
    """A node outside the catalog (see :meth:`AsyncNode.at`): any verb, any parameter."""

    __slots__ = ()

    async def _raw(
        self,
        method: str,
        body: Any,
        headers: Mapping[str, str] | None,
        files: Any,
        timeout: float | None,
        query: Mapping[str, Any],
    ) -> Any:
        call = _wire.encode_raw(method, self._path, body, query, headers, files, timeout)
        return await self._async_pipeline.arequest(call)

    async def get(
        self, *, headers: Mapping[str, str] | None = None, timeout: float | None = None,
        **query: Any,
    ) -> Any:
        """Send GET to this path; keywords become query parameters."""
        return await self._raw("GET", None, headers, None, timeout, query)

    async def delete(
        self, body: Any = None, /, *, headers: Mapping[str, str] | None = None,
        timeout: float | None = None, **query: Any,
    ) -> Any:
        """Send DELETE to this path."""
        return await self._raw("DELETE", body, headers, None, timeout, query)

    async def post(
        self, body: Any = None, /, *, headers: Mapping[str, str] | None = None,
        files: Any = None, timeout: float | None = None, **query: Any,
    ) -> Any:
        """Send POST with ``body`` as JSON (or ``files`` as multipart) to this path."""
        return await self._raw("POST", body, headers, files, timeout, query)

    async def patch(
        self, body: Any = None, /, *, headers: Mapping[str, str] | None = None,
        timeout: float | None = None, **query: Any,
    ) -> Any:
        """Send PATCH with ``body`` as JSON to this path."""
        return await self._raw("PATCH", body, headers, None, timeout, query)

    async def put(
        self, body: Any = None, /, *, headers: Mapping[str, str] | None = None,
        timeout: float | None = None, **query: Any,
    ) -> Any:
        """Send PUT with ``body`` as JSON to this path."""
        return await self._raw("PUT", body, headers, None, timeout, query)
