"""The request pipeline against scripted servers that inject faults (issue: one pipeline).

Every test talks to a real server on 127.0.0.1 (``fault_server.FaultServer``) and asserts
on what the server read (how many attempts, which bytes) and on what the client made of it.
"""

from __future__ import annotations

import io
import json
import logging
import math
import pickle
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fault_server import Action, FaultServer, Received, drop, raw, reply, reset

import losant_fluent as lf
from losant_fluent import API
from losant_fluent._exceptions import APIError

APP = "5f0c5f0c5f0c5f0c5f0c5f0c"
DEV = "6a1d6a1d6a1d6a1d6a1d6a1d"
TOKEN = "tok-SECRET-pipeline"


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the exponential backoff's shape but not its seconds."""
    monkeypatch.setattr("losant_fluent._pipeline.INITIAL_RETRY_DELAY", 0.001)
    monkeypatch.setattr("losant_fluent._pipeline.MAX_RETRY_DELAY", 0.004)


def device_doc(n: int = 0) -> dict[str, Any]:
    return {"id": f"{n:024x}", "name": f"device-{n}", "applicationId": APP}


def serve(*actions: Action) -> FaultServer:
    """A server answering the n-th request with ``actions[n]`` (the last one repeats)."""
    return FaultServer(lambda _req, index: actions[min(index, len(actions) - 1)])


# -- retries -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504])
def test_idempotent_requests_are_retried_on_transient_statuses(status: int) -> None:
    with serve(reply(status, {"type": "X", "message": "later"}), reply(200, device_doc())) as srv:
        with API(srv.url, TOKEN) as api:
            device = api.applications(APP).devices(DEV).get()
    assert device.name == "device-0"
    assert [r.method for r in srv.received] == ["GET", "GET"]


@pytest.mark.parametrize("method", ["post", "patch"])
def test_writes_are_never_retried_after_they_may_have_been_processed(method: str) -> None:
    with serve(reply(503, {"type": "Unavailable", "message": "busy"})) as srv:
        with API(srv.url, TOKEN) as api:
            node = api.applications(APP).devices(DEV)
            with pytest.raises(lf.ServerError) as info:
                if method == "post":
                    node.state().post({"data": {"t": 1}})
                else:
                    node.patch({"name": "x"})
    assert len(srv.received) == 1
    assert info.value.attempts == 1


def test_retries_stop_after_max_retries_and_say_how_many_attempts() -> None:
    with serve(reply(502, {"type": "BadGateway", "message": "proxy"})) as srv:
        with API(srv.url, TOKEN, max_retries=3) as api:
            with pytest.raises(lf.ServerError) as info:
                api.me().get()
    assert len(srv.received) == 4
    assert info.value.attempts == 4 and "after 4 attempts" in str(info.value)


def test_429_is_retried_for_any_method_honouring_retry_after_seconds() -> None:
    limited = reply(429, {"type": "TooManyRequests", "message": "slow"}, {"Retry-After": "0.2"})
    with serve(limited, reply(201, {"success": True})) as srv:
        with API(srv.url, TOKEN) as api:
            started = time.monotonic()
            api.applications(APP).devices(DEV).state().post({"data": {"t": 1}})
            waited = time.monotonic() - started
    assert [r.method for r in srv.received] == ["POST", "POST"]
    assert srv.received[0].body == srv.received[1].body
    assert waited >= 0.2


def test_retry_after_as_an_http_date_is_honoured() -> None:
    when = datetime.now(timezone.utc) + timedelta(seconds=120)
    header = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    limited = reply(429, {"type": "TooManyRequests", "message": "slow"}, {"Retry-After": header})
    with serve(limited) as srv, API(srv.url, TOKEN) as api:
        with pytest.raises(lf.RateLimitError) as info:
            api.me().get()
    # 120 s is over the default max_retry_wait of 60 s: raised at once, with the wait.
    assert len(srv.received) == 1
    assert info.value.retry_after is not None and 100 < info.value.retry_after <= 120


