"""Server-Sent-Event results for ``AsyncAPI``: ``async for event in stream``.

A streaming verb of an async node returns an :class:`AsyncEventStream` that opens (sends
its request through the async pipeline: retries, renewal and errors as for any call) when
it is awaited, entered with ``async with`` or iterated. Events are
:class:`~losant_fluent._streams.ServerSentEvent` objects, as with the sync client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
from typing import TYPE_CHECKING, Any

from ._streams import ServerSentEvent

if TYPE_CHECKING:
    import requests
    from typing_extensions import Self

    from ._async_pipeline import AsyncPipeline
    from ._wire import WireCall

__all__ = ["AsyncEventStream"]


class AsyncEventStream:
    """The events of a streaming endpoint as they arrive; ``aclose()`` when done.

    ``async with node.state_stream().get() as stream: async for event in stream: ...``
    """

    def __init__(self, pipeline: AsyncPipeline, call: WireCall) -> None:
        self._pipeline = pipeline
        self._call = call
        self._response: requests.Response | None = None

    def __repr__(self) -> str:
        state = "open" if self._response is not None else "not opened"
        return f"<AsyncEventStream {self._call.path} {state}>"

    async def open(self) -> Self:
        """Send the request (once); the stream is then ready to iterate."""
        if self._response is None:
            self._response = await self._pipeline.asend(self._call, stream=True)
        return self

    def __await__(self) -> Generator[Any, None, Self]:
        return self.open().__await__()

    def http_response(self) -> requests.Response | None:
        """The answer's status and headers (``None`` until the stream is opened)."""
        return self._response

    async def __aiter__(self) -> AsyncIterator[ServerSentEvent]:
        await self.open()
        assert self._response is not None
        raw = self._response.raw
        answer = getattr(raw, "response", None)
        if answer is None:  # a transport that read the whole body (ThreadedTransport)
            lines: AsyncIterator[str] = _lines_of(self._response.text)
        else:
            lines = answer.aiter_lines()
        event, event_id = "message", None
        data: list[str] = []
        async for line in lines:
            if not line:
                if data:
                    yield ServerSentEvent(event, "\n".join(data), event_id)
                event, event_id = "message", None
                data = []
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
            elif name == "id":
                event_id = value
        if data:
            yield ServerSentEvent(event, "\n".join(data), event_id)

    async def aclose(self) -> None:
        """Stop listening and release the connection."""
        close = getattr(getattr(self._response, "raw", None), "aclose", None)
        if close is not None:
            await close()

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


async def _lines_of(text: str) -> AsyncIterator[str]:
    for line in text.splitlines():
        yield line
