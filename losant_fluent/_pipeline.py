"""The one request pipeline: every request the client makes goes through :meth:`Pipeline.send`.

Verbs, pages of a walk, streams, uploads, logins and OAuth token calls all take the same
steps, in this order:

1. **build** the request from an encoded :class:`~losant_fluent._wire.WireCall`: the URL,
   the headers Losant's clients send (``Accept``, ``Accept-Version``, ``Authorization``);
2. **send** it through the transport seam (``_transport.py``);
3. **renew** an expired login or OAuth token once on 401, and **retry** what is safe to
   retry (:func:`should_retry`), waiting with backoff or the server's ``Retry-After``;
4. **raise** the ``LosantError`` of an error status (``_exceptions.error_for_response``);
5. **decode** the body into the endpoint's model (:meth:`Pipeline.decode`), attaching a
   pager to collection results.

A re-sent request carries the same bytes: the body is encoded once, before the first
attempt (uploads are re-read from the start; see ``_wire.MultipartBody``).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import random
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from . import _fork, _secrets
from ._deadline import check_seconds
from ._exceptions import (
    InvalidResponseError,
    LosantTimeoutError,
    TransportError,
    error_for_response,
    parse_retry_after,
)
from ._flows import Effect, Flow, Renew, Sleep, Transmit, run
from ._transport import HTTPRequest, Transport
from ._values import loads

if TYPE_CHECKING:
    import requests

    from ._limiter import Limiter, Reservation
    from ._wire import WireCall

__all__ = [
    "Credentials",
    "Options",
    "Pipeline",
    "PipelineBase",
    "Renewal",
    "check_url",
    "pipeline_of",
    "send_flow",
    "should_retry",
]

log = logging.getLogger("losant_fluent")
log.addFilter(_secrets.LogFilter())  # no secret in a log line, whoever wrote its text

ACCEPT_VERSION = "^1.31.0"
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
# Methods whose repetition does no harm: retried also when the answer may have been lost.
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Statuses retried for idempotent methods (429 is retried for every method: not processed).
RETRY_STATUSES = frozenset({408, 500, 502, 503, 504})


@dataclass(frozen=True)
class Options:
    """Per-``API`` request options (``API.with_options`` makes a copy with some changed)."""

    timeout: float | None = 60.0
    max_retries: int = 2
    max_retry_wait: float = 60.0
    validate: bool = True
    headers: tuple[tuple[str, str], ...] = ()
    accept_version: str = ACCEPT_VERSION
    # Room under Losant's throttles (``API(throttle=...)``); one object, so ``with_options``
    # copies and threads share its count.
    limiter: Limiter | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        check_seconds("timeout", self.timeout)  # finite and > 0: inf overflows sockets
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int) or (
            self.max_retries < 0
        ):
            raise ValueError(f"max_retries must be an int >= 0, not {self.max_retries!r}")
        check_seconds("max_retry_wait", self.max_retry_wait, allow_none=False, allow_zero=True)
        for name, value in self.headers:
            check_header(name, value)
        if not isinstance(self.validate, bool):
            raise TypeError(f"validate must be True or False, not {self.validate!r}")
        if not isinstance(self.accept_version, str):
            raise TypeError("accept_version must be a string such as '^1.31.0'")


class Renewal(Protocol):
    """How to get a fresh token after a 401 (made by logins and OAuth 2.0; see ``_auth``).

    A renewal has ``renew(pipeline) -> bool`` for ``API`` pipelines, ``async
    arenew(pipeline) -> bool`` for ``AsyncAPI`` ones, or both (a login); each pipeline
    looks up its own, so no renewal carries a method that only refuses.
    """

    def forget(self) -> None:
        """Drop the stored secrets (passwords, refresh tokens)."""
        ...


class Credentials:
    """The token an ``API`` sends and how to renew it; shared with its ``with_options`` copies."""

    __slots__ = ("token", "renewal", "login_result", "lock", "warned", "_hold", "__weakref__")

    def __init__(self, token: str | None = None) -> None:
        # the current token is kept scrubbed while these credentials live (``_secrets``)
        self._hold: _secrets.Hold = ()
        self.token = self._held(check_token(token))
        self.renewal: Renewal | None = None
        self.login_result: Any = None
        self.lock = threading.RLock()
        self.warned = False
        _fork.register(self)

    def after_fork(self) -> None:
        """In a forked child: a fresh lock (another thread of the parent may hold this one)."""
        self.lock = threading.RLock()

    def __repr__(self) -> str:
        return f"<Credentials token={'set' if self.token else 'none'}>"

    def install(self, token: str | None, renewal: Renewal | None, result: Any = None) -> None:
        """Use ``token`` from now on, renewed by ``renewal`` (``None``: no renewal)."""
        token = check_token(token)
        with self.lock:
            self.token, self.renewal, self.login_result = self._held(token), renewal, result

    def _held(self, token: str | None) -> str | None:
        """``token``, kept scrubbed while these credentials live; the last one let go."""
        previous, self._hold = self._hold, _secrets.register(token, owner=self)
        _secrets.let_go(previous)
        return token

    def forget(self) -> None:
        """Drop the token and any login secrets."""
        with self.lock:
            renewal = self.renewal
            self.token, self.renewal, self.login_result = self._held(None), None, None
        if renewal is not None:
            renewal.forget()

    def renew_after_401(self, token_used: str, pipeline: Pipeline) -> bool:
        """Renew once for a request refused with ``token_used``; ``True`` if it may be re-sent.

        Several threads may see the same 401: the first renews under the lock, the others
        find the token changed and just re-send.
        """
        with self.lock:
            if self.token != token_used:
                return self.token is not None
            renew: Callable[[Pipeline], bool] | None = getattr(self.renewal, "renew", None)
            return renew is not None and renew(pipeline)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> str:
    """The API base URL without a trailing slash; ``ValueError`` when it cannot work."""
    if not isinstance(url, str):
        raise TypeError(f"url must be a string, not {type(url).__name__}")
    parts = urlsplit(url.strip())
    if "@" in parts.netloc:
        raise ValueError(
            "url must not contain credentials (user:password@); pass token= or log in"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        bare = url.strip().lstrip("/")
        # A local emulator serves plain http; everything else wants https.
        local = _loopback(urlsplit("//" + bare).hostname or "")
        raise ValueError(
            f"url must start with http:// or https:// and name a host, like "
            f"https://api.losant.com (got {url!r}; try '{'http' if local else 'https'}://{bare}')"
        )
    if parts.query or parts.fragment:
        raise ValueError(f"url must not have a query or fragment (got {url!r})")
    return url.strip().rstrip("/")


def check_token(token: str | None) -> str | None:
    """The token to send (``None`` for none); refuses what the API would answer 401 to."""
    if token is None or token == "":
        return None
    if not isinstance(token, str):
        raise TypeError(f"token must be a string, not {type(token).__name__}")
    if token[:7].lower() == "bearer ":
        raise ValueError(
            "token must be the token alone, without the 'Bearer ' prefix "
            "(the client adds the Authorization header itself)"
        )
    _secrets.register(_secrets.check("token", token))  # no whitespace around, no line break
    return token


# Header names whose values are credentials: kept out of errors and logs (see ``_secrets``).
_SECRET_HEADER_WORDS = ("auth", "key", "token", "secret", "cookie", "password", "session")


def check_header(name: str, value: str) -> None:
    """Refuse an extra header that cannot be sent, naming it and never its value."""
    if not isinstance(name, str) or not isinstance(value, str):
        raise TypeError(f"headers must map str to str (header {name!r})")
    if not name or any(c in name for c in ":\r\n\0 \t"):
        raise ValueError(f"headers: {name!r} is not a valid header name")
    if value != value.strip() or any(c in value for c in "\r\n\0"):
        raise ValueError(f"headers: the value of {name!r} has whitespace around it or a line "
                         "break in it (the value is not shown)")
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(f"headers: the value of {name!r} has characters outside Latin-1, "
                         "which HTTP headers cannot carry") from None
    if any(word in name.lower() for word in _SECRET_HEADER_WORDS):
        _secrets.register(value)


def should_retry(method: str, *, status: int | None = None,
                 failure: TransportError | None = None) -> bool:
    """Whether an attempt may be repeated: never a write that may have been processed.

    * any method: the request never reached the server, or the answer was 429;
    * GET, PUT, DELETE (idempotent) also: 408, 500, 502, 503, 504, or a connection that
      broke before the answer.
    A timeout that may have been received is not retried: ``timeout`` is the caller's
    deadline. A 2xx body that is not JSON is not retried either.
    """
    if failure is not None:
        if not failure.may_have_been_received:
            return True
        if isinstance(failure, (LosantTimeoutError, InvalidResponseError)):
            return False
        return method in IDEMPOTENT
    if status == 429:
        return True
    return status in RETRY_STATUSES and method in IDEMPOTENT


def backoff(retry: int) -> float:
    """Seconds before retry number ``retry`` (1-based): 0.5 s doubling to 8 s, with jitter."""
    delay = min(INITIAL_RETRY_DELAY * 2.0 ** (retry - 1), MAX_RETRY_DELAY)
    return delay * (1.0 - 0.25 * random.random())


DONE = "done"
RENEW = "renew"
RETRY = "retry"


class Exchange:
    """The attempts of one call: what to send next and what each outcome means.

    It does no I/O: :meth:`Pipeline.send` (and an asynchronous pipeline) sends what
    :meth:`next_request` gives, then asks :meth:`after_failure` (seconds to wait, or the
    error raised) or :meth:`after_response` (``(DONE, None)``, ``(RETRY, seconds)``, or
    ``(RENEW, token_used)`` for a 401 that a renewal may cure; errors are raised).
    """

    __slots__ = ("pipeline", "call", "authorize", "check_status", "timeout", "url",
                 "attempts", "_renewed", "_token", "_started", "_reservation")

    def __init__(self, pipeline: PipelineBase, call: WireCall, *, authorize: bool = True,
                 check_status: bool = True) -> None:
        self.pipeline = pipeline
        self.call = call
        self.authorize = authorize
        self.check_status = check_status
        options = pipeline.options
        self.timeout = call.timeout if call.timeout is not None else options.timeout
        self.url = call.url or (pipeline.url + call.target())
        self.attempts = 0
        self._renewed = False
        self._token: str | None = None
        self._started = 0.0
        self._reservation: Reservation | None = None

    def room(self) -> float:
        """Seconds to wait before the next attempt for room under Losant's throttles.

        The driver sleeps that long and asks again, until it is 0 (see ``_limiter``).
        """
        limiter = self.pipeline.options.limiter
        if limiter is None:
            return 0.0
        if self._reservation is None:
            from ._limiter import reserve_for

            self._reservation = reserve_for(limiter, self.call)
            if self._reservation is None:
                return 0.0
            if self._reservation.delay > 0:
                return self._reservation.delay
        return limiter.recheck(self._reservation)

    def _answered(self) -> None:
        """The attempt's slot under a throttle is spent: the server has counted it."""
        reservation = self._reservation
        if reservation is not None:
            self._reservation = None
            limiter = self.pipeline.options.limiter
            if limiter is not None:
                limiter.answered(reservation)

    def next_request(self) -> HTTPRequest:
        """The request of the next attempt, with the token current now."""
        self.attempts += 1
        self._token = self.pipeline.credentials.token if self.authorize else None
        self._started = time.monotonic()
        call = self.call
        return HTTPRequest(call.method, self.url, self.pipeline._headers(call, self._token),
                           call.body)

    def after_failure(self, failure: TransportError) -> float:
        """Seconds to wait before the next attempt; raises when it must not be retried."""
        self._answered()
        if self.attempts <= self.pipeline.options.max_retries and should_retry(
            self.call.method, failure=failure
        ):
            return self._retry_in(backoff(self.attempts), type(failure).__name__)
        raise _with_attempts(failure, self.attempts) from None

    def after_response(self, response: Any) -> tuple[str, Any]:
        """What to do with an answer (see the class docstring)."""
        self._answered()
        call = self.call
        status = response.status_code
        log.debug("%s %s -> %d in %.0f ms (attempt %d)", call.method, call.path, status,
                  (time.monotonic() - self._started) * 1000, self.attempts)
        token = self._token
        if status == 401 and token and not self._renewed and (
            self.pipeline.credentials.renewal is not None
        ):
            response.close()
            self._renewed = True
            return RENEW, token
        if status < 300 or not self.check_status:
            return DONE, None
        if self.attempts <= self.pipeline.options.max_retries and should_retry(
            call.method, status=status
        ):
            wait = self._retry_wait(response)
            if wait is not None:
                response.close()
                return RETRY, self._retry_in(wait, str(status))
        raise self.error(response)

    def renewed(self) -> None:
        """The token was renewed after a 401: the next attempt is a re-send, not a retry."""
        self.attempts -= 1

    def error(self, response: Any) -> Exception:
        """The error of an answer that ends the call."""
        return error_for_response(
            response, self.call.method, self.call.path, self.attempts,
            token_sent=bool(self.pipeline.credentials.token) or self.call.url is not None,
        )

    def _retry_wait(self, response: Any) -> float | None:
        """Seconds to wait before retrying, or ``None`` when the server asks for too long."""
        after = parse_retry_after(response.headers.get("Retry-After"))
        limiter = self.pipeline.options.limiter
        if after is None and response.status_code == 429 and limiter is not None:
            # Losant sends no Retry-After: the published limit's window says how long.
            from ._limiter import wait_after_429

            after = wait_after_429(limiter, self.call)
        if after is None:
            return backoff(self.attempts)
        return after if after <= self.pipeline.options.max_retry_wait else None

    def _retry_in(self, seconds: float, why: str) -> float:
        call = self.call
        log.info("retrying %s %s in %.2f s after %s (attempt %d of %d)", call.method,
                 call.path, seconds, why, self.attempts, self.pipeline.options.max_retries + 1)
        return seconds


