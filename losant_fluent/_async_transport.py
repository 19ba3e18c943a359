"""The async transports: :class:`HTTPXTransport` (one pooled ``httpx.AsyncClient``, the
default) and :class:`ThreadedTransport` (a sync transport in worker threads), behind the
:class:`AsyncTransport` interface the async pipeline sends through.

:class:`HTTPXTransport` sends a :class:`~losant_fluent.transports.HTTPRequest` and hands back
the ``httpx.Response`` (body read, or open for a stream). The request goes on
the wire as ``RequestsTransport`` sends it: the same headers in the same order (requests'
defaults first, then the pipeline's, Content-Length, Content-Type), the same target and
body bytes. httpx is imported only by this module.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import sys
from collections.abc import AsyncIterator, Awaitable, Iterable
from typing import Any, Protocol, TypeVar

import httpx
import requests
import requests.utils

from ._exceptions import LosantConnectionError, LosantTimeoutError, TransportError
from ._transport import (
    HTTPRequest,
    Transport,
    _describe,
    _host,
    broken_while_reading,
    check_headers,
    ssl_cause,
    stalled,
    tls_failure,
)

# What an async transport answers: the ``httpx.Response`` (``HTTPXTransport``), or the sync
# transport's ``requests.Response`` (``ThreadedTransport``); each in its own library's type.
Answer = Any

__all__ = [
    "Answer", "AsyncTransport", "HTTPXTransport", "ThreadedTransport", "aiter_body", "release",
]

_T = TypeVar("_T")
# The most connections one httpx pool holds (see ``HTTPXTransport``).
_SHARD = 4
# What requests' Session sends unless told otherwise, in its order (see ``_wire_headers``).
_DEFAULT_HEADERS: tuple[tuple[str, str], ...] = tuple(
    (str(k), str(v)) for k, v in requests.utils.default_headers().items()
)
_DEFAULT_INDEX = {name.lower(): i for i, (name, _) in enumerate(_DEFAULT_HEADERS)}


class AsyncTransport(Protocol):
    """What the async pipeline needs from a transport (``HTTPXTransport`` by default)."""

    async def send(
        self, request: HTTPRequest, *, timeout: float | None, stream: bool
    ) -> Answer:
        """Send ``request``; return the answer, body read (unless ``stream`` and 2xx)."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


if sys.version_info >= (3, 11):

    async def _within(awaitable: Awaitable[_T], seconds: float | None) -> _T:
        if seconds is None:
            return await awaitable
        async with asyncio.timeout(seconds):
            return await awaitable
else:  # pragma: no cover - Python 3.10

    async def _within(awaitable: Awaitable[_T], seconds: float | None) -> _T:
        return await asyncio.wait_for(awaitable, seconds)


def _seconds(timeout: Any) -> float | None:
    """A call's timeout as one deadline (a ``(connect, read)`` pair counts as their sum)."""
    if isinstance(timeout, tuple):
        parts = [float(t) for t in timeout if t is not None]
        return sum(parts) if len(parts) == len(timeout) else None
    return None if timeout is None else float(timeout)


def _wire_headers(request: HTTPRequest) -> list[tuple[str, str]]:
    """The request's headers as ``RequestsTransport`` sends them, in the same order.

    requests starts from its session defaults (User-Agent, Accept-Encoding, Accept,
    Connection), replaces those the request sets in place, appends the others, then adds
    Content-Length; ``RequestsTransport`` moves Content-Type last.
    """
    headers = list(_DEFAULT_HEADERS)
    content_type: tuple[str, str] | None = None
    for name, value in request.headers:
        lower = name.lower()
        if lower == "content-type":
            content_type = (name, value)
            continue
        at = _DEFAULT_INDEX.get(lower)
        if at is not None:
            headers[at] = (name, value)
        else:
            headers.append((name, value))
    body = request.body
    size = len(body) if body is not None else 0  # type: ignore[arg-type]
    if size:
        headers.append(("Content-Length", str(size)))
    elif request.method not in ("GET", "HEAD"):
        headers.append(("Content-Length", "0"))
    if content_type is not None:
        headers.append(content_type)
    return headers


async def _chunks(body: Iterable[bytes]) -> AsyncIterator[bytes]:
    """A re-iterable body (``MultipartBody``) as the async stream httpx sends."""
    for chunk in body:
        yield chunk


