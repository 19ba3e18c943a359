"""Server-Sent-Event results for ``AsyncAPI``: ``async for event in stream``.

A streaming verb of an async node returns an :class:`AsyncEventStream` that opens (sends
its request through the async pipeline: retries, renewal and errors as for any call) when
it is awaited, entered with ``async with`` or iterated. Events are
:class:`~losant_fluent._streams.ServerSentEvent` objects, parsed and resumed after a drop
exactly as with the sync client.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Generator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ._async_transport import aiter_body
from ._exceptions import RateLimitError, ServerError, TransportError
from ._streams import (
    EventParser,
    ResumeState,
    ServerSentEvent,
    _read_failure,
    gave_up,
    resume_headers,
)

if TYPE_CHECKING:
    import requests
    from typing_extensions import Self

    from ._async_pipeline import AsyncPipeline
    from ._wire import WireCall

__all__ = ["AsyncEventStream"]


class AsyncEventStream(ResumeState):
    """The events of a streaming endpoint as they arrive; ``aclose()`` when done.

    ``async with node.state_stream().get() as stream: async for event in stream: ...``.
    It parses and reconnects as the sync :class:`~losant_fluent._streams.EventStream` does
    (the same :class:`~losant_fluent._streams.EventParser`): after a drop it waits the
    server's ``retry:`` delay, sends ``Last-Event-ID`` with the last id seen, and gives up
    after more than ``max_retries`` connections in a row that brought nothing back.
    """

    def __init__(self, pipeline: AsyncPipeline, call: WireCall) -> None:
        self._pipeline = pipeline
        self._call = call
        self._response: requests.Response | None = None
        self._last_response: requests.Response | None = None
        self._opened = False
        self._closed = False
        self._parser = EventParser()
        #: How many times the stream reconnected.
        self.reconnects = 0

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open" if self._opened else "not opened"
        return f"<AsyncEventStream {self._call.path} {state}>"

    async def open(self) -> Self:
        """Send the request (once); the stream is then ready to iterate."""
        if not self._opened:
            self._opened = True
            self._response = await self._pipeline.asend(self._call, stream=True)
            self._last_response = self._response
        return self

    def __await__(self) -> Generator[Any, None, Self]:
        return self.open().__await__()

    def http_response(self) -> requests.Response | None:
        """The current or last connection's answer (``None`` until the stream is opened)."""
        return self._last_response

    async def __aiter__(self) -> AsyncIterator[ServerSentEvent]:
        await self.open()
        failures = 0
        error: Exception | None = None
        while not self._closed:
            response = self._response
            if response is None:
                if failures > self._pipeline.options.max_retries:
                    raise gave_up(self._call, failures, error)
                try:
                    response = await self._reconnect()
                except (TransportError, ServerError, RateLimitError) as exc:
                    failures += 1
                    error = exc
                    continue
                if response is None:
                    return
            delivered = False
            try:
                async for chunk in self._chunks(response):
                    delivered = True
                    for event in self._parser.feed(chunk):
                        yield event
                        if self._closed:
                            return
                error = None
            except TransportError as exc:
                error = exc
            await self._drop(response)
            if self._closed:
                return
            failures = 0 if delivered else failures + 1

    async def _reconnect(self) -> requests.Response | None:
        """Wait the retry delay and connect again; ``None`` when closed meanwhile."""
        await asyncio.sleep(self.retry)
        if self._closed:
            return None
        call = replace(self._call, headers=resume_headers(self._call,
                                                          self._parser.last_event_id))
        self.reconnects += 1
        response = await self._pipeline.asend(call, stream=True)
        self._response = self._last_response = response
        self._parser.restart()
        return response

    async def _chunks(self, response: requests.Response) -> AsyncIterator[bytes]:
        """The body as it arrives; ``TransportError`` when the connection breaks."""
        try:
            async for chunk in aiter_body(response):
                yield chunk
        except Exception as exc:  # httpx's read errors, as the sync stream words them
            if self._closed:
                return
            raise _read_failure(self._call.path, exc) from None

    async def _drop(self, response: requests.Response) -> None:
        if self._response is response:
            self._response = None
        close = getattr(getattr(response, "raw", None), "aclose", None)
        if close is not None:
            try:
                await close()
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
