"""Server-Sent-Event endpoints return an EventStream that yields events as they arrive."""

from __future__ import annotations

from wire_server import Recorded, RecordingServer

from losant_fluent import API
from losant_fluent._streams import EventStream

BODY = (
    b": keep-alive comment\n\n"
    b"event: deviceState\ndata: {\"data\": {\"temperature\": 21}}\n\n"
    b"event: deviceState\nid: 7\ndata: {\"data\":\ndata:  {\"temperature\": 22}}\n\n"
    b"data: last\n"
)


def _reply(_: Recorded) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "text/event-stream"}, BODY


def test_state_stream_yields_parsed_events() -> None:
    with RecordingServer(_reply) as server, API(url=server.url, token="t") as api:
        with api.applications("a").devices("d").state_stream().get() as stream:
            assert isinstance(stream, EventStream)
            events = list(stream)
        sent = server.last
    assert sent.target.startswith("/applications/a/devices/d/stateStream?_actions=false")
    assert sent.header("Authorization") == "Bearer t"
    assert [e.event for e in events] == ["deviceState", "deviceState", "message"]
    assert events[0].json() == {"data": {"temperature": 21}}
    assert events[1].id == "7" and events[1].json() == {"data": {"temperature": 22}}
    assert events[2].data == "last"
    assert stream.http_response().status_code == 200
