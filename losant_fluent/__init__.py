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
    BulkSplitError,
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
from ._hooks import install as _install_method
from ._node import Node, RawNode

# Tracebacks name errors by their public home (``losant_fluent.NotFoundError``), where
# pickle finds them too.
for _error in (
    APIError, BadRequestError, BodyValidationError, BulkSplitError, ConflictError, ForbiddenError,
    InvalidResponseError, JobError, JobFailedError, JobTimeoutError, LosantConnectionError,
    LosantError, LosantTimeoutError,
    NotFoundError, PayloadTooLargeError, RateLimitError, RedirectError, ServerError,
    TransportError, UnauthorizedError, UnprocessableEntityError,
):
    _error.__module__ = __name__
del _error



def _to_dask(result: Any, **options: Any) -> Any:
    from .dask import to_dask

    return to_dask(result, **options)


def _to_parquet(result: Any, path: Any, **options: Any) -> Any:
    from .dask import to_parquet

    return to_parquet(result, path, **options)


# Results' to_dask()/to_parquet() build clients on workers, above the models' layer: the
# models call them through _hooks (dask and pyarrow are imported only when called).
_install_method("to_dask", _to_dask)
_install_method("to_parquet", _to_parquet)

# In an IPython session: short tracebacks, and completion that evaluates nodes.
if "IPython" in sys.modules:
    from ._ipython import install as _install_ipython

    _install_ipython()

if TYPE_CHECKING:
    from ._async_client import AsyncAPI, AsyncOAuth2
    from ._async_pagination import AsyncPaged, AsyncPageWalk, walk
    from ._async_streams import AsyncEventStream
    from ._pagination import PageWalk
    from ._streams import EventStream, ServerSentEvent

__version__ = "0.1.0"

__all__ = [
    "API",
    "APIError",
    "AsyncAPI",
    "AsyncEventStream",
    "AsyncOAuth2",
    "AsyncPageWalk",
    "AsyncPaged",
    "BadRequestError",
    "BodyValidationError",
    "BulkSplitError",
    "ConflictError",
    "EventStream",
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
    "PageWalk",
    "PayloadTooLargeError",
    "RateLimitError",
    "RawNode",
    "RedirectError",
    "ServerError",
    "ServerSentEvent",
    "TransportError",
    "UnauthorizedError",
    "UnprocessableEntityError",
    "__version__",
    "walk",
]


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext losant_fluent``: tracebacks of ``LosantError`` without library frames."""
    from ._ipython import install

    install(shell)


# What needs the ``async`` extra (httpx), and the module that defines it.
_ASYNC = {
    "AsyncAPI": "_async_client", "AsyncOAuth2": "_async_client",
    "AsyncPaged": "_async_pagination", "AsyncPageWalk": "_async_pagination",
    "walk": "_async_pagination", "AsyncEventStream": "_async_streams",
}


# Imported on first use too: ``import losant_fluent`` imports no pydantic.
_LAZY = {"PageWalk": "_pagination", "EventStream": "_streams", "ServerSentEvent": "_streams"}


def __getattr__(name: str) -> Any:
    """The async names are imported on first use: ``import losant_fluent`` never imports
    httpx."""
    home = _ASYNC.get(name)
    if home is not None:
        from ._optional import need

        return getattr(need("async", f"{__name__}.{home}", ("httpx", "sniffio"), name), name)
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
