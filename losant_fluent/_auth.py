"""Logins, OAuth 2.0 and token renewal for :class:`~losant_fluent.API` (see docs/auth.md).

A login (``API.login_user`` / ``API.login_device``) posts credentials to ``/auth/user`` or
``/auth/device``, uses the token that comes back, and leaves a *renewal* beside the token
(``_pipeline.Credentials``): when Losant later refuses that token with 401, the pipeline
asks the renewal for a new token (by logging in again) once, under the credentials' lock,
and re-sends the request once. :class:`OAuth2` does the same for OAuth 2.0 tokens
(authorization code with PKCE), renewing with the refresh token; its token requests are
flows (oauthlib prepares and parses the bodies) sent through the same pipeline (retries,
timeouts, no redirects) by ``API`` and, awaited, by ``AsyncAPI``.

This module depends on the pipeline and the node tree, never on ``API``: the pipeline
asks a renewal to ``renew(pipeline)``.

Secrets (passwords, device secrets, two-factor codes, client secrets, refresh tokens) are
kept only here and never put in a ``repr``, a log record or an exception message;
``API.close()`` forgets them.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import secrets as _random
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlsplit

from . import _catalog, _secrets, _wire
from . import _exceptions as errors
from ._flows import Flow, arun, run
from ._pipeline import Pipeline, PipelineBase, _loopback, send_flow

if TYPE_CHECKING:
    from ._async_pipeline import AsyncPipeline
    from .models import AuthedDevice, AuthedUser

__all__ = ["OAuth2", "OAuth2Error", "OAuth2Flows", "login_device", "login_user"]

_SECRET_FIELDS = ("password", "twoFactorCode", "key", "secret")

TokenCallback = Callable[[dict[str, Any]], object]


class OAuth2Error(errors.LosantError):
    """An OAuth 2.0 step failed: the authorization server refused it, or it could not start.

    ``error`` is the OAuth error code (``"invalid_grant"``, ``"mismatching_state"``,
    ``"insecure_transport"``...), ``description`` the server's explanation when it gave
    one, ``status`` the token endpoint's HTTP status when there was an answer.
    """

    def __init__(self, error: str, description: str = "", status: int | None = None) -> None:
        self.error = error
        self.description = _secrets.scrub(description)
        self.status = status
        text = f"OAuth 2.0 {error}"
        if description:
            text += f": {description}"
        if status is not None:
            text += f" (HTTP {status})"
        super().__init__(text)


# -- keeping secrets out of errors -------------------------------------------------------------


def _forms(secret: str) -> set[str]:
    """The ways a secret can show up in an error text: raw, JSON-escaped, URL-encoded."""
    return {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), repr(secret)[1:-1]}


def _scrub(value: Any, secrets: Sequence[str]) -> Any:
    """``value`` (text, or JSON-like data) with every form of every secret redacted."""
    if isinstance(value, str):
        for secret in secrets:
            for form in sorted(_forms(secret), key=len, reverse=True):
                if form:
                    value = value.replace(form, _secrets.MASK)
        return value
    if isinstance(value, Mapping):
        return {key: _scrub(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item, secrets) for item in value]
    return value


def _forget_body(response: Any) -> None:
    """Drop the request body (a login's credentials) from the answer handed on."""
    try:
        request = response.request
    except RuntimeError:  # an httpx.Response made without its request
        return
    if request is None:
        return
    if hasattr(request, "body"):  # requests.PreparedRequest
        request.body = None
    else:  # httpx.Request: a copy of it without its content
        response.request = type(request)(request.method, request.url)


def _scrubbed(exc: errors.LosantError, secrets: Sequence[str]) -> errors.LosantError:
    """A copy of ``exc`` that names none of ``secrets`` (a login's failure, safe to raise)."""
    secrets = [s for s in secrets if s]
    if isinstance(exc, errors.APIError):
        response = exc.http_response()
        if response is not None:
            _forget_body(response)  # the credentials we sent
            if _scrub(response.text, secrets) != response.text:
                response = None  # the server echoed them back: do not hand it on
        return type(exc)(
            exc.status,
            exc.type,
            _scrub(exc.message, secrets),
            method=exc.method,
            path=exc.path,
            body=_scrub(exc.body, secrets),
            response=response,
        )
    if isinstance(exc, errors.BodyValidationError):
        return errors.BodyValidationError(
            _scrub(str(exc), secrets),
            [(_scrub(where, secrets), _scrub(what, secrets)) for where, what in exc.errors],
        )
    return exc  # transport errors name the method, path and URL only


# -- user and device logins --------------------------------------------------------------------


_LOGIN_ENDPOINTS = {"user": ("auth.authenticateUser", "/auth/user"),
                    "device": ("auth.authenticateDevice", "/auth/device")}


class LoginRenewal:
    """The stored credentials of a login, used to log in again when the token expires.

    The login itself is one flow (:meth:`flow`): post the credentials without a token,
    decode Losant's answer, keep the secrets out of any error. ``login``/``renew`` run it
    for ``API``, ``alogin``/``arenew`` for ``AsyncAPI``.
    """

    __slots__ = ("_kind", "_body", "_two_factor", "__weakref__")

    def __init__(
        self,
        kind: Literal["user", "device"],
        body: dict[str, Any],
        two_factor: Callable[[], str] | None = None,
    ) -> None:
        self._kind = kind
        self._body: dict[str, Any] | None = body
        self._two_factor = two_factor
        # kept scrubbed while stored here, however many secrets the process sees after
        _secrets.register(*(body.get(name) for name in ("password", "key", "secret")),
                          owner=self)

    def __repr__(self) -> str:
        state = "forgotten" if self._body is None else "kept"
        return f"<{type(self).__name__} {self._kind} credentials {state}>"

    def request_body(self, two_factor_code: str | None = None) -> tuple[dict[str, Any], list[str]]:
        """The body of a login request, and the secrets in it (to keep out of errors)."""
        if self._body is None:
            raise RuntimeError("these login credentials were forgotten (the API was closed)")
        body = dict(self._body)
        if two_factor_code is None and self._two_factor is not None:
            two_factor_code = self._two_factor()
        if two_factor_code is not None:
            body["twoFactorCode"] = two_factor_code
        return body, [body[f] for f in _SECRET_FIELDS if isinstance(body.get(f), str)]

    def flow(self, anonymous: PipelineBase, two_factor_code: str | None = None
             ) -> Flow[AuthedUser | AuthedDevice]:
        """The login as a flow over a pipeline that sends no token (see ``_flows``)."""
        body, secrets = self.request_body(two_factor_code)
        endpoint_id, path = _LOGIN_ENDPOINTS[self._kind]
        failure: errors.LosantError | None = None
        try:
            call = _wire.encode(_catalog.endpoint(endpoint_id), path, body, {},
                                validate=anonymous.options.validate)
            response = yield from send_flow(anonymous, call)
            result: AuthedUser | AuthedDevice = anonymous.decode(call, response)
            token = getattr(result, "token", None)
            if isinstance(token, str) and token != token.strip() or "\n" in str(token):
                _secrets.register(token, str(token).strip())
                raise errors.InvalidResponseError(  # it could not go in a header
                    f"POST {path}: the login answer's token has whitespace around it or a "
                    "line break in it (the token is not shown)", response)
            return result
        except errors.LosantError as exc:
            failure = _scrubbed(exc, secrets)
        raise failure  # outside the except block: no link to the unscrubbed original

    def login(
        self, pipeline: Pipeline, two_factor_code: str | None = None
    ) -> AuthedUser | AuthedDevice:
        """Post the credentials (without any token) and return Losant's answer."""
        # No token and no renewal: a refused login raises instead of renewing again.
        anonymous = pipeline.anonymous()
        return run(self.flow(anonymous, two_factor_code), anonymous.perform)

    async def alogin(
        self, pipeline: AsyncPipeline, two_factor_code: str | None = None
    ) -> AuthedUser | AuthedDevice:
        """:meth:`login` through an ``AsyncAPI``'s pipeline, awaited."""
        anonymous = pipeline.anonymous()
        return await arun(self.flow(anonymous, two_factor_code), anonymous.aperform)

    def renew(self, pipeline: Pipeline) -> bool:
        """Log in again and install the new token; ``False`` once the credentials are gone."""
        if self._body is None:
            return False
        result = self.login(pipeline)
        pipeline.credentials.install(result.token, self, result)
        return True

    async def arenew(self, pipeline: AsyncPipeline) -> bool:
        """:meth:`renew`, awaited (the async pipeline renews through this)."""
        if self._body is None:
            return False
        result = await self.alogin(pipeline)
        pipeline.credentials.install(result.token, self, result)
        return True

    def forget(self) -> None:
        """Drop the stored credentials."""
        self._body = None
        self._two_factor = None


def user_login(
    email: str,
    password: str,
    *,
    two_factor_code: str | Callable[[], str] | None = None,
    requested_scopes: Sequence[str] | None = None,
    token_ttl: int | None = None,
) -> tuple[LoginRenewal, str | None]:
    """A user login (``POST /auth/user``) for either client: its stored credentials, and
    a one-time code (a login with one is not renewed: the code cannot be used again)."""
    body: dict[str, Any] = {"email": email, "password": password}
    if requested_scopes is not None:
        body["requestedScopes"] = list(requested_scopes)
    if token_ttl is not None:
        body["tokenTTL"] = token_ttl
    if isinstance(two_factor_code, str):
        return LoginRenewal("user", body), two_factor_code
    return LoginRenewal("user", body, two_factor_code), None


def device_login(
    device_id: str,
    key: str,
    secret: str,
    *,
    token_ttl: int | None = None,
    requested_scopes: Sequence[str] | None = None,
) -> LoginRenewal:
    """A device login (``POST /auth/device``) with an access key and secret."""
    _secrets.check("key", key)  # registered, kept out of errors, by ``LoginRenewal``
    _secrets.check("secret", secret)
    body: dict[str, Any] = {"deviceId": device_id, "key": key, "secret": secret}
    if token_ttl is not None:
        body["tokenTTL"] = token_ttl
    if requested_scopes is not None:
        body["requestedScopes"] = list(requested_scopes)
    return LoginRenewal("device", body)


def login_user(
    pipeline: Pipeline,
    email: str,
    password: str,
    *,
    two_factor_code: str | Callable[[], str] | None = None,
    requested_scopes: Sequence[str] | None = None,
    token_ttl: int | None = None,
) -> None:
    """Log in as a user (``POST /auth/user``); see :meth:`API.login_user`."""
    renewal, once = user_login(email, password, two_factor_code=two_factor_code,
                               requested_scopes=requested_scopes, token_ttl=token_ttl)
    result = renewal.login(pipeline, once)
    pipeline.credentials.install(result.token, None if once else renewal, result)


def login_device(
    pipeline: Pipeline,
    device_id: str,
    key: str,
    secret: str,
    *,
    token_ttl: int | None = None,
    requested_scopes: Sequence[str] | None = None,
) -> None:
    """Log in as a device (``POST /auth/device``); see :meth:`API.login_device`."""
    renewal = device_login(device_id, key, secret, token_ttl=token_ttl,
                           requested_scopes=requested_scopes)
    result = renewal.login(pipeline)
    pipeline.credentials.install(result.token, renewal, result)


# -- OAuth 2.0 ---------------------------------------------------------------------------------

_quiet = threading.local()


def _is_loopback(url: str) -> bool:
    return _loopback(urlsplit(url).hostname or "")


def _allow_loopback_http() -> None:
    """Let oauthlib accept ``http://`` loopback URLs inside our own calls, in this thread only.

    oauthlib refuses plain ``http://`` unless the process-wide ``OAUTHLIB_INSECURE_TRANSPORT``
    is set, which would also let another thread's OAuth call send its secret in clear. Its
    ``is_secure_transport`` is wrapped instead: the wrapper also answers yes for a loopback
    ``http://`` URL while one of our calls runs in the current thread; everything else gets
    oauthlib's own answer.
    """
    import importlib

    for name in (
        "oauthlib.oauth2.rfc6749.parameters",
        "oauthlib.oauth2.rfc6749.clients.base",
    ):
        module = importlib.import_module(name)
        original = getattr(module, "is_secure_transport", None)
        if original is None or getattr(original, "_losant_wrapped", False):
            continue

        def is_secure_transport(uri: str, _original: Callable[[str], bool] = original) -> bool:
            if _original(uri):
                return True
            return bool(getattr(_quiet, "depth", 0)) and uri.lower().startswith(
                "http://"
            ) and _is_loopback(uri)

        is_secure_transport._losant_wrapped = True  # type: ignore[attr-defined]
        module.is_secure_transport = is_secure_transport  # type: ignore[attr-defined]


@contextlib.contextmanager
def _oauthlib_call() -> Iterator[None]:
    """Run one oauthlib step (no I/O, no ``await`` inside): loopback http allowed in it."""
    _allow_loopback_http()
    _quiet.depth = getattr(_quiet, "depth", 0) + 1
    try:
        yield
    finally:
        _quiet.depth -= 1


def _form(body: str) -> bytes:
    """oauthlib's form body re-encoded as requests encodes a ``data=`` dict (the bytes that
    requests-oauthlib sent, kept byte for byte)."""
    from urllib.parse import urlencode

    from oauthlib.common import urldecode  # type: ignore[import-untyped,unused-ignore]

    return urlencode(list(dict(urldecode(body)).items()), doseq=True).encode("utf-8")


def _token_call(token_url: str, body: str) -> Any:
    """The ``WireCall`` of a token request: a form POST that accepts JSON, no other header."""
    import requests

    from ._wire import WireCall

    return WireCall(
        method="POST",
        path=urlsplit(token_url).path,
        headers=(("Accept", "application/json"),),
        body=_form(body),
        content_type="application/x-www-form-urlencoded",
        url=requests.Request("POST", token_url).prepare().url,  # normalised as requests did
    )


def _secure(url: str) -> None:
    """oauthlib's transport rule (https, or loopback http inside our calls)."""
    from oauthlib.oauth2 import InsecureTransportError  # type: ignore[import-untyped,unused-ignore]
    from oauthlib.oauth2.rfc6749 import (  # type: ignore[import-untyped,unused-ignore]
        parameters,
    )

    if not parameters.is_secure_transport(url):  # looked up now: the wrapped rule
        raise InsecureTransportError()


class OAuth2Flows:
    """The state of one OAuth 2.0 authorization (PKCE verifier, ``state``, tokens) and its
    token requests as flows (:meth:`fetch_token_flow`, :meth:`refresh_flow`), for either
    client: oauthlib prepares and parses the bodies, ``send_flow`` sends them.
    :class:`OAuth2` runs them with ``_flows.run`` (``API``), ``AsyncOAuth2`` with
    ``_flows.arun`` (``AsyncAPI``).
    """

    def __init__(
        self,
        pipeline: PipelineBase,
        client_id: str,
        authorization_url: str,
        token_url: str,
        redirect_uri: str,
        scope: str | Sequence[str] | None = None,
        *,
        client_secret: str | None = None,
        token: Mapping[str, Any] | None = None,
        on_token: TokenCallback | None = None,
    ) -> None:
        from oauthlib.oauth2 import (  # type: ignore[import-untyped,unused-ignore]
            WebApplicationClient,
        )

        self._scopes = [scope] if isinstance(scope, str) else list(scope) if scope else None
        self._pipeline = pipeline
        self.client_id = client_id
        self._authorize_endpoint = authorization_url
        self.token_url = token_url
        self.redirect_uri = redirect_uri
        self._client_secret = _secrets.check("client_secret", client_secret)
        # kept scrubbed while these flows hold it (and the refresh token of ``_adopt``)
        _secrets.register(client_secret, basic_user=client_id, owner=self)
        self._token_hold: _secrets.Hold = ()
        self._on_token = on_token
        self._token: dict[str, Any] | None = None
        self._state: str | None = None
        self._verifier: str | None = None  # PKCE: made by authorization_url, used once
        self._client: Any = WebApplicationClient(client_id)
        if token is not None:
            self._adopt(dict(token), notify=False)

    def __repr__(self) -> str:
        token = self._token
        refresh = "yes" if token and token.get("refresh_token") else "no"
        return (
            f"<OAuth2 client_id={self.client_id!r} token={'set' if token else 'none'} "
            f"refresh_token={refresh}>"
        )

    @property
    def token(self) -> dict[str, Any] | None:
        """A copy of the current token (``access_token``, ``refresh_token``, ``expires_at``...)."""
        return dict(self._token) if self._token else None

    def authorization_url(self, **extra: str) -> tuple[str, str]:
        """The URL to send the user to, and its ``state``; the PKCE verifier is kept here.

        ``extra`` adds query parameters (``prompt="consent"``...). Each call starts a new
        authorization (new state, new verifier).
        """
        from oauthlib.common import generate_token  # type: ignore[import-untyped,unused-ignore]

        self._verifier = verifier = _random.token_urlsafe(48)  # 64 chars, RFC 7636 alphabet
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        self._state = state = generate_token()
        url = self._call(
            lambda: self._client.prepare_request_uri(
                self._authorize_endpoint,
                redirect_uri=self.redirect_uri,
                scope=self._scopes,
                state=state,
                code_challenge=challenge,
                code_challenge_method="S256",
                **extra,
            ),
        )
        return str(url), str(state)

    def fetch_token_flow(self, authorization_response: str) -> Flow[dict[str, Any]]:
        """The exchange of the redirect URL for a token, as a flow (see ``_flows``).

        Checks ``state``, sends the PKCE verifier, installs the access token with this
        object as its renewal, calls ``on_token``; its result is the token.
        """
        verifier = self._verifier
        if verifier is None:
            raise OAuth2Error("invalid_request", "call authorization_url() first")

        def prepare() -> str:
            _secure(self.token_url)
            self._client.parse_request_uri_response(authorization_response, state=self._state)
            options: dict[str, Any] = {"code_verifier": verifier}
            if self._client_secret is not None:
                options["client_secret"] = self._client_secret
            body: str = self._client.prepare_request_body(
                code=self._client.code, body="", redirect_uri=self.redirect_uri,
                include_client_id=True, **options)
            return body

        token = yield from self._token_flow(self._call(prepare))
        self._verifier = None  # one use only
        return self._adopt(token)

    def refresh_flow(self) -> Flow[dict[str, Any]]:
        """A refresh with the refresh token, as a flow; its result is the new token."""
        refresh_token = (self._token or {}).get("refresh_token")
        if not refresh_token:
            raise OAuth2Error("invalid_request", "no refresh token to refresh with")

        def prepare() -> str:
            _secure(self.token_url)
            body: str = self._client.prepare_refresh_body(
                body="", refresh_token=refresh_token, scope=self._scopes,
                client_id=self.client_id, client_secret=self._client_secret)
            return body

        token = yield from self._token_flow(self._call(prepare))
        token.setdefault("refresh_token", refresh_token)  # no new one given: keep the old
        return self._adopt(token)

    def forget(self) -> None:
        """Drop the tokens and the PKCE verifier."""
        self._token = None
        self._verifier = None
        self._client.token = {}

    # -- internals -----------------------------------------------------------------------------

    def _token_flow(self, body: str) -> Flow[dict[str, Any]]:
        """Post ``body`` to the token endpoint (no Losant token, answers of any status
        handed back) and parse the answer as oauthlib does."""
        call = _token_call(self.token_url, body)
        response = yield from send_flow(self._pipeline, call, authorize=False,
                                        check_status=False)
        status = int(response.status_code)
        text = response.text
        token = self._call(
            lambda: self._client.parse_request_body_response(text, scope=self._scopes),
            status=status,
        )
        return dict(token)

    def _adopt(self, token: dict[str, Any], notify: bool = True) -> dict[str, Any]:
        """Make ``token`` current: here, on the ``API``, and to ``on_token``."""
        access = token.get("access_token")
        if not access:
            raise OAuth2Error("invalid_token", "the token has no access_token")
        previous, self._token_hold = self._token_hold, _secrets.register(
            token.get("refresh_token"), token.get("id_token"), owner=self)
        _secrets.let_go(previous)  # a rotated refresh token: the newest is the one kept
        self._token = token
        self._pipeline.credentials.install(str(access), self, None)
        if notify and self._on_token is not None:
            self._on_token(dict(token))
        return dict(token)

    def _call(self, step: Callable[[], Any], status: int | None = None) -> Any:
        """Run one oauthlib step (no I/O); its failures become ``OAuth2Error``.

        Transport failures come from the pipeline already as ``LosantError`` (their messages
        name the method and path only) and pass through.
        """
        from oauthlib.oauth2 import (  # type: ignore[import-untyped,unused-ignore]
            OAuth2Error as OAuthLibError,
        )

        secrets = [s for s in (self._client_secret, self._verifier) if s]
        failure: errors.LosantError
        with _oauthlib_call():
            try:
                return step()
            except OAuthLibError as exc:
                description = _scrub(str(exc.description or ""), secrets)
                failure = OAuth2Error(str(exc.error), description, status)
            except Warning as exc:  # oauthlib: the server granted other scopes than asked
                failure = OAuth2Error("scope_changed", str(exc), status)
            except ValueError as exc:  # an answer that is not a token (HTML, broken JSON)
                failure = OAuth2Error("invalid_response", type(exc).__name__, status)
        raise failure  # outside the except blocks: no link to the original (it may hold tokens)


class OAuth2(OAuth2Flows):
    """OAuth 2.0 for one ``API``: authorization code with PKCE (S256), refresh tokens.

    Make one with :meth:`API.oauth2`. Send the user to :meth:`authorization_url`; hand the
    URL they are redirected back to to :meth:`fetch_token`. From then on the ``API`` sends the
    access token, and when it is refused (401) refreshes it once with the refresh token and
    retries. Every new token is passed to ``on_token`` so it can be saved; a saved token
    goes back in with ``token=``.
    """

    _pipeline: Pipeline  # API.oauth2 gives it the API's pipeline

    def fetch_token(self, authorization_response: str) -> dict[str, Any]:
        """Trade the redirect URL (``...?code=...&state=...``) for a token, and start using it.

        Checks ``state``, sends the PKCE verifier, installs the access token on the ``API``
        with this object as its renewal, calls ``on_token`` and returns the token.
        """
        return run(self.fetch_token_flow(authorization_response), self._pipeline.perform)

    def refresh(self) -> dict[str, Any]:
        """Get a new access token with the refresh token now; install it and return it."""
        with self._pipeline.credentials.lock:  # one refresh at a time for every thread
            return run(self.refresh_flow(), self._pipeline.perform)

    def renew(self, pipeline: Pipeline) -> bool:
        """Refresh after a 401 (called by the pipeline); ``False`` without a refresh token."""
        if not (self._token or {}).get("refresh_token"):
            return False
        self.refresh()
        return True
