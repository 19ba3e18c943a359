"""AsyncAPI: retries, errors, timeouts, pagination, logins, uploads, streams (issue 14).

Every test runs a coroutine with ``asyncio.run`` against a real server on 127.0.0.1: the
fault server (``fault_server``), the paging server (``paging_server``), the token server
(``auth_server``), the recording server (``wire_server``) or the emulator. The rules are
the sync client's, so these tests mirror tests/test_pipeline.py, test_pagination.py and
test_auth.py; no test depends on timing beyond generous bounds.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
from auth_server import APP_ID, DEVICE_ID, AuthServer
from fault_server import Action, FaultServer, Received, drop, raw, reply, reset
from paging_server import APP, INSTANCE, TABLE, PagingResponder
from wire_server import Recorded, RecordingServer, json_reply

import losant_fluent as lf
from losant_fluent import API, AsyncAPI, walk
from losant_fluent.testing import Emulator
from losant_fluent.transports import HTTPXTransport, ThreadedTransport, WSGITransport

DEV = "6a1d6a1d6a1d6a1d6a1d6a1d"
TOKEN = "tok-SECRET-async"
EMAIL = "ada@example.com"
PASSWORD = "correct-horse-battery-staple"
KEY = "device-access-key"
SECRET = "device-access-SECRET-s3cr3t"
T = TypeVar("T")


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("losant_fluent._pipeline.INITIAL_RETRY_DELAY", 0.001)
    monkeypatch.setattr("losant_fluent._pipeline.MAX_RETRY_DELAY", 0.004)


def run(factory: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await factory()

    return asyncio.run(main())


def serve(*actions: Action) -> FaultServer:
    return FaultServer(lambda _req, index: actions[min(index, len(actions) - 1)])


def device_doc(n: int = 0) -> dict[str, Any]:
    return {"id": f"{n:024x}", "name": f"device-{n}", "applicationId": APP}


# -- the package ------------------------------------------------------------------------------


def test_importing_the_package_does_not_import_httpx() -> None:
    code = ("import sys, losant_fluent; assert 'httpx' not in sys.modules; "
            "from losant_fluent import AsyncAPI; assert 'httpx' in sys.modules; "
            "assert 'AsyncAPI' in losant_fluent.__all__")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_options_are_the_sync_apis() -> None:
    api = AsyncAPI("http://127.0.0.1:9", TOKEN, timeout=5, max_retries=4, max_retry_wait=3,
                   validate=False, headers={"X-Trace": "1"}, max_connections=3)
    assert api.options == API("http://127.0.0.1:9", TOKEN, timeout=5, max_retries=4,
                              max_retry_wait=3, validate=False,
                              headers={"X-Trace": "1"}).options
    transport = api.transport
    assert isinstance(transport, HTTPXTransport) and transport.max_connections == 3
    derived = api.with_options(timeout=1, headers={"X-Other": "2"})
    assert isinstance(derived, AsyncAPI)
    assert derived.options.timeout == 1 and derived.options.max_retries == 4
    assert derived.options.headers == (("X-Other", "2"),)
    assert derived.transport is transport
    derived.set_token("new")
    assert api.has_token and repr(api) == "<AsyncAPI http://127.0.0.1:9 token=set>"
    with pytest.raises(ValueError):
        AsyncAPI("http://127.0.0.1:9", timeout=0)
    with pytest.raises(ValueError):
        AsyncAPI("http://127.0.0.1:9", max_connections=0)
    with pytest.raises(TypeError):
        AsyncAPI("http://127.0.0.1:9", transport=transport, verify=False)


# -- retries, errors, timeouts ----------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504])
def test_idempotent_requests_are_retried_on_transient_statuses(status: int) -> None:
    with serve(reply(status, {"type": "X", "message": "later"}), reply(200, device_doc())) as srv:
        async def go() -> Any:
            async with AsyncAPI(srv.url, TOKEN) as api:
                return await api.applications(APP).devices(DEV).get()
        device = run(go)
    assert device.name == "device-0" and type(device).__name__ == "Device"
    assert [r.method for r in srv.received] == ["GET", "GET"]


def test_writes_are_never_retried_and_errors_keep_the_httpx_response() -> None:
    with serve(reply(503, {"type": "Unavailable", "message": "busy"})) as srv:
        async def go() -> None:
            async with AsyncAPI(srv.url, TOKEN) as api:
                await api.applications(APP).devices(DEV).state().post({"data": {"t": 1}})
        with pytest.raises(lf.ServerError) as info:
            run(go)
    assert len(srv.received) == 1 and info.value.attempts == 1
    response = info.value.http_response()
    assert isinstance(response, httpx.Response)  # the answer in its own library's type
    assert response.status_code == 503 and response.json()["type"] == "Unavailable"
    assert response.headers["content-type"] == "application/json"


def test_retries_stop_after_max_retries_and_say_how_many_attempts() -> None:
    with serve(reply(502, {"type": "BadGateway", "message": "proxy"})) as srv:
        async def go() -> None:
            async with AsyncAPI(srv.url, TOKEN, max_retries=3) as api:
                await api.me().get()
        with pytest.raises(lf.ServerError) as info:
            run(go)
    assert len(srv.received) == 4
    assert info.value.attempts == 4 and "after 4 attempts" in str(info.value)


def test_429_is_retried_for_any_method_honouring_retry_after() -> None:
    limited = reply(429, {"type": "TooManyRequests", "message": "slow"}, {"Retry-After": "0.2"})
    with serve(limited, reply(201, {"success": True})) as srv:
        async def go() -> float:
            async with AsyncAPI(srv.url, TOKEN) as api:
                started = time.monotonic()
                await api.applications(APP).devices(DEV).state().post({"data": {"t": 1}})
                return time.monotonic() - started
        waited = run(go)
    assert [r.method for r in srv.received] == ["POST", "POST"]
    assert srv.received[0].body == srv.received[1].body
    assert waited >= 0.2


def test_a_longer_retry_after_than_allowed_raises_at_once() -> None:
    limited = reply(429, {"type": "TooManyRequests", "message": "slow"}, {"Retry-After": "30"})
    with serve(limited) as srv:
        async def go() -> None:
            async with AsyncAPI(srv.url, TOKEN, max_retry_wait=5) as api:
                await api.me().get()
        started = time.monotonic()
        with pytest.raises(lf.RateLimitError) as info:
            run(go)
    assert time.monotonic() - started < 5
    assert info.value.retry_after == 30.0 and len(srv.received) == 1


def test_connection_refused_is_retried_then_raised_as_never_received() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    async def go() -> None:
        async with AsyncAPI(url, TOKEN, max_retries=2) as api:
            await api.applications(APP).devices(DEV).state().post({"data": {"t": 1}})

    with pytest.raises(lf.LosantConnectionError) as info:
        run(go)
    assert info.value.may_have_been_received is False
    assert info.value.attempts == 3 and "could not connect" in str(info.value)


def test_a_dropped_answer_is_retried_for_get_but_not_for_post() -> None:
    with serve(drop(), reply(200, device_doc())) as srv:
        async def get() -> Any:
            async with AsyncAPI(srv.url, TOKEN) as api:
                return await api.applications(APP).devices(DEV).get()
        assert run(get).name == "device-0"
    assert len(srv.received) == 2
    with serve(reset(), reply(201, {})) as srv:
        async def post() -> None:
            async with AsyncAPI(srv.url, TOKEN) as api:
                await api.applications(APP).devices(DEV).state().post({"data": {"t": 1}})
        with pytest.raises(lf.LosantConnectionError) as info:
            run(post)
    assert len(srv.received) == 1
    assert info.value.may_have_been_received is True


def test_a_server_closing_kept_alive_connections_does_not_fail_back_to_back_gets() -> None:
    with serve(reply(200, device_doc(), close_after=True)) as srv:
        async def go() -> list[str]:
            async with AsyncAPI(srv.url, TOKEN) as api:
                node = api.applications(APP).devices(DEV)
                return [(await node.get()).name for _ in range(30)]
        assert run(go) == ["device-0"] * 30


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirects_are_never_followed(status: int) -> None:
    moved = Action(status, b"", {"Location": "https://other.example/auth/user"})
    with serve(moved) as srv:
        async def go() -> None:
            async with AsyncAPI(srv.url) as api:
                await api.login_user("me@example.com", "pa55-SECRET")
        with pytest.raises(lf.RedirectError) as info:
            run(go)
    assert [r.method for r in srv.received] == ["POST"]
    assert info.value.location == "https://other.example/auth/user"
    assert "pa55-SECRET" not in str(info.value)


def test_timeout_is_a_deadline_for_the_whole_answer() -> None:
    trickle = Action(200, json.dumps(device_doc()).encode() * 5, {}, kind="trickle", delay=0.1)
    with serve(trickle) as srv:
        async def go() -> None:
            async with AsyncAPI(srv.url, TOKEN) as api:
                await api.applications(APP).devices(DEV).get(timeout=0.5)
        started = time.monotonic()
        with pytest.raises(lf.LosantTimeoutError) as info:
            run(go)
        elapsed = time.monotonic() - started
    assert elapsed < 3.0
    assert info.value.may_have_been_received is True
    assert len(srv.received) == 1


def test_a_body_cut_short_is_a_connection_error_and_bad_json_is_invalid() -> None:
    cut = Action(200, json.dumps(device_doc()).encode(), {}, kind="truncate")
    with serve(cut) as srv:
        async def go() -> None:
            async with AsyncAPI(srv.url, TOKEN, max_retries=0) as api:
                await api.applications(APP).devices(DEV).get()
        with pytest.raises(lf.LosantConnectionError, match="may have been received"):
            run(go)
    with serve(raw(200, b"<html>oops</html>")) as srv:
        with pytest.raises(lf.InvalidResponseError) as info:
            run(go)
    assert len(srv.received) == 1
    assert info.value.http_response().status_code == 200  # type: ignore[union-attr]


@pytest.mark.parametrize("limit", [4, 10])
def test_many_concurrent_requests_share_a_bounded_pool(limit: int) -> None:
    with serve(reply(200, device_doc(), delay=0.01)) as srv:
        async def go() -> list[str]:
            async with AsyncAPI(srv.url, TOKEN, max_connections=limit) as api:
                node = api.applications(APP).devices(DEV)
                found = await asyncio.gather(*(node.get() for _ in range(100)))
                return [d.name for d in found]
        assert run(go) == ["device-0"] * 100
    assert len(srv.received) == 100
    assert srv.connections <= limit


def test_a_sync_for_over_an_async_result_says_to_use_async_for() -> None:
    with RecordingServer(PagingResponder(total=250)) as server:
        async def go() -> Any:
            async with AsyncAPI(server.url, TOKEN) as api:
                return await api.applications(APP).devices().get()
        page = run(go)
        assert len(page.items) == 100
        with pytest.raises(TypeError, match="async for"):
            list(page)


# -- pagination ---------------------------------------------------------------------------------


def _paging(total: int = 5000, **kwargs: Any) -> tuple[PagingResponder, RecordingServer]:
    responder = PagingResponder(total=total, **kwargs)
    return responder, RecordingServer(responder)


@pytest.mark.parametrize("read_ahead", [False, True])
def test_all_three_styles_walk_every_item(read_ahead: bool) -> None:
    responder, server = _paging(2500)
    with server:
        async def go() -> tuple[list[str], list[int], list[str]]:
            async with AsyncAPI(server.url, TOKEN) as api:
                names = [d.name async for d in api.applications(APP).devices().get(
                    perPage=1000).iter_items(read_ahead=read_ahead)]
                rows = [r.n async for r in api.applications(APP).data_tables(TABLE).rows()
                        .get(limit=700).iter_items(read_ahead=read_ahead)]
                emails = [s.email async for s in api.instances(INSTANCE).sandboxes().get(
                    limit=600).iter_items(read_ahead=read_ahead)]
                return names, rows, emails
        names, rows, emails = run(go)
    assert names == [f"device-{n}" for n in range(2500)]
    assert rows == list(range(2500))
    assert emails == [f"user{n}@example.com" for n in range(2500)]
    queries = [dict(r.query_pairs) for r in server.requests]
    assert [q.get("page") for q in queries[:3]] == [None, "1", "2"]
    assert all(q["perPage"] == "1000" for q in queries[:3])


def test_the_post_query_rows_walk_re_sends_its_body() -> None:
    _, server = _paging(1500)
    query = {"$or": [{"label": {"$ne": "x"}}, {"n": 5}]}
    with server:
        async def go() -> int:
            async with AsyncAPI(server.url, TOKEN) as api:
                rows = api.applications(APP).data_tables(TABLE).rows().query()
                return len([r async for r in rows.post({"query": query}, limit=1000)])
        assert run(go) == 1500
    assert [r.body for r in server.requests] == [server.requests[0].body] * 2
    assert json.loads(server.requests[1].body) == {"query": query}


def test_await_gives_the_first_page_and_pages_and_max_items_fetch_no_more() -> None:
    responder, server = _paging(5000)
    with server:
        async def go() -> tuple[Any, list[int], list[str], list[Any]]:
            async with AsyncAPI(server.url, TOKEN) as api:
                devices = api.applications(APP).devices()
                first = await devices.get(perPage=100)
                sizes = [len(p.items) async for p in devices.get(perPage=2000).pages()]
                few = [d.name async for d in devices.get(perPage=100).iter_items(
                    max_items=150, read_ahead=True)]
                raw_pages = [p async for p in devices.get(perPage=2500).pages(raw=True)]
                return first, sizes, few, raw_pages
        first, sizes, few, raw_pages = run(go)
    assert type(first).__name__ == "Devices" and len(first.items) == 100
    assert sizes == [1000] * 5  # the server caps perPage at 1000
    assert few == [f"device-{n}" for n in range(150)]
    assert all(isinstance(p, dict) for p in raw_pages) and len(raw_pages) == 5
    # 1 + 5 + 2 (max_items: no third page) + 5
    assert responder.calls == 13


def test_a_failed_page_raises_and_resume_retries_it() -> None:
    responder, server = _paging(1000)
    with server:
        async def go() -> tuple[list[str], Any]:
            seen: list[str] = []
            async with AsyncAPI(server.url, TOKEN, max_retries=0) as api:
                walk_ = api.applications(APP).devices().get(perPage=100).iter_items()
                responder.fail_once = {4}
                try:
                    async for device in walk_:
                        seen.append(device.name)
                except lf.ServerError as err:
                    failure = err
                assert failure.page_number == 3 and failure.page_params == {"page": 3}
                assert failure.resume() is walk_
                async for device in walk_:
                    seen.append(device.name)
            return seen, failure
        seen, failure = run(go)
    assert seen == [f"device-{n}" for n in range(1000)]


def test_walks_never_end_early_in_silence() -> None:
    def script(request: Received, _: int) -> Action:
        page = int(request.query.get("page", 0))
        items = [device_doc(n) for n in range(page * 100, page * 100 + (10 if page else 100))]
        return reply(200, {"items": items, "count": len(items), "totalCount": 1000,
                           "page": page, "perPage": 100})

    with FaultServer(script) as srv:
        async def go() -> None:
            async with AsyncAPI(srv.url, TOKEN) as api:
                async for _ in api.applications(APP).devices().get(perPage=100):
                    pass
        with pytest.raises(lf.InvalidResponseError, match="lose items"):
            run(go)


def test_walk_continues_from_an_awaited_first_page() -> None:
    _, server = _paging(450)
    with server:
        async def go() -> list[str]:
            async with AsyncAPI(server.url, TOKEN) as api:
                first = await api.applications(APP).devices().get(perPage=200)
                return [d.name async for d in walk(first)]
        assert run(go) == [f"device-{n}" for n in range(450)]


# -- logins and renewal -------------------------------------------------------------------------


def _bearer(record: Recorded) -> str | None:
    return record.header("Authorization")


def test_login_user_and_renewal_once_on_401() -> None:
    with AuthServer(email=EMAIL, password=PASSWORD) as auth:
        async def go() -> tuple[str, str, Any]:
            async with AsyncAPI(auth.url) as api:
                assert await api.login_user(EMAIL, PASSWORD) is api
                first = api.login_result.token  # type: ignore[union-attr]
                await api.me().get()
                auth.expire_all()
                me = await api.me().get()
                return first, api.login_result.token, me  # type: ignore[union-attr]
        first, second, me = run(go)
        wire = [(r.method, r.path, _bearer(r)) for r in auth.requests]
    assert me.email == "email@example.com" and first != second
    assert wire == [
        ("POST", "/auth/user", None),
        ("GET", "/me", f"Bearer {first}"),
        ("GET", "/me", f"Bearer {first}"),
        ("POST", "/auth/user", None),
        ("GET", "/me", f"Bearer {second}"),
    ]


def test_concurrent_401s_renew_once_and_device_logins_work() -> None:
    with AuthServer(device_key=KEY, device_secret=SECRET) as auth:
        async def go() -> None:
            async with AsyncAPI(auth.url) as api:
                await api.login_device(DEVICE_ID, KEY, SECRET, token_ttl=60)
                node = api.applications(APP_ID).devices(DEVICE_ID)
                await node.get()
                auth.expire_all()
                await asyncio.gather(*(node.get() for _ in range(10)))
        run(go)
        assert len(auth.to("POST", "/auth/device")) == 2
        assert auth.to("POST", "/auth/device")[0].json()["tokenTTL"] == 60


def test_a_401_after_renewal_raises_and_refused_logins_hide_secrets() -> None:
    with AuthServer(email=EMAIL, password=PASSWORD) as auth:
        async def go() -> None:
            async with AsyncAPI(auth.url) as api:
                await api.login_user(EMAIL, PASSWORD)
                auth.refuse_all_tokens = True
                await api.me().get()
        with pytest.raises(lf.UnauthorizedError):
            run(go)
        assert [(r.method, r.path) for r in auth.requests] == [
            ("POST", "/auth/user"), ("GET", "/me"), ("POST", "/auth/user"), ("GET", "/me")]

        async def bad() -> None:
            async with AsyncAPI(auth.url) as api:
                await api.login_user(EMAIL, "wrong-SECRET-password")
        with pytest.raises(lf.UnauthorizedError) as info:
            run(bad)
        assert "wrong-SECRET-password" not in str(info.value)
        assert "wrong-SECRET-password" not in repr(info.value.body)


# -- the emulator, uploads, streams ---------------------------------------------------------------


def test_against_the_emulator_read_last_state_of_every_device() -> None:
    with Emulator(extra_devices=40) as emu:
        async def go() -> tuple[int, int, Any]:
            async with AsyncAPI(url=emu.url, max_connections=8) as api:
                await api.login_user(emu.user_email, emu.user_password)
                app = api.applications(emu.application_id)
                ids = [d.id async for d in app.devices().get(perPage=10)]
                limit = asyncio.Semaphore(8)

                async def last_state(device_id: str) -> Any:
                    async with limit:
                        return await app.devices(device_id).state().get(limit=1)

                states = await asyncio.gather(*(last_state(i) for i in ids))
                page = await app.devices().get(perPage=5)
                return len(ids), len(states), page
        count, states, page = run(go)
    assert count == 41 and states == 41
    assert page.total_count == 41 and len(page.items) == 5


def test_threaded_transport_runs_the_emulator_in_process() -> None:
    emu = Emulator()

    async def go() -> str:
        transport = ThreadedTransport(WSGITransport(emu.app))
        async with AsyncAPI(url="http://localhost", transport=transport) as api:
            await api.login_user(emu.user_email, emu.user_password)
            device = await api.applications(emu.application_id).devices(emu.device_id).get()
            return device.name

    assert run(go)


def test_uploads_send_the_sync_clients_multipart_bytes() -> None:
    with RecordingServer(lambda _: json_reply(201, {"success": True})) as server:
        async def go() -> None:
            async with AsyncAPI(server.url, TOKEN) as api:
                await api.at("applications", APP, "files").post(
                    files={"file": ("a.txt", b"hello " * 1000, "text/plain")})
        run(go)
        with API(server.url, TOKEN) as api:
            api.at("applications", APP, "files").post(
                files={"file": ("a.txt", b"hello " * 1000, "text/plain")})
        ours, theirs = server.requests
    assert ours.header("Content-Length") == theirs.header("Content-Length")
    assert len(ours.body) == int(ours.header("Content-Length") or 0)
    boundary = (ours.header("Content-Type") or "").split("boundary=")[1]
    other = (theirs.header("Content-Type") or "").split("boundary=")[1]
    assert ours.body.replace(boundary.encode(), b"B") == theirs.body.replace(other.encode(), b"B")


def test_streams_yield_events_as_they_arrive() -> None:
    body = b"event: state\ndata: {\"t\": 1}\nid: 7\n\n: keep-alive\n\ndata: two\ndata: lines\n\n"

    def respond(_: Recorded) -> tuple[int, dict[str, str], bytes]:
        return 200, {"Content-Type": "text/event-stream"}, body

    with RecordingServer(respond) as server:
        async def go() -> list[Any]:
            async with AsyncAPI(server.url, TOKEN) as api:
                stream = api.applications(APP).devices(DEV).state_stream().get()
                events = []
                async for event in stream:  # the body ends: the stream would reconnect
                    events.append(event)
                    if len(events) == 2:
                        await stream.aclose()
                return events
        events = run(go)
    # The id stays the last one seen until another comes (the SSE rules).
    assert [(e.event, e.data, e.id) for e in events] == [
        ("state", '{"t": 1}', "7"), ("message", "two\nlines", "7")]
    assert events[0].json() == {"t": 1}


def test_to_list_and_to_pandas_gather_every_page() -> None:
    pytest.importorskip("pandas")
    _, server = _paging(250)
    with server:
        async def go() -> tuple[list[Any], Any]:
            async with AsyncAPI(server.url, TOKEN) as api:
                devices = api.applications(APP).devices()
                items = await devices.get(perPage=100).to_list()
                frame = await devices.get(perPage=100).to_pandas()
                return items, frame
        items, frame = run(go)
    assert len(items) == 250 and len(frame) == 250
    assert list(frame["name"])[:2] == ["device-0", "device-1"]


def test_an_async_stream_resumes_with_last_event_id_after_a_drop() -> None:
    from sse_server import SSEServer, Stream

    def event(n: int, data: str) -> bytes:
        return f"id: {n}\ndata: {data}\n\n".encode()

    def script(request: object, index: int) -> Stream:
        if index == 0:  # two events, then the connection breaks mid-event
            return Stream(steps=[b"retry: 200\n\n", event(1, "a"), event(2, "b"),
                                 b"id: 3\ndata: cut"])
        return Stream(steps=[event(3, "c")], hold=True)

    async def go() -> tuple[list[tuple[str | None, str]], int]:
        async with AsyncAPI(server.url, TOKEN) as api:
            stream = api.applications(APP).devices("d").command_stream().get()
            seen: list[tuple[str | None, str]] = []
            async for item in stream:
                seen.append((item.id, item.data))
                if len(seen) == 3:
                    await stream.aclose()
            return seen, stream.reconnects

    with SSEServer(script) as server:
        seen, reconnects = run(go)
        headers = [r.headers.get("last-event-id") for r in server.received]
    assert seen == [("1", "a"), ("2", "b"), ("3", "c")]
    assert headers == [None, "2"] and reconnects == 1


def test_a_file_created_through_async_uploads_with_aupload_file() -> None:
    from losant_fluent.testing import Emulator

    with Emulator() as emu:
        async def go() -> tuple[Any, Any]:
            async with AsyncAPI(emu.url, emu.user_token()) as api:
                files = api.applications(emu.application_id).files()
                created = await files.post({"name": "a.txt", "type": "file",
                                            "parentDirectory": "/"})
                answer = await created.aupload_file(b"hello async")
                stored = await api.applications(emu.application_id).file(created.id).get()
                return answer, stored
        answer, stored = run(go)
    assert 200 <= answer.status_code < 300  # the emulator's storage refuses any Authorization
    assert stored.status == "completed" and stored.file_size == len(b"hello async")


def test_a_file_downloads_with_adownload_whole_or_not_at_all(tmp_path: Any) -> None:
    import io

    from losant_fluent.models import File as FileModel

    content = bytes(range(256)) * 2000

    with Emulator() as emu:
        async def go() -> tuple[int, bytes, Any]:
            async with AsyncAPI(emu.url, emu.user_token()) as api:
                app = api.applications(emu.application_id)
                created = await app.files().post({"name": "blob.bin", "type": "file",
                                                  "parentDirectory": "/"})
                await created.aupload_file(content)
                stored = await app.file(created.id).get()
                written = await stored.adownload(tmp_path)
                buffer = io.BytesIO()
                await stored.adownload(buffer, progress=True)
                return written, buffer.getvalue(), stored
        written, buffered, stored = run(go)
    assert written == len(content) and (tmp_path / "blob.bin").read_bytes() == content
    assert buffered == content and not list(tmp_path.glob("*.part"))

    def cut(request: Received, index: int) -> Action:  # half the body, then the end
        return Action(200, content, {"Content-Type": "application/octet-stream"},
                      kind="truncate")

    with FaultServer(cut) as host:
        broken = FileModel.model_validate({"name": "cut.bin", "url": f"{host.url}/f/cut.bin"})

        async def fail() -> None:
            async with AsyncAPI("http://127.0.0.1:9", "tok-SECRET", max_retries=0) as api:
                await broken.adownload(tmp_path, api=api)
        with pytest.raises(lf.LosantConnectionError, match="GET /f/cut.bin: the download broke"):
            run(fail)
        assert all("authorization" not in r.headers for r in host.received)
    assert not (tmp_path / "cut.bin").exists() and not list(tmp_path.glob("*.part"))
    with pytest.raises(TypeError, match="use download"):
        run(lambda: stored.adownload(tmp_path, api=API("http://127.0.0.1:9")))
