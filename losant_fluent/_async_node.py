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

from . import _splitting, _wire
from ._node import Node, RawNode
from ._results import adeliver

if TYPE_CHECKING:
    from ._async_pagination import AsyncPaged
    from ._async_pipeline import AsyncPipeline
    from ._async_streams import AsyncEventStream

__all__ = ["AsyncNode", "AsyncRawNode"]


class AsyncNode(Node):
    """A position in the API's URL tree, for ``AsyncAPI``. Building nodes never sends."""

    __slots__ = ()

    @property
    def _async_pipeline(self) -> AsyncPipeline:
        return cast("AsyncPipeline", self._pipeline)

    # The three entry points of generated verbs differ only in their types: what a call
    # gives back is decided from the catalog once, for both clients (``_results``).
    async def _send(self, endpoint_id: str, body: Any, params: Mapping[str, Any]) -> Any:
        """Build one call and await its result (several, merged, when too big: _splitting)."""
        split = _splitting.plan(endpoint_id, body, params)
        if split is not None:
            return await _splitting.arun(
                self._async_pipeline, split,
                lambda part, keywords: self._call(endpoint_id, part, keywords))
        return await adeliver(self._async_pipeline, self._call(endpoint_id, body, params))

    def _paged(self, endpoint_id: str, body: Any, params: Mapping[str, Any]) -> AsyncPaged[Any]:
        """A paginated call, not sent yet: await it for the first page, or ``async for``."""
        paged: AsyncPaged[Any] = adeliver(self._async_pipeline,
                                          self._call(endpoint_id, body, params))
        return paged

    def _stream(self, endpoint_id: str, body: Any, params: Mapping[str, Any]
                ) -> AsyncEventStream:
        """A streaming call, opened when awaited or iterated."""
        stream: AsyncEventStream = adeliver(self._async_pipeline,
                                            self._call(endpoint_id, body, params))
        return stream

    def at(self, *segments: str) -> AsyncRawNode:
        """Reach a path the catalog does not know yet, below this node (see ``Node.at``).

        The verbs are awaited: ``await api.at("applications", app_id, "x").get(a=1)``.
        """
        path = self._path
        for segment in segments:
            path += "/" + _wire.encode_segment(segment, "path segment")
        return AsyncRawNode(self._pipeline, path)


class AsyncRawNode(AsyncNode, RawNode):
    """A node outside the catalog (see :meth:`AsyncNode.at`): any verb, any parameter.

    The five verbs are ``RawNode``'s, defined once: each returns what ``_raw`` returns,
    here a coroutine (``await api.at(...).get(a=1)``).
    """

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
        return await adeliver(self._async_pipeline, call)
