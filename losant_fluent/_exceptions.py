"""Every error losant-fluent raises, in one hierarchy under :class:`LosantError`.

``LosantError``
    ``TransportError`` (nothing usable came back)
        ``LosantConnectionError``, ``LosantTimeoutError``
    ``BodyValidationError`` (a request body was refused before sending; also a ``ValueError``)
    ``APIError`` (the server answered with an HTTP error status)
        ``BadRequestError`` 400, ``UnauthorizedError`` 401, ``ForbiddenError`` 403,
        ``NotFoundError`` 404, ``ConflictError`` 409, ``PayloadTooLargeError`` 413,
        ``UnprocessableEntityError`` 422, ``RateLimitError`` 429, ``ServerError`` 5xx

Messages name the method, the path and Losant's error type and message; they never hold
a token, a password or any request header.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests

__all__ = [
    "APIError",
    "BadRequestError",
    "BodyValidationError",
    "ConflictError",
    "ForbiddenError",
    "LosantConnectionError",
    "LosantError",
    "LosantTimeoutError",
    "NotFoundError",
    "PayloadTooLargeError",
    "RateLimitError",
    "ServerError",
    "TransportError",
    "UnauthorizedError",
    "UnprocessableEntityError",
    "error_for_response",
]


class LosantError(Exception):
    """Base class of every error raised by losant-fluent."""

    _response: requests.Response | None = None
    #: Set when the error interrupted a walk over pages (see ``docs/pagination.md``): the
    #: index of the page that failed and the page parameter that was sent for it.
    page_number: int | None = None
    page_params: dict[str, Any] | None = None
    _resume_walk: Iterator[Any] | None = None

    def http_response(self) -> requests.Response | None:
        """The ``requests.Response`` behind this error, when a response came back."""
        return self._response

    def resume(self) -> Iterator[Any]:
        """Continue an interrupted page walk: retries the failed page, loses and repeats nothing.

        Raises ``RuntimeError`` when this error did not come from a page walk.
        """
        if self._resume_walk is None:
            raise RuntimeError("this error did not interrupt a page walk")
        return self._resume_walk


class TransportError(LosantError):
    """The request could not be completed: no HTTP response to read."""


class LosantConnectionError(TransportError, ConnectionError):
    """The server could not be reached (refused, reset, DNS failure...)."""


class LosantTimeoutError(TransportError, TimeoutError):
    """The server did not answer within the configured timeout."""


class BodyValidationError(LosantError, ValueError):
    """A request body does not match the endpoint's schema; nothing was sent.

    ``errors`` lists ``(location, message)`` pairs, the location being the dotted path of
    the offending field (``"attributes.0.dataType"``).
    """

    def __init__(self, message: str, errors: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.errors: list[tuple[str, str]] = list(errors or [])


class APIError(LosantError):
    """The Losant API answered with an HTTP error status.

    Attributes: ``status`` (HTTP status code), ``type`` (Losant's error type, such as
    ``"NotFound"`` or ``"Validation"``; ``None`` when the body was not Losant JSON),
    ``message`` (Losant's message, or a short excerpt of a non-JSON body), ``body`` (the
    decoded JSON body, or ``None``), ``method`` and ``path`` of the failed request.
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
    ) -> None:
        self.status = status
        self.type = type
        self.message = message
        self.method = method
        self.path = path
        self.body = body
        self._response = response
        where = f" ({method} {path})" if method else ""
        kind = f" {type}" if type else ""
        super().__init__(f"{status}{kind}: {message}{where}")

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(status={self.status}, type={self.type!r}, message={self.message!r})"


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
    """429: too many requests; ``retry_after`` holds the server's hint in seconds, if any."""

    @property
    def retry_after(self) -> float | None:
        response = self._response
        value = response.headers.get("Retry-After") if response is not None else None
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None


class ServerError(APIError):
    """5xx: the server failed; the request may be retried later."""


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


def error_for_response(response: requests.Response, method: str, path: str) -> APIError:
    """Build the ``APIError`` subclass matching an HTTP error response.

    Losant sends ``{"type": ..., "message": ...}``; anything else (an HTML page from a
    proxy, an empty body) still maps to the class of its status, with a short excerpt
    of the body as the message.
    """
    status = response.status_code
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else APIError)
    body: Any = None
    error_type: str | None = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and ("message" in body or "type" in body):
        error_type = str(body["type"]) if body.get("type") is not None else None
        message = str(body.get("message", ""))
    else:
        text = " ".join(response.text.split())
        message = text[:_EXCERPT] + ("..." if len(text) > _EXCERPT else "")
        message = message or (response.reason or "no body")
    return cls(
        status, error_type, message, method=method, path=path, body=body, response=response
    )
