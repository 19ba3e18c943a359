"""Server-Sent-Event streams: the parser against the WHATWG rules, and streams over the wire
that resume after drops (``Last-Event-ID``, ``retry:``), renew, give up and close."""

from __future__ import annotations

import json
import threading
import time

import pytest
from sse_server import SSEServer, Stream
from wire_server import Recorded, RecordingServer

from losant_fluent import API, ForbiddenError, LosantConnectionError, NotFoundError
from losant_fluent._streams import EVENT_SCHEMAS, EventParser, EventStream, ServerSentEvent
from losant_fluent.models import DeviceCommand, DeviceState, MqttPublishBody


def parse(*chunks: bytes) -> list[ServerSentEvent]:
    parser = EventParser()
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events += parser.feed(chunk)
    return events


# -- the parser ------------------------------------------------------------------------------


def test_multi_line_data_is_joined_with_newlines() -> None:
    (event,) = parse(b"data: one\ndata:two\ndata:  three\n\n")
    assert event.data == "one\ntwo\n three" and event.event == "message"


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"])
def test_every_line_end(end: bytes) -> None:
    text = b"event: e" + end + b"data: a" + end + b"data: b" + end + end + b"data: c" + end + end
    assert [(e.event, e.data) for e in parse(text)] == [("e", "a\nb"), ("message", "c")]


def test_line_ends_split_between_reads() -> None:
    # A CRLF cut after its CR is one line end, not two (which would dispatch early).
    chunks = [b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]
    assert [e.data for e in parse(*chunks)] == ["a\nb"]
    # Byte by byte, with a multi-byte character split too.
    text = "data: caf\u00e9 \u2603\r\n\r\n".encode()
    assert [e.data for e in parse(*(text[i:i + 1] for i in range(len(text))))] == [
        "caf\u00e9 \u2603"]


def test_a_leading_byte_order_mark_is_skipped_once() -> None:
    assert parse(b"\xef\xbb\xbfdata: x\n\n")[0].data == "x"
    # Only at the start of the stream: later it is part of a field name (ignored).
    assert parse(b"data: x\n\n\xef\xbb\xbfdata: y\n\n") == [ServerSentEvent("message", "x")]
    assert parse(b"\xef\xbb", b"\xbfdata: z\n\n")[0].data == "z"


def test_comments_are_skipped_and_counted() -> None:
    parser = EventParser()
    assert parser.feed(b": keep-alive\n\n:\n\ndata: x\n: inside\n\n") == [
        ServerSentEvent("message", "x")]
    assert parser.comments == 3


def test_events_without_data_are_not_dispatched() -> None:
    assert parse(b"event: ping\n\n") == []
    assert parse(b"id: 4\n\n") == []
    # ``data`` with an empty value is an event with empty data.
    assert parse(b"data\n\n") == [ServerSentEvent("message", "")]
    assert parse(b"data:\n\n") == [ServerSentEvent("message", "")]


def test_a_final_event_without_a_blank_line_is_discarded() -> None:
    parser = EventParser()
    assert parser.feed(b"data: done\n\nid: 9\ndata: cut short\n") == [
        ServerSentEvent("message", "done")]
    assert parser.last_event_id == ""  # the cut event's id was never dispatched
    parser.restart()
    assert parser.feed(b"data: next\n\n") == [ServerSentEvent("message", "next")]


def test_ids_persist_and_reset() -> None:
    events = parse(b"id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: x\0y\ndata: d\n\n")
    assert [e.id for e in events] == ["7", "7", None, None]
    parser = EventParser()
    parser.feed(b"id: 12\n\n")  # an id-only block still sets the stream's last id
    assert parser.last_event_id == "12"


def test_retry_takes_digits_only() -> None:
    parser = EventParser()
    parser.feed(b"retry: 2500\n\n")
    assert parser.retry == 2.5
    parser.feed(b"retry: 1.5\n\nretry: -1\n\nretry: abc\n\nretry\n\n")
    assert parser.retry == 2.5


def test_field_names_are_exact() -> None:
    assert parse(b"Data: x\n\nevent : e\ndata: y\n\n") == [ServerSentEvent("message", "y")]


# -- typed events ----------------------------------------------------------------------------


