"""The emulator's event streams through the client: state, commands, MQTT (wildcards),
scopes, keep-alives, resumption, and streams ending with the emulator."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
import requests

from losant_fluent import API, ForbiddenError
from losant_fluent._streams import EventStream, ServerSentEvent
from losant_fluent.models import DeviceCommand, DeviceState, MqttPublishBody
from losant_fluent.testing import Emulator
from losant_fluent.testing._streams import topic_matches, valid_filter


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


def take(stream: EventStream, count: int, action: Callable[[], None],
         timeout: float = 5.0) -> list[ServerSentEvent]:
    """Run ``action`` once the stream is open, then collect ``count`` events."""
    timer = threading.Timer(timeout, stream.close)
    timer.start()
    sender = threading.Thread(target=action, daemon=True)
    sender.start()
    events: list[ServerSentEvent] = []
    try:
        for event in stream:
            events.append(event)
            if len(events) == count:
                break
    finally:
        timer.cancel()
        stream.close()
        sender.join(timeout)
    return events


def test_state_stream_emits_every_state_sent(emu: Emulator) -> None:
    api = API(url=emu.url, token=emu.user_token())
    device = api.applications(emu.application_id).devices(emu.device_id)
    stream = device.state_stream().get()

    def send() -> None:
        device.state().post({"data": {"temperature": 20}})
        device.state().post([{"data": {"temperature": 21}}, {"data": {"temperature": 22}}])

    events = take(stream, 3, send)
    assert [e.event for e in events] == ["deviceState"] * 3
    assert all(isinstance(e.value, DeviceState) for e in events)
    assert [e.value.data["temperature"] for e in events] == [20, 21, 22]
    assert events[0].value.time is not None
    ids = [int(e.id or 0) for e in events]
    assert ids == sorted(ids) and len(set(ids)) == 3


def test_command_stream_emits_commands_to_that_device_only(emu: Emulator) -> None:
    other = emu.seed_devices(1)[0]
    api = API(url=emu.url, token=emu.user_token())
    app = api.applications(emu.application_id)
    stream = app.devices(emu.device_id).command_stream().get()

    def send() -> None:
        app.devices(other).command().post({"name": "elsewhere"})
        app.devices(emu.device_id).command().post({"name": "reboot", "payload": {"in": 5}})
        app.devices().command().post({"name": "all", "deviceIds": [emu.device_id, other]})

    events = take(stream, 2, send)
    assert all(isinstance(e.value, DeviceCommand) for e in events)
    assert [(e.value.name, e.value.payload) for e in events] == [("reboot", {"in": 5}),
                                                               ("all", None)]


def test_a_device_token_streams_its_own_state_and_commands_only(emu: Emulator) -> None:
    device_api = API(url=emu.url, token=emu.device_token())
    app = device_api.applications(emu.application_id)
    mine = app.devices(emu.device_id)
    stream = mine.state_stream().get()
    events = take(stream, 1, lambda: mine.state().post({"data": {"temperature": 5}}))
    assert events[0].value.data == {"temperature": 5}
    mine.command_stream().get().close()
    other = emu.seed_devices(1)[0]
    with pytest.raises(ForbiddenError):
        app.devices(other).state_stream().get()
    with pytest.raises(ForbiddenError):
        app.mqtt_subscription_stream().get(topic="#")


def test_an_api_token_needs_the_stream_scope(emu: Emulator) -> None:
    user = API(url=emu.url, token=emu.user_token())
    app = user.applications(emu.application_id)
    allowed = app.tokens().post({"name": "s", "scope": ["device.stateStream"]})
    refused = app.tokens().post({"name": "r", "scope": ["device.get"]})
    device = emu.device_id
    API(url=emu.url, token=allowed.token).applications(emu.application_id).devices(
        device).state_stream().get().close()
    with pytest.raises(ForbiddenError):
        API(url=emu.url, token=refused.token).applications(emu.application_id).devices(
            device).state_stream().get()


@pytest.mark.parametrize(
    ("topic_filter", "expected"),
    [
        ("sensors/+/temp", ["sensors/a/temp", "sensors/b/temp"]),
        ("sensors/#", ["sensors", "sensors/a/temp", "sensors/a/hum", "sensors/b/temp"]),
        ("#", ["sensors", "sensors/a/temp", "sensors/a/hum", "sensors/b/temp", "other"]),
        ("sensors/a/hum", ["sensors/a/hum"]),
        ("+", ["sensors", "other"]),
    ],
)
def test_mqtt_stream_emits_messages_on_matching_topics(
    emu: Emulator, topic_filter: str, expected: list[str]
) -> None:
    api = API(url=emu.url, token=emu.user_token())
    app = api.applications(emu.application_id)
    stream = app.mqtt_subscription_stream().get(topic=topic_filter)
    published = ["sensors", "sensors/a/temp", "sensors/a/hum", "$SYS/x", "sensors/b/temp",
                 "other"]

    def send() -> None:
        for topic in published:
            app.mqtt_publish_message().post({"topic": topic, "message": f"m:{topic}"})
        app.mqtt_publish_message().post({"topic": "end/marker", "message": "end"})

    # Everything that matches arrives before the end marker's turn would have come.
    events = take(stream, len(expected), send)
    assert all(isinstance(e.value, MqttPublishBody) for e in events)
    assert [e.value.topic for e in events] == expected
    assert [e.value.message for e in events] == [f"m:{t}" for t in expected]


def test_mqtt_filters_and_topics_are_checked(emu: Emulator) -> None:
    api = API(url=emu.url, token=emu.user_token())
    app = api.applications(emu.application_id)
    for bad in ("a/#/b", "a+/b", "", "a/b#"):
        response = requests.get(f"{emu.url}/applications/{emu.application_id}/"
                                "mqttSubscriptionStream", params={"topic": bad},
                                headers={"Authorization": f"Bearer {emu.user_token()}"},
                                timeout=5)
        assert response.status_code == 400, bad
    from losant_fluent import BadRequestError

    with pytest.raises(BadRequestError):
        app.mqtt_publish_message().post({"topic": "a/+", "message": "x"}, validate=False)
    assert valid_filter("a/+/b/#") and not valid_filter("#/a")
    assert topic_matches("a/#", "a") and not topic_matches("a/+", "a")
    assert not topic_matches("+/x", "$SYS/x") and topic_matches("$SYS/+", "$SYS/x")


def test_keep_alive_comments_come_at_the_interval(emu: Emulator) -> None:
    response = requests.get(
        f"{emu.url}/applications/{emu.application_id}/devices/{emu.device_id}/stateStream",
        params={"keepAliveInterval": "0.1"}, stream=True, timeout=5,
        headers={"Authorization": f"Bearer {emu.user_token()}"},
    )
    assert response.headers["Content-Type"].startswith("text/event-stream")
    started, received = time.monotonic(), b""
    for chunk in response.iter_content(None):
        received += chunk
        if received.count(b": keep-alive\n\n") >= 3:
            break
    assert time.monotonic() - started < 2
    response.close()


def test_last_event_id_replays_what_was_missed(emu: Emulator) -> None:
    api = API(url=emu.url, token=emu.user_token())
    device = api.applications(emu.application_id).devices(emu.device_id)
    stream = device.state_stream().get()
    first = take(stream, 1, lambda: device.state().post({"data": {"temperature": 1}}))
    device.state().post({"data": {"temperature": 2}})  # while nobody listens
    device.state().post({"data": {"temperature": 3}})
    response = requests.get(
        f"{emu.url}/applications/{emu.application_id}/devices/{emu.device_id}/stateStream",
        headers={"Authorization": f"Bearer {emu.user_token()}", "Last-Event-ID": first[0].id
                 or ""}, stream=True, timeout=5)
    received = b""
    for chunk in response.iter_content(None):
        received += chunk
        if received.count(b"event: deviceState") >= 2:
            break
    response.close()
    assert b'"temperature":2' in received and b'"temperature":3' in received


def test_streams_do_not_block_other_requests_and_end_when_the_emulator_stops() -> None:
    emu = Emulator().start()
    api = API(url=emu.url, token=emu.user_token())
    app = api.applications(emu.application_id)
    streams = [app.devices(emu.device_id).state_stream().get() for _ in range(5)]
    assert app.get().id == emu.application_id  # still answering
    ended = threading.Event()

    def drain() -> None:
        try:
            for _ in streams[0]:
                pass
        except Exception:  # noqa: BLE001 - reconnecting to a stopped emulator fails
            pass
        ended.set()

    threading.Thread(target=drain, daemon=True).start()
    started = time.monotonic()
    emu.stop()
    assert time.monotonic() - started < 5
    for stream in streams:
        stream.close()
    assert ended.wait(5)


def test_reset_ends_open_streams(emu: Emulator) -> None:
    api = API(url=emu.url, token=emu.user_token(), max_retries=0)
    stream = api.applications(emu.application_id).devices(emu.device_id).state_stream().get()
    threading.Timer(0.2, emu.reset).start()
    with pytest.raises(Exception):  # noqa: B017 - the old token is gone after the reset
        for _ in stream:
            pass


def test_streams_in_process_answer_501() -> None:
    from losant_fluent import APIError
    from losant_fluent.transports import WSGITransport

    emu = Emulator()
    api = API(url="http://127.0.0.1", token=emu.user_token(), transport=WSGITransport(emu.app))
    with pytest.raises(APIError) as caught:
        api.applications(emu.application_id).devices(emu.device_id).state_stream().get()
    assert caught.value.status == 501