def test_a_longer_retry_after_than_allowed_raises_at_once() -> None:
    limited = reply(429, {"type": "TooManyRequests", "message": "slow"}, {"Retry-After": "30"})
    with serve(limited) as srv, API(srv.url, TOKEN, max_retry_wait=5) as api:
        started = time.monotonic()
        with pytest.raises(lf.RateLimitError) as info:
            api.me().get()
    assert time.monotonic() - started < 2
    assert info.value.retry_after == 30.0 and len(srv.received) == 1


def test_connection_refused_is_retried_then_raised_as_never_received() -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with API(url, TOKEN, max_retries=2) as api:
        with pytest.raises(lf.LosantConnectionError) as info:
            api.applications(APP).devices(DEV).state().post({"data": {"t": 1}})
    assert info.value.may_have_been_received is False
    assert info.value.attempts == 3 and "could not connect" in str(info.value)


def test_a_dropped_answer_is_retried_for_get_but_not_for_post() -> None:
    with serve(drop(), reply(200, device_doc())) as srv, API(srv.url, TOKEN) as api:
        assert api.applications(APP).devices(DEV).get().name == "device-0"
    assert len(srv.received) == 2
    with serve(reset(), reply(201, {})) as srv, API(srv.url, TOKEN) as api:
        with pytest.raises(lf.LosantConnectionError) as info:
            api.applications(APP).devices(DEV).state().post({"data": {"t": 1}})
    assert len(srv.received) == 1  # the server read it once; the client did not repeat it
    assert info.value.may_have_been_received is True
    assert "may have been received" in str(info.value)


def test_a_server_closing_kept_alive_connections_does_not_fail_back_to_back_gets() -> None:
    closing = reply(200, device_doc(), close_after=True)
    with serve(closing) as srv, API(srv.url, TOKEN) as api:
        node = api.applications(APP).devices(DEV)
        names = [node.get().name for _ in range(50)]
    assert names == ["device-0"] * 50
    assert len(srv.received) == 50


def test_idle_connections_closed_by_the_server_are_not_an_error_even_for_posts() -> None:
    # The server closes each connection 50 ms after answering; the client waits longer, so
    # the pooled connection is stale when reused and a new one is made: nothing is lost.
    def script(_: Received, index: int) -> Action:
        return reply(201, {"n": index}, close_after=True)

    with FaultServer(script) as srv, API(srv.url, TOKEN) as api:
        state = api.applications(APP).devices(DEV).state()
        for _ in range(5):
            state.post({"data": {"t": 1}})
            time.sleep(0.1)
    assert len(srv.received) == 5


# -- renewal and re-sent bytes -----------------------------------------------------------------


def _login_then(first_upload: Action) -> FaultServer:
    """/auth/device issues tokens; the first upload is refused with 401, later ones pass."""
    uploads: list[int] = []

    def script(request: Received, _: int) -> Action:
        if request.path == "/auth/device":
            return reply(200, {"token": f"tok-{len(uploads)}", "applicationId": APP,
                               "deviceId": DEV})
        uploads.append(1)
        return first_upload if len(uploads) == 1 else reply(200, {"success": True})

    return FaultServer(script)


def _uploads(srv: FaultServer) -> list[Received]:
    return [r for r in srv.received if r.path.endswith("/upload")]


@pytest.mark.parametrize("kind", ["bytesio", "open-file", "path", "bytes", "unseekable"])
def test_a_renewed_upload_carries_the_same_bytes(kind: str, tmp_path: Path) -> None:
    content = bytes(range(256)) * 300
    path = tmp_path / "notebook.ipynb"
    path.write_bytes(content)
    handle: Any
    if kind == "bytesio":
        handle = io.BytesIO(content)
    elif kind == "open-file":
        handle = path.open("rb")
    elif kind == "path":
        handle = str(path)
    elif kind == "bytes":
        handle = content
    else:
        reader, writer = __import__("os").pipe()
        handle = __import__("os").fdopen(reader, "rb")
        threading.Thread(target=lambda: (__import__("os").write(writer, content),
                                         __import__("os").close(writer))).start()
    unauthorized = reply(401, {"type": "Unauthorized", "message": "expired"})
    with _login_then(unauthorized) as srv, API(srv.url) as api:
        api.login_device(DEV, "key", "secret")
        api.applications(APP).notebooks("n1").upload().post(jupyterFile=handle)
    first, second = _uploads(srv)
    assert second.headers["authorization"] != first.headers["authorization"]
    assert first.body == second.body and content in first.body
    assert first.headers["content-type"] == second.headers["content-type"]
    assert int(first.headers["content-length"]) == len(first.body)
    if kind in ("path", "open-file"):
        assert b'filename="notebook.ipynb"' in first.body
    if hasattr(handle, "close"):
        handle.close()


