"""``API``: the root of every call chain, and the client's configuration.

An ``API`` is the root node of the tree (``api.applications(x)...``) plus what its requests
share: the base URL, the transport (one pooled ``requests.Session`` by default), the token
with its renewal, and the options (timeout, retries, body checks). All of that lives in a
:class:`~losant_fluent._pipeline.Pipeline`, which every node of the tree carries and every
request goes through; ``with_options`` makes another ``API`` over the same pipeline parts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import _secrets
from ._limiter import ThrottleOption, limiter_for
from ._node import Node
from ._pipeline import ACCEPT_VERSION, Credentials, Options, Pipeline, check_url
from ._resources import Root
from ._transport import RequestsTransport, Transport

if TYPE_CHECKING:
    from types import TracebackType

    import requests
    from typing_extensions import Self

    from ._auth import OAuth2
    from .models import AuthedDevice, AuthedUser

__all__ = ["API", "DEFAULT_TIMEOUT", "DEFAULT_URL", "settings"]

DEFAULT_URL = "https://api.losant.com"
DEFAULT_TIMEOUT = 60.0
_UNSET: Any = object()


def settings(
    url: str | None,
    token: str | None,
    timeout: float | None,
    max_retries: int,
    max_retry_wait: float,
    validate: bool,
    headers: Mapping[str, str] | None,
    accept_version: str,
    throttle: ThrottleOption = True,
) -> tuple[str, Credentials, Options]:
    """The checked base URL, credentials and options of a new ``API`` (or ``AsyncAPI``).

    ``url`` falls back to ``$LOSANT_API_URL``, then ``https://api.losant.com``; ``token`` to
    ``$LOSANT_API_TOKEN``.
    """
    base = check_url(url or os.environ.get("LOSANT_API_URL") or DEFAULT_URL)
    if token is None:
        token = os.environ.get("LOSANT_API_TOKEN") or None
        _secrets.check("$LOSANT_API_TOKEN", token)  # a newline from `export ...=$(cat f)`
    options = Options(
        timeout=timeout,
        max_retries=max_retries,
        max_retry_wait=max_retry_wait,
        validate=validate,
        headers=tuple(_mapping("headers", headers).items()),
        accept_version=accept_version,
        limiter=limiter_for(throttle),
    )
    return base, Credentials(token or None), options


def _mapping(name: str, value: Mapping[str, str] | None) -> Mapping[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping of names to values, not "
                        f"{type(value).__name__}")
    return value


class ClientBase:
    """What ``API`` and ``AsyncAPI`` share: options, the URL, the token and the last login,
    all read off the pipeline the client's nodes carry."""

    __slots__ = ()
    _pipeline: Pipeline

    @classmethod
    def _over(cls, pipeline: Any) -> Self:
        """A client over an existing pipeline (``with_options``)."""
        api = cls.__new__(cls)
        Node.__init__(api, pipeline, "")  # type: ignore[arg-type]  # a client is a root node
        return api

    def with_options(
        self,
        *,
        timeout: float | None = _UNSET,
        max_retries: int = _UNSET,
        max_retry_wait: float = _UNSET,
        validate: bool = _UNSET,
        headers: Mapping[str, str] | None = _UNSET,
    ) -> Self:
        """A derived client with some options changed; nodes built from it use them.

        It shares the connection pool, the token and its renewal with this one: a login or
        token change on either is seen by both.
        """
        given = {
            "timeout": timeout,
            "max_retries": max_retries,
            "max_retry_wait": max_retry_wait,
            "validate": validate,
            "headers": headers,
        }
        changes = {name: value for name, value in given.items() if value is not _UNSET}
        return self._over(self._pipeline.with_options(**changes))

    @property
    def url(self) -> str:
        """The base URL requests go to."""
        return self._pipeline.url

    @property
    def options(self) -> Options:
        """This API's request options (timeout, retries, validation, extra headers)."""
        return self._pipeline.options

    @property
    def has_token(self) -> bool:
        """Whether a token is set (the token itself is never shown)."""
        return bool(self._pipeline.credentials.token)

    def set_token(self, token: str | None) -> Self:
        """Use ``token`` for every following request (``None`` to send none); returns the API."""
        credentials = self._pipeline.credentials
        with credentials.lock:  # the last login's result stays readable
            credentials.install(token or None, None, credentials.login_result)
        return self

    def __repr__(self) -> str:
        token = "set" if self._pipeline.credentials.token else "none"
        return f"<{type(self).__name__} {self._pipeline.url} token={token}>"

    @property
    def login_result(self) -> AuthedUser | AuthedDevice | None:
        """What the last ``login_user``/``login_device`` returned (``None`` otherwise).

        ``AuthedUser`` has ``user_id``; ``AuthedDevice`` has ``application_id``, ``device_id``.
        """
        result: AuthedUser | AuthedDevice | None = self._pipeline.credentials.login_result
        return result


