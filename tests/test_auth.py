"""User and device logins, token expiry and renewal, clean-up and secrecy (issue 5).

Every test runs against ``auth_server.AuthServer`` on 127.0.0.1, which issues tokens that
expire, and asserts on what went over the wire.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
from auth_server import APP_ID, DEVICE_ID, USER_ID, AuthServer

from losant_fluent import API, BodyValidationError, LosantError, UnauthorizedError

EMAIL = "ada@example.com"
PASSWORD = "correct-horse-battery-staple"
KEY = "device-access-key"
SECRET = "device-access-SECRET-s3cr3t"


@pytest.fixture
def auth() -> Iterator[AuthServer]:
    with AuthServer(email=EMAIL, password=PASSWORD, device_key=KEY, device_secret=SECRET) as s:
        yield s


def bearer(record: object) -> str | None:
    return record.header("Authorization")  # type: ignore[attr-defined, no-any-return]


# -- logins ------------------------------------------------------------------------------------


def test_login_user_sends_credentials_and_uses_the_token(auth: AuthServer) -> None:
    api = API(url=auth.url).login_user(EMAIL, PASSWORD)
    assert isinstance(api, API)
    login = auth.to("POST", "/auth/user")
    assert len(login) == 1
    assert login[0].json() == {"email": EMAIL, "password": PASSWORD}
    assert bearer(login[0]) is None
    assert login[0].header("Content-Type") == "application/json"
    assert api.login_result is not None
    assert api.login_result.user_id == USER_ID  # type: ignore[union-attr]
    token = api.login_result.token
    assert api.has_token
    assert api.me().get().email == "email@example.com"
    assert bearer(auth.requests[-1]) == f"Bearer {token}"


def test_login_user_optional_fields_use_the_schema_names(auth: AuthServer) -> None:
    API(url=auth.url).login_user(
        EMAIL,
        PASSWORD,
        two_factor_code="123456",
        requested_scopes=["all.User", "all.Application"],
        token_ttl=3600,
    )
    assert auth.last_body("/auth/user") == {
        "email": EMAIL,
        "password": PASSWORD,
        "twoFactorCode": "123456",
        "requestedScopes": ["all.User", "all.Application"],
        "tokenTTL": 3600,
    }


def test_login_device_chains_and_tells_the_application(auth: AuthServer) -> None:
    api = API(url=auth.url).login_device(
        DEVICE_ID, KEY, SECRET, token_ttl=60, requested_scopes=["all.Device"]
    )
    assert auth.last_body("/auth/device") == {
        "deviceId": DEVICE_ID,
        "key": KEY,
        "secret": SECRET,
        "tokenTTL": 60,
        "requestedScopes": ["all.Device"],
    }
    result = api.login_result
    assert result is not None
    assert result.application_id == APP_ID  # type: ignore[union-attr]
    assert result.device_id == DEVICE_ID  # type: ignore[union-attr]
    api.applications(APP_ID).devices(DEVICE_ID).get()
    assert bearer(auth.requests[-1]) == f"Bearer {result.token}"


def test_login_device_minimal_body(auth: AuthServer) -> None:
    API(url=auth.url).login_device(DEVICE_ID, KEY, SECRET)
    assert auth.last_body("/auth/device") == {"deviceId": DEVICE_ID, "key": KEY, "secret": SECRET}


def test_login_sends_no_token_even_when_one_is_set(
    auth: AuthServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOSANT_API_TOKEN", "env-token")
    api = API(url=auth.url)
    assert api.has_token
    api.login_user(EMAIL, PASSWORD)
    assert bearer(auth.to("POST", "/auth/user")[0]) is None


def test_github_and_saml_logins_are_reachable_through_the_chain(auth: AuthServer) -> None:
    api = API(url=auth.url)
    github = api.auth().user().github().post({"accessToken": "gh-access"})
    assert auth.last_body("/auth/user/github") == {"accessToken": "gh-access"}
    assert github.user_id == USER_ID
    saml = api.auth().user().saml().post({"SAMLResponse": "PHNhbWw+", "SAMLDomain": "example.com"})
    assert auth.last_body("/auth/user/saml") == {
        "SAMLResponse": "PHNhbWw+",
        "SAMLDomain": "example.com",
    }
    api.set_token(saml.token).me().get()
    assert bearer(auth.requests[-1]) == f"Bearer {saml.token}"


def test_environment_supplies_url_and_token(
    auth: AuthServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOSANT_API_URL", auth.url + "/")
    monkeypatch.setenv("LOSANT_API_TOKEN", "env-token")
    api = API()
    assert api.url == auth.url
    with pytest.raises(UnauthorizedError):
        api.me().get()
    assert bearer(auth.requests[-1]) == "Bearer env-token"
    assert len(auth.requests) == 1  # an environment token is never renewed
    assert API(url="http://127.0.0.1:9", token="explicit").url == "http://127.0.0.1:9"
    monkeypatch.delenv("LOSANT_API_URL")
    monkeypatch.delenv("LOSANT_API_TOKEN")
    assert API().url == "https://api.losant.com"
    assert not API().has_token


# -- expiry and renewal ------------------------------------------------------------------------


def test_expired_user_token_is_renewed_once_and_the_request_retried(auth: AuthServer) -> None:
    api = API(url=auth.url).login_user(EMAIL, PASSWORD)
    first = api.login_result.token  # type: ignore[union-attr]
    api.me().get()
    auth.expire_all()
    assert api.me().get().email == "email@example.com"
    second = api.login_result.token  # type: ignore[union-attr]
    assert second != first
    wire = [(r.method, r.path, bearer(r)) for r in auth.requests]
    assert wire == [
        ("POST", "/auth/user", None),
        ("GET", "/me", f"Bearer {first}"),
        ("GET", "/me", f"Bearer {first}"),  # refused: expired
        ("POST", "/auth/user", None),  # the one renewal
        ("GET", "/me", f"Bearer {second}"),  # the retry
    ]
    assert auth.to("POST", "/auth/user")[1].json() == {"email": EMAIL, "password": PASSWORD}


def test_device_token_with_ttl_expires_and_is_renewed(auth: AuthServer) -> None:
    api = API(url=auth.url).login_device(DEVICE_ID, KEY, SECRET, token_ttl=60)
    device = api.applications(APP_ID).devices(DEVICE_ID)
    device.get()
    auth.advance(30)
    device.get()
    assert len(auth.to("POST", "/auth/device")) == 1
    auth.advance(31)  # past the TTL
    device.get()
    logins = auth.to("POST", "/auth/device")
    assert len(logins) == 2
    assert logins[1].json()["tokenTTL"] == 60
    assert bearer(auth.requests[-1]) == f"Bearer {api.login_result.token}"  # type: ignore[union-attr]
    assert auth.requests[-1].path.endswith(DEVICE_ID)


def test_each_expiry_renews_exactly_once(auth: AuthServer) -> None:
    api = API(url=auth.url).login_user(EMAIL, PASSWORD)
    for _ in range(3):
        auth.expire_all()
        api.me().get()
        api.me().get()
    assert len(auth.to("POST", "/auth/user")) == 1 + 3
    assert len(auth.to("GET", "/me")) == 3 * 3


def test_a_401_after_renewal_raises_without_looping(auth: AuthServer) -> None:
    api = API(url=auth.url).login_user(EMAIL, PASSWORD)
    auth.refuse_all_tokens = True
    with pytest.raises(UnauthorizedError) as caught:
        api.me().get()
    assert caught.value.status == 401
    assert caught.value.path == "/me"
    assert [(r.method, r.path) for r in auth.requests] == [
        ("POST", "/auth/user"),
        ("GET", "/me"),
        ("POST", "/auth/user"),
        ("GET", "/me"),
    ]


def test_refused_renewal_login_raises_and_does_not_recurse(auth: AuthServer) -> None:
    api = API(url=auth.url).login_user(EMAIL, PASSWORD)
    auth.password = "changed-in-the-meantime"
    auth.expire_all()
    with pytest.raises(UnauthorizedError) as caught:
        api.me().get()
    assert caught.value.path == "/auth/user"
    assert PASSWORD not in str(caught.value)
    assert [(r.method, r.path) for r in auth.requests] == [
        ("POST", "/auth/user"),
        ("GET", "/me"),
        ("POST", "/auth/user"),  # exactly one renewal attempt, no renewal of the renewal
    ]


def test_stored_secrets_stay_scrubbed_however_many_secrets_come_after(
    auth: AuthServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The registry of secrets is bounded, but never drops one a live client holds: a
    password stored for renewal, a token in use (the server echoes both here)."""
    from losant_fluent import _secrets

    api = API(url=auth.url).login_user(EMAIL, PASSWORD)
    token_api = API(url=auth.url, token="a-token-set-by-hand-0001")
    newer = [API(url=auth.url, token=f"a-later-token-{n:05d}")  # a process of many clients
             for n in range(2 * _secrets.MAX_SECRETS)]
    del newer  # gone: their tokens may be dropped, and are (the registry stays bounded)
    for n in range(2 * _secrets.MAX_SECRETS):
        _secrets.register(f"a-passing-secret-{n:05d}")
    pinned = getattr(_secrets, "_pinned", {})
    assert len(_secrets._known) <= _secrets.MAX_SECRETS + len(pinned) < 2 * _secrets.MAX_SECRETS
    auth.password = "changed-in-the-meantime"
    auth.expire_all()
    caplog.set_level(logging.DEBUG, logger="losant_fluent")
    with pytest.raises(UnauthorizedError) as caught:
        api.me().get()  # renewal: the stored password is sent again, refused and echoed
    assert PASSWORD in auth.requests[-1].body.decode()
    error = caught.value
    text = str(error) + repr(error) + str(error.body) + caplog.text
    assert PASSWORD not in text and "***" in text
    with pytest.raises(UnauthorizedError) as caught:
        token_api.me().get()
    assert "a-token-set-by-hand-0001" not in repr(caught.value.http_response().request.headers)


