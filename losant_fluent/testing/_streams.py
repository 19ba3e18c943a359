"""Server-Sent-Event streams: device state and commands, MQTT messages of an application.

Everything sent is published to a :class:`Broker` (one per emulator state: a ``reset()``
or ``stop()`` ends the open streams):

* ``device.sendState`` -> ``stateStream`` of that device: ``event: deviceState`` with the
  state as recorded (``time``, ``data``);
* ``device.sendCommand``/``devices.sendCommand`` -> ``commandStream`` of each device:
  ``event: deviceCommand`` (``time``, ``name``, ``payload``);
* ``application.mqttPublishMessage`` -> ``mqttSubscriptionStream`` of that application
  whose ``topic`` filter matches (MQTT ``+`` and ``#`` wildcards): ``event: mqttMessage``
  (``topic``, ``message``).

Each event has an ``id`` (a number increasing across the emulator); a client reconnecting
with ``Last-Event-ID`` first gets the events it missed (the last 1000 of each stream are
kept). A comment line is sent every ``keepAliveInterval`` seconds (default 2). Streams are
served only over HTTP (``Emulator().start()``): called in process (``WSGITransport``),
where a response cannot be read while it is produced, they answer 501.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

from ._context import Ctx, Reply, handles
from ._errors import Fault, validation
from ._ids import iso
from ._store import Doc, Store

__all__ = ["Broker", "broker_of", "close_streams", "publish", "publish_command",
           "publish_state", "stream_response", "topic_matches", "valid_filter"]

_KEY = "streams.broker"
_HISTORY = 1000
MAX_TOPIC = 230
MAX_MESSAGE = 32767


@dataclass(frozen=True)
class _Event:
    id: int
    name: str
    data: str
    topic: str | None = None


@dataclass
class Broker:
    """Fan-out of published events to the open streams (one condition variable)."""

    cond: threading.Condition = field(default_factory=threading.Condition)
    closed: bool = False
    last_id: int = 0
    history: dict[tuple[str, ...], deque[_Event]] = field(default_factory=dict)

    def publish(self, channel: tuple[str, ...], name: str, payload: Any,
                topic: str | None = None) -> None:
        data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        with self.cond:
            self.last_id += 1
            events = self.history.setdefault(channel, deque(maxlen=_HISTORY))
            events.append(_Event(self.last_id, name, data, topic))
            self.cond.notify_all()

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def after(self, channel: tuple[str, ...], last: int) -> list[_Event]:
        events = self.history.get(channel, ())
        return [event for event in events if event.id > last]


def broker_of(store: Store) -> Broker:
    """The broker of the emulator's current state (a new one after ``reset()``)."""
    with store.lock:
        broker = store.extras.get(_KEY)
        if not isinstance(broker, Broker):
            broker = store.extras[_KEY] = Broker()
        return broker


def close_streams(store: Store) -> None:
    """End every open stream (the emulator stops or forgets its state)."""
    with store.lock:
        broker = store.extras.get(_KEY)
    if isinstance(broker, Broker):
        broker.close()


def publish(store: Store, channel: tuple[str, ...], name: str, payload: Any,
            topic: str | None = None) -> None:
    """Send an event to the streams of ``channel`` (see the module docstring)."""
    broker_of(store).publish(channel, name, payload, topic)


def state_channel(app_id: str, device_id: str) -> tuple[str, ...]:
    return ("state", app_id, device_id)


def command_channel(app_id: str, device_id: str) -> tuple[str, ...]:
    return ("command", app_id, device_id)


def publish_state(store: Store, app_id: str, device_id: str, moment: int, data: Doc) -> None:
    """A state was recorded for a device: tell its ``stateStream``."""
    publish(store, state_channel(app_id, device_id), "deviceState",
            {"time": iso(moment), "data": data})


def publish_command(store: Store, app_id: str, device_id: str, moment: int,
                    command: Doc) -> None:
    """A command was sent to a device: tell its ``commandStream``."""
    publish(store, command_channel(app_id, device_id), "deviceCommand",
            {"time": iso(moment), **command})


# -- MQTT topics ---------------------------------------------------------------------------


def valid_filter(topic_filter: str) -> bool:
    """Whether a subscription filter follows MQTT's rules for ``+`` and ``#``."""
    if not topic_filter or len(topic_filter) > MAX_TOPIC or "\0" in topic_filter:
        return False
    levels = topic_filter.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            return False
        if "+" in level and level != "+":
            return False
    return True


