"""Server-Sent-Event results: device ``stateStream``/``commandStream``, MQTT subscriptions.

An :class:`EventStream` yields :class:`ServerSentEvent` objects as they arrive. When the
connection drops it reconnects by itself, through the same pipeline as every other request
(so a 401 renews the login, 5xx and connection failures are retried, 403/404 end the stream
with their error), sending ``Last-Event-ID`` with the last id seen and waiting the server's
``retry:`` delay first (1 s unless the server says otherwise). It gives up after
``max_retries`` consecutive reconnections (the ``API`` option) that brought nothing back,
not even a keep-alive comment. ``close()``, from any thread, ends the iteration at once.

The parser is ours (``_sse.py``: linear in the bytes received, events capped at
``max_event_size``, ids that could not be sent back dropped with a warning). See
``docs/streams.md`` for why no SSE library is used.

``timeout`` (the ``API`` option) bounds connecting and the answer's headers as one
deadline, then each silence of the stream: a stream quiet for longer reconnects.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from ._exceptions import (
    LosantConnectionError,
    LosantTimeoutError,
    RateLimitError,
    ServerError,
    TransportError,
)
from ._flows import Emit, Flow, Sleep, iterate
from ._pipeline import send_flow
from ._sse import EVENT_SCHEMAS, EventParser, ServerSentEvent

if TYPE_CHECKING:
    import requests
    from typing_extensions import Self

    from ._pipeline import Pipeline, PipelineBase
    from ._wire import WireCall

__all__ = [
    "EVENT_SCHEMAS", "Adopt", "Drop", "EventParser", "EventStream", "Read", "ServerSentEvent",
    "stream_flow",
]

log = logging.getLogger("losant_fluent")

DEFAULT_RETRY = 1.0  # seconds before reconnecting, until the server sends ``retry:``
_READ_SIZE = 65536


def gave_up(call: WireCall, failures: int, error: Exception | None) -> Exception:
    """The error that ends a stream that could not be resumed."""
    if error is not None:
        return error
    return LosantConnectionError(
        f"GET {call.path}: the event stream could not be resumed ({failures} "
        "connections in a row brought nothing back)", may_have_been_received=True)


def resume_headers(call: WireCall, last_event_id: str) -> tuple[tuple[str, str], ...]:
    """The call's headers for a reconnection: ``Last-Event-ID`` set to the last id seen."""
    headers = tuple(h for h in call.headers if h[0].lower() != "last-event-id")
    if last_event_id:
        headers += (("Last-Event-ID", last_event_id),)
    return headers


@dataclass(frozen=True)
class Read:
    """A stream flow's effect: the next chunk of ``response``'s body (``b""`` at its end;
    the ``TransportError`` is thrown in when it breaks)."""

    __slots__ = ("response",)
    response: Any


@dataclass(frozen=True)
class Adopt:
    """A stream flow's effect: ``response`` (a reconnection) becomes the stream's answer;
    ``False`` comes back when the stream was closed meanwhile (it is then released)."""

    __slots__ = ("response",)
    response: Any


@dataclass(frozen=True)
class Drop:
    """A stream flow's effect: release ``response`` (ended or broken)."""

    __slots__ = ("response",)
    response: Any


class ResumeState:
    """What a stream resumes from after a drop, read from its parser (sync and async alike)."""

    _parser: EventParser

    @property
    def max_event_size(self) -> int:
        """The largest event read, in bytes (16 MiB by default); a larger one raises."""
        return self._parser.max_event_size

    @max_event_size.setter
    def max_event_size(self, size: int) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"max_event_size must be an int >= 1 (bytes), not {size!r}")
        self._parser.max_event_size = size

    @property
    def last_event_id(self) -> str | None:
        """The id sent as ``Last-Event-ID`` on the next reconnection (``None``: none yet)."""
        return self._parser.last_event_id or None

    @property
    def retry(self) -> float:
        """Seconds waited before reconnecting (the server's ``retry:``, else 1)."""
        retry = self._parser.retry
        return DEFAULT_RETRY if retry is None else retry


class _Stream(Protocol):
    """What :func:`stream_flow` reads of the stream it runs for (both streams have it)."""

    _parser: EventParser
    _call: WireCall
    reconnects: int

    @property
    def _pipeline(self) -> PipelineBase: ...

    @property
    def retry(self) -> float: ...

    @property
    def closed(self) -> bool: ...