def test_a_replaced_token_is_let_go_and_the_registry_stays_bounded(auth: AuthServer) -> None:
    from losant_fluent import _secrets

    api = API(url=auth.url, token="the-first-token-0001")
    for n in range(2 * _secrets.MAX_SECRETS):  # a long-running client renewing its token
        api.set_token(f"renewed-token-{n:05d}")
    assert len(_secrets._pinned) < _secrets.MAX_SECRETS  # only the current one is held
    assert len(_secrets._known) <= _secrets.MAX_SECRETS + len(_secrets._pinned)
    assert f"renewed-token-{2 * _secrets.MAX_SECRETS - 1:05d}" in _secrets._pinned


def test_directly_set_token_is_never_retried(auth: AuthServer) -> None:
    api = API(url=auth.url, token="user-token-unknown")
    with pytest.raises(UnauthorizedError):
        api.me().get()
    assert len(auth.requests) == 1
    api.set_token("another-unknown")
    with pytest.raises(UnauthorizedError):
        api.me().get()
    assert len(auth.requests) == 2


def test_set_token_after_a_login_stops_renewal(auth: AuthServer) -> None:
    api = API(url=auth.url).login_user(EMAIL, PASSWORD)
    api.set_token("user-token-unknown")
    assert api.login_result is not None  # set_token keeps the last result readable
    with pytest.raises(UnauthorizedError):
        api.me().get()
    assert [(r.method, r.path) for r in auth.requests] == [("POST", "/auth/user"), ("GET", "/me")]