def topic_matches(topic_filter: str, topic: str) -> bool:
    """Whether ``topic`` matches the MQTT filter (``+`` one level, ``#`` the rest)."""
    wanted = topic_filter.split("/")
    levels = topic.split("/")
    if topic.startswith("$") and wanted[0] in ("+", "#"):
        return False  # MQTT: wildcards at the first level do not match $-topics
    for index, part in enumerate(wanted):
        if part == "#":
            return True
        if index >= len(levels) or (part != "+" and part != levels[index]):
            return False
    return len(wanted) == len(levels)


@handles("application.mqttPublishMessage")
def mqtt_publish(ctx: Ctx) -> Reply:
    """Publish a message to the application's MQTT subscription streams."""
    body = ctx.body_dict()
    topic, message = body.get("topic"), body.get("message")
    unknown = sorted(set(body) - {"topic", "message"})
    if unknown:
        raise validation(f"Unknown field(s): {', '.join(unknown)}")
    if not isinstance(topic, str) or not 1 <= len(topic) <= MAX_TOPIC:
        raise validation(f"topic must be a string of 1 to {MAX_TOPIC} characters")
    if "+" in topic or "#" in topic or "\0" in topic:
        raise validation("topic must not contain the wildcards + or #")
    if not isinstance(message, str) or len(message) > MAX_MESSAGE:
        raise validation(f"message must be a string of at most {MAX_MESSAGE} characters")
    publish(ctx.store, ("mqtt", ctx.app_id), "mqttMessage",
            {"topic": topic, "message": message}, topic=topic)
    return 200, {"success": True}


# -- serving a stream ----------------------------------------------------------------------


def _keep_alive(ctx: Ctx) -> float:
    raw = ctx.query.get("keepAliveInterval")
    if raw is None or raw == "":
        return float(ctx.default_of("keepAliveInterval", 2))
    try:
        seconds = float(raw)
    except ValueError:
        raise validation("keepAliveInterval must be a number of seconds") from None
    if not 0.01 <= seconds <= 3600:
        raise validation("keepAliveInterval must be between 0.01 and 3600 seconds")
    return seconds


def _channel(ctx: Ctx) -> tuple[tuple[str, ...], str | None]:
    endpoint_id = ctx.endpoint.id
    if endpoint_id == "device.stateStream":
        return state_channel(ctx.app_id, ctx.args["deviceId"]), None
    if endpoint_id == "device.commandStream":
        return command_channel(ctx.app_id, ctx.args["deviceId"]), None
    topic_filter = ctx.query.get("topic")
    if topic_filter is None or topic_filter == "":
        raise validation("topic is required")
    if not valid_filter(topic_filter):
        raise validation(
            "topic must be a valid MQTT topic filter (+ and # only as whole levels, # last)"
        )
    return ("mqtt", ctx.app_id), topic_filter


def stream_response(ctx: Ctx, request: Request) -> Response:
    """The ``text/event-stream`` answer of one of the three streaming endpoints."""
    if "werkzeug.socket" not in request.environ:
        raise Fault(501, "NotImplemented",
                    "Event streams are served over HTTP only: start the emulator "
                    "(Emulator().start()) instead of calling it in process")
    channel, topic_filter = _channel(ctx)
    interval = _keep_alive(ctx)
    broker = broker_of(ctx.store)
    resume = request.headers.get("Last-Event-ID", "").strip()
    with broker.cond:
        start = int(resume) if resume.isdigit() and int(resume) <= broker.last_id else (
            broker.last_id)
    body = _events(ctx.store, broker, channel, topic_filter, start, interval)
    return Response(body, status=200, mimetype="text/event-stream", direct_passthrough=True,
                    headers={"Cache-Control": "no-cache"})


def _events(store: Store, broker: Broker, channel: tuple[str, ...], topic_filter: str | None,
            last: int, interval: float) -> Iterator[bytes]:
    yield b""  # the headers go out now: the client is subscribed
    next_beat = time.monotonic() + interval
    while True:
        with broker.cond:
            events = broker.after(channel, last)
            if not events and not broker.closed:
                broker.cond.wait(max(0.0, next_beat - time.monotonic()))
                events = broker.after(channel, last)
            ended = broker.closed or store.extras.get(_KEY) is not broker
        if ended:
            return
        if events:
            last = events[-1].id
            out = [
                f"id: {event.id}\nevent: {event.name}\ndata: {event.data}\n\n"
                for event in events
                if topic_filter is None or topic_matches(topic_filter, event.topic or "")
            ]
            if out:
                yield "".join(out).encode("utf-8")
        if time.monotonic() >= next_beat:
            next_beat = time.monotonic() + interval
            yield b": keep-alive\n\n"
