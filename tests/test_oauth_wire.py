"""OAuth 2.0 token requests byte for byte: the exchange and the refresh send exactly what
they sent when requests-oauthlib built them, from ``API`` and from ``AsyncAPI`` (issue 18).

The expected requests below were captured from the requests-oauthlib implementation on a
loopback ``AuthServer``; only the random parts (code, verifier, refresh token) are filled in.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import requests
from auth_server import AuthServer
from wire_server import Recorded

from losant_fluent import API, AsyncAPI, OAuth2Error

CLIENT = "losant-cli"
REDIRECT = "http://127.0.0.1:8765/callback"
SECRET = "client-SECRET-value"


def wire(record: Recorded) -> tuple[str, str, list[tuple[str, str]], bytes]:
    return record.method, record.target, record.headers, record.body


def expected_headers(server: AuthServer, length: int, agent: str) -> list[tuple[str, str]]:
    return [
        ("Host", urlsplit(server.url).netloc),
        ("User-Agent", agent),
        ("Accept-Encoding", "gzip, deflate"),
        ("Accept", "application/json"),
        ("Connection", "keep-alive"),
        ("Content-Length", str(length)),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ]


def check(server: AuthServer, redirected: str) -> None:
    """The exchange and the refresh on the wire, as requests-oauthlib sent them."""
    exchange, refresh = server.to("POST", "/token")
    code = dict(p.split("=", 1) for p in urlsplit(redirected).query.split("&"))["code"]
    verifier = dict(p.split("=", 1) for p in exchange.body.decode().split("&"))["code_verifier"]
    body = (
        f"grant_type=authorization_code&client_id={CLIENT}&code_verifier={verifier}"
        f"&client_secret={SECRET}&code={code}&redirect_uri={quote(REDIRECT, safe='')}"
    ).encode()
    agent = exchange.header("User-Agent") or ""
    assert agent == requests.utils.default_user_agent()
    assert wire(exchange) == (
        "POST", "/token", expected_headers(server, len(body), agent), body)
    old = dict(p.split("=", 1) for p in refresh.body.decode().split("&"))["refresh_token"]
    body = (
        f"grant_type=refresh_token&client_id={CLIENT}&client_secret={SECRET}"
        f"&scope=all.User&refresh_token={old}"
    ).encode()
    assert wire(refresh) == (
        "POST", "/token", expected_headers(server, len(body), agent), body)


def test_sync_token_requests_keep_their_bytes() -> None:
    with AuthServer(client_id=CLIENT, client_secret=SECRET) as server:
        api = API(url=server.url)
        oauth = api.oauth2(CLIENT, f"{server.url}/authorize", f"{server.url}/token",
                           REDIRECT, ["all.User"], client_secret=SECRET)
        url, _ = oauth.authorization_url()
        redirected = requests.get(url, allow_redirects=False, timeout=10).headers["Location"]
        token = oauth.fetch_token(redirected)
        refreshed = oauth.refresh()
        assert refreshed["access_token"] != token["access_token"]
        check(server, redirected)


class CountingTransport:
    """The default async transport, counting what goes through it and in which thread."""

    def __init__(self) -> None:
        from losant_fluent.transports import HTTPXTransport

        self.inner = HTTPXTransport()
        self.sent: list[tuple[str, str]] = []
        self.threads: set[int] = set()

    async def send(self, request: Any, *, timeout: float | None, stream: bool) -> Any:
        self.sent.append((request.method, urlsplit(request.url).path))
        self.threads.add(threading.get_ident())
        return await self.inner.send(request, timeout=timeout, stream=stream)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_async_token_requests_keep_their_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_thread(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an AsyncAPI's OAuth must not use a worker thread")

    monkeypatch.setattr(asyncio, "to_thread", no_thread)
    transport = CountingTransport()
    with AuthServer(client_id=CLIENT, client_secret=SECRET) as server:

        async def go() -> str:
            async with AsyncAPI(url=server.url, transport=transport) as api:
                oauth = api.oauth2(CLIENT, f"{server.url}/authorize", f"{server.url}/token",
                                   REDIRECT, ["all.User"], client_secret=SECRET)
                url, _ = oauth.authorization_url()
                redirected = requests.get(url, allow_redirects=False,
                                          timeout=10).headers["Location"]
                token = await oauth.fetch_token(redirected)
                refreshed = await oauth.refresh()
                assert refreshed["access_token"] != token["access_token"]
                assert (await api.me().get()).email == "email@example.com"
                return str(redirected)

        check(server, asyncio.run(go()))
    # Both token requests went through the AsyncAPI's own transport, in the loop's thread.
    assert transport.sent == [("POST", "/token"), ("POST", "/token"), ("GET", "/me")]
    assert transport.threads == {threading.get_ident()}


def test_an_oauth_error_answer_names_the_error_not_the_secret() -> None:
    with AuthServer(client_id=CLIENT, client_secret=SECRET) as server:
        api = API(url=server.url)
        oauth = api.oauth2(CLIENT, f"{server.url}/authorize", f"{server.url}/token",
                           REDIRECT, ["all.User"], client_secret="wrong-" + SECRET)
        url, _ = oauth.authorization_url()
        redirected = requests.get(url, allow_redirects=False, timeout=10).headers["Location"]
        with pytest.raises(OAuth2Error) as caught:
            oauth.fetch_token(redirected)
    assert caught.value.status is not None and caught.value.status >= 400
    assert SECRET not in str(caught.value) and caught.value.__context__ is None


def test_async_oauth_error_answer_names_the_error_not_the_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    wrong = "wrong-" + SECRET
    with AuthServer(client_id=CLIENT, client_secret=SECRET) as server:

        async def go() -> OAuth2Error:
            async with AsyncAPI(url=server.url) as api:
                oauth = api.oauth2(CLIENT, f"{server.url}/authorize", f"{server.url}/token",
                                   REDIRECT, ["all.User"], client_secret=wrong)
                url, _ = oauth.authorization_url()
                redirected = requests.get(url, allow_redirects=False,
                                          timeout=10).headers["Location"]
                with pytest.raises(OAuth2Error) as caught:
                    await oauth.fetch_token(redirected)
                assert not api.has_token
                return caught.value

        error = asyncio.run(go())
        assert len(server.to("POST", "/token")) == 1  # a refusal is not retried
    assert error.status is not None and error.status >= 400
    assert wrong not in str(error) + repr(error) and error.__context__ is None
    assert any(r.name.startswith("losant_fluent") for r in caplog.records)  # logs were on
    assert SECRET not in caplog.text


async def _sign_in_with_verify(api: AsyncAPI, server: AuthServer) -> None:
    """OAuth sign-in of ``api`` with ``verify=`` (the token endpoint's own transport)."""
    oauth = api.oauth2(CLIENT, f"{server.url}/authorize", f"{server.url}/token",
                       REDIRECT, ["all.User"], verify=True)
    url, _ = oauth.authorization_url()
    redirected = requests.get(url, allow_redirects=False, timeout=10).headers["Location"]
    await oauth.fetch_token(redirected)


def test_async_oauth_with_verify_uses_a_transport_of_its_own() -> None:
    transport = CountingTransport()
    with AuthServer(client_id=CLIENT) as server:

        async def go() -> None:
            async with AsyncAPI(url=server.url, transport=transport) as api:
                await _sign_in_with_verify(api, server)
                assert (await api.me().get()).email == "email@example.com"

        asyncio.run(go())
        assert len(server.to("POST", "/token")) == 1
    assert transport.sent == [("GET", "/me")]  # the token request went the other way


def test_the_exchange_is_a_flow_that_yields_its_request() -> None:
    from losant_fluent._flows import Transmit

    with AuthServer(client_id=CLIENT, client_secret=SECRET) as server:
        api = API(url=server.url)
        oauth = api.oauth2(CLIENT, f"{server.url}/authorize", f"{server.url}/token",
                           REDIRECT, ["all.User"], client_secret=SECRET)
        url, _ = oauth.authorization_url()
        redirected = requests.get(url, allow_redirects=False, timeout=10).headers["Location"]
        flow = oauth.fetch_token_flow(redirected)
        effect = next(flow)
        while type(effect) is not Transmit:  # throttle room and the like: none here
            effect = flow.send(None)
        assert effect.request.method == "POST"
        assert effect.request.url == f"{server.url}/token"
        assert b"grant_type=authorization_code" in effect.request.body_bytes()
        flow.close()
    assert server.to("POST", "/token") == []  # the flow itself sent nothing
    assert not api.has_token


def test_the_token_endpoints_own_transport_is_closed_with_the_api(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from losant_fluent.transports import HTTPXTransport

    closed: list[HTTPXTransport] = []
    made: list[HTTPXTransport] = []
    original_init, original_close = HTTPXTransport.__init__, HTTPXTransport.aclose

    def init(self: HTTPXTransport, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        made.append(self)

    async def aclose(self: HTTPXTransport) -> None:
        closed.append(self)
        await original_close(self)

    monkeypatch.setattr(HTTPXTransport, "__init__", init)
    monkeypatch.setattr(HTTPXTransport, "aclose", aclose)
    with AuthServer(client_id=CLIENT) as server:

        async def go() -> None:
            async with AsyncAPI(url=server.url) as api:
                await _sign_in_with_verify(api, server)
                assert (await api.me().get()).email == "email@example.com"
                assert len(made) == 2 and closed == []
            assert closed == made  # the API's transport and the token endpoint's
            assert all(client.is_closed for transport in made for client in transport.clients)

        asyncio.run(go())