def test_string_two_factor_code_is_not_replayed(auth: AuthServer) -> None:
    api = API(url=auth.url).login_user(EMAIL, PASSWORD, two_factor_code="123456")
    auth.expire_all()
    with pytest.raises(UnauthorizedError):
        api.me().get()
    assert len(auth.to("POST", "/auth/user")) == 1


def test_two_factor_callable_gives_a_fresh_code_per_login(auth: AuthServer) -> None:
    codes = iter(["111111", "222222"])
    api = API(url=auth.url).login_user(EMAIL, PASSWORD, two_factor_code=lambda: next(codes))
    auth.expire_all()
    api.me().get()
    sent = [r.json()["twoFactorCode"] for r in auth.to("POST", "/auth/user")]
    assert sent == ["111111", "222222"]


def test_concurrent_401s_renew_once(auth: AuthServer) -> None:
    api = API(url=auth.url).login_user(EMAIL, PASSWORD)
    old = api.login_result.token  # type: ignore[union-attr]
    auth.expire_all()
    auth.gate = threading.Barrier(2)  # both requests reach the server before either answer
    errors: list[BaseException] = []

    def call() -> None:
        try:
            api.me().get()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    auth.gate = None
    assert not errors
    assert len(auth.to("POST", "/auth/user")) == 2  # the login and ONE renewal
    gets = auth.to("GET", "/me")
    assert len(gets) == 4
    new = f"Bearer {api.login_result.token}"  # type: ignore[union-attr]
    assert sorted(bearer(r) or "" for r in gets) == sorted([f"Bearer {old}"] * 2 + [new] * 2)


