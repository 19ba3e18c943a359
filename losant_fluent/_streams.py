"""Server-Sent-Event results: device ``stateStream``/``commandStream``, MQTT subscriptions.

An :class:`EventStream` yields :class:`ServerSentEvent` objects as they arrive. When the
connection drops it reconnects by itself, through the same pipeline as every other request
(so a 401 renews the login, 5xx and connection failures are retried, 403/404 end the stream
with their error), sending ``Last-Event-ID`` with the last id seen and waiting the server's
``retry:`` delay first (1 s unless the server says otherwise). It gives up after
``max_retries`` consecutive reconnections (the ``API`` option) that brought nothing back,
not even a keep-alive comment. ``close()``, from any thread, ends the iteration at once.

The parser is ours, written to the WHATWG HTML rules for ``text/event-stream``: LF, CR and
CRLF line ends (also split between reads), a leading byte-order mark, multi-line ``data``,
``id`` (kept across events, never with a NUL), ``retry`` (digits only), comments (the
servers' keep-alives) skipped, blocks without ``data`` not dispatched, and a last block
that the stream ends before its blank line discarded. See ``docs/streams.md`` for why no
SSE library is used.
"""

from __future__ import annotations

import codecs
import json
import logging
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from ._exceptions import (
    InvalidResponseError,
    LosantConnectionError,
    LosantTimeoutError,
    RateLimitError,
    ServerError,
    TransportError,
)
from ._flows import Emit, Flow, Sleep, iterate
from ._pipeline import send_flow

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

# What each event of Losant's streams carries (``sseEvents`` in the API reference).
EVENT_SCHEMAS = {
    "deviceState": "deviceState",  # device stateStream
    "deviceCommand": "deviceCommand",  # device commandStream
    "mqttMessage": "mqttPublishBody",  # application mqttSubscriptionStream: topic, message
}
DEFAULT_RETRY = 1.0  # seconds before reconnecting, until the server sends ``retry:``
_READ_SIZE = 65536
_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class ServerSentEvent:
    """One event: its ``event`` name, raw ``data`` text, ``id``, and ``value`` (typed).

    ``id`` is the stream's last event id when the event was dispatched (the ``id:`` of this
    event or of an earlier one; ``None`` when none was given). ``value`` is the model the
    API documents for the event (``DeviceState``, ``DeviceCommand``, ``MqttPublishBody``
    with ``topic`` and ``message``), or the decoded JSON of other events.
    """

    event: str
    data: str
    id: str | None = None

    def json(self) -> Any:
        """The event's data decoded as JSON."""
        return json.loads(self.data)

    @property
    def schema(self) -> str | None:
        """The name of the API schema of this event's data, if the API documents one."""
        return EVENT_SCHEMAS.get(self.event)

    @cached_property
    def value(self) -> Any:
        """The event's data as its model (see the class docstring).

        Events the API does not document give their decoded JSON, or their text when it
        is not JSON.
        """
        if self.schema is None:
            try:
                return self.json()
            except ValueError:
                return self.data
        try:
            decoded = self.json()
        except ValueError:
            raise InvalidResponseError(
                f"a {self.event!r} event whose data is not JSON ({len(self.data)} characters)"
            ) from None
        from .models._registry import parse_response

        return parse_response(self.schema, decoded, None)


@dataclass
class EventParser:
    """Incremental ``text/event-stream`` parser: ``feed(bytes)`` gives the events completed.

    ``last_event_id`` and ``retry`` (seconds, or ``None`` until the server sets it) belong
    to the stream and survive :meth:`restart` (a new connection); everything else is
    per connection. ``comments`` counts comment lines (keep-alives).
    """

    last_event_id: str = ""
    retry: float | None = None
    comments: int = 0
    _id_buffer: str = ""
    _event: str = ""
    _data: list[str] = field(default_factory=list)
    _text: str = ""
    _skip_lf: bool = False
    _start: bool = True
    _decoder: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")(errors="replace")
    )

    def restart(self) -> None:
        """A new connection: drop the half-read event, expect a new byte-order mark."""
        self._id_buffer = self.last_event_id
        self._event, self._data, self._text = "", [], ""
        self._skip_lf, self._start = False, True
        self._decoder.reset()

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Parse the next bytes of the stream; return the events they complete."""
        text = self._decoder.decode(chunk)
        if not text:
            return []
        if self._start:
            self._start = False
            if text.startswith("\ufeff"):
                text = text[1:]
        if self._skip_lf and text:
            self._skip_lf = False
            if text.startswith("\n"):  # the LF of a CRLF split between two reads
                text = text[1:]
        buffer = self._text + text
        events: list[ServerSentEvent] = []
        position = 0
        for match in _LINE_END.finditer(buffer):
            event = self._line(buffer[position:match.start()])
            position = match.end()
            if event is not None:
                events.append(event)
        self._text = buffer[position:]
        self._skip_lf = buffer.endswith("\r")
        return events

    def _line(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            self.comments += 1
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            if "\0" not in value:
                self._id_buffer = value
        elif name == "retry":
            if value and value.isascii() and value.isdigit():
                self.retry = int(value) / 1000.0
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        self.last_event_id = self._id_buffer
        data, event = self._data, self._event
        self._data, self._event = [], ""
        if not data:
            return None
        return ServerSentEvent(event or "message", "\n".join(data), self.last_event_id or None)


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
