"""``API``: the root of every call chain, and the one place that talks HTTP.

An ``API`` owns one ``requests.Session`` (keep-alive, connection pooling), the base URL,
the token and the defaults (timeout, body validation). Nodes hand it checked, encoded calls
(``_wire.WireCall``); it adds the headers Losant's clients send, sends, maps failures to
``LosantError`` subclasses, and decodes success bodies into models.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import requests

from . import _exceptions as errors
from ._resources import Root

if TYPE_CHECKING:
    from types import TracebackType

    from typing_extensions import Self

    from ._auth import OAuth2
    from ._catalog import Endpoint, Param
    from ._wire import WireCall
    from .models import AuthedDevice, AuthedUser

DEFAULT_URL = "https://api.losant.com"
DEFAULT_TIMEOUT = 60.0
ACCEPT_VERSION = "^1.31.0"


class _Renewal:
    """How to get a fresh token after a 401 (set by logins and OAuth 2.0; see ``_auth``)."""

    __slots__ = ()

    def renew(self, api: API) -> bool:  # pragma: no cover - interface
        """Install a new token on ``api``; ``False`` when there is no way to get one."""
        raise NotImplementedError

    def forget(self) -> None:  # pragma: no cover - interface
        """Drop the stored secrets (passwords, refresh tokens); called by ``API.close``."""


class API(Root):
    """The Losant API, as a tree of call chains: ``api.applications(app_id).devices().get()``.

    ``url`` defaults to ``$LOSANT_API_URL`` or ``https://api.losant.com``; ``token`` to
    ``$LOSANT_API_TOKEN``. Pass ``session=`` to use your own ``requests.Session`` (proxies,
    certificates, adapters); ``timeout=`` sets the default per-request timeout in seconds;
    ``validate=False`` sends request bodies without checking them against their schema.
    One ``API`` may be shared between threads. ``with API(...) as api:`` closes it on exit.
    """

    __slots__ = (
        "_url",
        "_token",
        "_session",
        "_owns_session",
        "_timeout",
        "_validate",
        "_accept_version",
        "_lock",
        "_renewal",
        "_login_result",
    )
    _url: str
    _token: str | None
    _session: requests.Session
    _owns_session: bool
    _timeout: float | tuple[float, float] | None
    _validate: bool
    _accept_version: str
    _lock: threading.RLock
    _renewal: _Renewal | None
    _login_result: AuthedUser | AuthedDevice | None

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] | None = DEFAULT_TIMEOUT,
        validate: bool = True,
        accept_version: str = ACCEPT_VERSION,
    ) -> None:
        super().__init__(self, "")
        url = url or os.environ.get("LOSANT_API_URL") or DEFAULT_URL
        if token is None:
            token = os.environ.get("LOSANT_API_TOKEN") or None
        state = {
            "_url": url.rstrip("/"),
            "_token": token,
            "_session": session if session is not None else requests.Session(),
            "_owns_session": session is None,
            "_timeout": timeout,
            "_validate": validate,
            "_accept_version": accept_version,
            "_lock": threading.RLock(),
            "_renewal": None,
            "_login_result": None,
        }
        for name, value in state.items():
            object.__setattr__(self, name, value)

    # -- configuration ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL requests go to."""
        return self._url

    @property
    def session(self) -> requests.Session:
        """The ``requests.Session`` every request of this ``API`` goes through."""
        return self._session

    @property
    def has_token(self) -> bool:
        """Whether a token is set (the token itself is never shown)."""
        return bool(self._token)

    def set_token(self, token: str | None) -> API:
        """Use ``token`` for every following request (``None`` to send none); returns the API."""
        with self._lock:
            object.__setattr__(self, "_token", token)
            object.__setattr__(self, "_renewal", None)
        return self

    def __repr__(self) -> str:
        return f"<API {self._url} token={'set' if self._token else 'none'}>"

    # -- logins (the logic lives in _auth.py; see docs/auth.md) ----------------------------

    @property
    def login_result(self) -> AuthedUser | AuthedDevice | None:
        """What the last ``login_user``/``login_device`` returned (``None`` otherwise).

        ``AuthedUser`` has ``user_id``; ``AuthedDevice`` has ``application_id``, ``device_id``.
        """
        return self._login_result

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
            self,
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
            self, device_id, key, secret, token_ttl=token_ttl, requested_scopes=requested_scopes
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
            self,
            client_id,
            authorization_url,
            token_url,
            redirect_uri,
            scope,
            client_secret=client_secret,
            token=token,
            on_token=on_token,
        )

    def _use_token(self, token: str, renewal: _Renewal | None, result: Any = None) -> None:
        """Install a token from a login or OAuth 2.0, with how to renew it (or ``None``)."""
        with self._lock:
            object.__setattr__(self, "_token", token)
            object.__setattr__(self, "_renewal", renewal)
            object.__setattr__(self, "_login_result", result)

    def close(self) -> None:
        """Forget the token and any login secrets; close the session (if this API made it)."""
        with self._lock:
            renewal = self._renewal
            object.__setattr__(self, "_token", None)
            object.__setattr__(self, "_renewal", None)
            object.__setattr__(self, "_login_result", None)
            if renewal is not None:
                renewal.forget()
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the transport (used by nodes) -----------------------------------------------------

    def _prepare_body(self, param: Param | None, body: Any, validate: bool | None) -> Any:
        """Check ``body`` against the endpoint's request schema and make it JSON-ready."""
        if body is None:
            return None
        check = self._validate if validate is None else validate
        if check and param is not None and param.schema:
            from .models._registry import validate_body

            return validate_body(param.schema, body)
        if hasattr(body, "model_dump"):
            return body.model_dump(mode="json", by_alias=True, exclude_unset=True)
        return body

    def _headers(self, extra: Mapping[str, str]) -> dict[str, str]:
        headers = dict(extra)
        headers["Accept"] = "application/json"
        headers["Accept-Version"] = self._accept_version
        token = self._token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def _send_once(self, call: WireCall, stream: bool) -> requests.Response:
        kwargs: dict[str, Any] = {
            "params": call.query,
            "headers": self._headers(call.headers),
            "timeout": call.timeout if call.timeout is not None else self._timeout,
            "stream": stream,
        }
        if call.files:
            kwargs["files"] = call.files
        elif call.has_json_body:
            kwargs["json"] = call.json_body
        try:
            return self._session.request(call.method, self._url + call.path, **kwargs)
        except requests.Timeout as exc:
            raise errors.LosantTimeoutError(
                f"{call.method} {call.path}: no answer within the timeout"
            ) from exc
        except requests.ConnectionError as exc:
            raise errors.LosantConnectionError(
                f"{call.method} {call.path}: could not connect to {self._url}"
            ) from exc
        except requests.RequestException as exc:
            raise errors.TransportError(
                f"{call.method} {call.path}: request failed ({type(exc).__name__})"
            ) from exc

    def _transmit(self, call: WireCall, stream: bool = False) -> requests.Response:
        """Send ``call``; renew an expired login token once on 401; raise on HTTP errors."""
        token_used = self._token
        response = self._send_once(call, stream)
        if response.status_code == 401 and self._renewal is not None and token_used:
            response.close()
            with self._lock:
                # Another thread may have renewed already; renew only if the token is unchanged.
                renewal = self._renewal
                renewed = self._token != token_used or (renewal is not None and renewal.renew(self))
            if renewed:
                response = self._send_once(call, stream)
        if response.status_code >= 400:
            raise errors.error_for_response(response, call.method, call.path)
        return response

    def _decode(self, endpoint: Endpoint | None, response: requests.Response) -> Any:
        """Turn a success response into the endpoint's model (generic when untyped)."""
        from .models._registry import parse_response

        data: Any = None
        if response.content:
            try:
                data = response.json()
            except ValueError:
                data = response.text
        schema = endpoint.success_schema(response.status_code) if endpoint else None
        return parse_response(schema, data, response)
