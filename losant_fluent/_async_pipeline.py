"""The asynchronous pipeline: the sync pipeline's steps, awaited.

:class:`AsyncPipeline` is a :class:`~losant_fluent._pipeline.Pipeline` (same URL, options,
credentials, header building and decoding) whose sending loop is awaited: it drives the very
same :class:`~losant_fluent._pipeline.Exchange` as ``Pipeline.send`` does, so retries,
Retry-After, renewal once on 401 and error mapping are decided by the same code; only the
waiting (``asyncio.sleep``) and the I/O (an ``AsyncTransport``, ``_async_transport.py``)
differ.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ._async_transport import AsyncTransport
from ._exceptions import TransportError
from ._pipeline import DONE, RENEW, Credentials, Exchange, Options, Pipeline
from ._transport import HTTPRequest, _describe

if TYPE_CHECKING:
    import requests

    from ._wire import WireCall

__all__ = ["AsyncPipeline"]


class _AsyncOnly:
    """The sync transport slot of an async pipeline: refuses, naming the async way."""

    def send(
        self, request: HTTPRequest, *, timeout: float | None, stream: bool
    ) -> requests.Response:
        raise TypeError(
            f"{_describe(request)}: this result came from an AsyncAPI, which cannot send "
            "synchronously; use the async way instead (`async for` over the verb's result, "
            "or losant_fluent.walk(page) for a page already awaited)"
        )

    def close(self) -> None:
        return None


_ASYNC_ONLY = _AsyncOnly()


class _Shared:
    """What an ``AsyncAPI`` and its ``with_options`` copies share besides credentials."""

    __slots__ = ("renew_lock",)

    def __init__(self) -> None:
        self.renew_lock = asyncio.Lock()


class AsyncPipeline(Pipeline):
    """A :class:`Pipeline` whose requests are awaited (``asend``/``arequest``).

    Its sync ``send``/``request`` refuse with ``TypeError``: a result read through it and
    then iterated with a plain ``for`` says to use ``async for`` instead of blocking.
    """

    __slots__ = ("atransport", "_shared")

    def __init__(
        self,
        url: str,
        atransport: AsyncTransport,
        credentials: Credentials,
        options: Options,
        shared: _Shared | None = None,
    ) -> None:
        super().__init__(url, _ASYNC_ONLY, credentials, options)
        self.atransport = atransport
        self._shared = shared if shared is not None else _Shared()

    def __repr__(self) -> str:
        return f"<AsyncPipeline {self.url} {self.credentials!r}>"

    def with_options(self, **changes: Any) -> AsyncPipeline:
        options = super().with_options(**changes).options
        return AsyncPipeline(self.url, self.atransport, self.credentials, options, self._shared)

    def anonymous(self) -> AsyncPipeline:
        return AsyncPipeline(self.url, self.atransport, Credentials(None), self.options,
                             self._shared)

    async def arequest(self, call: WireCall) -> Any:
        """Send a call that answers with one model and decode it (``Pipeline.request``)."""
        return self.decode(call, await self.asend(call))

    async def asend(
        self,
        call: WireCall,
        *,
        stream: bool = False,
        authorize: bool = True,
        check_status: bool = True,
    ) -> requests.Response:
        """``Pipeline.send``, awaited: the same :class:`Exchange` decides every step."""
        exchange = Exchange(self, call, authorize=authorize, check_status=check_status)
        transport = self.atransport
        while True:
            request = exchange.next_request()
            try:
                response = await transport.send(request, timeout=exchange.timeout,
                                                stream=stream)
            except TransportError as failure:
                await asyncio.sleep(exchange.after_failure(failure))
                continue
            step, value = exchange.after_response(response)
            if step is DONE:
                return response
            if step is RENEW:
                if await self._renew_after_401(value):
                    exchange.renewed()
                    continue
                raise exchange.error(response)
            await asyncio.sleep(value)

    async def _renew_after_401(self, token_used: str) -> bool:
        """``Credentials.renew_after_401`` for coroutines: one renewal for many 401s."""
        credentials = self.credentials
        async with self._shared.renew_lock:
            if credentials.token != token_used:
                return credentials.token is not None
            renew: Callable[[AsyncPipeline], Awaitable[bool]] | None = getattr(
                credentials.renewal, "arenew", None
            )
            return renew is not None and await renew(self)