class API(ClientBase, Root):
    """The Losant API, as a tree of call chains: ``api.applications(app_id).devices().get()``.

    ``url`` defaults to ``$LOSANT_API_URL`` or ``https://api.losant.com``; ``token`` to
    ``$LOSANT_API_TOKEN``. Options:

    * ``timeout``: seconds for a whole answer, body included (``None``: wait forever);
    * ``max_retries``: how often a failed request is retried when that is safe (a request
      that never reached the server or got 429; GET, PUT and DELETE also on 408/5xx and
      dropped connections), waiting 0.5 s doubling to 8 s, or the server's ``Retry-After``
      up to ``max_retry_wait`` seconds (a longer ask raises at once);
    * ``validate=False`` sends request bodies without checking them against their schema;
    * ``throttle``: wait for room under Losant's published limits before sending (default
      ``True``; see ``losant_fluent.limits``). ``False`` turns it off; a dict by limit name
      replaces numbers (``{"device state": {"calls": 10}}``) or drops a limit (``None``);
      ``with_options`` copies and threads share one count;
    * ``headers``: extra headers for every request;
    * ``verify``: ``False`` or a CA bundle path, for self-signed certificates;
    * ``session``: your own ``requests.Session`` (proxies, adapters); ``pool_size``:
      connections kept per host when the API makes its own session (enough for that many
      threads); ``transport``: another transport entirely (see ``losant_fluent.transports``).

    One ``API`` may be shared between threads. ``with API(...) as api:`` closes it on exit.
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
        session: requests.Session | None = None,
        pool_size: int = 64,
        transport: Transport | None = None,
        accept_version: str = ACCEPT_VERSION,
        throttle: ThrottleOption = True,
    ) -> None:
        base, credentials, options = settings(
            url, token, timeout, max_retries, max_retry_wait, validate, headers, accept_version,
            throttle,
        )
        if transport is None:
            transport = RequestsTransport(session, pool_size=pool_size, verify=verify)
        elif session is not None or verify is not None:
            raise TypeError("give either transport= or session=/verify=, not both")
        super().__init__(Pipeline(base, transport, credentials, options), "")

    @property
    def session(self) -> requests.Session:
        """The ``requests.Session`` requests go through (the default transport's)."""
        transport = self._pipeline.transport
        if not isinstance(transport, RequestsTransport):
            raise AttributeError(f"this API sends through {type(transport).__name__}")
        return transport.session

    def login_user(
        self,
        email: str,
        password: str,
        *,
        two_factor_code: str | Callable[[], str] | None = None,
        requested_scopes: Sequence[str] | None = None,
        token_ttl: int | None = None,
    ) -> API:
        """Log in as a user (``POST /auth/user``) and use the token; returns the API.

        When the token expires (401) the API logs in again once and retries. A
        ``two_factor_code`` given as a string is good for this login only (no renewal);
        give a callable returning a fresh code to allow renewals.
        """
        from ._auth import login_user

        login_user(
            self._pipeline,
            email,
            password,
            two_factor_code=two_factor_code,
            requested_scopes=requested_scopes,
            token_ttl=token_ttl,
        )
        return self

    def login_device(
        self,
        device_id: str,
        key: str,
        secret: str,
        *,
        token_ttl: int | None = None,
        requested_scopes: Sequence[str] | None = None,
    ) -> API:
        """Log in as a device (``POST /auth/device``) with an access key and secret.

        Uses the token (renewed by logging in again when it expires); returns the API.
        ``login_result.application_id`` tells the device's application.
        """
        from ._auth import login_device

        login_device(
            self._pipeline,
            device_id,
            key,
            secret,
            token_ttl=token_ttl,
            requested_scopes=requested_scopes,
        )
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
    ) -> OAuth2:
        """Start OAuth 2.0 (authorization code with PKCE) for this API; see ``OAuth2``.

        ``token=`` resumes with a saved token; ``on_token`` receives every new token.
        """
        from ._auth import OAuth2

        return OAuth2(
            self._pipeline,
            client_id,
            authorization_url,
            token_url,
            redirect_uri,
            scope,
            client_secret=client_secret,
            token=token,
            on_token=on_token,
        )

    def close(self) -> None:
        """Forget the token and any login secrets; close the session (if this API made it)."""
        self._pipeline.credentials.forget()
        self._pipeline.transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