def _failure(request: HTTPRequest, exc: httpx.HTTPError, timeout: float | None
             ) -> TransportError:
    """An httpx exception as the ``LosantError`` the pipeline decides on.

    The same classes and ``may_have_been_received`` as ``RequestsTransport``'s mapping.
    """
    what = _describe(request)
    reason = type(exc.__cause__ or exc.__context__ or exc).__name__
    if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)):
        return LosantTimeoutError(f"{what}: could not connect to {_host(request)} within "
                                  f"{timeout} s")
    if isinstance(exc, httpx.TimeoutException):
        return LosantTimeoutError(
            f"{what}: no answer within {timeout} s; the request may have been received",
            may_have_been_received=True,
        )
    if isinstance(exc, httpx.ProxyError):
        return LosantConnectionError(f"{what}: the proxy refused or failed ({reason})")
    if isinstance(exc, httpx.ConnectError):
        if ssl_cause(exc) is not None:
            return tls_failure(request, exc)
        return LosantConnectionError(
            f"{what}: could not connect to {_host(request)} ({reason})"
        )
    if isinstance(exc, httpx.TransportError):
        return LosantConnectionError(
            f"{what}: the connection to {_host(request)} broke before the answer "
            f"({type(exc).__name__}); the request may have been received",
            may_have_been_received=True,
        )
    return TransportError(f"{what}: the request could not be sent ({type(exc).__name__})")


async def aiter_body(response: Any, chunk_size: int | None = None) -> AsyncIterator[bytes]:
    """The body of an answer sent with ``stream=True`` through an async transport, as it
    arrives. httpx's read errors come as they are (each caller words its own); an answer
    read whole already (``ThreadedTransport``'s ``requests.Response``) comes in one piece."""
    if isinstance(response, httpx.Response) and not response.is_stream_consumed:
        async for chunk in response.aiter_bytes(chunk_size):
            yield chunk
        return
    yield response.content


async def release(response: Any) -> None:
    """Close an answer of an async transport (an open httpx stream, or a read answer)."""
    if isinstance(response, httpx.Response):
        await response.aclose()
    else:
        response.close()


def _whole(answer: httpx.Response, content: bytes) -> httpx.Response:
    """A read answer as an ``httpx.Response`` holding its bytes (closed sync or async)."""
    return httpx.Response(answer.status_code, headers=answer.headers, content=content,
                          request=answer.request, extensions=answer.extensions)


def _ssl_context(verify: bool | str | None) -> ssl.SSLContext:
    """One TLS context for every pool: ``verify`` as requests takes it (a CA bundle path).

    As requests does, a default ``verify`` trusts the bundle named by ``REQUESTS_CA_BUNDLE``
    (or ``CURL_CA_BUNDLE``) when set, so ``AsyncAPI`` trusts what ``API`` trusts (a company
    proxy's certificate authority, say); httpx itself reads neither.
    """
    if verify is None or verify is True:
        verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or verify
    if isinstance(verify, str):
        if os.path.isdir(verify):
            return ssl.create_default_context(capath=verify)
        return ssl.create_default_context(cafile=verify)
    return httpx.create_ssl_context(verify=True if verify is None else verify)