def test_a_retried_json_body_carries_the_same_bytes() -> None:
    limited = reply(429, {}, {"Retry-After": "0"})
    with serve(limited, reply(201, device_doc())) as srv, API(srv.url, TOKEN) as api:
        api.applications(APP).devices().post({"name": "x", "tags": [{"key": "k",
                                                                      "value": "v"}]})
    assert len(srv.received) == 2 and srv.received[0].body == srv.received[1].body
    assert json.loads(srv.received[0].body)["tags"] == [{"key": "k", "value": "v"}]


# -- honest failures ---------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b'{"items": [{"id": "1"', b"<html>captive portal</html>",
                                  b""])
def test_a_2xx_body_that_is_not_json_raises(body: bytes) -> None:
    with serve(raw(200, body)) as srv, API(srv.url, TOKEN) as api:
        with pytest.raises(lf.InvalidResponseError) as info:
            api.applications(APP).devices().get()
    response = info.value.http_response()
    assert response is not None and response.status_code == 200
    assert "captive" not in str(info.value)  # the body itself is never quoted
    if body:  # json.loads's own account of where the text stops being JSON
        assert re.search(r"\([^,]+, \d+ bytes; .+ at byte \d+\)", str(info.value)), info.value


def test_raw_bodies_read_as_json_loads_reads_them() -> None:
    """``iter_items(raw=True)``/``raw_json()`` parse with pydantic-core, falling back to
    ``json.loads`` for what it refuses (a lone surrogate escape): same values either way."""
    from losant_fluent._values import loads

    texts = [b'{"a": 123456789012345678901234567890, "b": NaN, "c": -0.0, "d": [1, 2.0]}',
             b'{"name": "\\ud800 lone", "n": 1e400}', b'"\\u00e9"', b"[]"]
    for text in texts:
        assert repr(loads(text)) == repr(json.loads(text))
    with pytest.raises(json.JSONDecodeError):
        loads(b'{"cut": ')


def _paged(
    total: int, per_page: int, broken: Any = None, doc: Callable[[int], Any] | None = None
) -> FaultServer:
    """Devices (``doc(n)``) in pages; ``broken(page)`` may return an Action to answer instead."""
    doc = doc or device_doc

    def script(request: Received, _: int) -> Action:
        page = int(request.query.get("page", 0))
        if broken is not None:
            action = broken(page)
            if action is not None:
                return action
        start = page * per_page
        items = [doc(n) for n in range(start, min(start + per_page, total))]
        return reply(200, {"items": items, "count": len(items), "totalCount": total,
                           "page": page, "perPage": per_page})

    return FaultServer(script)


def test_a_truncated_page_in_a_long_walk_raises_and_resumes() -> None:
    state = {"broken": True}

    def broken(page: int) -> Action | None:
        if page == 37 and state["broken"]:
            return raw(200, b'{"items": [{"id": "000', "application/json")
        return None

    with _paged(10_000, 100, broken) as srv, API(srv.url, TOKEN) as api:
        walk = api.applications(APP).devices().get(perPage=100).iter_items()
        seen = []
        with pytest.raises(lf.InvalidResponseError) as info:
            for device in walk:
                seen.append(device.name)
        assert len(seen) == 3700
        assert info.value.page_number == 37 and info.value.page_params == {"page": 37}
        state["broken"] = False
        seen.extend(d.name for d in info.value.resume())
    assert seen == [f"device-{n}" for n in range(10_000)]