def test_events_are_typed_as_the_reference_says() -> None:
    with open("reference/endpoints.json", encoding="utf-8") as handle:
        resources = json.load(handle)["resources"]
    documented = {
        name: info["schema"]
        for resource in resources.values()
        for action in resource["actions"].values()
        for name, info in action["responses"].get("200", {}).get("sseEvents", {}).items()
    }
    assert documented == EVENT_SCHEMAS
    state = ServerSentEvent("deviceState", '{"time": "2024-01-01T00:00:00.000Z", '
                            '"data": {"t": 1}}', "3")
    assert isinstance(state.value, DeviceState) and state.value.data == {"t": 1}
    command = ServerSentEvent("deviceCommand", '{"name": "go", "payload": [1]}')
    assert isinstance(command.value, DeviceCommand) and command.value.name == "go"
    mqtt = ServerSentEvent("mqttMessage", '{"topic": "a/b", "message": "hi"}')
    assert isinstance(mqtt.value, MqttPublishBody)
    assert (mqtt.value.topic, mqtt.value.message) == ("a/b", "hi")
    assert ServerSentEvent("other", "[1]").value == [1]
    assert ServerSentEvent("other", "text").value == "text"
    assert (mqtt.event, mqtt.data, mqtt.id) == ("mqttMessage", mqtt.data, None)


# -- over the wire ---------------------------------------------------------------------------

BODY = (
    b": keep-alive comment\n\n"
    b"event: deviceState\ndata: {\"data\": {\"temperature\": 21}}\n\n"
    b"event: deviceState\nid: 7\ndata: {\"data\":\ndata:  {\"temperature\": 22}}\n\n"
    b"data: last\n"
)


def _reply(request: Recorded) -> tuple[int, dict[str, str], bytes]:
    if request.header("Last-Event-ID") is None:
        return 200, {"Content-Type": "text/event-stream"}, BODY
    return 404, {"Content-Type": "application/json"}, b'{"type":"NotFound","message":"gone"}'


def test_state_stream_yields_parsed_events() -> None:
    with RecordingServer(_reply) as server, API(url=server.url, token="t") as api:
        with api.applications("a").devices("d").state_stream().get() as stream:
            assert isinstance(stream, EventStream)
            events = []
            with pytest.raises(NotFoundError):  # the body ended; resuming was refused
                for event in stream:
                    events.append(event)
        sent = server.requests[0]
        assert server.requests[1].header("Last-Event-ID") == "7"
    assert sent.target.startswith("/applications/a/devices/d/stateStream?_actions=false")
    assert sent.header("Authorization") == "Bearer t"
    # The last block has no blank line: the stream ended inside it, so it is discarded.
    assert [e.event for e in events] == ["deviceState", "deviceState"]
    assert events[0].json() == {"data": {"temperature": 21}}
    assert events[1].id == "7" and events[1].value.data == {"temperature": 22}
    assert stream.http_response().status_code == 200


def _event(ident: int, text: str) -> bytes:
    return f"id: {ident}\nevent: message\ndata: {text}\n\n".encode()


def test_a_dropped_stream_resumes_with_last_event_id_after_the_retry_delay() -> None:
    def script(request: object, index: int) -> Stream:
        if index == 0:  # two events, then the connection breaks mid-event
            return Stream(steps=[b"retry: 300\n\n", _event(1, "a"), _event(2, "b"),
                                 b"id: 3\ndata: cut"])
        if index == 1:  # a clean end of the body without any event: a drop too
            return Stream(steps=[b": hello\n\n"], chunked=False)
        return Stream(steps=[_event(3, "c")], hold=True)

    with SSEServer(script) as server, API(url=server.url, token="t") as api:
        stream = api.applications("a").devices("d").command_stream().get()
        seen, times = [], []
        for event in stream:
            seen.append((event.id, event.data))
            times.append(time.monotonic())
            if len(seen) == 3:
                stream.close()
        headers = [r.headers.get("last-event-id") for r in server.received]
        tokens = {r.headers.get("authorization") for r in server.received}
    assert seen == [("1", "a"), ("2", "b"), ("3", "c")]
    assert headers == [None, "2", "2"]
    assert tokens == {"Bearer t"}
    assert times[2] - times[1] >= 0.6  # two reconnections, each after retry: 300 ms
    assert stream.reconnects == 2 and stream.last_event_id == "3"


