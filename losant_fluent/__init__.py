"""losant-fluent: the whole Losant REST API as call chains that mirror its URLs.

    from losant_fluent import API
    api = API(token="...")
    device = api.applications(app_id).devices(device_id).get()

Every chain node appends a path segment; only a terminal verb (``get``, ``post``, ``patch``,
``put``, ``delete``) sends a request. Results are pydantic models with ``http_response()``;
every failure is a :class:`LosantError`.
"""

import sys
from typing import TYPE_CHECKING, Any

from ._auth import OAuth2, OAuth2Error
from ._client import API
from ._exceptions import (
    APIError,
    BadRequestError,
    BodyValidationError,
    ConflictError,
    ForbiddenError,
    InvalidResponseError,
    JobError,
    JobFailedError,
    JobTimeoutError,
    LosantConnectionError,
    LosantError,
    LosantTimeoutError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitError,
    RedirectError,
    ServerError,
    TransportError,
    UnauthorizedError,
    UnprocessableEntityError,
)
from ._node import Node, RawNode

# Tracebacks name errors by their public home (``losant_fluent.NotFoundError``), where
# pickle finds them too.
for _error in (
    APIError, BadRequestError, BodyValidationError, ConflictError, ForbiddenError,
    InvalidResponseError, JobError, JobFailedError, JobTimeoutError, LosantConnectionError,
    LosantError, LosantTimeoutError,
    NotFoundError, PayloadTooLargeError, RateLimitError, RedirectError, ServerError,
    TransportError, UnauthorizedError, UnprocessableEntityError,
):
    _error.__module__ = __name__
del _error

# In an IPython session: short tracebacks, and completion that evaluates nodes.
if "IPython" in sys.modules:
    from ._ipython import install as _install_ipython

    _install_ipython()

if TYPE_CHECKING:
    from ._async_client import AsyncAPI, AsyncOAuth2

__version__ = "0.1.0"

__all__ = [
    "API",
    "APIError",
    "AsyncAPI",
    "AsyncOAuth2",
    "BadRequestError",
    "BodyValidationError",
    "ConflictError",
    "ForbiddenError",
    "InvalidResponseError",
    "JobError",
    "JobFailedError",
    "JobTimeoutError",
    "LosantConnectionError",
    "LosantError",
    "LosantTimeoutError",
    "Node",
    "NotFoundError",
    "OAuth2",
    "OAuth2Error",
    "PayloadTooLargeError",
    "RateLimitError",
    "RawNode",
    "RedirectError",
    "ServerError",
    "TransportError",
    "UnauthorizedError",
    "UnprocessableEntityError",
    "__version__",
]


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext losant_fluent``: tracebacks of ``LosantError`` without library frames."""
    from ._ipython import install

    install(shell)


def __getattr__(name: str) -> Any:
    """``AsyncAPI`` is imported on first use: ``import losant_fluent`` never imports httpx."""
    if name in ("AsyncAPI", "AsyncOAuth2"):
        try:
            from . import _async_client
        except ModuleNotFoundError as exc:
            if exc.name not in ("httpx", "sniffio"):
                raise
            raise ModuleNotFoundError(
                f"{name} needs {exc.name}, which is not installed: "
                "pip install 'losant-fluent[async]'",
                name=exc.name,
            ) from None
        return getattr(_async_client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