@pytest.mark.parametrize("cut", [b'{"items": [{"id": "000', b'{"items": [{"tags": [{"ke'])
def test_a_truncated_page_of_a_walk_reading_nested_fields_raises_and_resumes(
    cut: bytes,
) -> None:
    """A loop that reads nested fields gets later pages read eagerly: the same guarantees."""
    state = {"broken": True}

    def broken(page: int) -> Action | None:
        if page == 5 and state["broken"]:
            return raw(200, cut, "application/json")
        return None

    def doc(n: int) -> dict[str, Any]:
        return {**device_doc(n), "connectionInfo": {"connected": 1}}

    with _paged(1_000, 100, broken, doc) as srv, API(srv.url, TOKEN) as api:
        walk = api.applications(APP).devices().get(perPage=100).iter_items()
        seen = []
        with pytest.raises(lf.InvalidResponseError) as info:
            for device in walk:
                seen.append((device.name, device.connection_info is not None))
        assert len(seen) == 500 and info.value.page_number == 5
        state["broken"] = False
        seen.extend((d.name, d.connection_info is not None) for d in info.value.resume())
    assert seen == [(f"device-{n}", True) for n in range(1_000)]


@pytest.mark.parametrize("fault", ["empty", "short", "repeat"])
def test_a_walk_never_ends_early_or_loops_in_silence(fault: str) -> None:
    def broken(page: int) -> Action | None:
        if page != 2:
            return None
        if fault == "empty":
            items: list[Any] = []
        elif fault == "short":
            items = [device_doc(200 + n) for n in range(10)]
        else:  # the server ignores ``page`` and answers page 1 again
            items = [device_doc(100 + n) for n in range(100)]
        return reply(200, {"items": items, "count": len(items), "totalCount": 1000,
                           "page": 2 if fault != "repeat" else 1, "perPage": 100})

    with _paged(1000, 100, broken) as srv, API(srv.url, TOKEN) as api:
        with pytest.raises(lf.InvalidResponseError, match="lose items"):
            list(api.applications(APP).devices().get(perPage=100))


def test_a_cursor_that_does_not_move_raises() -> None:
    items = [{"id": f"{n:024x}", "name": f"s{n}"} for n in range(10)]
    page = reply(200, {"items": items, "hasMore": True})
    with serve(page) as srv, API(srv.url, TOKEN) as api:
        with pytest.raises(lf.InvalidResponseError):
            list(api.instances(APP).sandboxes().get(limit=10))
    assert len(srv.received) <= 3


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirects_are_never_followed(status: int) -> None:
    moved = Action(status, b"", {"Location": "https://other.example/auth/user"})
    with serve(moved) as srv, API(srv.url) as api:
        with pytest.raises(lf.RedirectError) as info:
            api.login_user("me@example.com", "pa55-SECRET")
    assert [r.method for r in srv.received] == ["POST"]  # no GET, no re-post elsewhere
    assert info.value.location == "https://other.example/auth/user"
    assert "https://other.example/auth/user" in str(info.value)
    assert "pa55-SECRET" not in str(info.value)


def test_a_redirect_to_https_says_to_use_the_https_url() -> None:
    def script(request: Received, _: int) -> Action:
        return Action(301, b"", {"Location": "https://127.0.0.1" + request.target})

    with FaultServer(script) as srv, API(srv.url, TOKEN) as api:
        with pytest.raises(lf.RedirectError, match="use the https:// URL"):
            api.me().get()


def test_timeout_is_a_deadline_for_the_whole_answer() -> None:
    trickle = Action(200, json.dumps(device_doc()).encode() * 5, {}, kind="trickle", delay=0.1)
    with serve(trickle) as srv, API(srv.url, TOKEN) as api:
        started = time.monotonic()
        with pytest.raises(lf.LosantTimeoutError) as info:
            api.applications(APP).devices(DEV).get(timeout=0.5)
        elapsed = time.monotonic() - started
    assert elapsed < 2.0
    assert info.value.may_have_been_received is True
    assert len(srv.received) == 1  # a deadline is not retried