# -- clean-up and secrecy ----------------------------------------------------------------------


def test_with_block_forgets_credentials_and_closes_the_session(auth: AuthServer) -> None:
    closed: list[bool] = []
    with API(url=auth.url) as api:
        api.login_user(EMAIL, PASSWORD)
        renewal = api._pipeline.credentials.renewal
        assert renewal is not None
        original_close = api.session.close
        api.session.close = lambda: (closed.append(True), original_close())  # type: ignore[method-assign]
    assert closed == [True]
    assert not api.has_token
    assert api.login_result is None
    assert api._pipeline.credentials.renewal is None
    assert renewal._body is None  # type: ignore[attr-defined]  # the password is gone
    assert PASSWORD not in repr(renewal)
    assert renewal.renew(api._pipeline) is False


def test_close_keeps_a_session_it_did_not_make(auth: AuthServer) -> None:
    import requests

    session = requests.Session()
    closed: list[bool] = []
    session.close = lambda: closed.append(True)  # type: ignore[method-assign]
    with API(url=auth.url, session=session) as api:
        api.login_device(DEVICE_ID, KEY, SECRET)
    assert closed == []
    assert not api.has_token


def test_reprs_hide_secrets(auth: AuthServer) -> None:
    api = API(url=auth.url).login_user(EMAIL, PASSWORD)
    token = api.login_result.token  # type: ignore[union-attr]
    text = repr(api) + str(api) + repr(api._pipeline.credentials.renewal)
    for secret in (PASSWORD, token):
        assert secret not in text
    device = API(url=auth.url).login_device(DEVICE_ID, KEY, SECRET)
    text = repr(device) + repr(device._pipeline.credentials.renewal)
    assert SECRET not in text
    assert device.login_result.token not in text  # type: ignore[union-attr]


@pytest.mark.parametrize("echo_html", [False, True])
def test_failed_login_errors_do_not_echo_the_password(echo_html: bool) -> None:
    with AuthServer(email=EMAIL, password=PASSWORD, echo_html=echo_html) as auth:
        wrong = "wrong-but-SECRET-password"
        with pytest.raises(UnauthorizedError) as caught:
            API(url=auth.url).login_user(EMAIL, wrong)
        assert wrong in auth.requests[-1].body.decode()  # the server did get it...
        error = caught.value
        text = str(error) + repr(error) + str(error.body) + str(error.args)
        assert wrong not in text  # ...but the error does not repeat it
        assert "***" in text
        assert error.__context__ is None and error.__cause__ is None
        response = error.http_response()
        assert response is None or wrong not in response.text
        assert response is None or not response.request.body


def test_failed_device_login_does_not_echo_the_secret(auth: AuthServer) -> None:
    with pytest.raises(UnauthorizedError) as caught:
        API(url=auth.url).login_device(DEVICE_ID, KEY, "not-the-SECRET-value")
    assert "not-the-SECRET-value" not in str(caught.value) + repr(caught.value)
    assert "not-the-SECRET-value" not in str(caught.value.body)


def test_refused_body_does_not_echo_the_password(auth: AuthServer) -> None:
    with pytest.raises(BodyValidationError) as caught:
        API(url=auth.url).login_user(EMAIL, "short")  # the schema wants 8 or more
    assert "short" not in str(caught.value)
    assert all("short" not in a + b for a, b in caught.value.errors)
    assert auth.requests == []  # nothing was sent


def test_logs_never_show_secrets(auth: AuthServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("urllib3").setLevel(logging.DEBUG)
    api = API(url=auth.url).login_user(EMAIL, PASSWORD)
    auth.expire_all()
    api.me().get()
    device = API(url=auth.url).login_device(DEVICE_ID, KEY, SECRET)
    with pytest.raises(LosantError):
        API(url=auth.url).login_user(EMAIL, "a-wrong-SECRET-password")
    assert any("urllib3" in r.name for r in caplog.records)  # the logs were on
    text = caplog.text + "".join(r.getMessage() for r in caplog.records)
    tokens = [api.login_result.token, device.login_result.token]  # type: ignore[union-attr]
    for secret in (PASSWORD, SECRET, "a-wrong-SECRET-password", *tokens):
        assert secret not in text
