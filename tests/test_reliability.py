"""Issue 20: the client against servers that misbehave on purpose, all on 127.0.0.1.

Deadlines (slow headers, trickled bodies), walks that cycle, secrets echoed back, SSE
events that are huge or carry odd ids, odd answers (204, deep nesting), downloads onto
special files, strict scalars in bodies, and one exception family whatever goes wrong.
Each test counts requests, pages or elapsed time against generous bounds.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import pickle
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fault_server import Action, FaultServer, Received, raw, reply

import losant_fluent as lf
from losant_fluent import API

APP = "5f0c7e6b1a2b3c4d5e6f7a8b"
DEVICE = "5f0c7e6b1a2b3c4d5e6f7a8c"


class SlowHeadServer:
    """Answers every request by sending its status line and headers one byte per ``pace`` s."""

    def __init__(self, pace: float, body: bytes = b"{}") -> None:
        self.pace = pace
        self.body = body
        self.requests = 0
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                self.requests += 1
                head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        f"X-Padding: {'x' * 40}\r\nContent-Length: {len(self.body)}\r\n\r\n")
                for byte in head.encode():
                    if self._stop.is_set():
                        return
                    conn.sendall(bytes([byte]))
                    time.sleep(self.pace)
                conn.sendall(self.body)
            except OSError:
                return

    def close(self) -> None:
        self._stop.set()
        self._sock.close()


@pytest.fixture
def slow_head() -> Iterator[SlowHeadServer]:
    server = SlowHeadServer(pace=0.1)
    yield server
    server.close()


# -- timeout is one deadline ---------------------------------------------------------------------

def test_slow_headers_stop_at_the_deadline(slow_head: SlowHeadServer) -> None:
    api = API(url=slow_head.url, token="t", timeout=1.0, max_retries=0)
    started = time.monotonic()
    with pytest.raises(lf.LosantTimeoutError, match="within 1.0 s") as caught:
        api.applications(APP).get()
    elapsed = time.monotonic() - started
    # The headers alone take over 9 s to trickle in; each byte comes well within 1 s.
    assert 0.9 < elapsed < 4.0
    assert caught.value.may_have_been_received
    assert slow_head.requests == 1  # a GET timeout is the caller's deadline: not retried


def test_slow_headers_async_stop_at_the_deadline(slow_head: SlowHeadServer) -> None:
    async def main() -> float:
        async with lf.AsyncAPI(url=slow_head.url, token="t", timeout=1.0, max_retries=0) as api:
            started = time.monotonic()
            with pytest.raises(lf.LosantTimeoutError):
                await api.applications(APP).get()
            return time.monotonic() - started

    assert 0.9 < asyncio.run(main()) < 4.0


def test_trickled_body_stops_at_the_deadline() -> None:
    body = b'{"id": "' + b"a" * 60 + b'"}'
    with FaultServer(lambda r, i: Action(200, body, {"Content-Type": "application/json"},
                                         kind="trickle", delay=0.05)) as server:
        api = API(url=server.url, token="t", timeout=1.0, max_retries=0)
        started = time.monotonic()
        with pytest.raises(lf.LosantTimeoutError):
            api.applications(APP).get()
        assert time.monotonic() - started < 3.0


def test_a_fast_answer_after_a_slow_one_is_untouched(slow_head: SlowHeadServer) -> None:
    """The watchdog shuts only the late call's socket; the pool goes on working."""
    with FaultServer(lambda r, i: reply(200, {"id": APP, "name": "x"})) as fast:
        api = API(url=fast.url, token="t", timeout=1.0)
        for _ in range(20):
            assert api.applications(APP).get().name == "x"
        assert fast.connections == 1  # one kept-alive connection, never shut


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), 0, -1.0, float("-inf")])
def test_timeouts_that_cannot_work_are_refused_at_construction(bad: float) -> None:
    with pytest.raises(ValueError, match="timeout"):
        API(url="http://127.0.0.1:9", timeout=bad)
    with pytest.raises(ValueError, match="timeout"):
        lf.AsyncAPI(url="http://127.0.0.1:9", timeout=bad)
    with pytest.raises(ValueError, match="timeout"):
        API(url="http://127.0.0.1:9").with_options(timeout=bad)


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), -1.0])
def test_max_retry_wait_must_be_finite(bad: float) -> None:
    with pytest.raises(ValueError, match="max_retry_wait"):
        API(url="http://127.0.0.1:9", max_retry_wait=bad)


def test_a_timeout_that_is_not_a_number_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="timeout"):
        API(url="http://127.0.0.1:9", timeout="5")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="timeout"):
        API(url="http://127.0.0.1:9", timeout=True)