def test_a_slow_answer_is_a_timeout_not_a_connection_error() -> None:
    slow = reply(200, device_doc(), delay=1.0)
    with serve(slow) as srv, API(srv.url, TOKEN, timeout=0.3) as api:
        with pytest.raises(lf.LosantTimeoutError, match="may have been received"):
            api.applications(APP).devices(DEV).get()


def test_a_body_cut_short_by_the_server_is_a_connection_error() -> None:
    cut = Action(200, json.dumps(device_doc()).encode(), {}, kind="truncate")
    with serve(cut) as srv, API(srv.url, TOKEN, max_retries=0) as api:
        with pytest.raises(lf.LosantConnectionError, match="may have been received"):
            api.applications(APP).devices(DEV).get()


# -- values on the wire ------------------------------------------------------------------------


def test_datetimes_decimals_and_durations_take_the_apis_forms() -> None:
    with serve(reply(200, {"count": 1})) as srv, API(srv.url, TOKEN) as api:
        start = datetime(2024, 5, 1, 12, 0, 0, 250_000, tzinfo=timezone.utc)
        api.applications(APP).devices(DEV).export().post(
            {"email": "a@b.co"}, start=start, end=start + timedelta(hours=1), validate=False
        )
        query = srv.received[-1].query
        assert query["start"] == "1714564800250" and query["end"] == "1714568400250"
        api.applications(APP).devices(DEV).state().post(
            {"time": start, "data": {"t": Decimal("21.5"), "n": Decimal(3)}}, validate=False
        )
        sent = json.loads(srv.received[-1].body)
    assert sent == {"time": "2024-05-01T12:00:00.250Z", "data": {"t": 21.5, "n": 3}}


@pytest.mark.parametrize(
    ("call", "error", "named"),
    [
        (lambda n: n.devices().get(filter=b"10"), TypeError, "filter"),
        (lambda n: n.devices().get(perPage=math.nan), ValueError, "perPage"),
        (lambda n: n.devices().get(query={"name": math.nan}), ValueError, "query.name"),
        (lambda n: n.devices(DEV).state().post({"data": {"t": math.inf}}, validate=False),
         ValueError, "body.data.t"),
        (lambda n: n.devices(DEV).state().post({"data": {"t": {1, 2}}}, validate=False),
         TypeError, "body.data.t"),
        (lambda n: n.devices(DEV).state().post({"data": {"t": object()}}, validate=False),
         TypeError, "body.data.t"),
        (lambda n: n.devices(DEV).state().post({"data": {"t": b"x"}}, validate=False),
         TypeError, "body.data.t"),
        (lambda n: n.devices(DEV).export().post({}, start=datetime(2024, 1, 1),
                                                 validate=False), ValueError, "timezone"),
    ],
)
def test_values_without_a_faithful_form_are_refused_before_sending(
    call: Any, error: type[Exception], named: str
) -> None:
    with serve(reply()) as srv, API(srv.url, TOKEN) as api:
        with pytest.raises(error, match=named.replace(".", r"\.")):
            call(api.applications(APP))
    assert srv.received == []


def test_keywords_suggest_the_name_meant_and_bodies_go_where_they_belong() -> None:
    with serve(reply()) as srv, API(srv.url, TOKEN) as api:
        with pytest.raises(TypeError, match="did you mean 'perPage'"):
            api.applications(APP).devices().get(per_page=10)  # type: ignore[call-arg]
    assert srv.received == []


# -- errors pickle -----------------------------------------------------------------------------


def _raise_not_found(url: str) -> None:
    with API(url, TOKEN, max_retries=0) as api:
        api.applications(APP).get()


def test_api_errors_cross_process_boundaries() -> None:
    with serve(reply(404, {"type": "NotFound", "message": "no such app"})) as srv:
        with ProcessPoolExecutor(max_workers=1) as pool:
            future = pool.submit(_raise_not_found, srv.url)
            with pytest.raises(lf.NotFoundError) as info:
                future.result(timeout=60)
    assert (info.value.status, info.value.type, info.value.message) == (404, "NotFound",
                                                                         "no such app")


