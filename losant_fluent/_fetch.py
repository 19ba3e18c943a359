"""Fetching one partition of a plan into a DataFrame, on whichever process runs it.

A worker builds its own client from a credentials source (:class:`FromEnv` by default: the
``LOSANT_API_TOKEN`` environment variable of the worker; or a callable the user names that
returns a token or an ``API``), once per process, and sends the partition's requests through
it: the same pipeline, retries and limits as any other call. At most ``concurrency``
partitions fetch at once across a ``dask.distributed`` cluster (a distributed semaphore),
or in one process on the local schedulers. The frame is the one ``to_pandas()`` builds from
the same JSON, put in the plan's columns.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:
    from ._client import API
    from ._plan import Partition, Request

__all__ = ["FromEnv", "LocalAPI", "fetch_partition", "check_credentials"]


@dataclass(frozen=True)
class FromEnv:
    """Credentials read on the worker from its environment: the token from ``token_var``
    (default ``LOSANT_API_TOKEN``) and, when ``url_var`` names a set variable, the API's
    URL from it instead of the plan's. Only the variable names travel."""

    token_var: str = "LOSANT_API_TOKEN"
    url_var: str = "LOSANT_API_URL"

    def __call__(self) -> str:
        token = os.environ.get(self.token_var)
        if not token:
            raise RuntimeError(
                f"no Losant token on this worker: set the environment variable "
                f"{self.token_var} where the workers run, or pass credentials= a callable "
                "that returns a token or an API (see docs/dask.md)")
        return token


class LocalAPI:
    """An ``API`` given as credentials: used as it is by schedulers in this process; it
    refuses to be pickled, so its token never travels to another process."""

    __slots__ = ("api",)

    def __init__(self, api: API) -> None:
        self.api = api

    def __reduce__(self) -> Any:
        raise TypeError(
            "credentials=<an API> works only where the graph stays in this process (the "
            "local threaded scheduler, to_parquet): on a cluster give credentials= None "
            "(LOSANT_API_TOKEN on the workers) or a callable returning a token or an API")

    def __repr__(self) -> str:
        return "<LocalAPI>"

    def __dask_tokenize__(self) -> tuple[str, int]:
        # Dask names tasks by their arguments; this one is named by identity, not pickled.
        return ("losant_fluent.LocalAPI", id(self.api))



def check_credentials(credentials: Any) -> Any:
    """``credentials`` as a source: ``None`` is :class:`FromEnv`, an ``API`` is wrapped."""
    from ._client import API

    if credentials is None:
        return FromEnv()
    if isinstance(credentials, API):
        return LocalAPI(credentials)
    if isinstance(credentials, str):
        raise TypeError("credentials must not be a token: a token in the graph travels in "
                        "clear; give None (LOSANT_API_TOKEN on the workers) or a callable")
    if not callable(credentials) and not isinstance(credentials, LocalAPI):
        raise TypeError("credentials must be None, an API or a callable returning a token "
                        f"or an API, not {type(credentials).__name__}")
    return credentials


# Keyed by source, URL and (environment credentials) token: process memory, never pickled.
_CLIENTS: dict[tuple[Any, ...], API] = {}
_CLIENTS_LOCK = threading.Lock()


def _client(credentials: Any, url: str) -> API:
    """This process's client for ``credentials`` at ``url`` (made once, then shared).

    Environment credentials are read each time, so a worker whose variable changes gets
    a new client; a callable is called once per process.
    """
    from ._client import API

    if isinstance(credentials, LocalAPI):
        return credentials.api
    token = credentials() if isinstance(credentials, FromEnv) else None
    override = os.environ.get(credentials.url_var) if isinstance(credentials, FromEnv) else None
    try:
        key: tuple[Any, ...] = (credentials, override or url, token)
        hash(key)
    except TypeError:
        key = (id(credentials), url, None)
    with _CLIENTS_LOCK:
        api = _CLIENTS.get(key)
        if api is None:
            made = token if token is not None else credentials()
            if isinstance(made, API):
                api = made
            elif isinstance(made, str) and made:
                api = API(url=override or url, token=made)
            else:
                raise TypeError("the credentials callable must return a token (str) or an "
                                f"API, not {type(made).__name__}")
            _CLIENTS[key] = api
    return api


def _send(api: API, request: Request) -> Any:
    """The answer (a result model) of ``request``, sent through ``api``'s pipeline.

    Through the endpoint's own verb when the chain and keywords allow (so the client's
    limiter counts it as that endpoint), else as a raw call to the same path and query.
    """
    query: dict[str, Any] = dict(request.query)
    verb = _typed_verb(api, request, query)
    if verb is not None:
        try:
            answer = verb(request.body, **query) if request.method != "GET" else verb(**query)
        except (TypeError, ValueError):  # refused before sending: the raw call says it all
            answer = None
        if answer is not None:
            return answer
    segments = [unquote(s) for s in request.path.strip("/").split("/") if s]
    node = api.at(*segments)
    if request.method == "GET":
        answer = node.get(**query)
    elif request.method == "POST":
        answer = node.post(request.body, **query)
    else:
        raise ValueError(f"a plan asks again only with GET or POST, not {request.method}")
    return answer