class HTTPXTransport:
    """The default async transport: one pooled ``httpx.AsyncClient``.

    ``max_connections`` bounds the connection pool and, with it, how many requests run at
    once (the others wait for a free connection before their ``timeout`` starts). Redirects
    are never followed; ``timeout`` is a deadline for the whole answer, body included. A
    ``client`` passed in is used as it is (proxies, certificates, event hooks) and left open.
    """

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        *,
        max_connections: int = 64,
        verify: bool | str | None = None,
    ) -> None:
        if isinstance(max_connections, bool) or not isinstance(max_connections, int) or (
            max_connections < 1
        ):
            raise ValueError(f"max_connections must be an int >= 1, not {max_connections!r}")
        self.owns_client = client is None
        self._context: ssl.SSLContext | None = None
        if client is None:
            # httpcore's pool does work quadratic in its size on every request; pools of at
            # most _SHARD connections keep a 64-connection client as cheap per call as 16.
            sizes = [_SHARD] * (max_connections // _SHARD)
            if max_connections % _SHARD:
                sizes.append(max_connections % _SHARD)
            self._context = _ssl_context(verify)
            clients = self._new_clients(sizes)
        else:
            if verify is not None:
                raise TypeError("give either client= or verify=, not both")
            clients, sizes = [client], [max_connections]
        self.clients = clients
        self._sizes = sizes
        self._busy = [0] * len(clients)
        self.max_connections = max_connections
        self._slots: asyncio.Semaphore | None = None
        # The event loop and process the pools belong to: another loop (a second
        # asyncio.run) or a forked child gets new ones (see _bind).
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = os.getpid()

    def _new_clients(self, sizes: list[int]) -> list[httpx.AsyncClient]:
        return [
            httpx.AsyncClient(
                limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
                verify=self._context if self._context is not None else True,
                follow_redirects=False,
                timeout=None,
            )
            for size in sizes
        ]

    def _bind(self) -> asyncio.Semaphore:
        """The slots of the running loop; new pools when the loop or the process changed.

        httpx connections and asyncio primitives belong to the loop that made them: used
        from a later loop they fail with "Event loop is closed", and a forked child would
        share its parent's sockets. The old pools are dropped, not closed (their loop is
        gone, or they are the parent's).
        """
        loop = asyncio.get_running_loop()
        slots = self._slots
        if slots is not None and loop is self._loop and self._pid == os.getpid():
            return slots
        if self._loop is not None or self._pid != os.getpid():
            if not self.owns_client:
                raise LosantConnectionError(
                    "this AsyncAPI was given its own httpx.AsyncClient, which belongs to "
                    "another event loop or process: make the client (and the AsyncAPI) "
                    "inside the event loop that uses it"
                )
            self.clients = self._new_clients(self._sizes)
            self._busy = [0] * len(self.clients)
        self._loop, self._pid = loop, os.getpid()
        slots = self._slots = asyncio.Semaphore(self.max_connections)
        return slots

    @property
    def client(self) -> httpx.AsyncClient:
        """The (first) ``httpx.AsyncClient`` requests go through."""
        return self.clients[0]

    def __repr__(self) -> str:
        return f"<HTTPXTransport max_connections={self.max_connections}>"

    async def send(
        self, request: HTTPRequest, *, timeout: float | None, stream: bool
    ) -> Answer:
        slots = self._bind()
        seconds = _seconds(timeout)
        async with slots:
            busy = self._busy
            shard = 0
            if len(busy) > 1:  # the least busy pool (one has room: slots <= their sizes)
                shard = min(range(len(busy)), key=lambda i: busy[i] - self._sizes[i])
            busy[shard] += 1
            try:
                return await _within(
                    self._attempt(self.clients[shard], request, seconds, stream), seconds)
            except LosantTimeoutError:
                raise
            except asyncio.TimeoutError:
                raise LosantTimeoutError(
                    f"{_describe(request)}: the answer did not arrive in full within "
                    f"{seconds} s; the request may have been received",
                    may_have_been_received=True,
                ) from None
            finally:
                busy[shard] -= 1

    async def _attempt(
        self, client: httpx.AsyncClient, request: HTTPRequest, seconds: float | None,
        stream: bool,
    ) -> Answer:
        body = request.body
        content: bytes | AsyncIterator[bytes] | None
        content = body if body is None or isinstance(body, bytes) else _chunks(body)
        extensions = {"timeout": httpx.Timeout(seconds).as_dict()}
        check_headers(request)  # as requests would refuse them, before anything is sent
        # Latin-1 bytes, as requests sends them (httpx would encode text as ASCII).
        headers = [(name.encode("latin-1"), value.encode("latin-1"))
                   for name, value in _wire_headers(request)]
        outgoing = httpx.Request(request.method, request.url, headers=headers,
                                 content=content, extensions=extensions)
        try:
            answer = await client.send(outgoing, stream=True)
        except httpx.HTTPError as exc:
            raise _failure(request, exc, seconds) from None
        if stream and answer.status_code < 300:
            return answer  # open: its body is read as it arrives (aiter_body)
        try:
            data = await answer.aread()
        except httpx.HTTPError as exc:
            if isinstance(exc, httpx.TimeoutException):
                raise stalled(request, seconds) from None
            raise broken_while_reading(request, exc) from None
        finally:
            await answer.aclose()
        return _whole(answer, data)

    async def aclose(self) -> None:
        if self.owns_client:
            if self._loop is not None and self._loop is not asyncio.get_running_loop():
                self.clients = self._new_clients(self._sizes)  # the old loop's: drop them
                self._slots = self._loop = None
                return
            for client in self.clients:
                await client.aclose()


class ThreadedTransport:
    """A sync transport (``WSGITransport``, ``RequestsTransport``) run in worker threads.

    ``AsyncAPI(url="http://localhost", transport=ThreadedTransport(WSGITransport(app)))``
    runs the async client against an in-process WSGI app. A stream's answer is read whole
    before its events are given.
    """

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    async def send(
        self, request: HTTPRequest, *, timeout: float | None, stream: bool
    ) -> Answer:
        return await asyncio.to_thread(self.transport.send, request, timeout=timeout,
                                       stream=False)

    async def aclose(self) -> None:
        self.transport.close()