# -- one AsyncAPI, several event loops ----------------------------------------------------------

def test_one_async_api_from_several_event_loops() -> None:
    with FaultServer(lambda r, i: reply(200, {"id": APP, "name": f"n{i}"})) as server:
        api = lf.AsyncAPI(url=server.url, token="t", timeout=5)

        async def call() -> str:
            return (await api.applications(APP).get()).name

        names = [asyncio.run(call()) for _ in range(3)]  # each run closes its loop
        asyncio.run(api.aclose())
    assert names == ["n0", "n1", "n2"]
    assert len(server.received) == 3


def test_a_given_httpx_client_on_a_new_loop_says_what_to_do() -> None:
    import httpx

    with FaultServer(lambda r, i: reply(200, {"id": APP, "name": "x"})) as server:
        api = lf.AsyncAPI(url=server.url, token="t", client=httpx.AsyncClient())

        async def call() -> str:
            return (await api.applications(APP).get()).name

        assert asyncio.run(call()) == "x"
        with pytest.raises(lf.LosantError, match="inside the event loop"):
            asyncio.run(call())


# -- walks never loop --------------------------------------------------------------------------

INSTANCE = "9" * 24


def _sandboxes(*numbers: int) -> list[dict[str, str]]:
    return [{"id": f"{n:024x}", "instanceSandboxId": f"{n:024x}"} for n in numbers]


def _cycling_cursor(request: Received, index: int) -> Action:
    """A → B → A → B ...: the page after B's last id is A again, hasMore always true."""
    after = request.query.get("startingAfterId")
    items = _sandboxes(3, 4) if after == f"{2:024x}" else _sandboxes(1, 2)
    return reply(200, {"items": items, "count": 2, "hasMore": True})


def _alternating_pages(request: Received, index: int) -> Action:
    """Page-style without totalCount: full pages alternating A, B, A, B..."""
    page = int(request.query.get("page", "0"))
    base = 1 if page % 2 == 0 else 3
    devices = [{"id": f"{n:024x}", "deviceId": f"{n:024x}", "name": "d"}
               for n in (base, base + 1)]
    return reply(200, {"items": devices, "count": 2, "perPage": 2, "page": page})