def _snake(segment: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", segment).replace("-", "_").lower()


def _typed_verb(api: API, request: Request, query: dict[str, Any]) -> Any:
    """The verb of the chain ``api.applications(a).devices()...`` for ``request``'s
    endpoint, when every query parameter is one of its keywords; else ``None``."""
    template = [t for t in request.template.strip("/").split("/") if t]
    parts = [unquote(p) for p in request.path.strip("/").split("/") if p]
    if not template or len(template) != len(parts) or any("[" in k for k in query):
        return None
    node: Any = api
    try:
        at = 0
        while at < len(template):
            step = getattr(node, _snake(template[at]))
            if at + 1 < len(template) and template[at + 1].startswith("{"):
                node = step(parts[at + 1])
                at += 2
            else:
                node = step()
                at += 1
        return getattr(node, request.method.lower())
    except (AttributeError, TypeError, ValueError):
        return None


def _pages(api: API, partition: Partition) -> Iterator[Any]:
    """The answers of a walking partition: its first page and every page after it."""
    request = partition.requests[0]
    size = partition.page_size
    position: dict[str, Any] = {}
    while True:
        answer = _send(api, request.with_query(**position) if position else request).raw_json()
        yield answer
        items = answer.get("items") if isinstance(answer, Mapping) else None
        count = len(items) if isinstance(items, list) else 0
        if count == 0:
            return
        if partition.walk == "cursor":
            last = items[-1] if isinstance(items, list) else None
            cursor = last.get("id") if isinstance(last, Mapping) else None
            if answer.get("hasMore") is False or cursor is None or (
                    answer.get("hasMore") is None and count < size):
                return
            position = {"startingAfterId": cursor}
            continue
        if count < size:
            return
        if partition.walk == "page":
            page = int(dict(request.query).get("page", 0)) if not position else position["page"]
            position = {"page": page + 1}
        else:
            offset = int(dict(request.query).get("offset", 0)) if not position else position[
                "offset"]
            position = {"offset": offset + count}


# --------------------------------------------------------------------- concurrency

_LOCAL_SLOTS: dict[tuple[str, int], threading.BoundedSemaphore] = {}


@contextlib.contextmanager
def _slot(name: str, concurrency: int | None) -> Iterator[None]:
    """Hold one of ``concurrency`` places for plan ``name`` while fetching."""
    if concurrency is None:
        yield
        return
    semaphore: Any = None
    try:
        distributed: Any = importlib.import_module("distributed")
        distributed.get_worker()  # ValueError outside a distributed worker
        semaphore = distributed.Semaphore(max_leases=concurrency, name=f"{name}-fetch")
    except (ImportError, ValueError):
        with _CLIENTS_LOCK:
            semaphore = _LOCAL_SLOTS.setdefault((name, concurrency),
                                                threading.BoundedSemaphore(concurrency))
    with semaphore:
        yield


# ------------------------------------------------------------------------- frames


def conform(frame: Any, meta: Any) -> Any:
    """``frame`` with exactly the plan's columns, in its order (a column the partition's
    answer lacks is added empty; an empty partition takes the plan's dtypes)."""
    pd: Any = importlib.import_module("pandas")
    extra = [c for c in frame.columns if c not in meta.columns]
    if extra:
        raise ValueError(
            f"a partition holds columns the plan's meta lacks: {extra}; the plan read its "
            "columns from the first page, so pass meta= (an empty DataFrame with every column)")
    if len(frame) == 0:
        return meta.iloc[:0].copy()
    for column in meta.columns:
        if column not in frame.columns:
            dtype = meta[column].dtype
            try:
                frame[column] = pd.Series([None] * len(frame), index=frame.index, dtype=dtype)
            except (TypeError, ValueError):
                frame[column] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    return frame[list(meta.columns)]


def _frame(cls: type[Any], answer: Any) -> Any:
    """The frame of one answer: a time series or state history as ``to_pandas()`` reads it
    (straight from the response's one decode), a page from its JSON (that page alone)."""
    from ._data import frame_of_json, to_pandas
    from .models import DeviceStates, TimeSeriesData

    if isinstance(answer, (TimeSeriesData, DeviceStates)) and issubclass(cls, type(answer)):
        return to_pandas(answer)
    return frame_of_json(cls, answer.raw_json() if hasattr(answer, "raw_json") else answer)


def fetch_partition(partition: Partition, credentials: Any = None,
                    concurrency: int | None = None, meta: Any = None) -> Any:
    """The rows of ``partition`` as a DataFrame (``meta``'s columns when given)."""
    from . import models

    source = check_credentials(credentials)
    cls = getattr(models, partition.result)
    with _slot(partition.plan, concurrency):
        api = _client(source, partition.url)
        if partition.walk:
            answers: list[Any] = list(_pages(api, partition))
        else:
            answers = [_send(api, request) for request in partition.requests]
    frames = [_frame(cls, answer) for answer in answers]
    pd: Any = importlib.import_module("pandas")
    frame = frames[0] if len(frames) == 1 else pd.concat(
        [f for f in frames if len(f)] or frames[:1], ignore_index=True)
    frame = frame.reset_index(drop=True)
    return conform(frame, meta) if meta is not None else frame

