"""The transports a client sends through, and the interfaces a transport of your own meets.

Sync (``API(transport=...)``): :class:`RequestsTransport` (the default, a pooled
``requests.Session``) and :class:`WSGITransport` (a WSGI app such as the emulator's, in
process). Async (``AsyncAPI(transport=...)``, the ``async`` extra): :class:`HTTPXTransport`
(the default) and :class:`ThreadedTransport` (a sync transport run in worker threads).
A transport sends one :class:`HTTPRequest` and raises only ``TransportError`` subclasses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._transport import HTTPRequest, RequestsTransport, Transport, WSGITransport

if TYPE_CHECKING:
    from ._async_transport import AsyncTransport, HTTPXTransport, ThreadedTransport

__all__ = [
    "AsyncTransport",
    "HTTPRequest",
    "HTTPXTransport",
    "RequestsTransport",
    "ThreadedTransport",
    "Transport",
    "WSGITransport",
]

_ASYNC = ("AsyncTransport", "HTTPXTransport", "ThreadedTransport")


def __getattr__(name: str) -> Any:
    """The async transports are imported on first use: httpx is an optional extra."""
    if name in _ASYNC:
        from ._optional import need

        module = need("async", "losant_fluent._async_transport", ("httpx", "sniffio"), name)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