def _alternating_rows(request: Received, index: int) -> Action:
    """Offset-style rows without ids and without totalCount: A, B, A, B..."""
    offset = int(request.query.get("offset", "0"))
    value = (offset // 2) % 2
    return reply(200, {"items": [{"n": value}, {"n": value + 10}], "count": 2, "limit": 2,
                       "offset": offset})


def test_a_cursor_that_comes_back_ends_the_walk() -> None:
    with FaultServer(_cycling_cursor) as server:
        api = API(url=server.url, token="t")
        first = api.instances(INSTANCE).sandboxes().get(limit=2)
        with pytest.raises(lf.InvalidResponseError, match="loop|repeats") as caught:
            list(first)
        assert caught.value.page_number is not None and caught.value.page_number <= 2
        assert len(server.received) <= 3  # A, B, then A again at most


def test_alternating_pages_without_total_count_end_the_walk() -> None:
    with FaultServer(_alternating_pages) as server:
        api = API(url=server.url, token="t")
        first = api.applications(APP).devices().get(perPage=2)
        with pytest.raises(lf.InvalidResponseError, match="repeats an earlier page") as caught:
            for _ in first.pages():
                pass
        assert caught.value.page_number == 2
        assert len(server.received) == 3


@pytest.mark.parametrize("raw_items", [True, False])
def test_alternating_pages_of_items_without_ids_end_the_walk(raw_items: bool) -> None:
    table = "7" * 24
    with FaultServer(_alternating_rows) as server:
        api = API(url=server.url, token="t")
        first = api.applications(APP).data_tables(table).rows().get(limit=2)
        with pytest.raises(lf.InvalidResponseError, match="repeats"):
            list(first.iter_items(raw=raw_items))
        assert len(server.received) == 3


def test_async_walks_never_loop() -> None:
    with FaultServer(_cycling_cursor) as server:
        async def main() -> None:
            async with lf.AsyncAPI(url=server.url, token="t") as api:
                with pytest.raises(lf.InvalidResponseError):
                    async for _ in api.instances(INSTANCE).sandboxes().get(limit=2):
                        pass

        asyncio.run(main())
        assert len(server.received) <= 3


def test_the_guard_remembers_a_bounded_digest_per_page() -> None:
    from losant_fluent._seen import MAX_REMEMBERED, Seen

    seen = Seen()
    for number in range(MAX_REMEMBERED + 10):
        seen.add_page(number)
    assert seen.page_seen(5) and not seen.page_seen(MAX_REMEMBERED + 5)
    assert len(seen._pages) == MAX_REMEMBERED


# -- secrets scrubbed everywhere ---------------------------------------------------------------

TOKEN = "tok-3f9a7c1e5b2d4860aa11"
API_KEY = "key-77c3e1d2b4a59f60"
PASSWORD = "hunter2-correct-horse"
REFRESH = "refresh-0a9b8c7d6e5f4321"
CLIENT_SECRET = "client-secret-5566778899"


def _echo_request(status: int) -> Callable[[Received, int], Action]:
    """A server (or proxy) that echoes the whole request back in its error text."""

    def script(request: Received, index: int) -> Action:
        echoed = f"{request.method} {request.target} {request.headers} {request.body!r}"
        return reply(status, {"type": "Echo", "message": echoed,
                              "request": {"headers": request.headers,
                                          "body": request.body.decode("latin-1")}},
                     headers={"X-Echo": request.headers.get("authorization", "")})
    return script


def _texts_of(error: BaseException) -> list[str]:
    """Every text a user may print, log or ship somewhere from an error."""
    texts = [str(error), repr(error), str(pickle.dumps(error)),
             str(pickle.loads(pickle.dumps(error))), repr(error.args)]
    for name in ("message", "body", "description"):
        texts.append(repr(getattr(error, name, None)))
    response = error.http_response() if isinstance(error, lf.LosantError) else None
    if response is not None:
        texts += [response.text, repr(dict(response.headers))]
        if response.request is not None:  # what was sent, kept on the answer
            sent = response.request
            texts += [repr(dict(sent.headers or {})), repr(getattr(sent, "body", None)),
                      repr(getattr(sent, "data", None))]
    return texts


def _assert_clean(texts: list[str], *secrets: str) -> None:
    from urllib.parse import quote

    for text in texts:
        for secret in secrets:
            assert secret not in text and quote(secret, safe="") not in text, text


@pytest.mark.parametrize("status", [400, 401, 403, 500])
def test_echoed_token_and_api_key_are_scrubbed(status: int,
                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="losant_fluent")
    with FaultServer(_echo_request(status)) as server:
        api = API(url=server.url, token=TOKEN, headers={"X-Api-Key": API_KEY}, max_retries=1)
        with pytest.raises(lf.APIError) as caught:
            api.applications(APP).patch({"name": "x"})
        assert server.received[0].headers["x-api-key"] == API_KEY  # it was sent
        assert server.received[0].headers["authorization"] == f"Bearer {TOKEN}"
    texts = _texts_of(caught.value)
    assert any("***" in text for text in texts)  # the echo is there, masked
    _assert_clean(texts + [caplog.text], TOKEN, API_KEY)
    logging.getLogger("losant_fluent").debug("echo %s", TOKEN)  # even our own log lines
    _assert_clean([caplog.text], TOKEN)


def test_echoed_device_secret_and_password_are_scrubbed() -> None:
    with FaultServer(_echo_request(401)) as server:
        api = API(url=server.url)
        with pytest.raises(lf.APIError) as caught:
            api.login_device(DEVICE, API_KEY, PASSWORD)
        with pytest.raises(lf.APIError) as caught_user:
            api.login_user("me@example.com", PASSWORD + "-user")
    _assert_clean(_texts_of(caught.value), API_KEY, PASSWORD)
    _assert_clean(_texts_of(caught_user.value), PASSWORD + "-user")


def test_echoed_refresh_token_and_client_secret_are_scrubbed() -> None:
    def script(request: Received, index: int) -> Action:
        if request.path == "/token":  # the refresh: echo its form body (refresh token, secret)
            return reply(400, {"error": "invalid_grant",
                               "error_description": request.body.decode() + " " +
                               request.headers.get("authorization", "")})
        return reply(401, {"type": "Unauthorized", "message": "expired"})

    with FaultServer(script) as server:
        api = API(url=server.url)
        api.oauth2("client-1", f"{server.url}/authorize", f"{server.url}/token",
                   "http://127.0.0.1/cb", client_secret=CLIENT_SECRET,
                   token={"access_token": TOKEN + "-oauth", "refresh_token": REFRESH})
        with pytest.raises(lf.LosantError) as caught:
            api.applications(APP).get()
        assert any(REFRESH in r.body.decode() for r in server.received)  # it was sent
    _assert_clean(_texts_of(caught.value), REFRESH, CLIENT_SECRET, TOKEN + "-oauth")


@pytest.mark.parametrize("bad", [TOKEN + "\n", " " + TOKEN, TOKEN + "\r\nX-Evil: 1",
                                 TOKEN + "\t"])
def test_a_token_with_whitespace_is_refused_without_showing_it(bad: str) -> None:
    with pytest.raises(ValueError, match="token") as caught:
        API(url="http://127.0.0.1:9", token=bad)
    assert TOKEN not in str(caught.value)
    with pytest.raises(ValueError, match="token") as caught:
        API(url="http://127.0.0.1:9").set_token(bad)
    assert TOKEN not in str(caught.value)


def test_secret_headers_and_device_keys_with_whitespace_are_refused() -> None:
    with pytest.raises(ValueError, match="X-Api-Key") as caught:
        API(url="http://127.0.0.1:9", headers={"X-Api-Key": API_KEY + "\n"})
    assert API_KEY not in str(caught.value)
    with FaultServer(lambda r, i: reply(200, {})) as server:
        with pytest.raises(ValueError, match="secret") as caught:
            API(url=server.url).login_device(DEVICE, API_KEY, PASSWORD + "\n")
        assert PASSWORD not in str(caught.value)
        assert server.received == []  # refused before sending


# -- streams in linear time, capped, with ids that round-trip or are dropped ---------------------

def test_an_8_mb_event_parses_in_linear_time() -> None:
    from losant_fluent._sse import EventParser

    payload = b"data: " + b"x" * (8 * 1024 * 1024) + b"\n\n"
    parser = EventParser()
    events = []
    started = time.monotonic()
    for at in range(0, len(payload), 65536):
        events += parser.feed(payload[at:at + 65536])
    elapsed = time.monotonic() - started
    assert len(events) == 1 and len(events[0].data) == 8 * 1024 * 1024
    assert elapsed < 4.0  # the old parser: about 16 s (benchmarks/bench_streams.py)


def test_an_event_over_the_cap_ends_the_stream_naming_it() -> None:
    from sse_server import SSEServer, Stream

    big = b"data: " + b"y" * 5000 + b"\n\n"

    def script(request: Received, index: int) -> Stream:
        return Stream(steps=[b"data: small\n\n", big[:3000], big[3000:]], hold=True)

    with SSEServer(script) as server, API(url=server.url, token="t") as api:
        stream = api.applications(APP).devices(DEVICE).state_stream().get()
        assert stream.max_event_size == 16 * 1024 * 1024
        stream.max_event_size = 4096
        seen = []
        with pytest.raises(lf.LosantError, match=r"max_event_size \(4096 bytes\)"):
            for event in stream:
                seen.append(event.data)
        stream.close()
        assert seen == ["small"] and len(server.received) == 1  # no reconnection loop
    with pytest.raises(ValueError, match="max_event_size"):
        stream.max_event_size = 0


def test_unusable_event_ids_are_dropped_and_the_last_good_one_is_sent_back() -> None:
    from sse_server import SSEServer, Stream

    def script(request: Received, index: int) -> Stream:
        if index == 0:
            return Stream(steps=["retry: 10\n\nid: good-1\ndata: a\n\n"
                                 "id: caf\u00e9\u2713\ndata: b\n\n"
                                 "id:   spaced  \ndata: c\n\n".encode()])
        return Stream(steps=[b"data: d\n\n"], hold=True)

    with SSEServer(script) as server, API(url=server.url, token="t") as api:
        stream = api.applications(APP).devices(DEVICE).state_stream().get()
        seen = []
        with pytest.warns(RuntimeWarning, match="Last-Event-ID"):
            for event in stream:
                seen.append((event.id, event.data))
                if len(seen) == 4:
                    stream.close()
        resumed = [r.headers.get("last-event-id") for r in server.received]
    assert seen == [("good-1", "a"), ("good-1", "b"), ("good-1", "c"), ("good-1", "d")]
    assert resumed == [None, "good-1"]


def test_a_latin1_id_round_trips_on_reconnect() -> None:
    from sse_server import SSEServer, Stream

    def script(request: Received, index: int) -> Stream:
        if index == 0:
            return Stream(steps=["retry: 10\n\nid: caf\u00e9-7\ndata: a\n\n".encode()])
        return Stream(steps=[b"data: b\n\n"], hold=True)

    with SSEServer(script) as server, API(url=server.url, token="t") as api:
        stream = api.applications(APP).devices(DEVICE).state_stream().get()
        for event in stream:
            if event.data == "b":
                stream.close()
        resumed = [r.headers.get("last-event-id") for r in server.received]
    assert resumed == [None, "caf\u00e9-7"]  # the server reads the header as Latin-1


# -- downloads write only files ------------------------------------------------------------------

def _file_host(content: bytes, **action: Any) -> FaultServer:
    return FaultServer(lambda r, i: Action(200, content,
                                           {"Content-Type": "application/octet-stream"},
                                           **action))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_download_refuses_a_fifo_and_a_device(tmp_path: Any) -> None:
    from losant_fluent.models import File as FileModel

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with _file_host(b"payload") as host:
        api = API(url="http://127.0.0.1:9")
        item = FileModel.model_validate({"name": "f.bin", "url": f"{host.url}/f.bin"})
        for dest in (fifo, "/dev/null"):
            with pytest.raises(FileExistsError, match="dest .* not a regular file"):
                item.download(dest, api=api)
        assert host.received == []  # refused before anything was sent
        assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")
        assert stat.S_ISFIFO(os.stat(fifo).st_mode)
        with open("/dev/null", "wb") as sink:  # the documented way: a file object
            assert item.download(sink, api=api) == len(b"payload")
        assert not list(tmp_path.glob("*.part"))


def test_an_explicit_download_timeout_bounds_the_whole_transfer(tmp_path: Any) -> None:
    from losant_fluent.models import File as FileModel

    with _file_host(b"z" * 100, kind="trickle", delay=0.05) as host:  # 5 s in all
        api = API(url="http://127.0.0.1:9")
        item = FileModel.model_validate({"name": "f.bin", "url": f"{host.url}/f.bin"})
        started = time.monotonic()
        with pytest.raises(lf.LosantTimeoutError, match="did not finish within 1.0 s"):
            item.download(tmp_path, api=api, timeout=1.0)
        assert time.monotonic() - started < 3.5
        assert not (tmp_path / "f.bin").exists() and not list(tmp_path.glob("*.part"))
        assert len(host.received) == 1


def test_an_explicit_download_timeout_bounds_the_async_transfer(tmp_path: Any) -> None:
    from losant_fluent.models import File as FileModel

    with _file_host(b"z" * 100, kind="trickle", delay=0.05) as host:
        async def main() -> None:
            async with lf.AsyncAPI(url="http://127.0.0.1:9") as api:
                item = FileModel.model_validate({"name": "f.bin", "url": f"{host.url}/f.bin"})
                with pytest.raises(lf.LosantTimeoutError):
                    await item.adownload(tmp_path, api=api, timeout=1.0)

        started = time.monotonic()
        asyncio.run(main())
        assert time.monotonic() - started < 3.5


# -- strict scalars in bodies --------------------------------------------------------------------

@pytest.mark.parametrize(("body", "where", "wanted"), [
    ({"archiveConfig": {"delayDays": True}}, "archiveConfig.delayDays", "an integer, not true"),
    ({"archiveConfig": {"delayDays": "5"}}, "archiveConfig.delayDays", "an integer, not '5'"),
    ({"blobUrlTTL": False}, "blobUrlTTL", "a number, not false"),
    ({"blobUrlTTL": "3600"}, "blobUrlTTL", "a number, not '3600'"),
])
def test_bools_and_numeric_strings_are_refused_where_numbers_are_wanted(
    body: dict[str, Any], where: str, wanted: str
) -> None:
    with FaultServer(lambda r, i: reply(200, {"id": APP, "name": "x"})) as server:
        api = API(url=server.url, token="t")
        with pytest.raises(lf.BodyValidationError) as caught:
            api.applications(APP).patch(body)
        assert (where, f"must be {wanted}") in caught.value.errors
        assert server.received == []  # nothing was sent
        # real numbers still pass, and validate=False still sends anything
        api.applications(APP).patch({"archiveConfig": {"delayDays": 5}, "blobUrlTTL": 3600})
        api.with_options(validate=False).applications(APP).patch(body)
        assert len(server.received) == 2


# -- clear answers to odd answers ----------------------------------------------------------------

def _deep(levels: int) -> bytes:
    return b'{"name": ' + b"[" * levels + b"]" * levels + b"}"


def test_a_204_where_json_is_documented_is_an_invalid_response() -> None:
    with FaultServer(lambda r, i: Action(204, b"", {})) as server:
        api = API(url=server.url, token="t")
        with pytest.raises(lf.InvalidResponseError, match="204 with an empty body"):
            api.applications(APP).get()
        assert len(server.received) == 1  # not retried


def test_answers_nested_thousands_deep_are_losant_errors() -> None:
    def script(request: Received, index: int) -> Action:
        status = 400 if request.method == "PATCH" else 200
        return Action(status, _deep(50_000), {"Content-Type": "application/json"})

    with FaultServer(script) as server:
        api = API(url=server.url, token="t")
        with pytest.raises(lf.InvalidResponseError, match="not JSON"):
            api.applications(APP).get()
        with pytest.raises(lf.BadRequestError) as caught:
            api.applications(APP).patch({"name": "x"})
        assert caught.value.body is None  # its text is kept as the message excerpt


def test_a_body_nested_thousands_deep_is_refused_before_sending() -> None:
    body: Any = {"name": "x"}
    for _ in range(50_000):
        body = {"a": body}
    with FaultServer(lambda r, i: reply(200, {})) as server:
        api = API(url=server.url, token="t")
        for client in (api, api.with_options(validate=False)):
            with pytest.raises(ValueError, match="nested too deeply"):
                client.applications(APP).devices().post(body)
        assert server.received == []


# -- one exception family ------------------------------------------------------------------------

class RawServer:
    """Answers every request with the same raw bytes, then closes the connection."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.requests = 0
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.recv(65536)
                    self.requests += 1
                    conn.sendall(self.answer)
                except OSError:
                    pass

    def close(self) -> None:
        self._sock.close()


_JSON = {"Content-Type": "application/json"}
BROKEN: dict[str, Callable[[Received, int], Action]] = {
    "reset": lambda r, i: Action(kind="reset"),
    "drop": lambda r, i: Action(kind="drop"),
    "truncated": lambda r, i: Action(200, b'{"id": "abcdef"}', _JSON, kind="truncate"),
    "html 200": lambda r, i: raw(200, b"<html>proxy</html>"),
    "html 502": lambda r, i: raw(502, b"<html>bad gateway</html>"),
    "empty 200": lambda r, i: Action(200, b"", _JSON),
    "204": lambda r, i: Action(204, b"", {}),
    "deep 200": lambda r, i: Action(200, _deep(50_000), _JSON),
    "deep 500": lambda r, i: Action(500, _deep(50_000), _JSON),
    "list for object": lambda r, i: reply(200, [1, 2, 3]),
    "huge retry-after": lambda r, i: reply(429, {}, {"Retry-After": "1e300"}),
    "nan retry-after": lambda r, i: reply(503, {}, {"Retry-After": "nan"}),
    "odd retry-after": lambda r, i: reply(503, {}, {"Retry-After": "Thu, 99 Foo"}),
    "redirect": lambda r, i: reply(302, {}, {"Location": "http://127.0.0.1:9/x"}),
    "status 999": lambda r, i: reply(999, {"message": "?"}),
    "bad gzip": lambda r, i: Action(200, b"not gzip at all", {**_JSON,
                                                             "Content-Encoding": "gzip"}),
    "slow": lambda r, i: reply(200, {}, delay=3.0),
    "bad utf-8": lambda r, i: Action(400, b'{"message": "\xff\xfe"}', _JSON),
}
RAW_ANSWERS = {
    "garbage status line": b"HELLO WORLD\r\n\r\n",
    "no headers end": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n",
    "bad content-length": b"HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\n{}",
    "non-latin-1 header": "HTTP/1.1 200 OK\r\nX-\u2603: \u2603\r\nContent-Length: 2\r\n\r\n{}"
                          .encode(),
    "http/0.9": b"{}",
}


def _only_losant_errors(call: Callable[[], Any]) -> type[BaseException] | None:
    try:
        call()
    except lf.LosantError as exc:
        return type(exc)
    return None


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_servers_raise_only_losant_errors(name: str) -> None:
    with FaultServer(BROKEN[name]) as server:
        api = API(url=server.url, token="t", timeout=1.0, max_retries=1, max_retry_wait=0.5)
        for call in (lambda: api.applications(APP).get(),
                     lambda: api.applications(APP).patch({"name": "x"}),
                     lambda: list(api.applications(APP).devices().get())):
            _only_losant_errors(call)  # anything else fails the test
        assert len(server.received) >= 1

        async def main() -> None:
            async with lf.AsyncAPI(url=server.url, token="t", timeout=1.0, max_retries=1,
                                   max_retry_wait=0.5) as aapi:
                try:
                    await aapi.applications(APP).get()
                except lf.LosantError:
                    pass

        asyncio.run(main())


@pytest.mark.parametrize("name", sorted(RAW_ANSWERS))
def test_malformed_http_raises_only_losant_errors(name: str) -> None:
    server = RawServer(RAW_ANSWERS[name])
    try:
        api = API(url=server.url, token="t", timeout=1.0, max_retries=0)
        _only_losant_errors(lambda: api.applications(APP).get())

        async def main() -> None:
            async with lf.AsyncAPI(url=server.url, token="t", timeout=1.0,
                                   max_retries=0) as aapi:
                try:
                    await aapi.applications(APP).get()
                except lf.LosantError:
                    pass

        asyncio.run(main())
        assert server.requests >= 1
    finally:
        server.close()


BAD_ARGUMENTS: dict[str, Callable[[API], Any]] = {
    "nan in body": lambda api: api.applications(APP).patch({"name": float("nan")}),
    "bytes in body": lambda api: api.applications(APP).patch({"name": b"x"}),
    "set in body": lambda api: api.applications(APP).patch({"name": {1}}),
    "object in body": lambda api: api.applications(APP).patch({"name": object()}),
    "self-containing body": lambda api: api.applications(APP).patch(_loop_body()),
    "unknown keyword": lambda api: api.applications(APP).get(nonsense=1),
    "newline header": lambda api: api.with_options(headers={"X-A": "a\r\nb"}),
    "bad header name": lambda api: api.with_options(headers={"X A": "b"}),
    "inf timeout": lambda api: api.with_options(timeout=float("inf")),
    "headers not a mapping": lambda api: api.with_options(headers=5),  # type: ignore[arg-type]
    "validate not a bool": lambda api: api.with_options(validate="no"),  # type: ignore[arg-type]
    "pool size 0": lambda api: API(url=api.url, pool_size=0),
    "inf verb timeout": lambda api: api.applications(APP).get(timeout=float("inf")),
    "text verb timeout": lambda api: api.applications(APP).get(timeout="5"),
    "negative retries": lambda api: api.with_options(max_retries=-1),
    "token with newline": lambda api: api.set_token("abc\n"),
    "token not text": lambda api: api.set_token(5),  # type: ignore[arg-type]
    "negative max_items": lambda api: api.applications(APP).devices().get().iter_items(
        max_items=-1),
}


def _loop_body() -> dict[str, Any]:
    body: dict[str, Any] = {"name": "x"}
    body["self"] = body
    return body


@pytest.mark.parametrize("name", sorted(BAD_ARGUMENTS))
def test_bad_arguments_raise_type_or_value_errors_before_sending(name: str) -> None:
    with FaultServer(lambda r, i: reply(200, {"items": [], "count": 0})) as server:
        api = API(url=server.url, token="t")
        before = 1 if name == "negative max_items" else 0
        with pytest.raises((TypeError, ValueError)):
            BAD_ARGUMENTS[name](api)
        assert len(server.received) == before


def test_echoed_signed_upload_fields_are_scrubbed() -> None:
    from losant_fluent.models import FileUploadPostResponse

    policy, signature = "POLICY-eyJleHBpcmF0aW9uIjo", "SIG-0f1e2d3c4b5a69788796"

    def storage(request: Received, index: int) -> Action:  # S3-like: echoes the form
        return raw(403, b"<Error><Request>" + request.body + b"</Request></Error>",
                   "application/xml")

    with FaultServer(storage) as host:
        made = FileUploadPostResponse.model_validate({"name": "a.bin", "upload": {
            "url": f"{host.url}/bucket", "fields": {
                "key": "files/a.bin", "Policy": policy, "X-Amz-Signature": signature}}})
        with pytest.raises(lf.ForbiddenError) as caught:
            made.upload_file(b"data", api=API(url="http://127.0.0.1:9"))
        assert policy.encode() in host.received[0].body  # it was sent
    texts = _texts_of(caught.value)
    assert any("files/a.bin" in text for text in texts)  # the rest of the echo is kept
    _assert_clean(texts, policy, signature)


def test_an_own_session_gets_the_deadline_too(slow_head: SlowHeadServer) -> None:
    import requests

    api = API(url=slow_head.url, token="t", timeout=1.0, max_retries=0,
              session=requests.Session())
    started = time.monotonic()
    with pytest.raises(lf.LosantTimeoutError):
        api.applications(APP).get()
    assert time.monotonic() - started < 4.0


_BROKEN_STREAMS: dict[str, list[bytes | float]] = {
    "invalid utf-8": [b"data: \xff\xfe\xfd\n\n"],
    "nul and control bytes": [b"id: a\x00b\ndata: \x00\x01\n\n"],
    "huge retry": [b"retry: 99999999999999999999999\ndata: x\n\n"],
    "only carriage returns": [b"data: a\r\rdata: b\r\r"],
    "bom split": [b"\xef", b"\xbb", b"\xbfdata: a\n\n"],
    "odd fields": [b"\xff\xff: x\n:\n\n\n\n\ndata\n\n"],
}


@pytest.mark.parametrize("name", sorted(_BROKEN_STREAMS))
def test_odd_streams_end_only_with_losant_errors(name: str) -> None:
    from sse_server import SSEServer, Stream

    def script(request: Received, index: int) -> Stream:
        return Stream(steps=[*_BROKEN_STREAMS[name], b"data: end\n\n"], hold=True)

    with SSEServer(script) as server, API(url=server.url, token="t", max_retries=0) as api:
        stream = api.applications(APP).devices(DEVICE).state_stream().get()
        seen = []
        for event in stream:  # anything but a LosantError fails the test
            seen.append(event.data)
            if event.data == "end":
                stream.close()
        assert seen[-1:] == ["end"] and len(server.received) == 1
        assert stream.retry <= 3600  # a server's retry: is capped at an hour


@pytest.mark.parametrize("value", ["\u2603", "a\r\nX-Evil: 1", " padded", "nul\0"])
def test_headers_http_cannot_carry_are_value_errors_before_sending(value: str) -> None:
    with FaultServer(lambda r, i: reply(200, {})) as server:
        api = API(url=server.url, token="t")
        with pytest.raises(ValueError, match="X-Name"):
            api.at("applications", APP).get(headers={"X-Name": value})

        async def main() -> None:
            async with lf.AsyncAPI(url=server.url, token="t") as aapi:
                with pytest.raises(ValueError, match="X-Name"):
                    await aapi.at("applications", APP).get(headers={"X-Name": value})

        asyncio.run(main())
        assert server.received == []


def test_latin1_headers_go_out_alike_from_both_clients() -> None:
    with FaultServer(lambda r, i: reply(200, {})) as server:
        API(url=server.url).at("applications", APP).get(headers={"X-Name": "caf\u00e9"})

        async def main() -> None:
            async with lf.AsyncAPI(url=server.url) as aapi:
                await aapi.at("applications", APP).get(headers={"X-Name": "caf\u00e9"})

        asyncio.run(main())
    assert [r.headers["x-name"] for r in server.received] == ["caf\u00e9", "caf\u00e9"]


def test_a_token_from_the_environment_with_a_newline_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOSANT_API_TOKEN", TOKEN + "\n")
    with pytest.raises(ValueError, match=r"\$LOSANT_API_TOKEN") as caught:
        API(url="http://127.0.0.1:9")
    assert TOKEN not in str(caught.value)


def test_async_errors_scrub_echoed_secrets_too() -> None:
    with FaultServer(_echo_request(403)) as server:
        async def main() -> BaseException:
            async with lf.AsyncAPI(url=server.url, token=TOKEN,
                                   headers={"X-Api-Key": API_KEY}) as api:
                try:
                    await api.applications(APP).get()
                except lf.APIError as exc:
                    return exc
            raise AssertionError("no error")

        error = asyncio.run(main())
        assert server.received[0].headers["x-api-key"] == API_KEY
    _assert_clean(_texts_of(error), TOKEN, API_KEY)


def test_a_stream_silent_longer_than_timeout_reconnects() -> None:
    from sse_server import SSEServer, Stream

    def script(request: Received, index: int) -> Stream:
        if index == 0:  # one event, then silence (no keep-alive) for longer than timeout
            return Stream(steps=[b"retry: 10\nid: 1\ndata: a\n\n"], hold=True)
        return Stream(steps=[b"data: b\n\n"], hold=True)

    with SSEServer(script) as server, API(url=server.url, token="t", timeout=1.0) as api:
        stream = api.applications(APP).devices(DEVICE).state_stream().get()
        seen, started = [], time.monotonic()
        for event in stream:
            seen.append(event.data)
            if len(seen) == 2:
                stream.close()
        elapsed = time.monotonic() - started
        resumed = [r.headers.get("last-event-id") for r in server.received]
    assert seen == ["a", "b"] and resumed == [None, "1"]
    assert 0.9 < elapsed < 4.0  # the silence counted as a drop after about timeout


def test_a_download_body_that_stalls_longer_than_timeout_raises() -> None:
    from losant_fluent.models import File as FileModel

    def script(request: Received, index: int) -> Action:  # half the body, then 3 s silence
        return Action(200, b"x" * 10, {"Content-Type": "application/octet-stream"},
                      kind="trickle", delay=0.4)

    with FaultServer(script) as host:
        api = API(url="http://127.0.0.1:9", timeout=0.3)
        item = FileModel.model_validate({"name": "f.bin", "url": f"{host.url}/f.bin"})
        started = time.monotonic()
        with pytest.raises(lf.LosantTimeoutError, match="stalled"):
            item.download(io.BytesIO(), api=api)
        assert time.monotonic() - started < 2.5


def test_a_login_answer_whose_token_cannot_be_sent_is_an_invalid_response() -> None:
    bad = "jwt-0123456789abcdef\n"
    with FaultServer(lambda r, i: reply(200, {"token": bad, "userId": "u" * 24})) as server:
        with pytest.raises(lf.InvalidResponseError, match="token has whitespace") as caught:
            API(url=server.url).login_user("me@example.com", "pass-word-1")
    _assert_clean(_texts_of(caught.value), bad.strip())
