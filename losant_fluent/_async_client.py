"""``AsyncAPI``: the same tree of call chains as ``API``, with awaited verbs.

``async with AsyncAPI(url=..., token=...) as api:`` then ``await api.applications(a)
.devices(d).get()``; paginated verbs are also walked with ``async for``. Requests go through
an :class:`~losant_fluent._async_pipeline.AsyncPipeline` (the sync pipeline's logic, awaited)
over httpx (the ``async`` extra: ``pip install 'losant-fluent[async]'``). See docs/async.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from . import _exceptions as errors
from ._async_pipeline import AsyncPipeline, AsyncTransport, HTTPXTransport
from ._async_resources import AsyncRoot
from ._auth import _LoginRenewal, _scrubbed
from ._client import DEFAULT_TIMEOUT, settings
from ._limiter import ThrottleOption
from ._pipeline import ACCEPT_VERSION, Credentials, Options

if TYPE_CHECKING:
    from types import TracebackType

    import httpx
    from typing_extensions import Self

    from ._auth import OAuth2
    from ._pipeline import Pipeline
    from .models import AuthedDevice, AuthedUser

__all__ = ["AsyncAPI", "AsyncOAuth2"]

_UNSET: Any = object()


class AsyncAPI(AsyncRoot):
    """The Losant API for asyncio: ``await api.applications(app_id).devices().get()``.

    The same tree, names, options and defaults as :class:`~losant_fluent.API`; the verbs
    are awaited. Paginated verbs return an object that is awaited for the first page or
    walked item by item with ``async for``. Options as ``API``'s (``timeout``,
    ``max_retries``, ``max_retry_wait``, ``validate``, ``headers``, ``verify``,
    ``accept_version``, ``throttle``: waits for room under Losant's limits are awaited),
    plus:

    * ``max_connections``: the connection pool's size, which also bounds how many requests
      run at once (default 64);
    * ``client``: your own ``httpx.AsyncClient`` (proxies, certificates), left open;
    * ``transport``: another async transport (``ThreadedTransport(WSGITransport(app))``
      runs against an in-process WSGI app such as the emulator's).

    Use it from one event loop at a time (one ``asyncio.run`` after another is fine: each
    new loop, or a forked child, gets new connections); ``async with AsyncAPI(...) as
    api:`` closes it on exit.
    """

    __slots__ = ()

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        max_retry_wait: float = 60.0,
        validate: bool = True,
        headers: Mapping[str, str] | None = None,
        verify: bool | str | None = None,
        client: httpx.AsyncClient | None = None,
        max_connections: int = 64,
        transport: AsyncTransport | None = None,
        accept_version: str = ACCEPT_VERSION,
        throttle: ThrottleOption = True,
    ) -> None:
        base, credentials, options = settings(
            url, token, timeout, max_retries, max_retry_wait, validate, headers, accept_version,
            throttle,
        )
        if transport is None:
            transport = HTTPXTransport(client, max_connections=max_connections, verify=verify)
        elif client is not None or verify is not None:
            raise TypeError("give either transport= or client=/verify=, not both")
        pipeline = AsyncPipeline(base, transport, credentials, options)
        super().__init__(pipeline, "")

    @classmethod
    def _over(cls, pipeline: AsyncPipeline) -> AsyncAPI:
        api = cls.__new__(cls)
        AsyncRoot.__init__(api, pipeline, "")
        return api

    def with_options(
        self,
        *,
        timeout: float | None = _UNSET,
        max_retries: int = _UNSET,
        max_retry_wait: float = _UNSET,
        validate: bool = _UNSET,
        headers: Mapping[str, str] | None = _UNSET,
    ) -> AsyncAPI:
        """A derived ``AsyncAPI`` with some options changed (see ``API.with_options``).

        It shares the connection pool, the token and its renewal with this one.
        """
        given = {
            "timeout": timeout,
            "max_retries": max_retries,
            "max_retry_wait": max_retry_wait,
            "validate": validate,
            "headers": headers,
        }
        changes = {name: value for name, value in given.items() if value is not _UNSET}
        return AsyncAPI._over(self._async_pipeline.with_options(**changes))

    # -- configuration ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL requests go to."""
        return self._pipeline.url

    @property
    def options(self) -> Options:
        """This API's request options (timeout, retries, validation, extra headers)."""
        return self._pipeline.options

    @property
    def transport(self) -> AsyncTransport:
        """The async transport requests go through (``HTTPXTransport`` by default)."""
        return self._async_pipeline.atransport

    @property
    def has_token(self) -> bool:
        """Whether a token is set (the token itself is never shown)."""
        return bool(self._pipeline.credentials.token)

    def set_token(self, token: str | None) -> AsyncAPI:
        """Use ``token`` for every following request (``None`` to send none); returns the API."""
        credentials = self._pipeline.credentials
        with credentials.lock:
            credentials.install(token or None, None, credentials.login_result)
        return self

    def __repr__(self) -> str:
        token = "set" if self._pipeline.credentials.token else "none"
        return f"<AsyncAPI {self._pipeline.url} token={token}>"

    # -- logins ------------------------------------------------------------------------------

    @property
    def login_result(self) -> AuthedUser | AuthedDevice | None:
        """What the last ``login_user``/``login_device`` returned (``None`` otherwise)."""
        result: AuthedUser | AuthedDevice | None = self._pipeline.credentials.login_result
        return result

    async def login_user(
        self,
        email: str,
        password: str,
        *,
        two_factor_code: str | Callable[[], str] | None = None,
        requested_scopes: Sequence[str] | None = None,
        token_ttl: int | None = None,
    ) -> AsyncAPI:
        """Log in as a user (``POST /auth/user``) and use the token; returns the API.

        When the token expires (401) the API logs in again once and re-sends, as ``API``
        does. A ``two_factor_code`` string is good for this login only (no renewal).
        """
        body: dict[str, Any] = {"email": email, "password": password}
        if requested_scopes is not None:
            body["requestedScopes"] = list(requested_scopes)
        if token_ttl is not None:
            body["tokenTTL"] = token_ttl
        if isinstance(two_factor_code, str):
            result = await _AsyncLoginRenewal("user", body).alogin(
                self._async_pipeline, two_factor_code)
            self._pipeline.credentials.install(result.token, None, result)
            return self
        renewal = _AsyncLoginRenewal("user", body, two_factor_code)
        result = await renewal.alogin(self._async_pipeline)
        self._pipeline.credentials.install(result.token, renewal, result)
        return self

    async def login_device(
        self,
        device_id: str,
        key: str,
        secret: str,
        *,
        token_ttl: int | None = None,
        requested_scopes: Sequence[str] | None = None,
    ) -> AsyncAPI:
        """Log in as a device (``POST /auth/device``) with an access key and secret."""
        body: dict[str, Any] = {"deviceId": device_id, "key": key, "secret": secret}
        if token_ttl is not None:
            body["tokenTTL"] = token_ttl
        if requested_scopes is not None:
            body["requestedScopes"] = list(requested_scopes)
        renewal = _AsyncLoginRenewal("device", body)
        result = await renewal.alogin(self._async_pipeline)
        self._pipeline.credentials.install(result.token, renewal, result)
        return self

    def oauth2(
        self,
        client_id: str,
        authorization_url: str,
        token_url: str,
        redirect_uri: str,
        scope: str | Sequence[str] | None = None,
        *,
        client_secret: str | None = None,
        token: Mapping[str, Any] | None = None,
        on_token: Callable[[dict[str, Any]], object] | None = None,
        verify: bool | str | None = None,
    ) -> AsyncOAuth2:
        """Start OAuth 2.0 (authorization code with PKCE) for this API; see ``AsyncOAuth2``.

        The same flow as ``API.oauth2``: ``authorization_url()``, then
        ``await fetch_token(redirected_url)``; an expired access token is refreshed once on
        401. ``verify`` is for the token endpoint's certificate.
        """
        from ._auth import OAuth2
        from ._pipeline import Pipeline
        from ._transport import RequestsTransport

        pipeline = self._pipeline
        # The token requests go through a synchronous pipeline (requests-oauthlib builds them)
        # that shares this API's credentials, run in a worker thread.
        token_pipeline = Pipeline(pipeline.url, RequestsTransport(verify=verify),
                                  pipeline.credentials, pipeline.options)
        flow = OAuth2(token_pipeline, client_id, authorization_url, token_url, redirect_uri,
                      scope, client_secret=client_secret, token=token, on_token=on_token)
        return AsyncOAuth2(flow, pipeline.credentials)

    async def aclose(self) -> None:
        """Forget the token and any login secrets; close the connection pool (if ours)."""
        self._pipeline.credentials.forget()
        await self._async_pipeline.atransport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class _AsyncLoginRenewal(_LoginRenewal):
    """A login's stored credentials, logging in again through the async pipeline."""

    __slots__ = ()

    def __init__(
        self,
        kind: Literal["user", "device"],
        body: dict[str, Any],
        two_factor: Callable[[], str] | None = None,
    ) -> None:
        super().__init__(kind, body, two_factor)

    async def alogin(
        self, pipeline: AsyncPipeline, two_factor_code: str | None = None
    ) -> AuthedUser | AuthedDevice:
        """Post the credentials (without any token) and return Losant's answer."""
        body, secrets = self.request_body(two_factor_code)
        auth = AsyncRoot(pipeline.anonymous(), "").auth()
        failure: errors.LosantError | None = None
        try:
            if self._kind == "user":
                return await auth.user().post(body)
            return await auth.device().post(body)
        except errors.LosantError as exc:
            failure = _scrubbed(exc, secrets)
        raise failure

    def renew(self, pipeline: Pipeline) -> bool:
        """A sync renewal is impossible here; the async pipeline calls :meth:`arenew`."""
        return False

    async def arenew(self, pipeline: AsyncPipeline) -> bool:
        """Log in again and install the new token; ``False`` once the credentials are gone."""
        if self._body is None:
            return False
        result = await self.alogin(pipeline)
        pipeline.credentials.install(result.token, self, result)
        return True


class AsyncOAuth2:
    """OAuth 2.0 for one ``AsyncAPI``: the sync :class:`~losant_fluent.OAuth2` flow, awaited.

    Token requests (exchange and refresh) run in a worker thread through a pipeline that
    shares the ``AsyncAPI``'s credentials; the access token is then used by every async
    request, and refreshed once when refused (401), as with the sync client.
    """

    def __init__(self, flow: OAuth2, credentials: Credentials) -> None:
        self._flow = flow
        self._credentials = credentials
        if flow.token is not None:
            self._adopt()

    def __repr__(self) -> str:
        return repr(self._flow).replace("<OAuth2", "<AsyncOAuth2", 1)

    @property
    def token(self) -> dict[str, Any] | None:
        """A copy of the current token (``access_token``, ``refresh_token``...)."""
        return self._flow.token

    def authorization_url(self, **extra: str) -> tuple[str, str]:
        """The URL to send the user to, and its ``state`` (nothing is sent)."""
        return self._flow.authorization_url(**extra)

    async def fetch_token(self, authorization_response: str) -> dict[str, Any]:
        """Trade the redirect URL for a token and start using it (see ``OAuth2``)."""
        token = await asyncio.to_thread(self._flow.fetch_token, authorization_response)
        self._adopt()
        return token

    async def refresh(self) -> dict[str, Any]:
        """Get a new access token with the refresh token now; install it and return it."""
        token = await asyncio.to_thread(self._flow.refresh)
        self._adopt()
        return token

    def renew(self, pipeline: Pipeline) -> bool:
        """A sync renewal is impossible here; the async pipeline calls :meth:`arenew`."""
        return False

    async def arenew(self, pipeline: AsyncPipeline) -> bool:
        """Refresh after a 401 (called by the async pipeline); ``False`` without a refresh
        token."""
        if not (self._flow.token or {}).get("refresh_token"):
            return False
        await self.refresh()
        return True

    def forget(self) -> None:
        """Drop the tokens and the PKCE verifier."""
        self._flow.forget()

    def _adopt(self) -> None:
        """Make this object the renewal of the token the flow just installed."""
        with self._credentials.lock:
            self._credentials.install(self._credentials.token, self, None)
