"""The asynchronous pipeline: the sync pipeline's steps, awaited.

:class:`AsyncPipeline` is a :class:`~losant_fluent._pipeline.Pipeline` (same URL, options,
credentials, header building and decoding) whose sending loop is awaited: it runs the very
same flow (``_pipeline.send_flow``) as ``Pipeline.send`` does, so retries,
Retry-After, renewal once on 401 and error mapping are decided by the same code; only the
waiting (``asyncio.sleep``) and the I/O (an ``AsyncTransport``, ``_async_transport.py``)
differ.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ._async_transport import Answer, AsyncTransport
from ._flows import Effect, Renew, Sleep, Transmit, arun
from ._pipeline import Credentials, Options, PipelineBase, send_flow

if TYPE_CHECKING:

    from ._wire import WireCall

__all__ = ["AsyncPipeline"]


class _Shared:
    """What an ``AsyncAPI`` and its ``with_options`` copies share besides credentials."""

    __slots__ = ("_lock", "_loop", "companions")

    def __init__(self) -> None:
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # Transports the API made for one purpose (the token endpoint of ``oauth2(verify=)``):
        # closed with the API's own.
        self.companions: list[AsyncTransport] = []

    @property
    def renew_lock(self) -> asyncio.Lock:
        """The renewal lock of the running event loop (a lock belongs to one loop)."""
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock


class AsyncPipeline(PipelineBase):
    """Sends encoded calls for one ``AsyncAPI``: the same URL, credentials, options, headers
    and decoding as :class:`~losant_fluent._pipeline.Pipeline` (``PipelineBase``), and the
    same flows, run by the async driver over an :class:`AsyncTransport`."""

    __slots__ = ("atransport", "_shared")

    def __init__(
        self,
        url: str,
        atransport: AsyncTransport,
        credentials: Credentials,
        options: Options,
        shared: _Shared | None = None,
    ) -> None:
        super().__init__(url, credentials, options)
        self.atransport = atransport
        self._shared = shared if shared is not None else _Shared()

    def __repr__(self) -> str:
        return f"<AsyncPipeline {self.url} {self.credentials!r}>"

    def companion(self, atransport: AsyncTransport) -> AsyncPipeline:
        """A pipeline over ``atransport`` sharing these credentials and options; the
        transport is closed by :meth:`aclose`."""
        self._shared.companions.append(atransport)
        # A renewal lock of its own: a token refresh sent while this API renews must not
        # wait for that renewal.
        return AsyncPipeline(self.url, atransport, self.credentials, self.options)

    async def aclose(self) -> None:
        """Close the transport and every companion's."""
        companions, self._shared.companions = self._shared.companions, []
        for atransport in (self.atransport, *companions):
            await atransport.aclose()

    def with_options(self, **changes: Any) -> AsyncPipeline:
        return AsyncPipeline(self.url, self.atransport, self.credentials,
                             self._changed(changes), self._shared)

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
    ) -> Answer:
        """``Pipeline.send``, awaited: the same :func:`~losant_fluent._pipeline.send_flow`."""
        flow = send_flow(self, call, stream=stream, authorize=authorize,
                         check_status=check_status)
        return await arun(flow, self.aperform)

    async def aperform(self, effect: Effect) -> Any:
        """Carry out one effect of a flow, awaited (see ``_flows.arun``)."""
        if type(effect) is Transmit:
            return await self.atransport.send(effect.request, timeout=effect.timeout,
                                              stream=effect.stream)
        if type(effect) is Sleep:
            await asyncio.sleep(effect.seconds)
            return None
        assert type(effect) is Renew
        return await self._renew_after_401(effect.token_used)

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
