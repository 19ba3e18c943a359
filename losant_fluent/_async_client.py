"""``AsyncAPI``: the same tree of call chains as ``API``, with awaited verbs.

``async with AsyncAPI(url=..., token=...) as api:`` then ``await api.applications(a)
.devices(d).get()``; paginated verbs are also walked with ``async for``. Requests go through
an :class:`~losant_fluent._async_pipeline.AsyncPipeline` (the sync pipeline's logic, awaited)
over httpx (the ``async`` extra: ``pip install 'losant-fluent[async]'``). See docs/async.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._async_pipeline import AsyncPipeline
from ._async_resources import AsyncRoot
from ._async_transport import AsyncTransport, HTTPXTransport
from ._auth import device_login, user_login
from ._client import DEFAULT_TIMEOUT, ClientBase, settings
from ._flows import arun
from ._limiter import ThrottleOption
from ._pipeline import ACCEPT_VERSION

if TYPE_CHECKING:
    from types import TracebackType

    import httpx
    from typing_extensions import Self

    from ._auth import OAuth2Flows

__all__ = ["AsyncAPI", "AsyncOAuth2"]



class AsyncAPI(ClientBase, AsyncRoot):
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

    @property
    def transport(self) -> AsyncTransport:
        """The async transport requests go through (``HTTPXTransport`` by default)."""
        return self._async_pipeline.atransport

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
        renewal, once = user_login(email, password, two_factor_code=two_factor_code,
                                   requested_scopes=requested_scopes, token_ttl=token_ttl)
        result = await renewal.alogin(self._async_pipeline, once)
        self._pipeline.credentials.install(result.token, None if once else renewal, result)
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
        renewal = device_login(device_id, key, secret, token_ttl=token_ttl,
                               requested_scopes=requested_scopes)
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
        from ._auth import OAuth2Flows

        pipeline = self._async_pipeline
        if verify is not None:
            # The token endpoint's own certificate rule: a pipeline over a transport of its
            # own that shares this API's credentials and options.
            pipeline = pipeline.companion(HTTPXTransport(verify=verify))  # closed by aclose
        flow = OAuth2Flows(pipeline, client_id, authorization_url, token_url, redirect_uri,
                      scope, client_secret=client_secret, token=token, on_token=on_token)
        return AsyncOAuth2(flow, pipeline)

    async def aclose(self) -> None:
        """Forget the token and any login secrets; close the connection pool (if ours)."""
        self._pipeline.credentials.forget()
        await self._async_pipeline.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class AsyncOAuth2:
    """OAuth 2.0 for one ``AsyncAPI``: the same flows as :class:`~losant_fluent.OAuth2`'s,
    awaited.

    Token requests (exchange and refresh) are the same flows as the sync client's, run by
    the async driver over the ``AsyncAPI``'s own transport (no worker thread); the access
    token is then used by every async request, and refreshed once when refused (401), as
    with the sync client.
    """

    def __init__(self, flow: OAuth2Flows, pipeline: AsyncPipeline) -> None:
        self._flow = flow
        self._pipeline = pipeline
        self._credentials = pipeline.credentials
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
        token = await arun(self._flow.fetch_token_flow(authorization_response),
                           self._pipeline.aperform)
        self._adopt()
        return token

    async def refresh(self) -> dict[str, Any]:
        """Get a new access token with the refresh token now; install it and return it."""
        token = await arun(self._flow.refresh_flow(), self._pipeline.aperform)
        self._adopt()
        return token

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
