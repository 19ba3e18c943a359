"""Issue 20: the client against servers that misbehave on purpose, all on 127.0.0.1.

Deadlines (slow headers, trickled bodies), walks that cycle, secrets echoed back, SSE
events that are huge or carry odd ids, odd answers (204, deep nesting), downloads onto
special files, strict scalars in bodies, and one exception family whatever goes wrong.
Each test counts requests, pages or elapsed time against generous bounds.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from fault_server import Action, FaultServer, Received, reply

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