def send_flow(
    pipeline: PipelineBase,
    call: WireCall,
    *,
    stream: bool = False,
    authorize: bool = True,
    check_status: bool = True,
) -> Flow[Any]:
    """The attempts of one call as a flow (see ``_flows``): send, renew once on 401, retry
    what is safe to retry; its result is the (2xx) response. Both pipelines run it."""
    exchange = Exchange(pipeline, call, authorize=authorize, check_status=check_status)
    while True:
        while (wait := exchange.room()) > 0:  # room under Losant's throttles
            yield Sleep(wait)
        request = exchange.next_request()
        try:
            response = yield Transmit(request, exchange.timeout, stream)
        except TransportError as failure:
            yield Sleep(exchange.after_failure(failure))
            continue
        step, value = exchange.after_response(response)
        if step is DONE:
            return response
        if step is RENEW:
            if (yield Renew(value)):
                exchange.renewed()
                continue
            raise exchange.error(response)
        yield Sleep(value)


class PipelineBase:
    """What both pipelines are besides their I/O: URL, credentials, options, the headers of
    a request and the decoding of an answer. :class:`Pipeline` sends through a sync
    transport, ``AsyncPipeline`` through an async one; both run the same flows."""

    __slots__ = ("url", "credentials", "options", "_plain_remote")

    def __init__(self, url: str, credentials: Credentials, options: Options) -> None:
        self.url = url
        self.credentials = credentials
        self.options = options
        parts = urlsplit(url)
        self._plain_remote = parts.scheme == "http" and not _loopback(parts.hostname or "")

    # A result keeps the pipeline it came through (see ``pipeline_of``); it holds a session
    # and credentials, so a pickled result loses it.
    def __reduce__(self) -> tuple[Any, tuple[()]]:
        return _no_pipeline, ()

    def _changed(self, changes: dict[str, Any]) -> Options:
        """The options with ``changes`` (``API.with_options`` keywords) applied."""
        if "headers" in changes:
            headers: Mapping[str, str] | None = changes["headers"]
            if headers is not None and not isinstance(headers, Mapping):
                raise TypeError(f"headers must be a mapping of names to values, not "
                                f"{type(headers).__name__}")
            changes["headers"] = tuple((headers or {}).items())
        return replace(self.options, **changes)

    def _headers(self, call: WireCall, token: str | None) -> tuple[tuple[str, str], ...]:
        """Headers in the order Losant's Python client sends them."""
        # Requests to other hosts (OAuth token endpoints, storage hosts) carry only their
        # own headers: none of this API's extra headers, which may hold credentials.
        headers = [*call.headers, *(self.options.headers if call.url is None else ())]
        if call.url is None:
            headers.append(("Accept", "application/json"))
            headers.append(("Accept-Version", self.options.accept_version))
        if token:
            if self._plain_remote and not self.credentials.warned:
                self.credentials.warned = True
                warnings.warn(
                    f"sending a Losant token over plain http to {self.url}; "
                    "anyone on the network can read it: use https://",
                    stacklevel=4,
                )
            headers.append(("Authorization", f"Bearer {token}"))
        if call.content_type is not None:
            headers.append(("Content-Type", call.content_type))
        return tuple(headers)

    # -- decoding ------------------------------------------------------------------------------

    def decode(self, call: WireCall, response: requests.Response, eager: bool = False,
               content: bytes | None = None) -> Any:
        """Turn a success response into the endpoint's model (generic when untyped).

        A page gets its pager above this layer (``_results.decode``). Nested objects are
        built on first read, or at once with ``eager=True`` (a walk whose loop reads them
        asks for that).
        """
        from .models._registry import parse_response, parse_response_json

        endpoint = call.endpoint
        schema = endpoint.success_schema(response.status_code) if endpoint else None
        if content is not None:  # an answer of our own making (merged parts): its data
            result = parse_response(schema, loads(content), response)
        elif schema is not None and response.content.strip():
            try:  # straight from the bytes: the fast path for big pages
                result = parse_response_json(schema, response.content, response, eager)
            except (ValueError, RecursionError) as exc:  # not JSON, or nested thousands deep
                raise _not_json(call, response, exc) from None
        else:
            result = parse_response(schema, self.decode_json(call, response), response)
        _attach_pipeline(result, self)
        if getattr(type(result), "__losant_needs_path__", False):  # a job: its application
            _keep_path(result, call.path)
        items = getattr(result, "items", None) if "items" in type(result).model_fields else None
        if isinstance(items, list) and items and getattr(
            type(items[0]), "__losant_needs_pipeline__", False
        ):  # items that can act on their own (files: download) need it too
            for item in items:
                _attach_pipeline(item, self)
        return result

    @staticmethod
    def decode_json(call: WireCall, response: requests.Response) -> Any:
        """The decoded body; ``InvalidResponseError`` when an endpoint's JSON is not JSON.

        The message never quotes the body: a broken login answer could hold a token.
        """
        content = response.content
        if not content.strip():
            status = response.status_code
            # A 204 counts too, unless the endpoint documents it without a body.
            if call.endpoint is not None and call.endpoint.success_schema(status):
                raise InvalidResponseError(
                    f"{call.method} {call.path}: the API answered {status} with an empty "
                    "body where JSON was expected", response)
            return None
        try:
            return loads(content)
        except ValueError as exc:
            if call.endpoint is None:
                return response.text
            raise _not_json(call, response, exc) from None


