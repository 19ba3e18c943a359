"""OAuth 2.0 end to end: authorization code with PKCE, refresh on expiry, secrecy (issue 5).

``auth_server.AuthServer`` is the authorization server (``/authorize`` checks the S256
challenge, ``/token`` checks the verifier and issues rotating refresh tokens) and the
resource server (``GET /me`` needs a live bearer token).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
import requests
from auth_server import AuthServer
from wire_server import RecordingServer, json_reply

from losant_fluent import API, OAuth2, OAuth2Error, UnauthorizedError

CLIENT = "losant-cli"
REDIRECT = "http://127.0.0.1:8765/callback"
SCOPE = ["all.User"]


@pytest.fixture
def auth() -> Iterator[AuthServer]:
    with AuthServer(client_id=CLIENT) as server:
        yield server


def start(api: API, auth: AuthServer, **options: Any) -> OAuth2:
    return api.oauth2(
        CLIENT, f"{auth.url}/authorize", f"{auth.url}/token", REDIRECT, SCOPE, **options
    )


def authorize(oauth: OAuth2) -> str:
    """Play the browser: open the authorization URL, return where it redirects to."""
    url, _ = oauth.authorization_url()
    answer = requests.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def form(record: Any) -> dict[str, str]:
    return dict(parse_qsl(record.body.decode()))


def test_authorization_code_with_pkce_end_to_end(auth: AuthServer) -> None:
    saved: list[dict[str, Any]] = []
    api = API(url=auth.url)
    oauth = start(api, auth, on_token=saved.append)
    url, state = oauth.authorization_url()
    query = parse_qs(urlsplit(url).query)
    assert urlsplit(url).path == "/authorize"
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [CLIENT]
    assert query["redirect_uri"] == [REDIRECT]
    assert query["scope"] == ["all.User"]
    assert query["state"] == [state]
    assert query["code_challenge_method"] == ["S256"]
    challenge = query["code_challenge"][0]

    location = requests.get(url, allow_redirects=False, timeout=10).headers["Location"]
    assert location.startswith(REDIRECT + "?code=")
    token = oauth.fetch_token(location)

    (exchange,) = auth.to("POST", "/token")
    sent = form(exchange)
    assert sent["grant_type"] == "authorization_code"
    assert sent["client_id"] == CLIENT
    assert sent["redirect_uri"] == REDIRECT
    digest = hashlib.sha256(sent["code_verifier"].encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == challenge
    assert 43 <= len(sent["code_verifier"]) <= 128

    assert token["access_token"].startswith("oauth-token-")
    assert token["refresh_token"]
    assert saved == [token]
    assert api.has_token
    assert api.me().get().email == "email@example.com"
    assert auth.requests[-1].header("Authorization") == f"Bearer {token['access_token']}"
    assert _INSECURE not in os.environ  # the loopback allowance did not outlive the calls


_INSECURE = "OAUTHLIB_INSECURE_TRANSPORT"


def test_expired_access_token_is_refreshed_once_and_retried(auth: AuthServer) -> None:
    saved: list[dict[str, Any]] = []
    api = API(url=auth.url)
    oauth = start(api, auth, on_token=saved.append)
    first = oauth.fetch_token(authorize(oauth))
    api.me().get()
    auth.expire_all()
    assert api.me().get().email == "email@example.com"

    refreshes = [r for r in auth.to("POST", "/token") if form(r)["grant_type"] == "refresh_token"]
    assert len(refreshes) == 1
    assert form(refreshes[0])["refresh_token"] == first["refresh_token"]
    assert form(refreshes[0])["client_id"] == CLIENT
    second = saved[-1]
    assert len(saved) == 2 and second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]  # rotated, and saved
    assert oauth.token == second
    gets = [r.header("Authorization") for r in auth.to("GET", "/me")]
    assert gets == [f"Bearer {first['access_token']}"] * 2 + [f"Bearer {second['access_token']}"]


def test_manual_refresh_and_resuming_a_saved_token(auth: AuthServer) -> None:
    api = API(url=auth.url)
    oauth = start(api, auth)
    saved = oauth.fetch_token(authorize(oauth))
    api.close()

    later: list[dict[str, Any]] = []
    api2 = API(url=auth.url)
    resumed = start(api2, auth, token=saved, on_token=later.append)
    assert later == []  # resuming is not a new token
    api2.me().get()
    assert auth.requests[-1].header("Authorization") == f"Bearer {saved['access_token']}"
    fresh = resumed.refresh()
    assert later == [fresh]
    api2.me().get()
    assert auth.requests[-1].header("Authorization") == f"Bearer {fresh['access_token']}"


def test_refused_refresh_raises_without_looping(auth: AuthServer) -> None:
    api = API(url=auth.url)
    oauth = start(api, auth)
    oauth.fetch_token(authorize(oauth))
    auth.revoke_refresh_tokens()
    auth.expire_all()
    with pytest.raises(OAuth2Error) as caught:
        api.me().get()
    assert caught.value.error == "invalid_grant"
    assert caught.value.status == 400
    assert [(r.method, r.path) for r in auth.requests[-2:]] == [("GET", "/me"), ("POST", "/token")]


def test_a_401_after_refresh_raises_unauthorized(auth: AuthServer) -> None:
    api = API(url=auth.url)
    oauth = start(api, auth)
    oauth.fetch_token(authorize(oauth))
    auth.refuse_all_tokens = True
    with pytest.raises(UnauthorizedError):
        api.me().get()
    tail = [(r.method, r.path) for r in auth.requests[-3:]]
    assert tail == [("GET", "/me"), ("POST", "/token"), ("GET", "/me")]


def test_state_mismatch_is_refused(auth: AuthServer) -> None:
    oauth = start(API(url=auth.url), auth)
    location = authorize(oauth)
    forged = location.split("&state=")[0] + "&state=forged"
    with pytest.raises(OAuth2Error) as caught:
        oauth.fetch_token(forged)
    assert caught.value.error == "mismatching_state"
    assert auth.to("POST", "/token") == []


def test_a_stale_verifier_is_refused_by_the_server(auth: AuthServer) -> None:
    oauth = start(API(url=auth.url), auth)
    url, _ = oauth.authorization_url()
    requests.get(url, allow_redirects=False, timeout=10)  # code for verifier 1, abandoned
    location = authorize(oauth)  # verifier 2
    code = parse_qs(urlsplit(location).query)["code"][0]
    other = start(API(url=auth.url), auth)
    _, other_state = other.authorization_url()  # a third verifier
    with pytest.raises(OAuth2Error) as caught:
        other.fetch_token(f"{REDIRECT}?code={code}&state={other_state}")
    assert caught.value.error == "invalid_grant"


def test_fetch_token_needs_an_authorization_first(auth: AuthServer) -> None:
    oauth = start(API(url=auth.url), auth)
    with pytest.raises(OAuth2Error):
        oauth.fetch_token(f"{REDIRECT}?code=x&state=y")


def test_plain_http_is_refused_for_other_hosts() -> None:
    api = API(url="http://127.0.0.1:9")
    oauth = api.oauth2(
        CLIENT, "http://login.example.com/authorize", "http://login.example.com/token", REDIRECT
    )
    with pytest.raises(OAuth2Error) as caught:
        oauth.authorization_url()
    assert caught.value.error == "insecure_transport"
    assert _INSECURE not in os.environ


def test_close_forgets_the_refresh_token(auth: AuthServer) -> None:
    with API(url=auth.url) as api:
        oauth = start(api, auth)
        oauth.fetch_token(authorize(oauth))
        assert oauth.token is not None
    assert oauth.token is None
    assert not api.has_token
    assert "refresh_token=no" in repr(oauth)
    assert oauth.renew(api) is False


def test_secrets_stay_out_of_reprs_errors_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("urllib3").setLevel(logging.DEBUG)
    client_secret = "client-SECRET-value"
    with AuthServer(client_id=CLIENT, client_secret=client_secret) as auth:
        api = API(url=auth.url)
        oauth = start(api, auth, client_secret=client_secret)
        first = oauth.fetch_token(authorize(oauth))
        assert form(auth.to("POST", "/token")[0])["client_secret"] == client_secret
        verifier = form(auth.to("POST", "/token")[0])["code_verifier"]
        auth.expire_all()
        api.me().get()
        second = oauth.token
        assert second is not None
        auth.revoke_refresh_tokens()
        auth.expire_all()
        with pytest.raises(OAuth2Error) as caught:
            api.me().get()
    assert {r.name for r in caplog.records} >= {"urllib3.connectionpool"}  # logs were on
    secrets = [
        client_secret,
        verifier,
        first["access_token"],
        first["refresh_token"],
        second["access_token"],
        second["refresh_token"],
    ]
    text = caplog.text + repr(oauth) + repr(api) + str(caught.value) + repr(caught.value)
    for secret in secrets:
        assert secret not in text
    assert caught.value.__context__ is None


def test_oauth_clients_and_tokens_are_managed_through_the_chain() -> None:
    def reply(record: Any) -> Any:
        if record.method == "POST":
            return json_reply(201, {"id": "client-1", **record.json()})
        if record.method == "DELETE":
            return json_reply(200, {"success": True})
        return json_reply(200, {"items": [], "count": 0, "totalCount": 0})

    with RecordingServer(responder=reply) as server, API(url=server.url, token="t") as api:
        created = (
            api.me()
            .oauth_clients()
            .post({"client_name": "CLI", "redirect_uris": [REDIRECT]}, validate=False)
        )
        assert server.last.method == "POST" and server.last.path == "/me/oauth-clients"
        assert server.last.json() == {"client_name": "CLI", "redirect_uris": [REDIRECT]}
        assert created.http_response().status_code == 201
        api.me().oauth_clients().get()
        assert server.last.path == "/me/oauth-clients"
        api.me().oauth_tokens().get()
        assert (server.last.method, server.last.path) == ("GET", "/me/oauth-tokens")
        api.me().oauth_tokens("575ed70c7ae143cd83dc4aa9").delete()
        assert server.last.method == "DELETE"
        assert server.last.path == "/me/oauth-tokens/575ed70c7ae143cd83dc4aa9"


def test_loopback_http_is_allowed_per_thread_without_touching_the_environment(
    auth: AuthServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_keys: list[str] = []

    class Environ(dict[str, str]):
        def __setitem__(self, key: str, value: str) -> None:
            set_keys.append(key)
            super().__setitem__(key, value)

    monkeypatch.setattr(os, "environ", Environ(os.environ))
    api = API(url=auth.url)
    oauth = start(api, auth)
    oauth.fetch_token(authorize(oauth))
    assert api.me().get().email == "email@example.com"
    assert _INSECURE not in set_keys

    import threading

    from oauthlib.oauth2.rfc6749 import parameters

    from losant_fluent._auth import _oauthlib_call

    seen: dict[str, bool] = {}
    inside = threading.Event()
    done = threading.Event()

    def ours() -> None:
        with _oauthlib_call():
            seen["ours loopback"] = parameters.is_secure_transport("http://127.0.0.1/token")
            seen["ours remote"] = parameters.is_secure_transport("http://auth.example/token")
            inside.set()
            done.wait(10)

    thread = threading.Thread(target=ours)
    thread.start()
    inside.wait(10)
    # Another thread, while our call is under way: oauthlib's own rule, unchanged.
    seen["other loopback"] = parameters.is_secure_transport("http://127.0.0.1/token")
    done.set()
    thread.join(10)
    assert seen == {"ours loopback": True, "ours remote": False, "other loopback": False}


def test_token_requests_go_through_the_pipeline(auth: AuthServer) -> None:
    api = API(url=auth.url, headers={"X-Trace": "t"})
    oauth = start(api, auth)
    oauth.fetch_token(authorize(oauth))
    (exchange,) = auth.to("POST", "/token")
    assert exchange.header("X-Trace") is None  # extra headers stay with the Losant API
    assert exchange.header("Authorization") is None  # never the Losant token
    assert exchange.header("Content-Type") == "application/x-www-form-urlencoded"


def test_async_oauth_fetches_uses_and_refreshes_the_token(auth: AuthServer) -> None:
    import asyncio

    from losant_fluent import AsyncAPI

    saved: list[dict[str, Any]] = []

    async def go() -> tuple[str, str]:
        async with AsyncAPI(url=auth.url) as api:
            oauth = api.oauth2(CLIENT, f"{auth.url}/authorize", f"{auth.url}/token", REDIRECT,
                               SCOPE, on_token=saved.append)
            url, _ = oauth.authorization_url()
            location = requests.get(url, allow_redirects=False, timeout=10).headers["Location"]
            await oauth.fetch_token(location)
            first = (await api.me().get()).email
            auth.expire_all()
            second = (await api.me().get()).email  # 401, refreshed once, re-sent
            return first, second

    assert asyncio.run(go()) == ("email@example.com", "email@example.com")
    grants = [form(r)["grant_type"] for r in auth.to("POST", "/token")]
    assert grants == ["authorization_code", "refresh_token"]
    assert len(saved) == 2 and saved[0]["access_token"] != saved[1]["access_token"]
    gets = [r.header("Authorization") for r in auth.to("GET", "/me")]
    assert gets == [f"Bearer {saved[0]['access_token']}"] * 2 + [
        f"Bearer {saved[1]['access_token']}"]
