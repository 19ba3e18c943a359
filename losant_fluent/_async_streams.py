"""Server-Sent-Event results for ``AsyncAPI``: ``async for event in stream``.

A streaming verb of an async node returns an :class:`AsyncEventStream` that opens (sends
its request through the async pipeline: retries, renewal and errors as for any call) when
it is awaited, entered with ``async with`` or iterated. Events are
:class:`~losant_fluent._streams.ServerSentEvent` objects, parsed and resumed after a drop
exactly as with the sync client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
from typing import TYPE_CHECKING, Any

from ._async_transport import Answer, aiter_body, release
from ._flows import aiterate
from ._streams import (
    Adopt,
    Drop,
    EventParser,
    Read,
    ResumeState,
    ServerSentEvent,
    _read_failure,
    stream_flow,
)

if TYPE_CHECKING:
    from typing_extensions import Self

    from ._async_pipeline import AsyncPipeline
    from ._wire import WireCall

__all__ = ["AsyncEventStream"]


class AsyncEventStream(ResumeState):
    """The events of a streaming endpoint as they arrive; ``aclose()`` when done.

    ``async with node.state_stream().get() as stream: async for event in stream: ...``.
    It runs the sync stream's flow (``_streams.stream_flow``: the same parser and
    reconnection rules), awaited: after a drop it waits the server's ``retry:`` delay, sends
    ``Last-Event-ID`` with the last id seen, and gives up after more than ``max_retries``
    connections in a row that brought nothing back.
    """

    def __init__(self, pipeline: AsyncPipeline, call: WireCall) -> None:
        self._pipeline: AsyncPipeline = pipeline
        self._call = call
        self._response: Answer | None = None
        self._last_response: Answer | None = None
        self._opened = False
        self._closed = False
        self._parser = EventParser()
        self._reading: tuple[Answer, AsyncIterator[bytes]] | None = None
        #: How many times the stream reconnected.
        self.reconnects = 0

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open" if self._opened else "not opened"
        return f"<AsyncEventStream {self._call.path} {state}>"

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._closed

    async def open(self) -> Self:
        """Send the request (once); the stream is then ready to iterate."""
        if not self._opened:
            self._opened = True
            self._response = await self._pipeline.asend(self._call, stream=True)
            self._last_response = self._response
        return self

    def __await__(self) -> Generator[Any, None, Self]:
        return self.open().__await__()

    def http_response(self) -> Answer | None:
        """The current or last connection's answer (``None`` until the stream is opened):
        the ``httpx.Response`` (the sync transport's, with ``ThreadedTransport``)."""
        return self._last_response

    async def __aiter__(self) -> AsyncIterator[ServerSentEvent]:
        await self.open()
        async for event in aiterate(stream_flow(self, self._response), self._aperform):
            yield event

    async def _aperform(self, effect: Any) -> Any:
        """Carry out one effect of the stream's flow, awaited."""
        kind = type(effect)
        if kind is Read:
            reading = self._reading
            if reading is None or reading[0] is not effect.response:
                reading = self._reading = (effect.response, self._chunks(effect.response))
            return await anext(reading[1], b"")
        if kind is Adopt:
            if self._closed:
                await self._drop(effect.response)
                return False
            self._response = self._last_response = effect.response
            return True
        if kind is Drop:
            self._reading = None
            await self._drop(effect.response)
            return None
        return await self._pipeline.aperform(effect)

    async def _chunks(self, response: Answer) -> AsyncIterator[bytes]:
        """The body as it arrives; ``TransportError`` when the connection breaks."""
        try:
            async for chunk in aiter_body(response):
                yield chunk
        except Exception as exc:  # httpx's read errors, as the sync stream words them
            if self._closed:
                return
            raise _read_failure(self._call.path, exc) from None

    async def _drop(self, response: Answer) -> None:
        if self._response is response:
            self._response = None
        try:
            await release(response)
        except Exception:  # noqa: BLE001 - a broken connection may fail to close; gone
            pass

    async def aclose(self) -> None:
        """Stop listening and release the connection."""
        self._closed = True
        response, self._response = self._response, None
        if response is not None:
            await self._drop(response)

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