class Pipeline(PipelineBase):
    """Sends encoded calls for one ``API``: its URL, transport, credentials and options."""

    __slots__ = ("transport",)

    def __init__(
        self, url: str, transport: Transport, credentials: Credentials, options: Options
    ) -> None:
        super().__init__(url, credentials, options)
        self.transport = transport

    def __repr__(self) -> str:
        return f"<Pipeline {self.url} {self.credentials!r}>"

    def with_options(self, **changes: Any) -> Pipeline:
        """A pipeline sharing transport and credentials, with some options changed."""
        return Pipeline(self.url, self.transport, self.credentials, self._changed(changes))

    def anonymous(self) -> Pipeline:
        """A pipeline sharing the transport that sends no token and renews nothing."""
        return Pipeline(self.url, self.transport, Credentials(None), self.options)

    def request(self, call: WireCall) -> Any:
        """Send a call that answers with one model and return that model."""
        return self.decode(call, self.send(call))

    def send(
        self,
        call: WireCall,
        *,
        stream: bool = False,
        authorize: bool = True,
        check_status: bool = True,
    ) -> requests.Response:
        """Send ``call`` with renewal and retries; return the (2xx) response.

        ``authorize=False`` sends no Losant token (requests to other hosts);
        ``check_status=False`` returns error answers instead of raising. The decisions are
        :func:`send_flow`'s, which the async pipeline runs too.
        """
        flow = send_flow(self, call, stream=stream, authorize=authorize,
                         check_status=check_status)
        response: requests.Response = run(flow, self.perform)
        return response

    def perform(self, effect: Effect) -> Any:
        """Carry out one effect of a flow, synchronously (see ``_flows.run``)."""
        if type(effect) is Transmit:
            return self.transport.send(effect.request, timeout=effect.timeout,
                                       stream=effect.stream)
        if type(effect) is Sleep:
            time.sleep(effect.seconds)
            return None
        assert type(effect) is Renew
        return self.credentials.renew_after_401(effect.token_used, self)