def stream_flow(stream: _Stream, response: Any) -> Flow[None]:
    """The events of a stream as a flow (see ``_flows``), starting from ``response`` (None:
    connect first): parse each chunk, emit each event; after a drop wait ``retry``,
    reconnect with ``Last-Event-ID`` through the pipeline's own flow (renewal, retries),
    and give up after more than ``max_retries`` connections in a row that brought nothing
    back. ``EventStream`` and ``AsyncEventStream`` drive it."""
    pipeline, call, parser = stream._pipeline, stream._call, stream._parser
    failures = 0
    error: Exception | None = None
    while not stream.closed:
        if response is None:
            if failures > pipeline.options.max_retries:
                raise gave_up(call, failures, error)
            yield Sleep(stream.retry)
            if stream.closed:
                return
            resumed = replace(call, headers=resume_headers(call, parser.last_event_id))
            stream.reconnects += 1
            try:
                response = yield from send_flow(pipeline, resumed, stream=True)
            except (TransportError, ServerError, RateLimitError) as exc:
                failures += 1
                error = exc
                continue
            if not (yield Adopt(response)):
                return
            parser.restart()
        delivered = False
        try:
            while True:
                chunk = yield Read(response)
                if not chunk:
                    break
                delivered = True
                for event in parser.feed(chunk):
                    yield Emit(event)
                    if stream.closed:
                        return
            error = None
        except TransportError as exc:
            error = exc
        yield Drop(response)
        response = None
        if stream.closed:
            return
        failures = 0 if delivered else failures + 1
        log.info("event stream %s ended (%s); reconnecting in %.2f s", call.path,
                 type(error).__name__ if error else "closed by the server", stream.retry)


class EventStream(ResumeState):
    """Iterate over the events of a streaming endpoint as they arrive; close when done.

    ``with api...state_stream().get() as stream: for event in stream: ...``. Reconnects
    by itself after a drop (see the module docstring); ``close()`` may be called from
    another thread and ends the iteration within a second.
    """

    def __init__(self, pipeline: Pipeline, call: WireCall, response: requests.Response) -> None:
        self._pipeline: Pipeline = pipeline
        self._call = call
        self._response: requests.Response | None = response
        self._last_response = response
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._parser = EventParser()
        self._reading: tuple[requests.Response, Iterator[bytes]] | None = None
        #: How many times the stream reconnected.
        self.reconnects = 0

    def __repr__(self) -> str:
        state = "closed" if self._closed.is_set() else "open"
        return f"<EventStream {self._call.path} {state}>"

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed.is_set()

    def http_response(self) -> requests.Response:
        """The (streamed) ``requests.Response`` of the current or last connection."""
        return self._last_response

    def __iter__(self) -> Iterator[ServerSentEvent]:
        return iterate(stream_flow(self, self._response), self._perform)

    def _perform(self, effect: Any) -> Any:
        """Carry out one effect of the stream's flow, in this thread."""
        kind = type(effect)
        if kind is Read:
            reading = self._reading
            if reading is None or reading[0] is not effect.response:
                reading = self._reading = (effect.response, self._chunks(effect.response))
            return next(reading[1], b"")
        if kind is Sleep:  # close() ends the wait at once
            self._closed.wait(effect.seconds)
            return None
        if kind is Adopt:
            with self._lock:
                if self._closed.is_set():
                    effect.response.close()
                    return False
                self._response = self._last_response = effect.response
            return True
        if kind is Drop:
            self._reading = None
            self._drop(effect.response)
            return None
        return self._pipeline.perform(effect)

    def _chunks(self, response: requests.Response) -> Iterator[bytes]:
        """The body as it arrives; ``TransportError`` when the connection breaks."""
        raw = response.raw
        import urllib3

        streamed = isinstance(raw, urllib3.HTTPResponse)
        while True:
            try:
                if streamed:
                    chunk = raw.read1(_READ_SIZE, decode_content=True)
                else:
                    chunk = raw.read1(_READ_SIZE) if hasattr(raw, "read1") else raw.read(
                        _READ_SIZE)
            except Exception as exc:
                if self._closed.is_set():
                    return
                raise _read_failure(self._call.path, exc) from None
            if not chunk:
                return
            yield chunk

    def _drop(self, response: requests.Response) -> None:
        with self._lock:
            if self._response is response:
                self._response = None
        try:
            response.close()
        except Exception:  # noqa: BLE001 - closing a broken connection may fail; it is gone
            pass

    def close(self) -> None:
        """Stop listening and release the connection (safe from any thread, idempotent)."""
        self._closed.set()
        with self._lock:
            response, self._response = self._response, None
        if response is not None:
            _abort(response)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_failure(path: str, exc: Exception) -> TransportError:
    import urllib3.exceptions as u3

    if isinstance(exc, (u3.ReadTimeoutError, TimeoutError, socket.timeout)):
        return LosantTimeoutError(f"GET {path}: the event stream was silent for too long",
                                  may_have_been_received=True)
    return LosantConnectionError(
        f"GET {path}: the event stream broke ({type(exc).__name__})", may_have_been_received=True
    )


def _abort(response: requests.Response) -> None:
    """Close a response another thread may be blocked reading: shut its socket down first.

    Closing alone does not wake a thread blocked in ``recv``; ``shutdown`` does.
    """
    raw = response.raw
    connection = getattr(raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    if sock is None:
        fp = getattr(getattr(raw, "_fp", None), "fp", None)
        sock = getattr(getattr(fp, "raw", None), "_sock", None)
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    try:
        response.close()
    except Exception:  # noqa: BLE001 - the other thread may be using it; it is shut down
        pass