def test_reconnecting_renews_an_expired_token() -> None:
    def script(request: object, index: int) -> Stream:
        if index == 0:
            return Stream(steps=[b"retry: 10\n\n", _event(1, "a")])
        if index == 1:
            return Stream(status=401, headers={"Content-Type": "application/json"},
                          steps=[b'{"type":"Unauthorized","message":"expired"}'])
        return Stream(steps=[_event(2, "b")], hold=True)

    class Renew:
        def renew(self, pipeline: object) -> bool:
            api._pipeline.credentials.token = "fresh"
            return True

        def forget(self) -> None:
            return None

    with SSEServer(script) as server, API(url=server.url, token="old") as api:
        api._pipeline.credentials.install("old", Renew())
        stream = api.applications("a").devices("d").state_stream().get()
        data = []
        for event in stream:
            data.append(event.data)
            if len(data) == 2:
                stream.close()
        sent = [r.headers.get("authorization") for r in server.received]
    assert data == ["a", "b"]
    assert sent == ["Bearer old", "Bearer old", "Bearer fresh"]


@pytest.mark.parametrize(("status", "error"), [(403, ForbiddenError), (404, NotFoundError)])
def test_a_refused_reconnection_ends_the_stream_with_its_error(
    status: int, error: type[Exception]
) -> None:
    def script(request: object, index: int) -> Stream:
        if index == 0:
            return Stream(steps=[b"retry: 10\n\n", _event(1, "a")])
        return Stream(status=status, headers={"Content-Type": "application/json"},
                      steps=[b'{"type":"X","message":"no"}'])

    with SSEServer(script) as server, API(url=server.url, token="t") as api:
        stream = api.applications("a").devices("d").state_stream().get()
        seen = []
        with pytest.raises(error):
            for event in stream:
                seen.append(event.data)
        assert len(server.received) == 2
    assert seen == ["a"]


def test_it_gives_up_after_max_retries_connections_that_bring_nothing() -> None:
    def script(request: object, index: int) -> Stream:
        if index == 0:
            return Stream(steps=[b"retry: 10\n\n", _event(1, "a")], chunked=False)
        return Stream(steps=[], chunked=False)  # connects, then ends at once

    with SSEServer(script) as server, API(url=server.url, token="t", max_retries=2) as api:
        stream = api.applications("a").devices("d").state_stream().get()
        with pytest.raises(LosantConnectionError, match="could not be resumed"):
            for _ in stream:
                pass
        # The first connection, then max_retries + 1 reconnections that brought nothing.
        assert len(server.received) == 4


def test_server_errors_on_reconnection_are_retried_then_raised() -> None:
    def script(request: object, index: int) -> Stream:
        if index == 0:
            return Stream(steps=[b"retry: 10\n\n", _event(1, "a")], chunked=False)
        if index == 1:
            return Stream(status=503, headers={"Retry-After": "0"}, steps=[b""])
        return Stream(steps=[_event(2, "b")], hold=True)

    with SSEServer(script) as server, API(url=server.url, token="t") as api:
        stream = api.applications("a").devices("d").state_stream().get()
        data = []
        for event in stream:
            data.append(event.data)
            if len(data) == 2:
                stream.close()
    assert data == ["a", "b"]


def test_close_from_another_thread_ends_a_silent_stream_within_a_second() -> None:
    def script(request: object, index: int) -> Stream:
        return Stream(steps=[_event(1, "a")], hold=True)  # then silence

    with SSEServer(script) as server, API(url=server.url, token="t", timeout=30) as api:
        stream = api.applications("a").devices("d").state_stream().get()
        seen: list[str] = []
        ended = threading.Event()

        def consume() -> None:
            for event in stream:
                seen.append(event.data)
            ended.set()

        thread = threading.Thread(target=consume, daemon=True)
        thread.start()
        time.sleep(0.3)
        assert seen == ["a"] and not ended.is_set()
        started = time.monotonic()
        stream.close()
        assert ended.wait(1.0), "iteration did not end within a second of close()"
        assert time.monotonic() - started < 1.0
        assert server.finished.wait(2.0), "the connection was not closed"
        assert stream.closed and len(server.received) == 1


def test_close_during_the_retry_wait_ends_at_once() -> None:
    def script(request: object, index: int) -> Stream:
        return Stream(steps=[b"retry: 30000\n\n", _event(1, "a")], chunked=False)

    with SSEServer(script) as server, API(url=server.url, token="t") as api:
        stream = api.applications("a").devices("d").state_stream().get()
        iterator = iter(stream)
        assert next(iterator).data == "a"
        threading.Timer(0.2, stream.close).start()
        started = time.monotonic()
        assert list(iterator) == []
        assert time.monotonic() - started < 1.5
        assert len(server.received) == 1