def test_every_error_class_pickles_with_its_attributes() -> None:
    with serve(reply(429, {"type": "TooManyRequests", "message": "m"},
                     {"Retry-After": "99"})) as srv, API(srv.url, TOKEN) as api:
        with pytest.raises(lf.RateLimitError) as info:
            api.me().get()
    errors: list[lf.LosantError] = [
        info.value,
        lf.LosantConnectionError("c", may_have_been_received=True),
        lf.LosantTimeoutError("t"),
        lf.InvalidResponseError("i"),
        lf.BodyValidationError("b", [("body.name", "too long")]),
        lf.OAuth2Error("invalid_grant", "d", 400),
        lf.TransportError("x"),
    ]
    errors += [cls(400 + n, "T", "m", method="GET", path="/p", body={"a": 1})
               for n, cls in enumerate(APIError.__subclasses__())]
    for error in errors:
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == str(error)
        assert {k: v for k, v in vars(copy).items() if k != "_response"} == {
            k: v for k, v in vars(error).items() if k != "_response"}
    rebuilt = pickle.loads(pickle.dumps(info.value))
    assert rebuilt.retry_after == 99.0 and rebuilt.http_response().status_code == 429


# -- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["api.losant.com", "ftp://api.losant.com", "https://",
                                 "/applications"])
def test_a_url_without_scheme_or_host_is_refused_at_once(url: str) -> None:
    with pytest.raises(ValueError, match="https://"):
        API(url)


def test_credentials_in_the_url_are_refused_without_echoing_them() -> None:
    with pytest.raises(ValueError, match="credentials") as info:
        API("https://me:pa55-SECRET@api.losant.com")
    assert "pa55-SECRET" not in str(info.value)


def test_a_token_over_plain_http_to_a_remote_host_warns() -> None:
    class Recorder:
        def send(self, request: Any, *, timeout: Any, stream: bool) -> Any:
            import requests

            response = requests.Response()
            response.status_code, response._content = 200, b"{}"
            return response

        def close(self) -> None:
            pass

    api = API("http://api.example.com", TOKEN, transport=Recorder())
    with pytest.warns(UserWarning, match="plain http"):
        api.me().get()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        API("http://127.0.0.1:9", TOKEN, transport=Recorder()).me().get()


def test_with_options_shares_session_and_token_and_changes_only_what_it_says() -> None:
    with serve(reply(503, {}), reply(200, {})) as srv, API(srv.url, TOKEN) as api:
        strict = api.with_options(max_retries=0, headers={"X-Trace": "t1"}, timeout=5)
        assert strict.session is api.session and strict.options.max_retries == 0
        with pytest.raises(lf.ServerError):
            strict.me().get()
        assert srv.received[-1].headers["x-trace"] == "t1"
        api.set_token("tok-new")
        api.me().get()
        strict.me().get()
    assert srv.received[-1].headers["authorization"] == "Bearer tok-new"
    assert "x-trace" not in srv.received[-2].headers
    assert api.options.max_retries == 2 and api.options.timeout == 60.0


# -- threads and logging -----------------------------------------------------------------------


def test_32_threads_share_one_api_without_pool_warnings_or_mixed_answers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def script(request: Received, _: int) -> Action:
        return reply(200, {"id": request.path.rsplit("/", 1)[-1], "name": request.target})

    caplog.set_level(logging.WARNING, logger="urllib3")
    with FaultServer(script) as srv, API(srv.url, TOKEN) as api:
        def worker(n: int) -> int:
            node = api.applications(APP).devices(f"{n:024x}")
            for _ in range(200):
                assert node.get().id == f"{n:024x}"
            return n

        with ThreadPoolExecutor(max_workers=32) as pool:
            assert sorted(pool.map(worker, range(32))) == list(range(32))
    assert len(srv.received) == 32 * 200
    assert not [r for r in caplog.records if "pool is full" in r.getMessage()]


