"""Every error losant-fluent raises on purpose, in one hierarchy under :class:`LosantError`.

``LosantError``
    ``TransportError`` (no usable HTTP answer came back)
        ``LosantConnectionError`` (refused, reset, dropped; ``may_have_been_received``)
        ``LosantTimeoutError`` (no whole answer within ``timeout``)
        ``InvalidResponseError`` (a 2xx answer that is not what the endpoint returns:
        a body that is not JSON, a page walk that would end early or loop)
    ``BodyValidationError`` (a request body was refused before sending; also a ``ValueError``)
    ``APIError`` (the server answered with an HTTP error status)
        ``RedirectError`` 3xx (never followed: the ``Location`` is named)
        ``BadRequestError`` 400, ``UnauthorizedError`` 401, ``ForbiddenError`` 403,
        ``NotFoundError`` 404, ``ConflictError`` 409, ``PayloadTooLargeError`` 413,
        ``UnprocessableEntityError`` 422, ``RateLimitError`` 429, ``ServerError`` 5xx

Bad arguments raise ``TypeError``/``ValueError`` before anything is sent. Messages name the
method, the path and Losant's error type and message; they never hold a token, a password
or any request header. Every class pickles with its attributes (the HTTP response goes
along when its body was read; an interrupted page walk does not).
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from . import _secrets

if TYPE_CHECKING:
    import requests

__all__ = [
    "APIError",
    "BadRequestError",
    "BodyValidationError",
    "BulkSplitError",
    "ConflictError",
    "ForbiddenError",
    "InvalidResponseError",
    "JobError",
    "JobFailedError",
    "JobTimeoutError",
    "LosantConnectionError",
    "LosantError",
    "LosantTimeoutError",
    "NotFoundError",
    "PayloadTooLargeError",
    "RateLimitError",
    "RedirectError",
    "ServerError",
    "TransportError",
    "UnauthorizedError",
    "UnprocessableEntityError",
    "error_for_response",
    "parse_retry_after",
]


class _Interrupted(Protocol):
    """What a page walk gives the error that interrupted it (see ``losant_fluent.PageWalk``)."""

    failed_page_number: int | None
    failed_position: dict[str, Any] | None

    def __iter__(self) -> Iterator[Any]: ...

    def __next__(self) -> Any: ...


def _restore(cls: type[LosantError], message: str, state: dict[str, Any]) -> LosantError:
    """Rebuild a pickled error without calling its ``__init__`` (signatures differ)."""
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class LosantError(Exception):
    """Base class of every error losant-fluent raises on purpose.

    Its text never holds a secret the client knows (see ``_secrets``): whoever wrote it,
    the server included, tokens and passwords read ``***``.
    """

    _response: requests.Response | None = None
    _walk: _Interrupted | None = None
    #: How many times the request was sent before this error (0: never sent).
    attempts: int = 0

    def __init__(self, *args: Any) -> None:
        super().__init__(*(_secrets.scrub(a) if isinstance(a, str) else a for a in args))

    def http_response(self) -> requests.Response | None:
        """The response behind this error, when one came back: a ``requests.Response``
        from an ``API``, the ``httpx.Response`` from an ``AsyncAPI``."""
        return self._response

    # -- interrupted page walks (the walk keeps its own state; see docs/pagination.md) ------

    @property
    def page_number(self) -> int | None:
        """Index in its walk of the page that failed (``None`` outside a page walk)."""
        return self._walk.failed_page_number if self._walk is not None else None

    @property
    def page_params(self) -> dict[str, Any] | None:
        """The position asked for the failed page (``{"page": 3}``), outside a walk ``None``."""
        return self._walk.failed_position if self._walk is not None else None

    def resume(self) -> Any:
        """Continue an interrupted page walk: retries the failed page, loses and repeats nothing.

        Gives the walk itself: iterate it with ``for`` (``API``) or ``async for``
        (``AsyncAPI``); typed ``Any`` so that both type-check. Raises ``RuntimeError`` when
        this error did not come from a page walk.
        """
        if self._walk is None:
            raise RuntimeError("this error did not interrupt a page walk")
        return self._walk

    def __reduce__(self) -> tuple[Any, ...]:
        # Scrubbed again: a secret may have become known after this error was made.
        state = {k: _secrets.scrub_data(v) for k, v in self.__dict__.items()
                 if k not in ("_walk", "_response")}
        response = self._response
        if response is not None and getattr(response, "_content_consumed", False):
            import copy

            kept = copy.copy(response)
            kept.request = None  # type: ignore[assignment]  # may hold an open upload
            kept.raw = None
            state["_response"] = _secrets.scrub_response(kept)
        return (_restore, (type(self), _secrets.scrub(str(self)), state))


class TransportError(LosantError):
    """No usable HTTP answer came back.

    ``may_have_been_received`` is ``False`` when the request certainly never reached the
    server (connection refused, name not found, connect timeout), ``True`` when it was
    sent and the answer did not come whole: a POST may then have been processed.
    """

    def __init__(self, message: str, *, may_have_been_received: bool = False) -> None:
        super().__init__(message)
        self.may_have_been_received = may_have_been_received


class JobError(LosantError):
    """A job Losant ran in the background did not finish well; ``job_log`` says how far it got.

    ``job_log`` is the last job log read (an ``ApplicationJobLog``: ``status``,
    ``progress``, ``error``), or ``None`` when none could be read yet.
    """

    def __init__(self, message: str, job_log: Any = None) -> None:
        super().__init__(message)
        self.job_log = job_log


class JobFailedError(JobError):
    """The job ended with status ``errored`` or ``failed``."""


class JobTimeoutError(JobError, TimeoutError):
    """The job had not finished when the ``timeout`` given to ``wait`` passed."""


class BulkSplitError(LosantError):
    """A bulk change sent in parts of at most 1,000 ``deviceIds`` stopped part-way.

    Nothing is resent on your behalf (that could repeat a write). ``applied`` holds the ids
    of the parts Losant answered, ``not_applied`` those never sent or refused, ``unknown``
    those of a part whose answer was lost (it may have been done); ``jobs`` holds the job
    results of parts Losant queued as jobs (each has ``.wait()``), and ``__cause__`` the
    error of the failing part.
    """

    def __init__(self, message: str, *, applied: list[str], not_applied: list[str],
                 unknown: list[str] | None = None, jobs: list[Any] | None = None) -> None:
        super().__init__(message)
        self.applied = applied
        self.not_applied = not_applied
        self.unknown = unknown or []
        self.jobs = jobs or []

    def __reduce__(self) -> tuple[Any, ...]:
        # A job result keeps its HTTP response, whose request carries the token: pickled
        # jobs go without it (an unpickled job cannot wait anyway: it has no API).
        restore, (cls, message, state) = super().__reduce__()
        state["jobs"] = [_without_response(job) for job in self.jobs]
        return restore, (cls, message, state)


def _without_response(result: Any) -> Any:
    """A copy of a model result with no HTTP response or API attached (for pickling)."""
    copy = getattr(result, "model_copy", None)
    if not callable(copy):
        return result
    kept = copy()
    private = getattr(kept, "__pydantic_private__", None)
    if isinstance(private, dict):
        object.__setattr__(kept, "__pydantic_private__", {
            k: v for k, v in private.items() if k not in ("_losant_response", "_losant_pipeline")})
    return kept


class LosantConnectionError(TransportError, ConnectionError):
    """The connection failed: refused, reset, or dropped before the whole answer came."""


class LosantTimeoutError(TransportError, TimeoutError):
    """No whole answer (headers and body) within the timeout."""


class InvalidResponseError(TransportError):
    """A success status with a body that is not what the endpoint returns.

    A 2xx body that does not decode as JSON, or a page walk that would otherwise end early
    in silence or loop (a short or empty page while ``totalCount`` says more, a page equal
    to the one before it, a cursor that does not move). ``http_response()`` gives the answer.
    """

    def __init__(self, message: str, response: requests.Response | None = None) -> None:
        super().__init__(message, may_have_been_received=True)
        self._response = _secrets.scrub_response(response)


class BodyValidationError(LosantError, ValueError):
    """A request body does not match the endpoint's schema; nothing was sent.

    ``errors`` lists ``(location, message)`` pairs, the location being the API path of
    the offending field (``"attributes[0].dataType"``).
    """

    def __init__(self, message: str, errors: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.errors: list[tuple[str, str]] = list(errors or [])


class APIError(LosantError):
    """The Losant API answered with an HTTP error status.

    Attributes: ``status`` (HTTP status code), ``type`` (Losant's error type, such as
    ``"NotFound"`` or ``"Validation"``; ``None`` when the body was not Losant JSON),
    ``message`` (Losant's message, or a short excerpt of a non-JSON body), ``body`` (the
    decoded JSON body, or ``None``), ``method`` and ``path`` of the failed request,
    ``attempts`` (how many times it was sent) and ``retry_after`` (seconds the server asked
    to wait, from ``Retry-After`` in seconds or as an HTTP date; ``None`` when absent).
    """

    def __init__(
        self,
        status: int,
        type: str | None,
        message: str,
        *,
        method: str = "",
        path: str = "",
        body: Any = None,
        response: requests.Response | None = None,
        attempts: int = 1,
    ) -> None:
        self.status = status
        self.type = type
        # Servers and proxies may echo the request (its Authorization header) back.
        self.message = _secrets.scrub(message)
        self.method = method
        self.path = path
        self.body = _secrets.scrub_data(body)
        self.attempts = attempts
        self._response = _secrets.scrub_response(response)
        header = response.headers.get("Retry-After") if response is not None else None
        self.retry_after: float | None = parse_retry_after(header)
        where = f" ({method} {path})" if method else ""
        kind = f" {type}" if type else ""
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        flat = " ".join(str(self.message).split())  # one line, whatever the server sent
        super().__init__(f"{status}{kind}: {flat}{where}{tries}")

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(status={self.status}, type={self.type!r}, message={self.message!r})"


class RedirectError(APIError):
    """3xx: the API answered with a redirect, which the client never follows.

    Following it could turn a POST into a GET (losing the write) or send credentials to
    another host. ``location`` is where it pointed; use that URL as ``API(url=...)`` if it
    is right (the message says so when it points from ``http://`` to ``https://``).
    """

    @property
    def location(self) -> str | None:
        response = self._response
        return response.headers.get("Location") if response is not None else None


class BadRequestError(APIError):
    """400: the request was malformed or failed Losant's validation (type ``Validation``)."""


class UnauthorizedError(APIError):
    """401: no token, or the token is invalid or expired."""


class ForbiddenError(APIError):
    """403: the token is valid but lacks a scope this endpoint requires."""


class NotFoundError(APIError):
    """404: the resource (or one of its parents in the path) does not exist."""


class ConflictError(APIError):
    """409: the request conflicts with the resource's current state."""


class PayloadTooLargeError(APIError):
    """413: the request body is larger than the API accepts."""


class UnprocessableEntityError(APIError):
    """422: the request was well-formed but could not be processed."""


class RateLimitError(APIError):
    """429: too many requests; ``retry_after`` holds the wait the server asked for, if any."""


class ServerError(APIError):
    """5xx: the server failed."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}

_EXCERPT = 200


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - time.time()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def excerpt(text: str) -> str:
    """A short one-line excerpt of a body, for messages."""
    flat = " ".join(text.split())
    return flat[:_EXCERPT] + ("..." if len(flat) > _EXCERPT else "")


# What a 401 to a client without a token says to do.
NO_TOKEN_HINT = (
    "this API has no token: log in with api.login_user(email, password), or give "
    "API(token=...) or $LOSANT_API_TOKEN"
)


def error_for_response(
    response: requests.Response,
    method: str,
    path: str,
    attempts: int = 1,
    *,
    token_sent: bool = True,
) -> APIError:
    """Build the ``APIError`` subclass matching an HTTP error (or redirect) response.

    Losant sends ``{"type": ..., "message": ...}``; anything else (an HTML page from a
    proxy, an empty body) still maps to the class of its status, with a short excerpt
    of the body as the message. A 401 to a request sent without a token (``token_sent``
    false) says how to get one.
    """
    status = response.status_code
    if 300 <= status < 400:
        return _redirect(response, method, path, attempts)
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else APIError)
    body: Any = None
    error_type: str | None = None
    try:
        body = response.json()
    except (ValueError, RecursionError):  # not JSON, or nested thousands deep
        body = None
    if isinstance(body, dict) and ("message" in body or "type" in body):
        error_type = str(body["type"]) if body.get("type") is not None else None
        message = str(body.get("message", ""))
    else:
        # requests names the status text ``reason``, httpx ``reason_phrase``
        reason = getattr(response, "reason", None) or getattr(response, "reason_phrase", None)
        message = excerpt(response.text) or (reason or "no body")
    error = cls(
        status,
        error_type,
        message,
        method=method,
        path=path,
        body=body,
        response=response,
        attempts=attempts,
    )
    if status == 401 and not token_sent:
        error.args = (f"{error.args[0]}; {NO_TOKEN_HINT}",)
    return error


def _redirect(response: requests.Response, method: str, path: str, attempts: int) -> APIError:
    location = response.headers.get("Location")
    if location is None:
        message = "redirect without a Location; redirects are not followed"
    else:
        message = f"redirected to {location}; redirects are not followed"
        if str(response.url).startswith("http://") and location.startswith("https://"):
            message += " (the API wants https: use the https:// URL as API(url=...))"
    return RedirectError(
        response.status_code,
        None,
        message,
        method=method,
        path=path,
        response=response,
        attempts=attempts,
    )

