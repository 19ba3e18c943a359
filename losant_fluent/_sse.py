"""The ``text/event-stream`` parser: bytes in, :class:`ServerSentEvent` objects out.

Written to the WHATWG HTML rules: LF, CR and CRLF line ends (also split between reads), a
leading byte-order mark, multi-line ``data``, ``id`` (kept across events), ``retry`` (digits
only), comments (the servers' keep-alives) skipped, blocks without ``data`` not dispatched,
and a last block that the stream ends before its blank line discarded.

It works in time linear in the bytes received: the unfinished line waits in a
``bytearray`` and each read is searched for line ends on its own, never the whole line
again (the old text parser re-scanned a growing line on every read: an 8 MB event took
16 s). An event larger than ``max_event_size`` bytes (16 MiB unless set) raises a
``LosantError`` naming the cap instead of filling memory. An ``id`` that could not be sent
back as ``Last-Event-ID`` (characters outside Latin-1, whitespace around it, a NUL) is
dropped with a warning: the stream keeps the last good id and reconnects with it.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ._exceptions import InvalidResponseError, LosantError

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "EVENT_SCHEMAS", "EventParser", "ServerSentEvent"]

#: The largest event (in bytes, all its lines together) a stream reads by default.
DEFAULT_MAX_EVENT_SIZE = 16 * 1024 * 1024
# The longest wait a server's ``retry:`` may ask for (an hour), in seconds.
MAX_RETRY = 3600.0

# What each event of Losant's streams carries (``sseEvents`` in the API reference).
EVENT_SCHEMAS = {
    "deviceState": "deviceState",  # device stateStream
    "deviceCommand": "deviceCommand",  # device commandStream
    "mqttMessage": "mqttPublishBody",  # application mqttSubscriptionStream: topic, message
}

_LINE_END = re.compile(rb"\r\n|\r|\n")
_BOM = b"\xef\xbb\xbf"


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
            except (ValueError, RecursionError):
                return self.data
        try:
            decoded = self.json()
        except (ValueError, RecursionError):
            raise InvalidResponseError(
                f"a {self.event!r} event whose data is not JSON ({len(self.data)} characters)"
            ) from None
        from .models._registry import parse_response

        return parse_response(self.schema, decoded, None)


def usable_id(value: str) -> bool:
    """Whether an event id can go back to the server as a ``Last-Event-ID`` header."""
    if "\0" in value or value != value.strip():
        return False
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


class EventParser:
    """Incremental parser: ``feed(bytes)`` gives the events the bytes complete.

    ``last_event_id`` and ``retry`` (seconds, or ``None`` until the server sets it) belong
    to the stream and survive :meth:`restart` (a new connection); everything else is
    per connection. ``comments`` counts comment lines (keep-alives); ``max_event_size`` is
    the cap described in the module docstring.
    """

    def __init__(self, max_event_size: int = DEFAULT_MAX_EVENT_SIZE) -> None:
        self.last_event_id = ""
        self.retry: float | None = None
        self.comments = 0
        self.max_event_size = max_event_size
        self._id_buffer = ""
        self._event = ""
        self._data: list[str] = []
        self._size = 0  # bytes of the event being read, its finished lines
        self._line = bytearray()  # the unfinished line
        self._skip_lf = False
        self._head: bytes | None = b""  # the stream's first bytes until the BOM is decided

    def restart(self) -> None:
        """A new connection: drop the half-read event, expect a new byte-order mark."""
        self._id_buffer = self.last_event_id
        self._event, self._data, self._size = "", [], 0
        self._line = bytearray()
        self._skip_lf = False
        self._head = b""

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Parse the next bytes of the stream; return the events they complete."""
        if self._head is not None:  # the stream's start: a byte-order mark is dropped
            chunk = self._head + chunk
            if len(chunk) < len(_BOM) and _BOM.startswith(chunk):
                self._head = chunk
                return []
            self._head = None
            if chunk.startswith(_BOM):
                chunk = chunk[len(_BOM):]
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":  # the LF of a CRLF split between two reads
                chunk = chunk[1:]
        events: list[ServerSentEvent] = []
        position = 0
        for match in _LINE_END.finditer(chunk):  # only the new bytes are searched
            piece = chunk[position:match.start()]
            if self._line:
                self._line += piece
                line = bytes(self._line)
                self._line = bytearray()
            else:
                line = piece
            position = match.end()
            event = self._take(line)
            if event is not None:
                events.append(event)
        if position < len(chunk):
            self._line += chunk[position:]
            if self._size + len(self._line) > self.max_event_size:
                self._too_large()
        self._skip_lf = chunk.endswith(b"\r")
        return events

    def _too_large(self) -> None:
        size = self.max_event_size
        self._line, self._data, self._size = bytearray(), [], 0
        raise LosantError(
            f"an event of the stream is larger than max_event_size ({size} bytes); "
            "set stream.max_event_size higher to read it"
        )

    def _take(self, raw: bytes) -> ServerSentEvent | None:
        if not raw:
            return self._dispatch()
        self._size += len(raw) + 1
        if self._size > self.max_event_size:
            self._too_large()
        line = raw.decode("utf-8", errors="replace")
        if line.startswith(":"):
            self.comments += 1
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if usable_id(value):
                self._id_buffer = value
            else:
                warnings.warn(
                    "the event stream sent an id that cannot be sent back as Last-Event-ID "
                    "(a NUL, characters outside Latin-1 or whitespace around it); it is "
                    "ignored and the last usable id is kept", RuntimeWarning, stacklevel=2)
        elif name == "retry":
            if value and value.isascii() and value.isdigit():
                self.retry = min(int(value) / 1000.0, MAX_RETRY)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        self.last_event_id = self._id_buffer
        data, event = self._data, self._event
        self._data, self._event, self._size = [], "", 0
        if not data:
            return None
        return ServerSentEvent(event or "message", "\n".join(data), self.last_event_id or None)