def test_logging_has_a_line_per_attempt_and_per_retry_and_no_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    limited = reply(429, {}, {"Retry-After": "0"})
    with serve(limited, reply(200, {"token": "t-RESULT-SECRET"})) as srv:
        with API(srv.url) as api:
            api.login_device(DEV, "key-SECRET", "secret-SECRET")
            api.me().get()
    ours = [r for r in caplog.records if r.name == "losant_fluent"]
    attempts = [r.getMessage() for r in ours if r.levelno == logging.DEBUG]
    retries = [r.getMessage() for r in ours if r.levelno == logging.INFO]
    assert any("POST /auth/device -> 429" in m and "attempt 1" in m for m in attempts)
    assert any("POST /auth/device -> 200" in m and "attempt 2" in m for m in attempts)
    assert any("GET /me -> 200" in m for m in attempts)
    assert len(retries) == 1 and "retrying POST /auth/device in 0.00 s after 429" in retries[0]
    text = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("SECRET", "Bearer"):
        assert secret not in text


def test_a_retry_is_logged_at_info_with_its_wait(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="losant_fluent")
    with serve(reply(503, {}), reply(200, {})) as srv, API(srv.url, TOKEN) as api:
        api.me().get()
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert len(infos) == 1 and infos[0].startswith("retrying GET /me in ")
    assert "after 503 (attempt 1 of 3)" in infos[0]


# -- the transport seam ------------------------------------------------------------------------


def test_the_emulator_runs_in_process_through_the_wsgi_transport() -> None:
    from losant_fluent.testing import Emulator
    from losant_fluent.transports import WSGITransport

    emu = Emulator()
    api = API("http://127.0.0.1", transport=WSGITransport(emu.app))
    api.login_device(emu.device_id, emu.access_key, emu.access_secret)
    app = api.applications(emu.application_id)
    app.devices(emu.device_id).state().post({"data": {"temperature": 21.5}})
    device = app.devices(emu.device_id).get()
    assert device.id == emu.device_id
    with pytest.raises(lf.ForbiddenError):
        app.devices().post({"name": "not allowed for a device"})


@pytest.fixture
def _no_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    yield


def test_verify_is_applied_to_the_session_the_api_makes(tmp_path: Path) -> None:
    assert API("https://127.0.0.1:9", verify=False).session.verify is False
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert API("https://127.0.0.1:9", verify=str(bundle)).session.verify == str(bundle)
    with pytest.raises(TypeError, match="transport"):
        API("https://127.0.0.1:9", verify=False, transport=object())  # type: ignore[arg-type]


def test_pages_and_items_of_a_single_model_are_a_type_error() -> None:
    with serve(reply(200, device_doc())) as srv, API(srv.url, TOKEN) as api:
        device = api.applications(APP).devices(DEV).get()
    with pytest.raises(TypeError, match="Device is not a collection"):
        device.iter_items()
    with pytest.raises(TypeError, match="Device is not a collection"):
        device.pages()


def test_a_body_given_to_a_verb_without_one_says_to_use_keywords() -> None:
    from losant_fluent import _catalog, _wire

    endpoint = _catalog.endpoint("devices.get")
    with pytest.raises(TypeError, match=r"takes no body; give its parameters as keywords"):
        _wire.encode(endpoint, "/applications/a/devices", {"perPage": 5}, {}, validate=True)


def test_backoff_doubles_from_half_a_second_to_eight_with_jitter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from losant_fluent import _pipeline

    monkeypatch.setattr(_pipeline, "INITIAL_RETRY_DELAY", 0.5)
    monkeypatch.setattr(_pipeline, "MAX_RETRY_DELAY", 8.0)
    for retry, full in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (9, 8.0)]:
        waits = [_pipeline.backoff(retry) for _ in range(200)]
        assert all(0.75 * full <= w <= full for w in waits), retry
        assert len(set(waits)) > 1  # jitter: retrying clients do not move in step


def test_a_dict_given_to_get_says_to_pass_it_as_keywords() -> None:
    with serve(reply()) as srv, API(srv.url, TOKEN) as api:
        with pytest.raises(TypeError, match=r"takes no body; give its parameters as keywords"):
            api.applications(APP).devices().get({"perPage": 5})  # type: ignore[arg-type]
    assert srv.received == []