_PIPELINE_KEY = "_losant_pipeline"
_PATH_KEY = "_losant_path"


def _no_pipeline() -> None:
    """What a pickled pipeline becomes: nothing (see ``Pipeline.__reduce__``)."""
    return None


def _attach_pipeline(result: Any, pipeline: PipelineBase) -> None:
    private = getattr(result, "__pydantic_private__", None)
    if private is None and hasattr(result, "__pydantic_private__"):
        private = {}
        object.__setattr__(result, "__pydantic_private__", private)
    if isinstance(private, dict):
        private[_PIPELINE_KEY] = pipeline


def pipeline_of(result: Any) -> PipelineBase | None:
    """The pipeline a result was read through (for follow-up requests such as uploads)."""
    private = getattr(result, "__pydantic_private__", None)
    found = private.get(_PIPELINE_KEY) if isinstance(private, dict) else None
    return found if isinstance(found, PipelineBase) else None


def _keep_path(result: Any, path: str) -> None:
    private = getattr(result, "__pydantic_private__", None)
    if isinstance(private, dict):  # _attach_pipeline made it
        private[_PATH_KEY] = path


def path_of(result: Any) -> str | None:
    """The path of the call a result answered (kept for results that name a job)."""
    private = getattr(result, "__pydantic_private__", None)
    found = private.get(_PATH_KEY) if isinstance(private, dict) else None
    return found if isinstance(found, str) else None


def _not_json(call: WireCall, response: requests.Response, exc: Exception
              ) -> InvalidResponseError:
    """The error for a success answer whose body is not JSON (never quoting the body)."""
    kind = response.headers.get("Content-Type", "no content type")
    return InvalidResponseError(
        f"{call.method} {call.path}: the API answered {response.status_code} with a "
        f"body that is not JSON ({kind}, {len(response.content)} bytes; "
        f"{_json_error(exc)})",
        response,
    )


def _json_error(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at byte {exc.pos}"
    return type(exc).__name__


def _with_attempts(error: TransportError, attempts: int) -> TransportError:
    error.attempts = attempts
    if attempts > 1 and error.args:
        error.args = (f"{error.args[0]} (after {attempts} attempts)", *error.args[1:])
    return error

