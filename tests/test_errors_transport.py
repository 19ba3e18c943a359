"""Errors (one hierarchy, a class per status, no secrets) and the transport (session, threads)."""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from wire_server import Recorded, RecordingServer, json_reply

import losant_fluent as lf
from losant_fluent import API

CASES = [
    (400, "Validation", lf.BadRequestError),
    (401, "Unauthorized", lf.UnauthorizedError),
    (403, "Forbidden", lf.ForbiddenError),
    (404, "NotFound", lf.NotFoundError),
    (409, "Conflict", lf.ConflictError),
    (413, "PayloadTooLarge", lf.PayloadTooLargeError),
    (422, "Unprocessable", lf.UnprocessableEntityError),
    (429, "TooManyRequests", lf.RateLimitError),
    (500, "InternalError", lf.ServerError),
    (503, "Unavailable", lf.ServerError),
    (418, "Teapot", lf.APIError),
]


@pytest.mark.parametrize(("status", "kind", "cls"), CASES)
def test_http_errors_map_to_subclasses(status: int, kind: str, cls: type[lf.APIError]) -> None:
    def reply(_: Recorded) -> tuple[int, dict[str, str], bytes]:
        return json_reply(status, {"type": kind, "message": f"thing {status} failed"})

    with RecordingServer(reply) as server, API(url=server.url, token="tok-SECRET") as api:
        with pytest.raises(cls) as info:
            api.applications("a").devices("d").get()
    error = info.value
    assert type(error) is cls and isinstance(error, lf.LosantError)
    assert (error.status, error.type, error.message) == (status, kind, f"thing {status} failed")
    response = error.http_response()
    assert response is not None and response.status_code == status
    assert "GET /applications/a/devices/d" in str(error)
    assert "SECRET" not in str(error) and "SECRET" not in repr(error)


@pytest.mark.parametrize(("status", "cls"), [(404, lf.NotFoundError), (502, lf.ServerError),
                                             (401, lf.UnauthorizedError)])
def test_non_json_error_body_still_maps(status: int, cls: type[lf.APIError]) -> None:
    page = b"<html><body><h1>Bad Gateway</h1>\n<p>nginx</p></body></html>"

    def reply(_: Recorded) -> tuple[int, dict[str, str], bytes]:
        return status, {"Content-Type": "text/html"}, page

    with RecordingServer(reply) as server, API(url=server.url) as api:
        with pytest.raises(cls) as info:
            api.me().get()
    assert info.value.type is None
    assert "Bad Gateway" in info.value.message
    assert info.value.body is None


def test_rate_limit_retry_after() -> None:
    def reply(_: Recorded) -> tuple[int, dict[str, str], bytes]:
        return json_reply(429, {"type": "TooManyRequests", "message": "slow"}, {"Retry-After": "7"})

    with RecordingServer(reply) as server, API(url=server.url, max_retry_wait=5) as api:
        with pytest.raises(lf.RateLimitError) as info:
            api.me().get()  # 7 s is more than this API waits: raised at once
    assert info.value.retry_after == 7.0
    assert len(server.requests) == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_is_a_losant_error() -> None:
    with API(url=f"http://127.0.0.1:{_free_port()}", token="tok-SECRET") as api:
        with pytest.raises(lf.LosantConnectionError) as info:
            api.me().get()
    assert isinstance(info.value, lf.TransportError) and "SECRET" not in str(info.value)
    assert info.value.http_response() is None


def test_timeout_is_a_losant_error() -> None:
    def slow(_: Recorded) -> tuple[int, dict[str, str], bytes]:
        time.sleep(1.0)
        return json_reply(200, {})

    with RecordingServer(slow) as server, API(url=server.url, timeout=0.2) as api:
        with pytest.raises(lf.LosantTimeoutError):
            api.me().get()
        with pytest.raises(lf.LosantTimeoutError):
            API(url=server.url).me().get(timeout=0.2)


def test_injected_session_is_used_and_not_closed(server: RecordingServer) -> None:
    session = requests.Session()
    session.headers["X-Proxy-Auth"] = "through-proxy"
    closed: list[bool] = []
    session.close = lambda: closed.append(True)  # type: ignore[method-assign]
    with API(url=server.url, session=session) as api:
        assert api.session is session
        api.me().get()
    assert server.last.header("X-Proxy-Auth") == "through-proxy"
    assert closed == []


def test_context_manager_closes_owned_session_and_forgets_token(server: RecordingServer) -> None:
    api = API(url=server.url, token="tok-SECRET")
    closed: list[bool] = []
    original = api.session.close

    def spy() -> None:
        closed.append(True)
        original()

    api.session.close = spy  # type: ignore[method-assign]
    with api:
        api.me().get()
    assert closed == [True] and not api.has_token


def test_one_api_shared_between_threads(server: RecordingServer) -> None:
    lock = threading.Lock()
    seen: list[str] = []

    def reply(record: Recorded) -> tuple[int, dict[str, str], bytes]:
        with lock:
            seen.append(record.path)
        return json_reply(200, {"id": record.path.rsplit("/", 1)[-1]})

    server.responder = reply
    with API(url=server.url, token="t") as api:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda i: api.applications(f"app{i}").get(), range(64)))
    assert sorted(seen) == sorted(f"/applications/app{i}" for i in range(64))
    assert [r.http_response().json()["id"] for r in results] == [f"app{i}" for i in range(64)]


def test_environment_defaults(monkeypatch: pytest.MonkeyPatch, server: RecordingServer) -> None:
    monkeypatch.setenv("LOSANT_API_URL", server.url)
    monkeypatch.setenv("LOSANT_API_TOKEN", "env-token")
    with API() as api:
        api.me().get()
    assert server.last.header("Authorization") == "Bearer env-token"


# -- proxies from the environment ----------------------------------------------------------
# A plain-http forward proxy gets the request in absolute form (``GET http://host/path``); a
# recording server on 127.0.0.1 stands in for it, and the API's own host (127.0.0.2, where
# nothing listens) is reached only through it.


@pytest.fixture
def no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy",
                 "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_http_proxy_from_the_environment_carries_the_request(
    no_proxy_variables: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with RecordingServer() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        with API(url="http://127.0.0.2:9", token="tok-PROXIED") as api:
            assert api.me().get().raw_json() == {"success": True}
            api.me().get()
        assert [r.target.split("?")[0] for r in proxy.requests] == ["http://127.0.0.2:9/me"] * 2
        assert proxy.last.header("Authorization") == "Bearer tok-PROXIED"


def test_proxy_variables_are_read_once_per_host_at_its_first_request(
    no_proxy_variables: None, monkeypatch: pytest.MonkeyPatch, server: RecordingServer
) -> None:
    """As httpx reads them once per client: a change reaches the next ``API`` made."""
    with RecordingServer() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        host = server.url.replace("127.0.0.1", "127.0.0.3")  # no NO_PROXY match either way
        with API(url=server.url.replace("127.0.0.1", "localhost"), token="t") as api:
            monkeypatch.setenv("NO_PROXY", "localhost")
            api.me().get()  # first request to localhost: NO_PROXY read now, so direct
            monkeypatch.delenv("NO_PROXY")
            api.me().get()  # still direct: read once for this host
        assert proxy.requests == [] and len(server.requests) == 2
        with API(url=host, token="t") as api:
            api.me().get()  # another host: its first request reads HTTP_PROXY
        assert [r.target.split("?")[0] for r in proxy.requests] == [f"{host}/me"]
        assert len(server.requests) == 2
